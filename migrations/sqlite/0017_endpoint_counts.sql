-- The live endpoints counted by what a list filters on without a search: tenant, org, status, profiles
-- and tags ('' for none). Kept by the store in the transaction of every endpoint write
-- (store/endpoint_counts.rs), so that a list's total is a SUM over these rows, not a COUNT of devices.
-- postgres/0019 on SQLite.
CREATE TABLE endpoint_counts (
    tenant_org_id      INTEGER NOT NULL,
    org_id             INTEGER NOT NULL,
    status             INTEGER NOT NULL,
    service_profile_id INTEGER NOT NULL,
    tariff_profile_id  INTEGER NOT NULL,
    tags               TEXT NOT NULL,
    count              INTEGER NOT NULL,
    CONSTRAINT endpoint_counts_pkey
        PRIMARY KEY (tenant_org_id, org_id, status, service_profile_id, tariff_profile_id, tags)
);
INSERT INTO endpoint_counts
SELECT tenant_org_id, org_id, status, COALESCE(service_profile_id, 1), COALESCE(tariff_profile_id, 1),
       COALESCE(tags, ''), COUNT(*)
FROM endpoints WHERE status <> 2
GROUP BY 1, 2, 3, 4, 5, 6;

-- A list sorted by last update reads these backwards and stops at its page.
CREATE INDEX endpoints_updated_idx ON endpoints (updated_at, id) WHERE status <> 2;
CREATE INDEX endpoints_tenant_updated_idx ON endpoints (tenant_org_id, updated_at, id) WHERE status <> 2;
