-- SMS to (MT) and from (MO) endpoints (postgres/0013).
CREATE TABLE sms (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_org_id         INTEGER NOT NULL,
    endpoint_id           INTEGER NOT NULL,
    sim_id                INTEGER,
    sms_type              INTEGER NOT NULL,
    status                INTEGER NOT NULL,
    submit_date           TEXT NOT NULL,
    expiry_date           TEXT NOT NULL,
    delivery_date         TEXT,
    final_date            TEXT,
    last_delivery_attempt TEXT,
    retry_count           INTEGER NOT NULL DEFAULT 0,
    source_address        TEXT,
    source_address_type   INTEGER,
    destination_address   TEXT,
    payload               TEXT NOT NULL,
    udh                   TEXT,
    dcs                   INTEGER NOT NULL DEFAULT 0,
    pid                   INTEGER NOT NULL DEFAULT 0,
    gsm_map_error         INTEGER
);
CREATE INDEX sms_endpoint_idx ON sms (endpoint_id, id);
CREATE INDEX sms_waiting_idx ON sms (expiry_date) WHERE status IN (1, 2, 3);
