//! The backend abstraction the store's SQL is written against, so that every query is written once as
//! an ordinary function for both databases.
//!
//! The SQL text is shared (sqlx's SQLite driver takes `$1` placeholders and Postgres's `ON CONFLICT`,
//! `RETURNING` and `CAST` read the same on both); what differs is a handful of clauses, which
//! [`Backend`] answers (row locks, `ILIKE`, index hints, the `LIKE` escape), and the bulk inserts
//! (`bulk.rs`). A [`Query`] keeps its arguments until it runs and binds them for the backend of the
//! connection it runs on; the arguments are boxed (one allocation each, far below a round trip).
use super::{Backend, StoreError};
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Decode, Encode, FromRow, Type};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::fmt::Display;

impl Backend {
    /// The row lock of a read-modify-write: `FOR UPDATE` on Postgres; SQLite has none and needs none
    /// (a write transaction there is IMMEDIATE: it holds the database's one write lock from its start).
    pub(crate) fn lock_rows(self) -> &'static str {
        self.pg_only(" FOR UPDATE")
    }

    /// Holds rows against change and deletion while others may hold them too (Postgres).
    pub(crate) fn share_rows(self) -> &'static str {
        self.pg_only(" FOR SHARE")
    }

    /// Locks the `users u` row of a joined read.
    pub(crate) fn lock_user(self) -> &'static str {
        self.pg_only(" FOR UPDATE OF u")
    }

    /// Locks the `mvno_accounts m` row of a joined read.
    pub(crate) fn lock_account(self) -> &'static str {
        self.pg_only(" FOR UPDATE OF m")
    }

    /// Locks the `endpoints e` row of a joined read.
    pub(crate) fn lock_endpoint(self) -> &'static str {
        self.pg_only(" FOR UPDATE OF e")
    }

    /// Locks the `endpoint_quotas q` rows of a joined read.
    pub(crate) fn lock_quota(self) -> &'static str {
        self.pg_only(" FOR UPDATE OF q")
    }

    /// Takes the first `sims s` row no other writer holds (concurrent picks of stock never queue).
    pub(crate) fn pick_sim(self) -> &'static str {
        self.pg_only(" FOR UPDATE OF s SKIP LOCKED")
    }

    /// Takes the rows no other writer holds (the purge's batches).
    pub(crate) fn skip_locked(self) -> &'static str {
        self.pg_only(" FOR UPDATE SKIP LOCKED")
    }

    /// The id the next row of `table` gets (under the write transaction, on SQLite).
    pub(crate) fn next_id(self, table: &str) -> String {
        match self {
            Backend::Postgres | Backend::Citus => format!("SELECT nextval('{table}_id_seq')"),
            Backend::Sqlite => format!(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0) + 1"
            ),
        }
    }

    /// Case-insensitive LIKE: SQLite's LIKE already is, for ASCII.
    pub(crate) fn ilike(self) -> &'static str {
        match self {
            Backend::Postgres | Backend::Citus => "ILIKE",
            Backend::Sqlite => "LIKE",
        }
    }

    /// The ESCAPE clause that makes `\` the LIKE escape: Postgres has it by default (and plans prefix
    /// patterns through indexes only without an explicit clause); SQLite has no default.
    pub(crate) fn like_escape(self) -> &'static str {
        match self {
            Backend::Postgres | Backend::Citus => "",
            Backend::Sqlite => " ESCAPE '\\'",
        }
    }

    /// The index that gives the whole unused stock in ICC order: SQLite's planner picks the
    /// mvno_account_id index and sorts unless told (migration 0003).
    pub(crate) fn whole_stock_index(self) -> &'static str {
        match self {
            Backend::Postgres | Backend::Citus => "",
            Backend::Sqlite => " INDEXED BY sims_unused_iccid_idx",
        }
    }

    /// The index that gives one tenant's unused stock in ICC order (SQLite, as above).
    pub(crate) fn tenant_stock_index(self) -> &'static str {
        match self {
            Backend::Postgres | Backend::Citus => "",
            Backend::Sqlite => " INDEXED BY sims_tenant_unused_idx",
        }
    }

    fn pg_only(self, clause: &'static str) -> &'static str {
        match self {
            Backend::Postgres | Backend::Citus => clause,
            Backend::Sqlite => "",
        }
    }
}

