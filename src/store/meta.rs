//! Health, pool statistics and key/value settings (e.g. the generated JWT secret).

macro_rules! impl_meta_store {
    ($store:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl crate::store::MetaStore for $store {
            fn backend(&self) -> crate::store::Backend {
                $backend
            }

            /// Both pools: a replica that stopped answering makes the node unready too.
            async fn ping(&self) -> crate::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                sqlx::query("SELECT 1").execute(&self.reads).await?;
                Ok(())
            }

            fn pool_stats(&self) -> crate::store::PoolStats {
                crate::store::PoolStats { size: self.pool.size(), idle: self.pool.num_idle() as u32 }
            }

            async fn setting_get_or_init(&self, key: &str, value: &str) -> crate::store::StoreResult<String> {
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(stored)
            }

            async fn ensure_partitions(&self, months: &[chrono::NaiveDate]) -> crate::store::StoreResult<u32> {
                if self.backend() != crate::store::Backend::Postgres {
                    return Ok(0);
                }
                let mut created = 0;
                for table in crate::store::TimeTable::ALL {
                    for month in months {
                        let new: bool = sqlx::query_scalar("SELECT simgate_ensure_partition($1, $2)")
                            .bind(table.name())
                            .bind(*month)
                            .fetch_one(&self.pool)
                            .await?;
                        created += u32::from(new);
                    }
                }
                Ok(created)
            }

            async fn drop_before(&self, table: crate::store::TimeTable, before: chrono::NaiveDate) -> crate::store::StoreResult<u64> {
                if self.backend() == crate::store::Backend::Postgres {
                    let dropped: i32 = sqlx::query_scalar("SELECT simgate_drop_partitions($1, $2)")
                        .bind(table.name())
                        .bind(before)
                        .fetch_one(&self.pool)
                        .await?;
                    return Ok(dropped as u64);
                }
                let cutoff = before.and_time(chrono::NaiveTime::MIN).and_utc();
                let done = sqlx::query(&format!("DELETE FROM {} WHERE {} < $1", table.name(), table.time_column()))
                    .bind(cutoff)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn close(&self) {
                self.point_reads.release();
                self.pool.close().await;
            }
        }
    };
}
