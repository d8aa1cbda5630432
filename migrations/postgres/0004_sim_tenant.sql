-- The tenant of an org is its top-level org (the child of the platform it lies under; NULL for the platform).
-- The tenant of a SIM is the one tenant all its orgs (issuer, reseller, customer, storage) share; NULL when
-- it has none below the platform, 0 when its orgs lie under different top-level orgs ("shared").
--
-- Why: a reseller's lists filter by scope and sort by id or ICC. Without a key, Postgres walks the sort
-- index and filters by org, expecting the reseller's SIMs to be spread evenly, while imports and batches
-- put them side by side: at 1M SIMs a reseller's page 1 read up to the whole table. With the key, its SIMs
-- are one range of (tenant_org_id, <sort field>, id). It is also DESIGN.md's distribution key.
-- The scope's own org condition stays in every query: the key narrows, it never widens.
ALTER TABLE organisations ADD COLUMN tenant_org_id BIGINT;
UPDATE organisations SET tenant_org_id = NULLIF(split_part(path, '/', 3), '')::BIGINT;

ALTER TABLE sims ADD COLUMN tenant_org_id BIGINT;
UPDATE sims s SET tenant_org_id = (
    SELECT CASE WHEN MIN(o.tenant_org_id) = MAX(o.tenant_org_id) OR MIN(o.tenant_org_id) IS NULL
                THEN MIN(o.tenant_org_id) ELSE 0 END
    FROM organisations o
    WHERE o.id IN (s.issuer_org_id, s.reseller_org_id, s.customer_org_id, s.in_storage_at))
WHERE s.reseller_org_id IS NOT NULL OR s.customer_org_id IS NOT NULL OR s.in_storage_at IS NOT NULL
   OR s.issuer_org_id IN (SELECT id FROM organisations WHERE tenant_org_id IS NOT NULL);

CREATE INDEX sims_tenant_idx ON sims (tenant_org_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_iccid_idx ON sims (tenant_org_id, iccid) WHERE tenant_org_id IS NOT NULL;
-- Every sort field of the emnify list, within a tenant. Only SIMs with a tenant are in these indexes:
-- central stock (imports, new batches) is written without them.
CREATE INDEX sims_tenant_status_idx ON sims (tenant_org_id, status, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_production_date_idx ON sims (tenant_org_id, production_date, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_eid_idx ON sims (tenant_org_id, eid, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_endpoint_idx ON sims (tenant_org_id, endpoint_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_model_idx ON sims (tenant_org_id, model_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_issuer_idx ON sims (tenant_org_id, issuer_org_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_reseller_idx ON sims (tenant_org_id, reseller_org_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_customer_idx ON sims (tenant_org_id, customer_org_id, id) WHERE tenant_org_id IS NOT NULL;
CREATE INDEX sims_tenant_unused_idx ON sims (tenant_org_id, iccid)
    WHERE tenant_org_id IS NOT NULL AND status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL;
