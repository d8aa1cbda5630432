-- sim_owner_counts is kept by the store in the transaction of every write that changes a SIM's owners,
-- model, status or device (src/store/owners.rs), as on Postgres and Citus, no longer by row triggers.
DROP TRIGGER IF EXISTS sims_owner_counts_insert;
DROP TRIGGER IF EXISTS sims_owner_counts_update;
DROP TRIGGER IF EXISTS sims_owner_counts_delete;
