//! Single-row reads (a SIM, an endpoint) that arrive together share one query.
//!
//! Measured on the JWT `GET /api/v1/sim/{id}` path: with the principal and label caches, what is left
//! per request is one database round trip, and its cost is mostly the wake-ups on both sides (the
//! server's profile is half kernel send/switch time), not the row. So reads that arrive while others
//! are in flight are fetched together with one `WHERE id IN (...)`: at most `IN_FLIGHT` queries run at
//! once. A read joins the queue and waits for its answer or for a free slot, whichever comes first;
//! the one that gets the slot takes everything queued (its own read, if nobody took it yet, and the
//! others') and runs that batch. No timer and no extra task in between: a lone read goes out after one
//! turn of the scheduler, and under load the batches grow with the load.
use super::db::{Builder, Conn, Pool};
use super::emnify::{ESIM_SELECT, ESIM_SELECT_UNLABELLED};
use super::{distrust_connections, EmnifySim, EndpointRow, StoreError, StoreResult};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{oneshot, Semaphore};

/// Queries of this kind at once; with 2 the database works on one batch while the next one fills.
pub(crate) const IN_FLIGHT: usize = 2;
/// Largest batch: keeps one slow batch from holding many requests.
const MAX_BATCH: usize = 64;

/// A row read by id in batches.
pub(crate) trait Keyed: Clone + Send + 'static {
    fn key(&self) -> i64;
}

impl Keyed for EmnifySim {
    fn key(&self) -> i64 {
        self.id
    }
}

impl Keyed for EndpointRow {
    fn key(&self) -> i64 {
        self.id
    }
}

