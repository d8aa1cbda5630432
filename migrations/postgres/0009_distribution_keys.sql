-- The distribution key in every tenant-owned table (docs/scale-out.md). On plain Postgres these are
-- ordinary columns and keys; on Citus the store then distributes the tables by them (src/store/citus.rs).
--
-- Rule 4: central stock is tenant 1 and SIMs whose orgs lie under different top-level orgs tenant 0, so
-- that the key is never NULL.
--
-- Idempotent, like 0007: a database whose migration history was rewound runs it again (keys that
-- already include the tenant are left alone). A SIM that changes tenant is moved (INSERT under the new key, DELETE under
-- the old one; src/store/keys.rs): Citus does not update a distribution column.
UPDATE sims SET tenant_org_id = 1 WHERE tenant_org_id IS NULL;
ALTER TABLE sims ALTER COLUMN tenant_org_id SET NOT NULL;

-- Rule 6: foreign keys between tenant-owned tables would have to carry the key on both sides and would
-- stop a SIM from moving; the store keeps these links under the rows' locks (it always wrote both sides).
DO $$
DECLARE
    c RECORD;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
             WHERE contype = 'f' AND confrelid IN ('sims'::regclass, 'mvno_accounts'::regclass, 'endpoints'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
    END LOOP;
END
$$;

-- Rule 1: every unique key includes the distribution column; what must be unique across tenants is
-- kept by a registry keyed by the unique value itself, under the constraint name the API maps.
CREATE OR REPLACE FUNCTION simgate_key_with_tenant(tbl TEXT, pkey TEXT, cols TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid
                   AND a.attnum = ANY (c.conkey)
                   WHERE c.conrelid = tbl::regclass AND c.conname = pkey AND a.attname = 'tenant_org_id') THEN
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', tbl, pkey);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', tbl, pkey, cols);
    END IF;
END
$$;

SELECT simgate_key_with_tenant('sims', 'sims_pkey', 'PRIMARY KEY (id, tenant_org_id)');
ALTER TABLE sims DROP CONSTRAINT IF EXISTS sims_iccid_key;
-- Reads by ICC use sims_iccid_pattern_idx (text_pattern_ops serves equality too).
-- On Citus it also holds the SIM's key, so that a SIM found by its ICC is read on its shard (kept
-- there only, like sim_keys).
CREATE TABLE IF NOT EXISTS sim_iccids (
    iccid         TEXT NOT NULL,
    tenant_org_id BIGINT,
    CONSTRAINT sims_iccid_key PRIMARY KEY (iccid)
);
INSERT INTO sim_iccids SELECT iccid, tenant_org_id FROM sims ON CONFLICT DO NOTHING;

-- A SIM's key by its id, for reads by id (the API's `/api/v1/sim/{id}`): on Citus the lookup and then
-- the read are each routed to one shard, where a read by id alone would ask every shard. Kept on Citus
-- only (filled when the store distributes the tables, then written with every new SIM and every move);
-- on Postgres a read by id is one index probe and needs no aid.
CREATE TABLE IF NOT EXISTS sim_keys (
    id            BIGINT NOT NULL,
    tenant_org_id BIGINT NOT NULL,
    CONSTRAINT sim_keys_pkey PRIMARY KEY (id)
);

-- An MVNO account lives with its customer's tenant, and so does its SIM (an account only takes SIMs of
-- its own tenant).
ALTER TABLE mvno_accounts ADD COLUMN IF NOT EXISTS tenant_org_id BIGINT;
UPDATE mvno_accounts m SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = m.customer_org_id), 1)
WHERE tenant_org_id IS NULL;
ALTER TABLE mvno_accounts ALTER COLUMN tenant_org_id SET NOT NULL;
SELECT simgate_key_with_tenant('mvno_accounts', 'mvno_accounts_pkey', 'PRIMARY KEY (id, tenant_org_id)');
-- oids are generated (time + randomness), unique by construction; the key only finds them.
SELECT simgate_key_with_tenant('mvno_accounts', 'mvno_accounts_oid_key', 'UNIQUE (oid, tenant_org_id)');
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'mvno_accounts' AND indexname = 'mvno_accounts_number_key') THEN
        DROP INDEX mvno_accounts_number_key;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS mvno_accounts_number_idx ON mvno_accounts (number) WHERE purged_at IS NULL;
