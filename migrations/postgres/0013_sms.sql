-- SMS to (MT) and from (MO) endpoints (spec/emnify-endpoints.md §5). Tenant-owned: distributed with
-- the endpoint, its key in the primary key.
CREATE SEQUENCE sms_id_seq AS BIGINT;
CREATE TABLE sms (
    id                    BIGINT NOT NULL DEFAULT nextval('sms_id_seq'),
    tenant_org_id         BIGINT NOT NULL,
    endpoint_id           BIGINT NOT NULL,
    sim_id                BIGINT,
    sms_type              SMALLINT NOT NULL,
    status                SMALLINT NOT NULL,
    submit_date           TIMESTAMPTZ NOT NULL,
    expiry_date           TIMESTAMPTZ NOT NULL,
    delivery_date         TIMESTAMPTZ,
    final_date            TIMESTAMPTZ,
    last_delivery_attempt TIMESTAMPTZ,
    retry_count           INTEGER NOT NULL DEFAULT 0,
    source_address        TEXT,
    source_address_type   SMALLINT,
    destination_address   TEXT,
    payload               TEXT NOT NULL,
    udh                   TEXT,
    dcs                   INTEGER NOT NULL DEFAULT 0,
    pid                   INTEGER NOT NULL DEFAULT 0,
    gsm_map_error         INTEGER,
    PRIMARY KEY (id, tenant_org_id)
);
ALTER SEQUENCE sms_id_seq OWNED BY sms.id;
CREATE INDEX sms_endpoint_idx ON sms (endpoint_id, id);
CREATE INDEX sms_waiting_idx ON sms (expiry_date) WHERE status IN (1, 2, 3);
