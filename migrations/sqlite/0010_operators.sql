-- Countries and mobile operators (filled from migrations/data/*.csv at start, store/operators.rs), and
-- the operators each endpoint is barred from (postgres/0012). Seeded ids stay below 100,000.
CREATE TABLE countries (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    iso_code     TEXT NOT NULL,
    country_code TEXT NOT NULL,
    mcc          TEXT NOT NULL
);

CREATE TABLE operators (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    country_id INTEGER NOT NULL REFERENCES countries (id)
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('operators', 99999);

CREATE TABLE operator_mncs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    mnc         TEXT NOT NULL
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('operator_mncs', 99999);
CREATE INDEX operator_mncs_operator_idx ON operator_mncs (operator_id);

CREATE TABLE operator_tapcodes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    tapcode     TEXT NOT NULL
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('operator_tapcodes', 99999);
CREATE INDEX operator_tapcodes_operator_idx ON operator_tapcodes (operator_id);

CREATE TABLE endpoint_operator_blacklist (
    tenant_org_id INTEGER NOT NULL,
    endpoint_id   INTEGER NOT NULL,
    operator_id   INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, operator_id, tenant_org_id)
);
