-- The whole stock's unused SIMs in ICC order (an ADMIN's `GET /sim` page): 0009 dropped the unique
-- constraint on sims (iccid), whose index Postgres had walked for that order, and with it the page
-- became a scan of every unused SIM (368 ms p99 at 1M). SQLite has had this index since its 0003.
-- On Citus the index is created on every shard.
CREATE INDEX IF NOT EXISTS sims_unused_iccid_idx ON sims (iccid)
    WHERE status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL;