/// One page of `SELECT {columns}{from}` in `order`, with the total of all rows: `from` is the FROM
/// and WHERE clauses, which `filter` completes (the same for the count and the page).
pub(crate) async fn counted_page<T: Record>(
    pool: &Pool,
    (columns, from, order): (&str, &str, &str),
    filter: impl Fn(&mut Builder<'_>),
    page: crate::domain::paging::Page,
) -> Result<(Vec<T>, i64), StoreError> {
    let mut count = Builder::new(format!("SELECT COUNT(*){from}"));
    filter(&mut count);
    let total: i64 = count.build().scalar(pool).await?;
    let mut list = Builder::new(format!("SELECT {columns}{from}"));
    filter(&mut list);
    list.push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(page.limit)
        .push(" OFFSET ")
        .push_bind(page.offset);
    Ok((list.build().fetch_all(pool).await?, total))
}

/// Holds a row of a reference table (a profile, an operator) until the transaction ends: shared by a
/// write that comes to depend on it, exclusively by its change or delete. An advisory lock keyed by
/// table and id rather than a row lock: Citus turns a row lock on a reference table into a lock on the
/// whole table on every node, taken in steps, and concurrent endpoint creates deadlocked on it. SQLite
/// needs none (one writer at a time).
pub(crate) async fn hold_reference(
    tx: &mut Tx,
    backend: Backend,
    table: &str,
    id: i64,
    exclusive: bool,
) -> Result<(), StoreError> {
    if backend == Backend::Sqlite {
        return Ok(());
    }
    let function = if exclusive {
        "pg_advisory_xact_lock"
    } else {
        "pg_advisory_xact_lock_shared"
    };
    // Ids past 2^31 share a key with a smaller one: a needless wait at worst.
    query(format!(
        "SELECT 1 FROM (SELECT {function}(hashtext($1), CAST($2 % 2147483647 AS INTEGER))) l"
    ))
    .bind(table.to_string())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A pool of either backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Pg(PgPool),
    Lite(SqlitePool),
}

impl Pool {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Pool::Pg(_) => Backend::Postgres,
            Pool::Lite(_) => Backend::Sqlite,
        }
    }

    /// A write transaction. SQLite allows one writer: a deferred transaction that reads before it
    /// writes fails with SQLITE_BUSY when another writer got in between, so it is begun IMMEDIATE
    /// (the write lock up front, concurrent writers queue on the busy timeout).
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
            Pool::Lite(p) => Tx::Lite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// A connection of its own (for work that holds one across queries).
    pub(crate) async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Pool::Pg(p) => Conn::Pg(p.acquire().await?),
            Pool::Lite(p) => Conn::Lite(p.acquire().await?),
        })
    }

    pub(crate) fn size(&self) -> u32 {
        match self {
            Pool::Pg(p) => p.size(),
            Pool::Lite(p) => p.size(),
        }
    }

    pub(crate) fn num_idle(&self) -> usize {
        match self {
            Pool::Pg(p) => p.num_idle(),
            Pool::Lite(p) => p.num_idle(),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Pg(p) => p.close().await,
            Pool::Lite(p) => p.close().await,
        }
    }
}

/// A transaction of either backend; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Pg(Transaction<'static, Postgres>),
    Lite(Transaction<'static, Sqlite>),
}

impl Tx {
    /// The SQL dialect of its connection (Citus speaks Postgres's).
    pub(crate) fn dialect(&self) -> Backend {
        match self {
            Tx::Pg(_) => Backend::Postgres,
            Tx::Lite(_) => Backend::Sqlite,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Pg(t) => t.commit().await,
            Tx::Lite(t) => t.commit().await,
        }
    }
}

/// A pooled connection of either backend.
pub(crate) enum Conn {
    Pg(PoolConnection<Postgres>),
    Lite(PoolConnection<Sqlite>),
}

impl Conn {
    pub(crate) async fn ping(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Pg(c) => sqlx::Connection::ping(&mut **c).await,
            Conn::Lite(c) => sqlx::Connection::ping(&mut **c).await,
        }
    }

    /// A connection that failed is not trusted again: dropped, it is closed instead of pooled.
    pub(crate) fn close_on_drop(&mut self) {
        match self {
            Conn::Pg(c) => c.close_on_drop(),
            Conn::Lite(c) => c.close_on_drop(),
        }
    }
}

