-- simgate data model (SQLite). Keep in step with migrations/postgres/0001_init.sql:
-- same tables, columns, constraint and index names; only the types differ.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    oid        TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('PLATFORM','MNO','SERVICE_PROVIDER','RESELLER','ENTERPRISE')),
    parent_id  INTEGER REFERENCES organisations (id),
    -- materialized ancestry '/1/7/42/': a subtree is the range [path, path-with-last-'/'-as-'0')
    path       TEXT NOT NULL,
    country    TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT organisations_oid_key UNIQUE (oid)
);
CREATE INDEX organisations_path_idx ON organisations (path);
CREATE INDEX organisations_parent_idx ON organisations (parent_id, id);
CREATE INDEX organisations_name_idx ON organisations (name);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    oid           TEXT NOT NULL,
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    access_level  TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'ENABLED' CHECK (state IN ('ENABLED','DISABLED','DELETED')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CONSTRAINT users_oid_key UNIQUE (oid),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_org_idx ON users (org_id, id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_hash   TEXT NOT NULL,
    label        TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('SESSION','PERSISTENT','APPLICATION')),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, kind);

CREATE TABLE sim_models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    description  TEXT NOT NULL,
    memory_size  INTEGER,
    form_factor  TEXT NOT NULL,
    manufacturer TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE sim_batches (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    bic                  TEXT NOT NULL,
    issuer_org_id        INTEGER NOT NULL REFERENCES organisations (id),
    model_id             INTEGER REFERENCES sim_models (id),
    quantity             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    registered_at        TEXT,
    registered_by_org_id INTEGER REFERENCES organisations (id),
    CONSTRAINT sim_batches_bic_key UNIQUE (bic)
);

CREATE TABLE endpoints (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id             INTEGER NOT NULL REFERENCES organisations (id),
    name               TEXT NOT NULL,
    status             INTEGER NOT NULL DEFAULT 0,
    imei               TEXT,
    tags               TEXT,
    ip_address         TEXT,
    service_profile_id INTEGER,
    tariff_profile_id  INTEGER,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX endpoints_org_idx ON endpoints (org_id, id);

CREATE TABLE rate_plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    oid          TEXT NOT NULL,
    name         TEXT NOT NULL,
    owner_org_id INTEGER REFERENCES organisations (id),
    created_at   TEXT NOT NULL,
    CONSTRAINT rate_plans_oid_key UNIQUE (oid)
);
CREATE INDEX rate_plans_owner_idx ON rate_plans (owner_org_id);

CREATE TABLE sims (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    iccid           TEXT NOT NULL,
    imsi            TEXT,
    msisdn          TEXT,
    eid             TEXT,
    puk1            TEXT,
    puk2            TEXT,
    pin1            TEXT,
    pin2            TEXT,
    form_factor     TEXT NOT NULL CHECK (form_factor IN ('MINI_MICRO','NANO','MINI_MICRO_NANO','eSIM')),
    network         TEXT NOT NULL,
    model_id        INTEGER REFERENCES sim_models (id),
    batch_id        INTEGER REFERENCES sim_batches (id),
    status          INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 4),
    issuer_org_id   INTEGER REFERENCES organisations (id),
    reseller_org_id INTEGER REFERENCES organisations (id),
    customer_org_id INTEGER REFERENCES organisations (id),
    in_storage_at   INTEGER REFERENCES organisations (id),
    auto_assign     INTEGER NOT NULL DEFAULT 0,
    activation_code TEXT,
    tag             TEXT,
    endpoint_id     INTEGER REFERENCES endpoints (id),
    mvno_account_id INTEGER REFERENCES mvno_accounts (id),
    production_date TEXT,
    activation_date TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT sims_iccid_key UNIQUE (iccid)
);
-- TelecomX: unused SIMs by holder, ordered by ICC (central stock = NULL holder).
CREATE INDEX sims_unused_storage_idx ON sims (in_storage_at, iccid)
    WHERE status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL;
CREATE INDEX sims_unused_pick_idx ON sims (in_storage_at, network, form_factor, auto_assign, iccid)
    WHERE status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL;
CREATE INDEX sims_iccid_pattern_idx ON sims (iccid);
-- emnify q / sort fields.
CREATE INDEX sims_issuer_idx ON sims (issuer_org_id, id);
CREATE INDEX sims_reseller_idx ON sims (reseller_org_id, id);
CREATE INDEX sims_customer_idx ON sims (customer_org_id, id);
CREATE INDEX sims_status_idx ON sims (status, id);
CREATE INDEX sims_production_date_idx ON sims (production_date, id);
CREATE INDEX sims_model_idx ON sims (model_id, id);
CREATE INDEX sims_endpoint_idx ON sims (endpoint_id, id);
CREATE INDEX sims_eid_idx ON sims (eid);
CREATE INDEX sims_imsi_idx ON sims (imsi);
CREATE INDEX sims_msisdn_idx ON sims (msisdn);
CREATE INDEX sims_batch_idx ON sims (batch_id);
CREATE INDEX sims_mvno_idx ON sims (mvno_account_id);