-- A number stays taken while its account exists, deleted-but-recoverable included; the purge frees it.
-- It also holds the account's key, so that an account found by its number is read on its shard.
CREATE TABLE IF NOT EXISTS mvno_numbers (
    number        TEXT NOT NULL,
    tenant_org_id BIGINT,
    CONSTRAINT mvno_accounts_number_key PRIMARY KEY (number)
);
INSERT INTO mvno_numbers SELECT number, tenant_org_id FROM mvno_accounts
WHERE purged_at IS NULL AND number IS NOT NULL
ON CONFLICT DO NOTHING;

ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS tenant_org_id BIGINT;
UPDATE endpoints e SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = e.org_id), 1)
WHERE e.tenant_org_id IS NULL;
ALTER TABLE endpoints ALTER COLUMN tenant_org_id SET NOT NULL;
SELECT simgate_key_with_tenant('endpoints', 'endpoints_pkey', 'PRIMARY KEY (id, tenant_org_id)');

-- Events and usage stay with the tenant they happened in: an event with its org's tenant, usage with
-- its SIM's tenant at ingest.
ALTER TABLE events ADD COLUMN IF NOT EXISTS tenant_org_id BIGINT;
UPDATE events ev SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = ev.org_id), 1)
WHERE ev.tenant_org_id IS NULL;
ALTER TABLE events ALTER COLUMN tenant_org_id SET NOT NULL;
SELECT simgate_key_with_tenant('events', 'events_pkey', 'PRIMARY KEY (id, ts, tenant_org_id)');

ALTER TABLE usage_hourly ADD COLUMN IF NOT EXISTS tenant_org_id BIGINT;
UPDATE usage_hourly u SET tenant_org_id = COALESCE((SELECT MIN(s.tenant_org_id) FROM sims s WHERE s.id = u.sim_id), 1)
WHERE u.tenant_org_id IS NULL;
ALTER TABLE usage_hourly ALTER COLUMN tenant_org_id SET NOT NULL;
SELECT simgate_key_with_tenant('usage_hourly', 'usage_hourly_pkey',
                               'PRIMARY KEY (sim_id, hour, traffic_type, tenant_org_id)');

-- The audit row lives with the acting org's tenant (1 for the platform and the system).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS tenant_org_id BIGINT;
UPDATE audit_log a SET tenant_org_id =
    COALESCE((SELECT o.tenant_org_id FROM organisations o WHERE o.id = a.actor_org_id), 1)
WHERE a.tenant_org_id IS NULL;
ALTER TABLE audit_log ALTER COLUMN tenant_org_id SET NOT NULL;
SELECT simgate_key_with_tenant('audit_log', 'audit_log_pkey', 'PRIMARY KEY (id, tenant_org_id)');

-- The monthly partitions: on Citus the new partition is distributed when it is attached, and the rows
-- moved into it from the DEFAULT partition are copied to the workers; the coordinator's local copy
-- is then truncated.
CREATE OR REPLACE FUNCTION simgate_ensure_partition(parent TEXT, month DATE) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    lo   TEXT := to_char(date_trunc('month', month), 'YYYY-MM-DD') || ' 00:00:00+00';
    hi   TEXT := to_char(date_trunc('month', month) + INTERVAL '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
    part TEXT := parent || '_p' || to_char(month, 'YYYY_MM');
    col  TEXT := CASE parent WHEN 'events' THEN 'ts' WHEN 'usage_hourly' THEN 'hour' END;
BEGIN
    IF col IS NULL THEN
        RAISE EXCEPTION 'not a partitioned table: %', parent;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('simgate_partitions'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                   parent || '_default', col, lo, col, hi, part);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        -- Dynamic: without Citus, pg_dist_partition does not exist.
        EXECUTE format('SELECT truncate_local_data_after_distributing_table(logicalrelid) FROM pg_dist_partition '
                       'WHERE logicalrelid = %L::regclass AND partmethod = ''h''', part);
    END IF;
    RETURN TRUE;
END
$$;
