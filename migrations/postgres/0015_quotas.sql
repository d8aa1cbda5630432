-- Data and SMS quotas of endpoints (spec/emnify-endpoints.md §7). Tenant-owned: distributed with the
-- endpoint, its key in the primary key. kind 1 data (MB), 2 SMS; status 1 ACTIVE, 2 EXHAUSTED,
-- 3 EXPIRED; action 1 Block, 2 Throttle. Usage counts from assigned_at on.
CREATE TABLE endpoint_quotas (
    tenant_org_id        BIGINT NOT NULL,
    endpoint_id          BIGINT NOT NULL,
    kind                 SMALLINT NOT NULL,
    status               SMALLINT NOT NULL,
    volume               DOUBLE PRECISION NOT NULL,
    last_volume_added    DOUBLE PRECISION NOT NULL,
    expiry_date          TIMESTAMPTZ NOT NULL,
    auto_refill          SMALLINT NOT NULL DEFAULT 0,
    threshold_percentage SMALLINT,
    threshold_reported   BOOLEAN NOT NULL DEFAULT FALSE,
    action               SMALLINT NOT NULL DEFAULT 1,
    peak_throughput      INTEGER,
    assigned_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (endpoint_id, kind, tenant_org_id)
);
CREATE INDEX endpoint_quotas_expiry_idx ON endpoint_quotas (expiry_date) WHERE status <> 3;