/// Where a query runs: a pool (each query takes a connection) or a transaction's or held connection.
pub(crate) enum Ex<'e> {
    PgPool(&'e PgPool),
    LitePool(&'e SqlitePool),
    Pg(&'e mut PgConnection),
    Lite(&'e mut SqliteConnection),
}

impl<'e> From<&'e Pool> for Ex<'e> {
    fn from(p: &'e Pool) -> Self {
        match p {
            Pool::Pg(p) => Ex::PgPool(p),
            Pool::Lite(p) => Ex::LitePool(p),
        }
    }
}

impl<'e> From<&'e mut Tx> for Ex<'e> {
    fn from(t: &'e mut Tx) -> Self {
        match t {
            Tx::Pg(t) => Ex::Pg(t),
            Tx::Lite(t) => Ex::Lite(t),
        }
    }
}

impl<'e> From<&'e mut Conn> for Ex<'e> {
    fn from(c: &'e mut Conn) -> Self {
        match c {
            Conn::Pg(c) => Ex::Pg(c),
            Conn::Lite(c) => Ex::Lite(c),
        }
    }
}

/// A value both backends can bind.
pub(crate) trait Arg<'q>: Send + 'q {
    fn add_pg(self: Box<Self>, args: &mut PgArguments) -> Result<(), BoxDynError>;
    fn add_lite(self: Box<Self>, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError>;
}

impl<'q, T> Arg<'q> for T
where
    T: Encode<'q, Postgres> + Type<Postgres> + Encode<'q, Sqlite> + Type<Sqlite> + Send + 'q,
{
    fn add_pg(self: Box<Self>, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(*self)
    }
    fn add_lite(self: Box<Self>, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
        args.add(*self)
    }
}

/// Ids bound as one value however many they are (see [`Builder::push_in_ids`]): a `bigint[]` on
/// Postgres, a JSON array on SQLite. One statement with one parameter instead of a statement per few
/// hundred ids, each with as many parameters to parse and plan.
pub(crate) struct Ids(pub(crate) Vec<i64>);

impl<'q> Arg<'q> for Ids {
    fn add_pg(self: Box<Self>, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(self.0)
    }
    fn add_lite(self: Box<Self>, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
        args.add(serde_json::to_string(&self.0)?)
    }
}

/// A row both backends can decode (every `#[derive(FromRow)]` type and tuples of such columns).
pub(crate) trait Record:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

/// A single column both backends can decode.
pub(crate) trait Column:
    for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + Send
    + Unpin
{
}
impl<T> Column for T where
    T: for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + Send
        + Unpin
{
}

/// Runs one sqlx call (`$make` then `$call`) on whichever executor `$ex` is, with the query's arguments
/// bound for that executor's backend; `$post` maps the backend's own result type where they differ.
macro_rules! run {
    ($query:expr, $ex:expr, $make:ident, $call:ident $(, .$post:ident())?) => {{
        let Query { sql, args } = $query;
        match $ex.into() {
            Ex::PgPool(e) => sqlx::$make(&sql, Query::pg_args(args)?).$call(e).await?$(.$post())?,
            Ex::Pg(e) => sqlx::$make(&sql, Query::pg_args(args)?).$call(e).await?$(.$post())?,
            Ex::LitePool(e) => sqlx::$make(&sql, Query::lite_args(args)?).$call(e).await?$(.$post())?,
            Ex::Lite(e) => sqlx::$make(&sql, Query::lite_args(args)?).$call(e).await?$(.$post())?,
        }
    }};
}

/// A statement and its arguments, bound when it runs.
pub(crate) struct Query<'q> {
    sql: String,
    args: Vec<Box<dyn Arg<'q>>>,
}

/// A statement with `$1`, `$2`, … placeholders; [`Query::bind`] supplies them in order.
pub(crate) fn query<'q>(sql: impl Into<String>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

fn encode_failed(e: BoxDynError) -> sqlx::Error {
    sqlx::Error::Encode(e)
}

impl<'q> Query<'q> {
    pub(crate) fn bind(mut self, value: impl Arg<'q>) -> Self {
        self.args.push(Box::new(value));
        self
    }

