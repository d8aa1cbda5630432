//! Single-SIM reads that arrive together share one query.
//!
//! Measured on the JWT `GET /api/v1/sim/{id}` path: with the principal and label caches, what is left
//! per request is one database round trip, and its cost is mostly the wake-ups on both sides (the
//! server's profile is half kernel send/switch time), not the row. So reads that arrive while others
//! are in flight are fetched together with one `WHERE id IN (...)`: at most `IN_FLIGHT` queries run at
//! once. A read joins the queue and waits for its answer or for a free slot, whichever comes first;
//! the one that gets the slot takes everything queued (its own read, if nobody took it yet, and the
//! others') and runs that batch. No timer and no extra task in between: a lone read goes out at once,
//! and under load the batches grow with the load.
use super::db::{Builder, Conn, Pool};
use super::emnify::{ESIM_SELECT, ESIM_SELECT_UNLABELLED};
use super::{distrust_connections, EmnifySim, StoreError, StoreResult};
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

pub(crate) type FetchMany = Arc<
    dyn Fn(Vec<i64>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<EmnifySim>>> + Send>>
        + Send
        + Sync,
>;

/// Hands back whatever the fetch keeps (its connections) so that the pool can close.
pub(crate) type Release = Arc<dyn Fn() + Send + Sync>;

pub(crate) struct Fetcher {
    pub fetch: FetchMany,
    pub release: Release,
}

type Reply = oneshot::Sender<StoreResult<Option<EmnifySim>>>;

pub(crate) struct PointReads {
    fetch: FetchMany,
    release: Release,
    slots: Arc<Semaphore>,
    queue: Arc<Mutex<Vec<(i64, Reply)>>>,
}

impl PointReads {
    pub fn new(fetcher: Fetcher) -> Self {
        PointReads {
            fetch: fetcher.fetch,
            release: fetcher.release,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            queue: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<EmnifySim>> {
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
                    let batch: Vec<(i64, Reply)> = {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(i64, Reply)>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn run_batch(fetch: &FetchMany, batch: Vec<(i64, Reply)>) {
    let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    match fetch(ids).await {
        Ok(rows) => {
            let mut by_id: HashMap<i64, EmnifySim> = rows.into_iter().map(|s| (s.id, s)).collect();
            // Several reads of one SIM each get a copy; the last one takes it.
            let mut wanted: HashMap<i64, usize> = HashMap::new();
            for (id, _) in &batch {
                *wanted.entry(*id).or_default() += 1;
            }
            for (id, reply) in batch {
                let n = wanted.get_mut(&id).expect("counted");
                *n -= 1;
                let sim = if *n == 0 {
                    by_id.remove(&id)
                } else {
                    by_id.get(&id).cloned()
                };
                let _ = reply.send(Ok(sim));
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
pub(crate) fn fetcher(pool: Pool, joined: bool, keep: usize, routed: bool) -> Fetcher {
    // Connections the point reads keep between batches: returning one to the pool after every batch
    // costs a spawned task and taking it back a pool round; at most IN_FLIGHT are kept (`keep`: none in
    // a small pool, which the other requests need), and `release` hands them back before the pool closes.
    type Held = (Instant, Conn);
    // (released, connections): once released, connections go back to the pool at once.
    let held: Arc<Mutex<(bool, Vec<Held>)>> = Default::default();
    let kept = held.clone();
    let fetch: FetchMany = Arc::new(move |ids: Vec<i64>| {
        let (pool, held) = (pool.clone(), held.clone());
        Box::pin(async move {
            let kept = held.lock().unwrap_or_else(|e| e.into_inner()).1.pop();
            let mut conn = match kept {
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
            let select = if joined {
                ESIM_SELECT
            } else {
                ESIM_SELECT_UNLABELLED
            };
            let read = if routed {
                routed_read(&mut conn, select, ids).await
            } else {
                let mut qb = Builder::new(select);
                qb.push(" WHERE s.id IN ").push_list(ids);
                qb.build().fetch_all(&mut conn).await
            };
            match read {
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
