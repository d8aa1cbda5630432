//! Scale-out (issue 14, docs/scale-out.md): every tenant-owned row carries its distribution key, a SIM
//! that changes tenant moves whole while it is being read, and on Citus the tables are distributed as
//! the design says, with shards on every worker.

use crate::common::*;
use crate::emnify_sims::sim_ids;
use axum::http::StatusCode;
use serde_json::json;
use simgate::domain::access::AccessLevel::*;
use std::collections::BTreeMap;
use std::sync::Arc;

backends!(
    sims_moving_between_tenants_under_load_stay_whole,
    multi_thread
);
/// Central-stock SIMs assigned back and forth between two top-level resellers (two tenants), two
/// writers per SIM at once, while readers read each SIM by id: no write fails with a 5xx, every read
/// finds the SIM, and afterwards each SIM is one row under the key of its holder.
async fn sims_moving_between_tenants_under_load_stay_whole(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r = app
        .post(
            "/sim",
            &admin,
            json!({"data": sim_lines(0, 8, "NANO", "TDC", false)}),
        )
        .await;
    assert_eq!(r.body["imported"], 8, "{}", r.text);
    let ids = sim_ids(&app, &admin, "").await;
    assert_eq!(ids.len(), 8);
    let (r1, r2) = (fx.org("R1").oid.clone(), fx.org("R2").oid.clone());
    let app = Arc::new(app);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (app, admin, ids, done) = (app.clone(), admin.clone(), ids.clone(), done.clone());
            tokio::spawn(async move {
                let mut reads = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                    for id in &ids {
                        let r = app.get(&format!("/api/v1/sim/{id}"), &admin).await;
                        assert_eq!(
                            r.status,
                            StatusCode::OK,
                            "SIM {id} while moving: {}",
                            r.text
                        );
                        assert_eq!(r.body["id"], json!(id));
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();
    for round in 0..3 {
        let writers: Vec<_> = (0..8u64)
            .flat_map(|i| [(i, r1.clone()), (i, r2.clone())])
            .map(|(i, to)| {
                let (app, admin) = (app.clone(), admin.clone());
                tokio::spawn(async move {
                    let r = app
                        .post(
                            &format!("/sim/{}/assign?customer={to}", icc(i)),
                            &admin,
                            json!({}),
                        )
                        .await;
                    assert!(
                        r.status.is_success(),
                        "round {round}, SIM {i} to {to}: {}",
                        r.text
                    );
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }
    let rows: Vec<(i64, i64)> = app.sql("SELECT id, tenant_org_id FROM sims").await;
    let keys: BTreeMap<i64, i64> = rows.iter().copied().collect();
    assert_eq!(keys.len(), rows.len(), "{}: a SIM is one row", app.backend);
    let tops = [fx.org("R1").id, fx.org("R2").id];
    for id in &ids {
        assert!(
            tops.contains(&keys[id]),
            "{}: SIM {id} under {}",
            app.backend,
            keys[id]
        );
    }
    if citus(&app).await {
        // The routing aids, kept on Citus.
        let by_id: Vec<(i64, i64)> = app.sql("SELECT id, tenant_org_id FROM sim_keys").await;
        assert_eq!(
            by_id.into_iter().collect::<BTreeMap<_, _>>(),
            keys,
            "sim_keys agree"
        );
        let by_icc: Vec<(String, i64)> =
            app.sql("SELECT iccid, tenant_org_id FROM sim_iccids").await;
        let sims: Vec<(String, i64)> = app.sql("SELECT iccid, tenant_org_id FROM sims").await;
        assert_eq!(
            by_icc.into_iter().collect::<BTreeMap<_, _>>(),
            sims.into_iter().collect::<BTreeMap<_, _>>(),
            "the ICC registry's keys agree"
        );
    }
    if app.backend == "postgres" {
        // A move copies every column by name (store::keys::MOVE_INSERT): a new column of `sims`
        // must be added there, or a moved SIM loses it.
        let columns: Vec<(i64,)> = app
            .sql(
                "SELECT COUNT(*) FROM information_schema.columns \
                 WHERE table_name = 'sims' AND table_schema = current_schema()",
            )
            .await;
        assert_eq!(columns[0].0, 29, "sims has the columns MOVE_INSERT copies");
    }
    if app.backend == "postgres" && !citus(&app).await {
        let by_id: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM sim_keys").await;
        assert_eq!(by_id[0].0, 0, "no sim_keys off Citus");
    }
    assert_counters_match(&app).await;
}

/// Whether the test database is a Citus coordinator.
async fn citus(app: &TestApp) -> bool {
    if app.backend != "postgres" {
        return false;
    }
    let citus: Vec<(bool,)> = app
        .sql("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        .await;
    citus[0].0
}

/// Tables whose rows belong to a tenant, with the primary key each carries (the key in it).
const TENANT_TABLES: [&str; 6] = [
    "sims",
    "mvno_accounts",
    "endpoints",
    "events",
    "usage_hourly",
    "audit_log",
];

backends!(every_tenant_owned_row_carries_its_key);
/// After a story that writes each tenant-owned table, no row lacks its key, and the key is what the
/// row's org says: an account's is its customer's tenant, an event's its org's.
async fn every_tenant_owned_row_carries_its_key(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .post(
            "/sim",
            admin,
            json!({"data": sim_lines(0, 2, "NANO", "TDC", false), "inStorageAt": fx.org("C1A").oid}),
        )
        .await;
    assert_eq!(r.body["imported"], 2, "{}", r.text);
    let plan = app
        .post("/admin/v1/rate-plans", admin, json!({"name": "P"}))
        .await
        .body["oid"]
        .clone();
    let r = app
        .post(
            "/mvno",
            admin,
            json!({"customer": fx.org("C1A").oid, "number": "+4512000009", "ratePlan": plan, "simNumber": icc(1)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for table in TENANT_TABLES {
        let missing: Vec<(i64,)> = app
            .sql(&format!(
                "SELECT COUNT(*) FROM {table} WHERE tenant_org_id IS NULL"
            ))
            .await;
        assert_eq!(
            missing[0].0, 0,
            "{}: {table} rows without a key",
            app.backend
        );
    }
    let r1 = fx.org("R1").id;
    let accounts: Vec<(i64,)> = app.sql("SELECT tenant_org_id FROM mvno_accounts").await;
    assert_eq!(accounts, vec![(r1,)], "{}: the account's key", app.backend);
    let sims: Vec<(i64,)> = app
        .sql("SELECT tenant_org_id FROM sims WHERE mvno_account_id IS NOT NULL")
        .await;
    assert_eq!(sims, vec![(r1,)], "{}: its SIM shares it", app.backend);
    let c1a = fx.org("C1A").id;
    let events: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT DISTINCT tenant_org_id FROM events WHERE org_id = {c1a}"
        ))
        .await;
    assert_eq!(
        events,
        vec![(r1,)],
        "{}: an event's key is its org's",
        app.backend
    );
    let audit: Vec<(i64,)> = app
        .sql("SELECT DISTINCT tenant_org_id FROM audit_log WHERE actor_org_id = 1")
        .await;
    assert_eq!(
        audit,
        vec![(1,)],
        "{}: the platform's own audit rows",
        app.backend
    );
    if app.backend == "postgres" {
        // Every unique key of a tenant-owned table includes the key (Citus's rule 1).
        let keyless: Vec<(String, String)> = app
            .sql(
                "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c \
                 WHERE c.contype IN ('p', 'u') AND c.conrelid::regclass::text IN \
                 ('sims', 'mvno_accounts', 'endpoints', 'events', 'usage_hourly', 'audit_log') \
                 AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid \
                 AND a.attnum = ANY (c.conkey) AND a.attname = 'tenant_org_id')",
            )
            .await;
        assert_eq!(keyless, vec![], "unique keys without the tenant");
    }
}

backends!(on_citus_the_tables_are_distributed_with_shards_on_every_worker);
/// On a Citus coordinator (the suite's Citus run): the tenant-owned tables are hash-distributed by
/// `tenant_org_id` in one co-location group, the shared tables are reference tables, and the shards of
/// `sims` lie on every worker. On SQLite and plain Postgres: there is nothing distributed.
async fn on_citus_the_tables_are_distributed_with_shards_on_every_worker(app: TestApp) {
    if !citus(&app).await {
        if app.backend == "postgres" {
            let dist: Vec<(i64,)> = app
                .sql("SELECT COUNT(*) FROM pg_class WHERE relname = 'pg_dist_partition'")
                .await;
            assert_eq!(dist[0].0, 0, "no Citus metadata on plain Postgres");
        }
        return;
    }
    let parts: Vec<(String, String, String, i64)> = app
        .sql(
            "SELECT logicalrelid::regclass::text, partmethod::text, \
             COALESCE(column_to_column_name(logicalrelid, partkey), ''), colocationid::bigint \
             FROM pg_dist_partition",
        )
        .await;
    let by_table: BTreeMap<String, (String, String, i64)> = parts
        .into_iter()
        .map(|(t, m, k, c)| (t, (m, k, c)))
        .collect();
    let group = by_table["sims"].2;
    for table in TENANT_TABLES {
        assert_eq!(
            by_table.get(table),
            Some(&("h".to_string(), "tenant_org_id".to_string(), group)),
            "{table}: distributed by tenant, co-located with sims"
        );
    }
    for table in [
        "organisations",
        "users",
        "api_tokens",
        "sim_models",
        "sim_batches",
        "rate_plans",
        "settings",
    ] {
        assert_eq!(by_table[table].0, "n", "{table}: a reference table");
    }
    for (table, key) in [
        ("sim_iccids", "iccid"),
        ("mvno_numbers", "number"),
        ("sim_keys", "id"),
        ("sim_inventory_counts", "storage_org_id"),
        ("sim_owner_counts", "issuer_org_id"),
    ] {
        assert_eq!(
            (by_table[table].0.as_str(), by_table[table].1.as_str()),
            ("h", key),
            "{table}"
        );
    }
    let nodes: Vec<(i64,)> = app
        .sql(
            "SELECT COUNT(DISTINCT p.groupid)::bigint FROM pg_dist_placement p \
             JOIN pg_dist_shard s ON s.shardid = p.shardid WHERE s.logicalrelid = 'sims'::regclass",
        )
        .await;
    let workers: Vec<(i64,)> = app
        .sql("SELECT COUNT(*)::bigint FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0")
        .await;
    assert!(workers[0].0 >= 2, "a cluster of at least two workers");
    assert_eq!(nodes[0].0, workers[0].0, "sims has shards on every worker");
}