-- Unused SIMs per holder; written in the same transaction as every change of a SIM's storage or use.
CREATE TABLE sim_inventory_counts (
    storage_org_id INTEGER NOT NULL DEFAULT 0, -- 0 = central stock (NULL cannot be part of the key)
    network        TEXT NOT NULL,
    form_factor    TEXT NOT NULL,
    auto_assign    INTEGER NOT NULL,
    count          INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT sim_inventory_counts_pkey PRIMARY KEY (storage_org_id, network, form_factor, auto_assign)
);

CREATE TABLE mvno_accounts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    oid                TEXT NOT NULL,
    customer_org_id    INTEGER NOT NULL REFERENCES organisations (id),
    state              TEXT NOT NULL CHECK (state IN ('ACTIVE','CREATING','BLOCKED','DELETED','PURGED')),
    number             TEXT,
    sim_id             INTEGER REFERENCES sims (id),
    rate_plan_id       INTEGER REFERENCES rate_plans (id),
    name               TEXT,
    employee_user_id   INTEGER REFERENCES users (id),
    device_type        TEXT,
    imei               TEXT,
    notes              TEXT,
    features           TEXT NOT NULL DEFAULT '{}',
    data_disabled      INTEGER NOT NULL DEFAULT 0,
    usage_block        INTEGER NOT NULL DEFAULT 0,
    number_state       TEXT NOT NULL DEFAULT 'IN_USE',
    dnd                INTEGER NOT NULL DEFAULT 0,
    updating           INTEGER NOT NULL DEFAULT 0,
    pbx                INTEGER,
    extension          TEXT,
    extension_number   TEXT,
    porting            TEXT,
    top_up             TEXT,
    socs               TEXT,
    socs_override      TEXT,
    soc_limit          TEXT,
    start_date         TEXT,
    delete_date        TEXT,
    deleted_at         TEXT,
    preterminate_until TEXT,
    purged_at          TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT mvno_accounts_oid_key UNIQUE (oid)
);
-- A number stays taken while its account exists, deleted-but-recoverable included.
CREATE UNIQUE INDEX mvno_accounts_number_key ON mvno_accounts (number) WHERE purged_at IS NULL;
CREATE INDEX mvno_accounts_customer_idx ON mvno_accounts (customer_org_id, oid) WHERE deleted_at IS NULL;
CREATE INDEX mvno_accounts_rate_plan_idx ON mvno_accounts (rate_plan_id);
CREATE INDEX mvno_accounts_deleted_idx ON mvno_accounts (deleted_at DESC)
    WHERE deleted_at IS NOT NULL AND purged_at IS NULL;
CREATE INDEX mvno_accounts_purge_idx ON mvno_accounts (preterminate_until)
    WHERE deleted_at IS NOT NULL AND purged_at IS NULL;
CREATE INDEX mvno_accounts_sim_idx ON mvno_accounts (sim_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts          TEXT NOT NULL,
    org_id      INTEGER,
    sim_id      INTEGER,
    endpoint_id INTEGER,
    user_id     INTEGER,
    type_id     INTEGER NOT NULL,
    source      INTEGER NOT NULL DEFAULT 2,
    severity    INTEGER NOT NULL DEFAULT 0,
    alert       INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX events_sim_idx ON events (sim_id, id DESC);
CREATE INDEX events_sim_ts_idx ON events (sim_id, ts);
CREATE INDEX events_org_idx ON events (org_id, id DESC);

CREATE TABLE usage_hourly (
    sim_id       INTEGER NOT NULL,
    hour         TEXT NOT NULL,
    traffic_type INTEGER NOT NULL CHECK (traffic_type IN (5, 6)),
    volume_tx    REAL NOT NULL DEFAULT 0,
    volume_rx    REAL NOT NULL DEFAULT 0,
    cost         REAL NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL DEFAULT 'EUR',
    updated_at   TEXT NOT NULL,
    CONSTRAINT usage_hourly_pkey PRIMARY KEY (sim_id, hour, traffic_type)
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts            TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_org_id  INTEGER,
    action        TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    before        TEXT,
    after         TEXT,
    request_id    TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);
CREATE INDEX audit_log_ts_idx ON audit_log (ts);
