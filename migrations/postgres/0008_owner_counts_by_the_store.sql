-- sim_owner_counts is kept by the store in the transaction of every write that changes a SIM's owners,
-- model, status or device (src/store/owners.rs), no longer by statement triggers: Citus does not run
-- statement triggers with transition tables on distributed tables (docs/scale-out.md, rule 3). The
-- counters are exact at this point and stay so.
DROP TRIGGER IF EXISTS sims_owner_counts_insert ON sims;
DROP TRIGGER IF EXISTS sims_owner_counts_update ON sims;
DROP TRIGGER IF EXISTS sims_owner_counts_delete ON sims;
DROP FUNCTION IF EXISTS sim_owner_counts_apply();
