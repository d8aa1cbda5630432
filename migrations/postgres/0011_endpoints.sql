-- Endpoints (the device a SIM sits in), the profiles they run under, and the history of which SIM
-- sat in which endpoint (spec/emnify-endpoints.md). Profiles are small and read by every endpoint
-- page: reference tables on Citus. The history is tenant-owned: distributed with its endpoint, its
-- key in its primary key (docs/scale-out.md).
CREATE SEQUENCE service_profiles_id_seq AS BIGINT START WITH 2;
CREATE TABLE service_profiles (
    id               BIGINT PRIMARY KEY DEFAULT nextval('service_profiles_id_seq'),
    name             TEXT NOT NULL,
    description      TEXT,
    -- NULL: the platform's, serving every org.
    owner_org_id     BIGINT REFERENCES organisations (id),
    allowed_3g       BOOLEAN NOT NULL DEFAULT TRUE,
    allowed_4g       BOOLEAN NOT NULL DEFAULT TRUE,
    allowed_nb_iot   BOOLEAN NOT NULL DEFAULT TRUE,
    apply_data_quota BOOLEAN NOT NULL DEFAULT FALSE,
    apply_sms_quota  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
ALTER SEQUENCE service_profiles_id_seq OWNED BY service_profiles.id;
CREATE INDEX service_profiles_owner_idx ON service_profiles (owner_org_id);

CREATE SEQUENCE tariff_profiles_id_seq AS BIGINT START WITH 2;
CREATE TABLE tariff_profiles (
    id           BIGINT PRIMARY KEY DEFAULT nextval('tariff_profiles_id_seq'),
    name         TEXT NOT NULL,
    description  TEXT,
    owner_org_id BIGINT REFERENCES organisations (id),
    created_at   TIMESTAMPTZ NOT NULL
);
ALTER SEQUENCE tariff_profiles_id_seq OWNED BY tariff_profiles.id;
CREATE INDEX tariff_profiles_owner_idx ON tariff_profiles (owner_org_id);

INSERT INTO service_profiles (id, name, created_at, updated_at) VALUES (1, 'Default Policy', now(), now());
INSERT INTO tariff_profiles (id, name, created_at) VALUES (1, 'Default Policy', now());

ALTER TABLE endpoints ADD COLUMN imei_lock BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE endpoints SET service_profile_id = 1 WHERE service_profile_id IS NULL;
UPDATE endpoints SET tariff_profile_id = 1 WHERE tariff_profile_id IS NULL;
-- A tenant's endpoint list walks this index; profiles count their live endpoints through the others.
CREATE INDEX endpoints_tenant_idx ON endpoints (tenant_org_id, id) WHERE status <> 2;
CREATE INDEX endpoints_service_profile_idx ON endpoints (service_profile_id) WHERE status <> 2;
CREATE INDEX endpoints_tariff_profile_idx ON endpoints (tariff_profile_id) WHERE status <> 2;

-- One SIM per endpoint. A SIM on an endpoint shares its key (the store refuses one that would not),
-- so the key completes the constraint on Citus without weakening it.
CREATE UNIQUE INDEX sims_endpoint_key ON sims (endpoint_id, tenant_org_id);

CREATE TABLE endpoint_sims (
    tenant_org_id BIGINT NOT NULL,
    endpoint_id   BIGINT NOT NULL,
    sim_id        BIGINT NOT NULL,
    from_at       TIMESTAMPTZ NOT NULL,
    until_at      TIMESTAMPTZ,
    PRIMARY KEY (endpoint_id, sim_id, from_at, tenant_org_id)
);
CREATE INDEX endpoint_sims_sim_idx ON endpoint_sims (sim_id, from_at);
