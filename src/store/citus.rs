//! Distribution on Citus (docs/scale-out.md): after the migrations, a store whose database has the
//! `citus` extension makes the shared tables reference tables and distributes the tenant-owned ones by
//! their key, co-located with `sims`. Idempotent: tables Citus already holds are left as they are, so
//! every start (of every node) runs it, and a table a later migration adds is distributed on the next.
use super::db::{query, Pool};
use super::StoreResult;

/// Small tables every query joins (labels, scope paths): a copy on every worker.
pub(crate) const REFERENCE: [&str; 14] = [
    "settings",
    "countries",
    "operators",
    "operator_mncs",
    "operator_tapcodes",
    "organisations",
    "service_profiles",
    "service_profile_services",
    "tariff_profiles",
    "users",
    "api_tokens",
    "sim_models",
    "sim_batches",
    "rate_plans",
];

/// Tenant-owned tables, by their key, co-located with `sims`.
pub(crate) const BY_TENANT: [&str; 12] = [
    "sims",
    "mvno_accounts",
    "endpoints",
    "endpoint_counts",
    "endpoint_sims",
    "endpoint_operator_blacklist",
    "sms",
    "endpoint_quotas",
    "events",
    "usage_hourly",
    "usage_endpoint_hourly",
    "audit_log",
];

/// Tables distributed by their own leading key: the counters by the org that leads their key (written
/// by key, summed per scope), the registries by the value they keep unique, `sim_keys` by SIM id. Not reference tables:
/// Citus serialises every UPDATE and DELETE of a reference table behind all writes to it.
pub(crate) const BY_OWN_KEY: [(&str, &str); 8] = [
    ("sim_inventory_counts", "storage_org_id"),
    ("sim_owner_counts", "issuer_org_id"),
    ("sim_iccids", "iccid"),
    ("mvno_numbers", "number"),
    ("sim_keys", "id"),
    ("ip_address_spaces", "id"),
    ("ip_allocations", "space_id"),
    ("ip_released", "space_id"),
];

/// Whether the database runs Citus.
pub(crate) async fn enabled(pool: &Pool) -> StoreResult<bool> {
    query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        .scalar(pool)
        .await
}

/// Distributes what is not yet distributed. Serialised by an advisory lock: nodes may start together.
pub(crate) async fn distribute(pool: &Pool) -> StoreResult<()> {
    if !enabled(pool).await? {
        return Ok(());
    }
    let mut tx = pool.begin_write().await?;
    query("SELECT pg_advisory_xact_lock(hashtext('simgate_distribute'))")
        .execute(&mut tx)
        .await?;
    let held: Vec<String> = query("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
        .scalars(&mut tx)
        .await?;
    let missing = |t: &str| !held.iter().any(|h| h == t);
    // Reference tables first, parents before children: a table linked by a foreign key to one Citus
    // holds becomes a Citus local table, which cannot be distributed afterwards.
    for table in REFERENCE.iter().filter(|t| missing(t)) {
        query(format!("SELECT create_reference_table('{table}')"))
            .execute(&mut tx)
            .await?;
    }
    if missing("sims") {
        // The routing aids are kept on Citus only: a database that ran on plain Postgres gets them
        // now, while its tables are still local.
        query(
            "INSERT INTO sim_keys SELECT id, tenant_org_id FROM sims \
             ON CONFLICT (id) DO UPDATE SET tenant_org_id = excluded.tenant_org_id",
        )
        .execute(&mut tx)
        .await?;
        query("UPDATE sim_iccids r SET tenant_org_id = s.tenant_org_id FROM sims s WHERE s.iccid = r.iccid")
            .execute(&mut tx)
            .await?;
    }
    let mut colocate = "none";
    for table in BY_TENANT.iter() {
        if missing(table) {
            query(format!(
                "SELECT create_distributed_table('{table}', 'tenant_org_id', \
                 colocate_with => '{colocate}')"
            ))
            .execute(&mut tx)
            .await?;
        }
        colocate = "sims";
    }
    for (table, key) in BY_OWN_KEY.iter().filter(|(t, _)| missing(t)) {
        query(format!(
            "SELECT create_distributed_table('{table}', '{key}')"
        ))
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
