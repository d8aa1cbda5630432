-- The distribution key in every tenant-owned table, as migrations/postgres/0009_distribution_keys.sql
-- (which says why). SQLite keeps its own unique indexes for ICCs and MVNO numbers (no registries) and
-- its foreign keys; the store writes the same key values on every backend.
UPDATE sims SET tenant_org_id = 1 WHERE tenant_org_id IS NULL;

ALTER TABLE mvno_accounts ADD COLUMN tenant_org_id INTEGER NOT NULL DEFAULT 1;
UPDATE mvno_accounts SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = mvno_accounts.customer_org_id), 1);

ALTER TABLE endpoints ADD COLUMN tenant_org_id INTEGER NOT NULL DEFAULT 1;
UPDATE endpoints SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = endpoints.org_id), 1);

ALTER TABLE events ADD COLUMN tenant_org_id INTEGER NOT NULL DEFAULT 1;
UPDATE events SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = events.org_id), 1);

ALTER TABLE audit_log ADD COLUMN tenant_org_id INTEGER NOT NULL DEFAULT 1;
UPDATE audit_log SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = audit_log.actor_org_id), 1);

-- usage_hourly's key gains the tenant (a SIM that changes tenant starts new buckets there).
CREATE TABLE usage_hourly_keyed (
    sim_id        INTEGER NOT NULL,
    hour          TEXT NOT NULL,
    traffic_type  INTEGER NOT NULL CHECK (traffic_type IN (5, 6)),
    volume_tx     REAL NOT NULL DEFAULT 0,
    volume_rx     REAL NOT NULL DEFAULT 0,
    cost          REAL NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL DEFAULT 'EUR',
    updated_at    TEXT NOT NULL,
    tenant_org_id INTEGER NOT NULL,
    CONSTRAINT usage_hourly_pkey PRIMARY KEY (sim_id, hour, traffic_type, tenant_org_id)
);
INSERT INTO usage_hourly_keyed
SELECT u.sim_id, u.hour, u.traffic_type, u.volume_tx, u.volume_rx, u.cost, u.currency, u.updated_at,
       COALESCE((SELECT s.tenant_org_id FROM sims s WHERE s.id = u.sim_id), 1)
FROM usage_hourly u;
DROP TABLE usage_hourly;
ALTER TABLE usage_hourly_keyed RENAME TO usage_hourly;
