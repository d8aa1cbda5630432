-- Endpoints (the device a SIM sits in), the profiles they run under, and the history of which SIM
-- sat in which endpoint (spec/emnify-endpoints.md; postgres/0011).
CREATE TABLE service_profiles (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    description      TEXT,
    -- NULL: the platform's, serving every org.
    owner_org_id     INTEGER REFERENCES organisations (id),
    allowed_3g       BOOLEAN NOT NULL DEFAULT TRUE,
    allowed_4g       BOOLEAN NOT NULL DEFAULT TRUE,
    allowed_nb_iot   BOOLEAN NOT NULL DEFAULT TRUE,
    apply_data_quota BOOLEAN NOT NULL DEFAULT FALSE,
    apply_sms_quota  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX service_profiles_owner_idx ON service_profiles (owner_org_id);

CREATE TABLE tariff_profiles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    description  TEXT,
    owner_org_id INTEGER REFERENCES organisations (id),
    created_at   TEXT NOT NULL
);
CREATE INDEX tariff_profiles_owner_idx ON tariff_profiles (owner_org_id);

INSERT INTO service_profiles (id, name, created_at, updated_at)
    VALUES (1, 'Default Policy', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
INSERT INTO tariff_profiles (id, name, created_at)
    VALUES (1, 'Default Policy', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

ALTER TABLE endpoints ADD COLUMN imei_lock BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE endpoints SET service_profile_id = 1 WHERE service_profile_id IS NULL;
UPDATE endpoints SET tariff_profile_id = 1 WHERE tariff_profile_id IS NULL;
CREATE INDEX endpoints_tenant_idx ON endpoints (tenant_org_id, id) WHERE status <> 2;
CREATE INDEX endpoints_service_profile_idx ON endpoints (service_profile_id) WHERE status <> 2;
CREATE INDEX endpoints_tariff_profile_idx ON endpoints (tariff_profile_id) WHERE status <> 2;

CREATE UNIQUE INDEX sims_endpoint_key ON sims (endpoint_id, tenant_org_id);

CREATE TABLE endpoint_sims (
    tenant_org_id INTEGER NOT NULL,
    endpoint_id   INTEGER NOT NULL,
    sim_id        INTEGER NOT NULL,
    from_at       TEXT NOT NULL,
    until_at      TEXT,
    PRIMARY KEY (endpoint_id, sim_id, from_at, tenant_org_id)
);
CREATE INDEX endpoint_sims_sim_idx ON endpoint_sims (sim_id, from_at);
