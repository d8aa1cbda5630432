-- The tenant of an org is its top-level org (the child of the platform it lies under; NULL for the platform).
-- The tenant of a SIM is the one tenant all its orgs (issuer, reseller, customer, storage) share; NULL when
-- it has none below the platform, 0 when its orgs lie under different top-level orgs ("shared").
-- Same as migrations/postgres/0004_sim_tenant.sql, which says why.
ALTER TABLE organisations ADD COLUMN tenant_org_id INTEGER;
-- '/1/7/42/' -> 7: the text between the second and third '/'.
UPDATE organisations SET tenant_org_id = CAST(NULLIF(
    substr(substr(path, instr(substr(path, 2), '/') + 2), 1,
           instr(substr(path, instr(substr(path, 2), '/') + 2), '/') - 1), '') AS INTEGER);

ALTER TABLE sims ADD COLUMN tenant_org_id INTEGER;
UPDATE sims SET tenant_org_id = (
    SELECT CASE WHEN MIN(o.tenant_org_id) = MAX(o.tenant_org_id) OR MIN(o.tenant_org_id) IS NULL
                THEN MIN(o.tenant_org_id) ELSE 0 END
    FROM organisations o
    WHERE o.id IN (sims.issuer_org_id, sims.reseller_org_id, sims.customer_org_id, sims.in_storage_at));

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
