-- Hourly usage per endpoint (spec/emnify-endpoints.md §6): filled by usage ingest for the endpoint
-- the SIM was in at each record's time, read by /api/v1/endpoint/{id}/stats. Tenant-owned: under
-- the endpoint's key, distributed with it. Not partitioned: an endpoint's hours are far fewer rows
-- than its SIM events (retention of usage_hourly does not reach it yet).
CREATE TABLE usage_endpoint_hourly (
    tenant_org_id BIGINT NOT NULL,
    endpoint_id   BIGINT NOT NULL,
    hour          TIMESTAMPTZ NOT NULL,
    traffic_type  SMALLINT NOT NULL CHECK (traffic_type IN (5, 6)),
    volume_tx     DOUBLE PRECISION NOT NULL DEFAULT 0,
    volume_rx     DOUBLE PRECISION NOT NULL DEFAULT 0,
    cost          DOUBLE PRECISION NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL DEFAULT 'EUR',
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (endpoint_id, hour, traffic_type, tenant_org_id)
);
