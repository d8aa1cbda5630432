-- Hourly usage per endpoint (spec/emnify-endpoints.md §6; postgres/0017).
CREATE TABLE usage_endpoint_hourly (
    tenant_org_id INTEGER NOT NULL,
    endpoint_id   INTEGER NOT NULL,
    hour          TEXT NOT NULL,
    traffic_type  INTEGER NOT NULL CHECK (traffic_type IN (5, 6)),
    volume_tx     REAL NOT NULL DEFAULT 0,
    volume_rx     REAL NOT NULL DEFAULT 0,
    cost          REAL NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL DEFAULT 'EUR',
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, hour, traffic_type, tenant_org_id)
);
