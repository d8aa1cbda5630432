-- SIMs counted by who may see them (issuer, reseller, customer), model, status and whether a device is
-- attached: the emnify list's total is a SUM over these few thousand rows instead of a COUNT over every
-- visible SIM. NULL ids are stored as 0 so that the key is a plain primary key.
-- Kept by statement-level triggers with transition tables, so every path that writes `sims` (API, CLI
-- import with COPY, demo, a DBA's UPDATE) keeps it exact in the same transaction, at one aggregate
-- statement per write statement rather than one counter update per row.
CREATE TABLE sim_owner_counts (
    issuer_org_id   BIGINT NOT NULL,
    reseller_org_id BIGINT NOT NULL,
    customer_org_id BIGINT NOT NULL,
    model_id        BIGINT NOT NULL,
    status          SMALLINT NOT NULL,
    with_endpoint   BOOLEAN NOT NULL,
    count           BIGINT NOT NULL,
    CONSTRAINT sim_owner_counts_key PRIMARY KEY
        (issuer_org_id, reseller_org_id, customer_org_id, model_id, status, with_endpoint)
);

CREATE FUNCTION sim_owner_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Keys are applied in key order so that concurrent writers lock counter rows in the same order.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sim_owner_counts AS c
        SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0),
               COALESCE(model_id, 0), status, endpoint_id IS NOT NULL, COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT sim_owner_counts_key DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sim_owner_counts AS c
        SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0),
               COALESCE(model_id, 0), status, endpoint_id IS NOT NULL, -COUNT(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT sim_owner_counts_key DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSE
        INSERT INTO sim_owner_counts AS c
        SELECT i, r, cu, m, st, e, SUM(d) FROM (
            SELECT COALESCE(issuer_org_id, 0) AS i, COALESCE(reseller_org_id, 0) AS r,
                   COALESCE(customer_org_id, 0) AS cu, COALESCE(model_id, 0) AS m, status AS st,
                   endpoint_id IS NOT NULL AS e, 1 AS d FROM new_rows
            UNION ALL
            SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0),
                   COALESCE(model_id, 0), status, endpoint_id IS NOT NULL, -1 FROM old_rows
        ) delta GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT sim_owner_counts_key DO UPDATE SET count = c.count + EXCLUDED.count;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sims_owner_counts_insert AFTER INSERT ON sims
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sim_owner_counts_apply();
CREATE TRIGGER sims_owner_counts_update AFTER UPDATE ON sims
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sim_owner_counts_apply();
CREATE TRIGGER sims_owner_counts_delete AFTER DELETE ON sims
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sim_owner_counts_apply();

INSERT INTO sim_owner_counts
SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0),
       COALESCE(model_id, 0), status, endpoint_id IS NOT NULL, COUNT(*)
FROM sims GROUP BY 1, 2, 3, 4, 5, 6;
