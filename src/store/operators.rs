//! Countries and mobile operators (reference data, `migrations/data/`): the seed that fills them on
//! a database that has none, their reads, and the admin's writes (spec/emnify-endpoints.md §8).
//!
//! Locks: operator writes are serialised by one advisory key (they are rare, and a name stays unique
//! per country); a change or delete also holds its operator exclusively, which a blacklist entry
//! holds shared while it is added (`endpoints.rs`), so an operator is never deleted under one.
use super::db::{hold_reference, query, Builder, Pool, Tx};
use super::journal;
use super::*;
use crate::domain::error::Rule;
use crate::domain::operator::{parse_countries, parse_operators};
use serde::Serialize;

const COUNTRIES: &str = include_str!("../../migrations/data/countries.csv");
const OPERATORS: &str = include_str!("../../migrations/data/operators.csv");
/// Rows per INSERT (five values each at most: far below either backend's limit on arguments).
const CHUNK: usize = 500;

/// Fills countries, operators and their MNCs on a database without countries. Starts of several
/// nodes at once insert the same rows with the same ids; `ON CONFLICT` keeps one of each.
pub(crate) async fn seed(pool: &Pool) -> StoreResult<()> {
    let have: i64 = query("SELECT COUNT(*) FROM countries").scalar(pool).await?;
    if have > 0 {
        return Ok(());
    }
    let countries = parse_countries(COUNTRIES).map_err(StoreError::Database)?;
    let operators = parse_operators(OPERATORS).map_err(StoreError::Database)?;
    let mncs: Vec<(i64, i64, String)> = operators
        .iter()
        .flat_map(|o| o.mncs.iter().map(move |m| (o.id, m.clone())))
        .enumerate()
        .map(|(i, (op, mnc))| (i as i64 + 1, op, mnc))
        .collect();
    let mut tx = pool.begin_write().await?;
    for chunk in countries.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO countries (id, name, iso_code, country_code, mcc) ");
        qb.push_values(chunk, |v, c| {
            v.push_bind(c.id)
                .push_bind(c.name.clone())
                .push_bind(c.iso_code.clone())
                .push_bind(c.country_code.clone())
                .push_bind(c.mcc.clone());
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    for chunk in operators.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO operators (id, name, country_id) ");
        qb.push_values(chunk, |v, o| {
            v.push_bind(o.id)
                .push_bind(o.name.clone())
                .push_bind(o.country_id);
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    for chunk in mncs.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO operator_mncs (id, operator_id, mnc) ");
        qb.push_values(chunk, |v, (id, op, mnc)| {
            v.push_bind(*id).push_bind(*op).push_bind(mnc.clone());
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct OperatorHead {
    id: i64,
    name: String,
    country_id: i64,
    country_name: String,
    country_code: String,
    mcc: String,
    iso_code: String,
}

/// The operators' rows: all (by country name, then id) or those with these ids (by id).
fn heads(ids: Option<&[i64]>) -> Builder<'static> {
    let mut qb = Builder::new(
        "SELECT o.id, o.name, o.country_id, c.name AS country_name, c.country_code, c.mcc, \
         c.iso_code FROM operators o JOIN countries c ON c.id = o.country_id",
    );
    match ids {
        Some(ids) => {
            qb.push(" WHERE o.id IN ")
                .push_list(ids.iter().copied())
                .push(" ORDER BY o.id");
        }
        None => {
            qb.push(" ORDER BY c.name, o.id");
        }
    }
    qb
}

/// Their MNCs or TAP codes, `(id, operator, value)` by id.
fn children(table: &str, column: &str, ids: Option<&[i64]>) -> Builder<'static> {
    let mut qb = Builder::new(format!("SELECT id, operator_id, {column} FROM {table}"));
    if let Some(ids) = ids {
        qb.push(" WHERE operator_id IN ")
            .push_list(ids.iter().copied());
    }
    qb.push(" ORDER BY id");
    qb
}

type Child = (i64, i64, String);

fn assemble(heads: Vec<OperatorHead>, mncs: Vec<Child>, tapcodes: Vec<Child>) -> Vec<Operator> {
    let mut by_operator: std::collections::HashMap<i64, Operator> = heads
        .iter()
        .map(|h| {
            (
                h.id,
                Operator {
                    id: h.id,
                    name: h.name.clone(),
                    country_id: h.country_id,
                    country_name: h.country_name.clone(),
                    country_code: h.country_code.clone(),
                    mcc: h.mcc.clone(),
                    iso_code: h.iso_code.clone(),
                    mncs: Vec::new(),
                    tapcodes: Vec::new(),
                },
            )
        })
        .collect();
    for (id, op, mnc) in mncs {
        if let Some(o) = by_operator.get_mut(&op) {
            o.mncs.push((id, mnc));
        }
    }
    for (id, op, tapcode) in tapcodes {
        if let Some(o) = by_operator.get_mut(&op) {
            o.tapcodes.push((id, tapcode));
        }
    }
    heads
        .iter()
        .filter_map(|h| by_operator.remove(&h.id))
        .collect()
}

/// Operators with their countries, MNCs and TAP codes: all (by country name, then id) or those
/// with these ids (by id).
pub(crate) async fn operators(pool: &Pool, ids: Option<&[i64]>) -> StoreResult<Vec<Operator>> {
    if ids == Some(&[]) {
        return Ok(Vec::new());
    }
    let heads = heads(ids).build().fetch_all(pool).await?;
    let mncs = children("operator_mncs", "mnc", ids)
        .build()
        .fetch_all(pool)
        .await?;
    let tapcodes = children("operator_tapcodes", "tapcode", ids)
        .build()
        .fetch_all(pool)
        .await?;
    Ok(assemble(heads, mncs, tapcodes))
}

/// A country, as the admin API lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Country {
    pub id: i64,
    pub name: String,
    pub iso_code: String,
    pub country_code: String,
    pub mcc: String,
}

/// A new operator (values checked). `id`: below 100,000 (emnify's and the seed's numbering), or none
/// for the next of the admin's range.
#[derive(Debug, Clone, Serialize)]
pub struct NewOperator {
    pub id: Option<i64>,
    pub name: String,
    pub country_id: i64,
    pub mncs: Vec<String>,
    pub tapcodes: Vec<String>,
}

/// The changes of a PATCH; a list given replaces the operator's.
#[derive(Debug, Clone, Default)]
pub struct OperatorPatch {
    pub name: Option<String>,
    pub country_id: Option<i64>,
    pub mncs: Option<Vec<String>>,
    pub tapcodes: Option<Vec<String>>,
}

/// The first id of the admin's range (the sequences start there).
pub const ADMIN_IDS: i64 = 100_000;
/// The advisory key that serialises operator writes (rare), so that a name stays unique per country.
const WRITES: i64 = 0;

pub(crate) async fn countries(pool: &Pool) -> StoreResult<Vec<Country>> {
    query("SELECT id, name, iso_code, country_code, mcc FROM countries ORDER BY name, id")
        .fetch_all(pool)
        .await
}

/// One page of operators by id, of one country or all, with the total.
pub(crate) async fn page(
    pool: &Pool,
    country: Option<i64>,
    page: crate::domain::paging::Page,
) -> StoreResult<(Vec<Operator>, i64)> {
    let filter = |qb: &mut Builder<'_>| {
        if let Some(c) = country {
            qb.push(" AND country_id = ").push_bind(c);
        }
    };
    let (ids, total): (Vec<(i64,)>, i64) = super::db::counted_page(
        pool,
        ("id", " FROM operators WHERE 1 = 1", "id"),
        filter,
        page,
    )
    .await?;
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    Ok((operators(pool, Some(&ids)).await?, total))
}

/// Refuses a name another operator of the country has (case aside).
async fn name_free(tx: &mut Tx, country: i64, name: &str, other_than: i64) -> StoreResult<()> {
    let taken: Option<i64> = query(
        "SELECT id FROM operators WHERE country_id = $1 AND LOWER(name) = LOWER($2) AND id <> $3",
    )
    .bind(country)
    .bind(name.to_string())
    .bind(other_than)
    .scalar_optional(&mut *tx)
    .await?;
    match taken {
        Some(id) => Err(Rule::Collides {
            field: "name",
            message: format!("Operator {id} of this country is named {name:?} already"),
        }
        .into()),
        None => Ok(()),
    }
}

/// Replaces the operator's MNCs and TAP codes (those given).
async fn put_lists(
    tx: &mut Tx,
    id: i64,
    mncs: Option<&[String]>,
    tapcodes: Option<&[String]>,
) -> StoreResult<()> {
    for (table, column, values) in [
        ("operator_mncs", "mnc", mncs),
        ("operator_tapcodes", "tapcode", tapcodes),
    ] {
        let Some(values) = values else { continue };
        query(format!("DELETE FROM {table} WHERE operator_id = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if values.is_empty() {
            continue;
        }
        let mut qb = Builder::new(format!("INSERT INTO {table} (operator_id, {column}) "));
        qb.push_values(values, |v, value| {
            v.push_bind(id).push_bind(value.clone());
        });
        qb.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// One operator, read in the transaction; `NotFound` when there is none.
async fn one(tx: &mut Tx, id: i64) -> StoreResult<Operator> {
    let ids = [id];
    let heads = heads(Some(&ids)).build().fetch_all(&mut *tx).await?;
    let mncs = children("operator_mncs", "mnc", Some(&ids))
        .build()
        .fetch_all(&mut *tx)
        .await?;
    let tapcodes = children("operator_tapcodes", "tapcode", Some(&ids))
        .build()
        .fetch_all(&mut *tx)
        .await?;
    assemble(heads, mncs, tapcodes)
        .pop()
        .ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl CatalogStore for SqlStore {
    async fn countries(&self) -> StoreResult<Vec<Country>> {
        countries(&self.reads).await
    }

    async fn operator_page(
        &self,
        country: Option<i64>,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<Operator>, i64)> {
        self::page(&self.reads, country, page).await
    }

    async fn operator_get(&self, id: i64) -> StoreResult<Option<Operator>> {
        Ok(operators(&self.pool, Some(&[id])).await?.pop())
    }

    async fn operator_create(&self, new: NewOperator, actor: &Actor) -> StoreResult<Operator> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        hold_reference(&mut tx, backend, "operators", WRITES, true).await?;
        if let Some(id) = new.id {
            let taken: Option<i64> = query("SELECT id FROM operators WHERE id = $1")
                .bind(id)
                .scalar_optional(&mut tx)
                .await?;
            if taken.is_some() {
                return Err(Rule::Collides {
                    field: "id",
                    message: format!("Operator {id} exists already"),
                }
                .into());
            }
        }
        name_free(&mut tx, new.country_id, &new.name, 0).await?;
        let id: i64 = match new.id {
            Some(id) => query(
                "INSERT INTO operators (id, name, country_id) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(id),
            None => query("INSERT INTO operators (name, country_id) VALUES ($1, $2) RETURNING id"),
        }
        .bind(new.name.clone())
        .bind(new.country_id)
        .scalar(&mut tx)
        .await?;
        put_lists(&mut tx, id, Some(&new.mncs), Some(&new.tapcodes)).await?;
        let row = one(&mut tx, id).await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "operator",
            id,
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn operator_update(
        &self,
        id: i64,
        patch: OperatorPatch,
        actor: &Actor,
    ) -> StoreResult<Operator> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        hold_reference(&mut tx, backend, "operators", WRITES, true).await?;
        hold_reference(&mut tx, backend, "operators", id, true).await?;
        let before = one(&mut tx, id).await?;
        let name = patch.name.clone().unwrap_or_else(|| before.name.clone());
        let country = patch.country_id.unwrap_or(before.country_id);
        name_free(&mut tx, country, &name, id).await?;
        query("UPDATE operators SET name = $1, country_id = $2 WHERE id = $3")
            .bind(name)
            .bind(country)
            .bind(id)
            .execute(&mut tx)
            .await?;
        put_lists(
            &mut tx,
            id,
            patch.mncs.as_deref(),
            patch.tapcodes.as_deref(),
        )
        .await?;
        let after = one(&mut tx, id).await?;
        journal::audit(
            &mut tx,
            actor,
            "update",
            "operator",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn operator_delete(&self, id: i64, actor: &Actor) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        hold_reference(&mut tx, backend, "operators", WRITES, true).await?;
        hold_reference(&mut tx, backend, "operators", id, true).await?;
        let before = one(&mut tx, id).await?;
        // Deleted before the count, which rolls it back when a blacklist names it: on Citus a write
        // to a reference table with a foreign key to it may not follow a read across shards.
        put_lists(&mut tx, id, Some(&[]), Some(&[])).await?;
        query("DELETE FROM operators WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        let listed: i64 =
            query("SELECT COUNT(*) FROM endpoint_operator_blacklist WHERE operator_id = $1")
                .bind(id)
                .scalar(&mut tx)
                .await?;
        if listed > 0 {
            return Err(Rule::Held(format!(
                "Operator {id} is on the blacklist of {listed} endpoints"
            ))
            .into());
        }
        journal::audit(
            &mut tx,
            actor,
            "delete",
            "operator",
            id,
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
