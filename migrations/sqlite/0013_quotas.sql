-- Data and SMS quotas of endpoints (spec/emnify-endpoints.md §7; postgres/0015).
CREATE TABLE endpoint_quotas (
    tenant_org_id        INTEGER NOT NULL,
    endpoint_id          INTEGER NOT NULL,
    kind                 INTEGER NOT NULL,
    status               INTEGER NOT NULL,
    volume               REAL NOT NULL,
    last_volume_added    REAL NOT NULL,
    expiry_date          TEXT NOT NULL,
    auto_refill          INTEGER NOT NULL DEFAULT 0,
    threshold_percentage INTEGER,
    threshold_reported   BOOLEAN NOT NULL DEFAULT FALSE,
    action               INTEGER NOT NULL DEFAULT 1,
    peak_throughput      INTEGER,
    assigned_at          TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, kind, tenant_org_id)
);
CREATE INDEX endpoint_quotas_expiry_idx ON endpoint_quotas (expiry_date) WHERE status <> 3;
