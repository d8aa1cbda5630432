-- SIMs counted by who may see them (issuer, reseller, customer), model, status and whether a device is
-- attached: the emnify list's total is a SUM over these rows instead of a COUNT over every visible SIM.
-- NULL ids are stored as 0 so that the key is a plain primary key. Kept by row triggers (SQLite has no
-- statement triggers; a row trigger here is an in-process B-tree update), so every path that writes
-- `sims` keeps it exact in the same transaction.
CREATE TABLE sim_owner_counts (
    issuer_org_id   INTEGER NOT NULL,
    reseller_org_id INTEGER NOT NULL,
    customer_org_id INTEGER NOT NULL,
    model_id        INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    with_endpoint   BOOLEAN NOT NULL,
    count           INTEGER NOT NULL,
    CONSTRAINT sim_owner_counts_key PRIMARY KEY
        (issuer_org_id, reseller_org_id, customer_org_id, model_id, status, with_endpoint)
) WITHOUT ROWID;

CREATE TRIGGER sims_owner_counts_insert AFTER INSERT ON sims BEGIN
    INSERT OR IGNORE INTO sim_owner_counts VALUES (COALESCE(NEW.issuer_org_id, 0), COALESCE(NEW.reseller_org_id, 0),
        COALESCE(NEW.customer_org_id, 0), COALESCE(NEW.model_id, 0), NEW.status, NEW.endpoint_id IS NOT NULL, 0);
    UPDATE sim_owner_counts SET count = count + 1
    WHERE issuer_org_id = COALESCE(NEW.issuer_org_id, 0) AND reseller_org_id = COALESCE(NEW.reseller_org_id, 0)
      AND customer_org_id = COALESCE(NEW.customer_org_id, 0) AND model_id = COALESCE(NEW.model_id, 0)
      AND status = NEW.status AND with_endpoint = (NEW.endpoint_id IS NOT NULL);
END;

CREATE TRIGGER sims_owner_counts_update
AFTER UPDATE OF issuer_org_id, reseller_org_id, customer_org_id, model_id, status, endpoint_id ON sims BEGIN
    UPDATE sim_owner_counts SET count = count - 1
    WHERE issuer_org_id = COALESCE(OLD.issuer_org_id, 0) AND reseller_org_id = COALESCE(OLD.reseller_org_id, 0)
      AND customer_org_id = COALESCE(OLD.customer_org_id, 0) AND model_id = COALESCE(OLD.model_id, 0)
      AND status = OLD.status AND with_endpoint = (OLD.endpoint_id IS NOT NULL);
    INSERT OR IGNORE INTO sim_owner_counts VALUES (COALESCE(NEW.issuer_org_id, 0), COALESCE(NEW.reseller_org_id, 0),
        COALESCE(NEW.customer_org_id, 0), COALESCE(NEW.model_id, 0), NEW.status, NEW.endpoint_id IS NOT NULL, 0);
    UPDATE sim_owner_counts SET count = count + 1
    WHERE issuer_org_id = COALESCE(NEW.issuer_org_id, 0) AND reseller_org_id = COALESCE(NEW.reseller_org_id, 0)
      AND customer_org_id = COALESCE(NEW.customer_org_id, 0) AND model_id = COALESCE(NEW.model_id, 0)
      AND status = NEW.status AND with_endpoint = (NEW.endpoint_id IS NOT NULL);
END;

CREATE TRIGGER sims_owner_counts_delete AFTER DELETE ON sims BEGIN
    UPDATE sim_owner_counts SET count = count - 1
    WHERE issuer_org_id = COALESCE(OLD.issuer_org_id, 0) AND reseller_org_id = COALESCE(OLD.reseller_org_id, 0)
      AND customer_org_id = COALESCE(OLD.customer_org_id, 0) AND model_id = COALESCE(OLD.model_id, 0)
      AND status = OLD.status AND with_endpoint = (OLD.endpoint_id IS NOT NULL);
END;

INSERT INTO sim_owner_counts
SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0),
       COALESCE(model_id, 0), status, endpoint_id IS NOT NULL, COUNT(*)
FROM sims GROUP BY 1, 2, 3, 4, 5, 6;