pub(crate) type FetchMany<T> = Arc<
    dyn Fn(Vec<i64>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<T>>> + Send>> + Send + Sync,
>;

/// Hands back whatever the fetch keeps (its connections) so that the pool can close.
pub(crate) type Release = Arc<dyn Fn() + Send + Sync>;

pub(crate) struct Fetcher<T> {
    pub fetch: FetchMany<T>,
    pub release: Release,
}

type Reply<T> = oneshot::Sender<StoreResult<Option<T>>>;
/// Reads waiting for a batch: the id and where its answer goes.
type Queue<T> = Vec<(i64, Reply<T>)>;

pub(crate) struct PointReads<T> {
    fetch: FetchMany<T>,
    release: Release,
    slots: Arc<Semaphore>,
    queue: Arc<Mutex<Queue<T>>>,
}

impl<T: Keyed> PointReads<T> {
    pub fn new(fetcher: Fetcher<T>) -> Self {
        PointReads {
            fetch: fetcher.fetch,
            release: fetcher.release,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            queue: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<T>> {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((id, reply));
        loop {
            tokio::select! {
                biased;
                got = &mut answer => {
                    return got.map_err(|_| StoreError::Database("point read dropped".into()))?;
                }
                slot = self.slots.clone().acquire_owned() => {
                    let slot = slot.map_err(|_| StoreError::Database("point reads closed".into()))?;
                    // One turn of the scheduler before taking the queue: the reads already woken on
                    // this worker join the batch. Measured on GET /api/v1/endpoint/{id}, 8 clients:
                    // 1.5 -> 2.1 reads per query, fewer round trips for the same answers.
                    tokio::task::yield_now().await;
                    let batch: Queue<T> = {
                        let mut queue = self.lock();
                        let n = queue.len().min(MAX_BATCH);
                        queue.drain(..n).collect()
                    };
                    if batch.is_empty() {
                        // Another read took ours into its batch: its answer is on the way.
                        drop(slot);
                        return answer.await.map_err(|_| StoreError::Database("point read \
                            dropped".into()))?;
                    }
                    // A task of its own, so that a cancelled request (client gone, timeout) cannot
                    // take the other reads of its batch down with it.
                    let fetch = self.fetch.clone();
                    let _ = tokio::spawn(async move {
                        run_batch(&fetch, batch).await;
                        drop(slot);
                    })
                    .await;
                }
            }
        }
    }

    /// Before the pool closes (it waits for every connection to come back).
    pub fn release(&self) {
        (self.release)();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn run_batch<T: Keyed>(fetch: &FetchMany<T>, batch: Queue<T>) {
    let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    match fetch(ids).await {
        Ok(rows) => {
            let mut by_id: HashMap<i64, T> = rows.into_iter().map(|r| (r.key(), r)).collect();
            // Several reads of one row each get a copy; the last one takes it.
            let mut wanted: HashMap<i64, usize> = HashMap::new();
            for (id, _) in &batch {
                *wanted.entry(*id).or_default() += 1;
            }
            for (id, reply) in batch {
                let n = wanted.get_mut(&id).expect("counted");
                *n -= 1;
                let row = if *n == 0 {
                    by_id.remove(&id)
                } else {
                    by_id.get(&id).cloned()
                };
                let _ = reply.send(Ok(row));
            }
        }
        Err(e) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// Fetches SIMs by id for [`PointReads`]: with their org and model labels joined, or without them when
/// the label cache fills them.
/// `routed` (Citus): each SIM's key is looked up in `sim_keys` first, so that the read names the shards
/// that hold the SIMs instead of asking every shard.
pub(crate) fn sim_fetcher(
    pool: Pool,
    joined: bool,
    keep: usize,
    routed: bool,
) -> Fetcher<EmnifySim> {
    let select = if joined {
        ESIM_SELECT
    } else {
        ESIM_SELECT_UNLABELLED
    };
    fetcher(
        pool,
        keep,
        move |mut conn: Conn, ids: Vec<i64>| async move {
            let read = if routed {
                routed_read(&mut conn, select, ids).await
            } else {
                let mut qb = Builder::new(select);
                qb.push(" WHERE s.id IN ").push_list(ids);
                qb.build().fetch_all(&mut conn).await
            };
            (conn, read)
        },
    )
}

/// Fetches live endpoints by id for [`PointReads`] (the caller's scope is checked on each row): with
/// their org path and profile names joined, or without them when the label cache fills them.
pub(crate) fn endpoint_fetcher(pool: Pool, joined: bool, keep: usize) -> Fetcher<EndpointRow> {
    let select = if joined {
        super::endpoints::ENDPOINT_SELECT
    } else {
        super::endpoints::ENDPOINT_SELECT_UNLABELLED
    };
    fetcher(
        pool,
        keep,
        move |mut conn: Conn, ids: Vec<i64>| async move {
            // An IN list, not `= ANY($1)`: the array's generic plan was measured at a third of the
            // throughput (the planner cannot see how few ids a batch has).
            let mut qb = Builder::new(select);
            qb.push(" WHERE e.status <> 2 AND e.id IN ").push_list(ids);
            let read = qb.build().fetch_all(&mut conn).await;
            (conn, read)
        },
    )
}

/// A [`Fetcher`] whose `read` runs on a connection kept between batches.
fn fetcher<T, F, Fut>(pool: Pool, keep: usize, read: F) -> Fetcher<T>
where
    T: Keyed,
    F: Fn(Conn, Vec<i64>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Conn, StoreResult<Vec<T>>)> + Send + 'static,
{
    // Connections the point reads keep between batches: returning one to the pool after every batch
    // costs a spawned task and taking it back a pool round; at most IN_FLIGHT are kept (`keep`: none in
    // a small pool, which the other requests need), and `release` hands them back before the pool closes.
    type Held = (Instant, Conn);
    // (released, connections): once released, connections go back to the pool at once.
    let held: Arc<Mutex<(bool, Vec<Held>)>> = Default::default();
    let kept = held.clone();
    let read = Arc::new(read);
    let fetch: FetchMany<T> = Arc::new(move |ids: Vec<i64>| {
        let (pool, held, read) = (pool.clone(), held.clone(), read.clone());
        Box::pin(async move {
            let kept = held.lock().unwrap_or_else(|e| e.into_inner()).1.pop();
            let conn = match kept {
                // Used within the last second: known to work (the pool's own rule).
                Some((at, conn)) if !distrust_connections(at.elapsed()) => conn,
                Some((_, mut conn)) => match conn.ping().await {
                    Ok(()) => conn,
                    Err(_) => {
                        conn.close_on_drop();
                        drop(conn);
                        pool.acquire().await?
                    }
                },
                None => pool.acquire().await?,
            };
            let (mut conn, rows) = read(conn, ids).await;
            match rows {
                Ok(rows) => {
                    let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                    if !held.0 && held.1.len() < keep {
                        held.1.push((Instant::now(), conn));
                    }
                    Ok(rows)
                }
                // A connection that failed is not trusted again: closed, and the pool opens another.
                Err(e) => {
                    conn.close_on_drop();
                    Err(e)
                }
            }
        })
    });
    let release: Release = Arc::new(move || {
        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.0 = true;
        kept.1.clear();
    });
    Fetcher { fetch, release }
}

/// How often a SIM that is moving between shards is read again before it is taken as gone.
const MOVE_READS: usize = 4;

/// Reads SIMs by id through their keys: a router query per shard on Citus. A SIM that moved between the
/// lookup and the read is read again by id alone.
async fn routed_read(conn: &mut Conn, select: &str, ids: Vec<i64>) -> StoreResult<Vec<EmnifySim>> {
    let mut lookup = Builder::new("SELECT id, tenant_org_id FROM sim_keys WHERE id IN ");
    lookup.push_list(ids);
    let keys: Vec<(i64, i64)> = lookup.build().fetch_all(&mut *conn).await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut tenants: Vec<i64> = keys.iter().map(|k| k.1).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let mut qb = Builder::new(select);
    qb.push(" WHERE s.tenant_org_id IN ")
        .push_list(tenants)
        .push(" AND s.id IN ")
        .push_list(keys.iter().map(|k| k.0));
    let mut rows: Vec<EmnifySim> = qb.build().fetch_all(&mut *conn).await?;
    // A SIM in `sim_keys` that is not found moved between the two reads. A move commits on its two
    // workers one after the other, and a read across shards has no snapshot common to both: for a
    // moment the SIM may be on neither. It is read again by id alone, briefly, until it shows.
    for attempt in 0..MOVE_READS {
        if rows.len() >= keys.len() {
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let found: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let moved: Vec<i64> = keys
            .iter()
            .map(|k| k.0)
            .filter(|id| !found.contains(id))
            .collect();
        let mut qb = Builder::new(select);
        qb.push(" WHERE s.id IN ").push_list(moved);
        rows.extend(qb.build().fetch_all::<EmnifySim>(&mut *conn).await?);
    }
    Ok(rows)
}