    fn pg_args(args: Vec<Box<dyn Arg<'q>>>) -> Result<PgArguments, sqlx::Error> {
        let mut out = PgArguments::default();
        for a in args {
            a.add_pg(&mut out).map_err(encode_failed)?;
        }
        Ok(out)
    }

    fn lite_args(args: Vec<Box<dyn Arg<'q>>>) -> Result<SqliteArguments<'q>, sqlx::Error> {
        let mut out = SqliteArguments::default();
        for a in args {
            a.add_lite(&mut out).map_err(encode_failed)?;
        }
        Ok(out)
    }

    /// Runs the statement; returns the rows it affected.
    pub(crate) async fn execute(self, ex: impl Into<Ex<'_>>) -> Result<u64, StoreError> {
        Ok(run!(self, ex, query_with, execute, .rows_affected()))
    }

    pub(crate) async fn fetch_all<T: Record>(
        self,
        ex: impl Into<Ex<'_>>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(run!(self, ex, query_as_with, fetch_all))
    }

    pub(crate) async fn fetch_optional<T: Record>(
        self,
        ex: impl Into<Ex<'_>>,
    ) -> Result<Option<T>, StoreError> {
        Ok(run!(self, ex, query_as_with, fetch_optional))
    }

    pub(crate) async fn fetch_one<T: Record>(self, ex: impl Into<Ex<'_>>) -> Result<T, StoreError> {
        self.fetch_optional(ex)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    /// The first column of every row.
    pub(crate) async fn scalars<T: Column>(
        self,
        ex: impl Into<Ex<'_>>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(run!(self, ex, query_scalar_with, fetch_all))
    }

    /// The first column of the first row, if there is a row.
    pub(crate) async fn scalar_optional<T: Column>(
        self,
        ex: impl Into<Ex<'_>>,
    ) -> Result<Option<T>, StoreError> {
        Ok(run!(self, ex, query_scalar_with, fetch_optional))
    }

    /// The first column of the one row the statement must return.
    pub(crate) async fn scalar<T: Column>(self, ex: impl Into<Ex<'_>>) -> Result<T, StoreError> {
        self.scalar_optional(ex)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }
}

/// A statement assembled piece by piece, its arguments numbered as they are pushed.
pub(crate) struct Builder<'q> {
    query: Query<'q>,
}

impl<'q> Builder<'q> {
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Builder { query: query(sql) }
    }

    pub(crate) fn push(&mut self, sql: impl Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.query.sql, "{sql}");
        self
    }

    /// Appends the next placeholder and its value.
    pub(crate) fn push_bind(&mut self, value: impl Arg<'q>) -> &mut Self {
        self.query.args.push(Box::new(value));
        let n = self.query.args.len();
        self.push(format_args!("${n}"))
    }

    /// Appends `(v1, v2, …)`.
    pub(crate) fn push_list<T: Arg<'q>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self.push(")")
    }

    /// Appends the condition that the expression before it is one of `ids` (each bound once, however
    /// often it comes), bound as one value: ` = ANY($n)` on Postgres, ` IN (SELECT value FROM
    /// json_each($n))` on SQLite.
    pub(crate) fn push_in_ids(
        &mut self,
        dialect: Backend,
        ids: impl IntoIterator<Item = i64>,
    ) -> &mut Self {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let (open, close) = if dialect == Backend::Sqlite {
            (" IN (SELECT value FROM json_each(", "))")
        } else {
            (" = ANY(", ")")
        };
        self.push(open).push_bind(Ids(ids)).push(close)
    }

    /// Appends `VALUES (…), (…)`, one tuple per item, `row` pushing the item's values.
    pub(crate) fn push_values<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut Values<'_, 'q>, T),
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            row(
                &mut Values {
                    qb: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
        self
    }

    pub(crate) fn build(self) -> Query<'q> {
        self.query
    }
}

/// The values of one row of [`Builder::push_values`].
pub(crate) struct Values<'b, 'q> {
    qb: &'b mut Builder<'q>,
    first: bool,
}

impl<'q> Values<'_, 'q> {
    pub(crate) fn push_bind(&mut self, value: impl Arg<'q>) -> &mut Self {
        if !self.first {
            self.qb.push(", ");
        }
        self.first = false;
        self.qb.push_bind(value);
        self
    }
}
