//! Health, pool statistics and key/value settings (e.g. the generated JWT secret).
use super::db::query;
use super::*;

#[async_trait::async_trait]
impl MetaStore for SqlStore {
    fn backend(&self) -> Backend {
        if self.citus {
            return Backend::Citus;
        }
        self.pool.backend()
    }

    /// Both pools: a replica that stopped answering makes the node unready too.
    async fn ping(&self) -> StoreResult<()> {
        query("SELECT 1").execute(&self.pool).await?;
        query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    fn access_epoch(&self) -> u64 {
        self.access_epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
        }
    }

    async fn setting_get_or_init(&self, key: &str, value: &str) -> StoreResult<String> {
        query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        let stored: String = query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .scalar(&self.pool)
            .await?;
        Ok(stored)
    }

    async fn ensure_partitions(&self, months: &[chrono::NaiveDate]) -> StoreResult<u32> {
        if self.backend() == Backend::Sqlite {
            return Ok(0);
        }
        let mut created = 0;
        for table in TimeTable::ALL {
            for month in months {
                let new: bool = query("SELECT simgate_ensure_partition($1, $2)")
                    .bind(table.name())
                    .bind(*month)
                    .scalar(&self.pool)
                    .await?;
                created += u32::from(new);
            }
        }
        Ok(created)
    }

    async fn drop_before(&self, table: TimeTable, before: chrono::NaiveDate) -> StoreResult<u64> {
        if self.backend() != Backend::Sqlite {
            let dropped: i32 = query("SELECT simgate_drop_partitions($1, $2)")
                .bind(table.name())
                .bind(before)
                .scalar(&self.pool)
                .await?;
            return Ok(dropped as u64);
        }
        let cutoff = before.and_time(chrono::NaiveTime::MIN).and_utc();
        let done = query(format!(
            "DELETE FROM {} WHERE {} < $1",
            table.name(),
            table.time_column()
        ))
        .bind(cutoff)
        .execute(&self.pool)
        .await?;
        Ok(done)
    }

    async fn business_counts(&self) -> StoreResult<BusinessCounts> {
        let in_storage = query(
            "SELECT network, CAST(SUM(count) AS BIGINT) FROM sim_inventory_counts GROUP BY network",
        )
        .fetch_all::<(String, i64)>(&self.reads)
        .await?;
        let mvno_accounts = query("SELECT state, COUNT(*) FROM mvno_accounts GROUP BY state")
            .fetch_all::<(String, i64)>(&self.reads)
            .await?;
        Ok(BusinessCounts {
            in_storage,
            mvno_accounts,
        })
    }

    async fn backup_into(&self, file: &str) -> StoreResult<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Database(
                "a backup copy is made by the database's own tools on Postgres".into(),
            ));
        }
        query("VACUUM INTO $1")
            .bind(file)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn analyze(&self) -> StoreResult<()> {
        if self.backend() != Backend::Sqlite {
            query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn close(&self) {
        self.point_reads.release();
        self.endpoint_reads.release();
        self.pool.close().await;
    }
}
