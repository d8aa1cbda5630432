-- Countries and mobile operators (filled from migrations/data/*.csv at start, store/operators.rs), and
-- the operators each endpoint is barred from. Countries and operators are small and read with every
-- list: reference tables on Citus; a blacklist is tenant-owned, with its endpoint's key in its key.
CREATE TABLE countries (
    id           BIGINT PRIMARY KEY,
    name         TEXT NOT NULL,
    iso_code     TEXT NOT NULL,
    -- digits only (the emnify SDK parses it as an integer); '0' when the country has none
    country_code TEXT NOT NULL,
    mcc          TEXT NOT NULL
);

CREATE SEQUENCE operators_id_seq AS BIGINT START WITH 100000;
CREATE TABLE operators (
    id         BIGINT PRIMARY KEY DEFAULT nextval('operators_id_seq'),
    name       TEXT NOT NULL,
    country_id BIGINT NOT NULL REFERENCES countries (id)
);
ALTER SEQUENCE operators_id_seq OWNED BY operators.id;

CREATE SEQUENCE operator_mncs_id_seq AS BIGINT START WITH 100000;
CREATE TABLE operator_mncs (
    id          BIGINT PRIMARY KEY DEFAULT nextval('operator_mncs_id_seq'),
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    mnc         TEXT NOT NULL
);
ALTER SEQUENCE operator_mncs_id_seq OWNED BY operator_mncs.id;
CREATE INDEX operator_mncs_operator_idx ON operator_mncs (operator_id);

CREATE SEQUENCE operator_tapcodes_id_seq AS BIGINT START WITH 100000;
CREATE TABLE operator_tapcodes (
    id          BIGINT PRIMARY KEY DEFAULT nextval('operator_tapcodes_id_seq'),
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    tapcode     TEXT NOT NULL
);
ALTER SEQUENCE operator_tapcodes_id_seq OWNED BY operator_tapcodes.id;
CREATE INDEX operator_tapcodes_operator_idx ON operator_tapcodes (operator_id);

CREATE TABLE endpoint_operator_blacklist (
    tenant_org_id BIGINT NOT NULL,
    endpoint_id   BIGINT NOT NULL,
    operator_id   BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (endpoint_id, operator_id, tenant_org_id)
);
