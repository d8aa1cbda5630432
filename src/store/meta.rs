//! Health, pool statistics and key/value settings (e.g. the generated JWT secret).

macro_rules! impl_meta_store {
    ($store:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl crate::store::MetaStore for $store {
            fn backend(&self) -> crate::store::Backend {
                $backend
            }

            async fn ping(&self) -> crate::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
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

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}
