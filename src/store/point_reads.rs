//! Single-SIM reads that arrive together share one query.
//!
//! Measured on the JWT `GET /api/v1/sim/{id}` path: with the principal and label caches, what is left
//! per request is one database round trip, and its cost is mostly the wake-ups on both sides (the
//! server's profile is half kernel send/switch time), not the row. So reads that arrive while others
//! are in flight are collected and fetched with one `WHERE id IN (...)`: at most `IN_FLIGHT` queries
//! run at once and whatever queued meanwhile goes in the next one. A lone read goes out at once (no
//! timer, no added wait); under load the batches grow with the load.
use crate::store::{EmnifySim, StoreError, StoreResult};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Queries of this kind at once; with 2 the database works on one batch while the next one fills.
const IN_FLIGHT: usize = 2;
/// Largest batch: keeps one slow batch from holding many requests.
const MAX_BATCH: usize = 64;

pub(crate) type FetchMany = Arc<
    dyn Fn(Vec<i64>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<EmnifySim>>> + Send>>
        + Send
        + Sync,
>;

type Reply = oneshot::Sender<StoreResult<Option<EmnifySim>>>;

pub(crate) struct PointReads {
    queue: mpsc::UnboundedSender<(i64, Reply)>,
}

impl PointReads {
    /// Starts the collecting task; it ends when the `PointReads` is dropped.
    pub fn start(fetch: FetchMany) -> Self {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(i64, Reply)>();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(IN_FLIGHT));
            while let Some(first) = incoming.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                // Everything that queued while the slots were busy goes into this batch.
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let fetch = fetch.clone();
                tokio::spawn(async move {
                    let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    match fetch(ids).await {
                        Ok(rows) => {
                            let mut by_id: HashMap<i64, EmnifySim> =
                                rows.into_iter().map(|s| (s.id, s)).collect();
                            // Several requests for one SIM each get a copy; the last one takes it.
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
                    drop(slot);
                });
            }
        });
        PointReads { queue }
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<EmnifySim>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((id, reply))
            .map_err(|_| StoreError::Database("point reads stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Database("point read dropped".into()))?
    }
}
