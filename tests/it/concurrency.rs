//! Concurrency (issue 12): concurrent writers never fail or lose a write. Every test runs on a
//! multi-threaded runtime with real concurrency, on every backend, and checks the invariants after.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;
use std::sync::Arc;

const FEATURES: [&str; 11] = [
    "highRate",
    "international",
    "data",
    "fiveG",
    "publicIP",
    "chargedServices",
    "voicemail",
    "secretNumber",
    "roaming",
    "roamingData",
    "mms",
];

backends!(concurrent_feature_updates_all_land, multi_thread);
/// Eleven concurrent partial updates, each flipping another feature: every flip is there after.
async fn concurrent_feature_updates_all_land(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r = app
        .post("/sim", &admin, json!({"data": sim_lines(0, 1, "NANO", "TDC", false), "inStorageAt": fx.org("C1A").oid}))
        .await;
    assert_eq!(r.body["imported"], 1, "{}", r.text);
    let plan = app
        .post("/admin/v1/rate-plans", &admin, json!({"name": "P"}))
        .await
        .body["oid"]
        .clone();
    let r = app
        .post(
            "/mvno",
            &admin,
            json!({"customer": fx.org("C1A").oid, "number": "+4512000001", "ratePlan": plan, "simNumber": icc(0)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let before = app.get("/mvno/+4512000001", &admin).await.body["feature"].clone();
    let app = Arc::new(app);
    for round in 0..3 {
        let tasks: Vec<_> = FEATURES
            .iter()
            .map(|f| {
                let (app, admin) = (app.clone(), admin.clone());
                let current = before[f].as_bool().unwrap() ^ (round % 2 == 1);
                tokio::spawn(async move {
                    let r = app
                        .post(
                            "/mvno/+4512000001",
                            &admin,
                            json!({"feature": {*f: !current}}),
                        )
                        .await;
                    assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend, r.text);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let after = app.get("/mvno/+4512000001", &admin).await.body["feature"].clone();
        for f in FEATURES {
            let expected = before[f].as_bool().unwrap() ^ (round % 2 == 0);
            assert_eq!(
                after[f],
                Value::Bool(expected),
                "{} round {round}: {f} lost",
                app.backend
            );
        }
    }
}

backends!(concurrent_user_updates_all_land, multi_thread);
/// A name change and a level change of one user at the same time: both land.
async fn concurrent_user_updates_all_land(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let user = fx.user("C1A", Viewer).id;
    let app = Arc::new(app);
    for (i, level) in ["MANAGER", "OWNER", "VIEWER", "MANAGER"].iter().enumerate() {
        let name = format!("Name {i}");
        let bodies = [json!({"name": name}), json!({"access_level": level})];
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|b| {
                let (app, admin) = (app.clone(), admin.clone());
                tokio::spawn(async move {
                    let r = app
                        .patch(&format!("/admin/v1/users/{user}"), &admin, b)
                        .await;
                    assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend, r.text);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let u = app
            .get(&format!("/admin/v1/users/{user}"), &admin)
            .await
            .body;
        assert_eq!(
            (u["name"].as_str(), u["access_level"].as_str()),
            (Some(name.as_str()), Some(*level)),
            "{}",
            app.backend
        );
    }
}

backends!(
    a_small_pool_serves_a_burst_and_stays_ready,
    multi_thread,
    tweak = |c| c.database.max_connections = 2
);
/// A pool of two: a burst of single-SIM reads (which batch and used to keep connections) beside
/// token and label lookups never wedges the server.
async fn a_small_pool_serves_a_burst_and_stays_ready(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r = app
        .post(
            "/sim",
            &admin,
            json!({"data": sim_lines(0, 20, "NANO", "TDC", false)}),
        )
        .await;
    assert_eq!(r.body["imported"], 20, "{}", r.text);
    let ids: Vec<i64> = app
        .get("/api/v1/sim", &admin)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let app = Arc::new(app);
    let tokens: Vec<String> = fx
        .principals()
        .into_iter()
        .map(|(o, l)| fx.token(o, l).to_string())
        .collect();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (app, id) = (app.clone(), ids[i % ids.len()]);
            // Every tenth request with another principal: a token lookup beside the reads.
            let token = if i % 10 == 0 {
                tokens[i % tokens.len()].clone()
            } else {
                admin.clone()
            };
            let admin_read = i % 10 != 0;
            tokio::spawn(async move {
                let status = app.get(&format!("/api/v1/sim/{id}"), &token).await.status;
                (admin_read, status)
            })
        })
        .collect();
    for t in tasks {
        let (admin_read, status) = t.await.unwrap();
        // Other principals may be refused or not see the SIM; nobody gets a 5xx.
        assert!(!status.is_server_error(), "{}: {status}", app.backend);
        if admin_read {
            assert_eq!(status, StatusCode::OK, "{}", app.backend);
        }
    }
    assert_eq!(
        app.request(axum::http::Method::GET, "/readyz", None, None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get("/sim/status", &admin).await.status, StatusCode::OK);
}

/// A server refuses a pool too small to serve, saying why.
#[tokio::test]
async fn a_pool_of_one_is_refused_at_start() {
    let mut config = test_config();
    config.database.max_connections = 1;
    let err = simgate::serve(config, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("max_connections") && err.contains("at least 2"),
        "{err}"
    );
}

backends!(an_unavailable_database_is_503_with_retry_after);
/// A database that cannot serve is 503 with Retry-After in the dialect's envelope, never 500.
async fn an_unavailable_database_is_503_with_retry_after(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    // Authenticated first (the principal cache keeps it), then the pool goes away.
    assert_eq!(app.get("/sim", &admin).await.status, StatusCode::OK);
    app.state.store.close().await;
    let r = app.get("/sim", &admin).await;
    r.assert_telecomx_error(503, "unavailable");
    assert!(r.headers.contains_key("retry-after"));
    let r = app.get("/api/v1/sim", &admin).await;
    r.assert_emnify_error(503, 1503);
    assert!(r.headers.contains_key("retry-after"));
    let r = app
        .post("/admin/v1/rate-plans", &admin, json!({"name": "x"}))
        .await;
    r.assert_telecomx_error(503, "unavailable");
    assert!(!r.text.contains("pool"), "nothing internal: {}", r.text);
}

backends!(overlapping_imports_never_fail, multi_thread);
/// Twenty overlapping imports in random order, each all-or-nothing: none fails, every SIM is
/// imported once with one import event, and the counters equal the rows.
async fn overlapping_imports_never_fail(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let app = Arc::new(app);
    let holders = ["R1", "R2", "C1A", "C2A"];
    let tasks: Vec<_> = (0..20u64)
        .map(|i| {
            let (app, admin) = (app.clone(), admin.clone());
            // Overlapping ranges of 200 ICCs, in a shuffled order per request.
            let mut lines: Vec<String> = sim_lines(i * 50, 200, "NANO", "TDC", i % 2 == 0)
                .lines()
                .map(str::to_string)
                .collect();
            let mut seed = i.wrapping_mul(6364136223846793005).wrapping_add(1);
            for k in (1..lines.len()).rev() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                lines.swap(k, (seed >> 33) as usize % (k + 1));
            }
            let holder = fx.org(holders[i as usize % 4]).oid.clone();
            tokio::spawn(async move {
                let r = app
                    .post(
                        "/sim",
                        &admin,
                        json!({"data": lines.join("\n"), "inStorageAt": holder}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend, r.text);
                r.body["imported"].as_i64().unwrap()
            })
        })
        .collect();
    let mut imported = 0;
    for t in tasks {
        imported += t.await.unwrap();
    }
    // ICCs 0 .. 19*50+200 = 1150, each once.
    assert_eq!(imported, 1150, "{}", app.backend);
    let events: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id = 1000")
        .await;
    assert_eq!(events[0].0, 1150);
    assert_counters_match(&app).await;
}

backends!(
    a_mixed_write_load_answers_no_5xx_and_keeps_the_invariants,
    multi_thread
);
/// A mixed write load — imports, assigns, MVNO creates and deletes, SIM status changes — from many
/// clients at once: no request fails with a 5xx, and afterwards the counters equal the rows, no SIM
/// is on two accounts and every account's SIM points back at it.
async fn a_mixed_write_load_answers_no_5xx_and_keeps_the_invariants(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let plan = app
        .post("/admin/v1/rate-plans", &admin, json!({"name": "P"}))
        .await
        .body["oid"]
        .as_str()
        .unwrap()
        .to_string();
    let orgs: Vec<(String, i64)> = ["R1", "R2", "C1A", "C2A", "C1SA"]
        .iter()
        .map(|o| (fx.org(o).oid.clone(), fx.org(o).id))
        .collect();
    let app = Arc::new(app);
    let clients = 32;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let tasks: Vec<_> = (0..clients)
        .map(|c: u64| {
            let (app, admin, plan, orgs) = (app.clone(), admin.clone(), plan.clone(), orgs.clone());
            tokio::spawn(async move {
                let mut seed = c.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut rnd = move |n: u64| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed % n
                };
                let (mut done, mut failed) = (0u32, Vec::new());
                while std::time::Instant::now() < deadline {
                    let (org_oid, _) = &orgs[rnd(orgs.len() as u64) as usize];
                    let r = match rnd(5) {
                        0 => {
                            let data = sim_lines(rnd(600), 20, "NANO", "TDC", rnd(2) == 0);
                            app.post("/sim", &admin, json!({"data": data, "inStorageAt": org_oid})).await
                        }
                        1 => {
                            let path = format!("/sim/{}/assign?customer={org_oid}", icc(rnd(620)));
                            app.post(&path, &admin, json!({})).await
                        }
                        2 => {
                            let customer = &orgs[2 + rnd(3) as usize].0;
                            let number = format!("+4560{:06}", rnd(400));
                            let body = json!({
                                "customer": customer, "number": number, "ratePlan": plan, "autoAssign": true
                            });
                            app.post("/mvno", &admin, body).await
                        }
                        3 => app.delete(&format!("/mvno/+4560{:06}", rnd(400)), &admin).await,
                        _ => {
                            let body = json!({"status": {"id": 1 + rnd(2)}});
                            app.patch(&format!("/api/v1/sim/{}", 1 + rnd(620)), &admin, body).await
                        }
                    };
                    done += 1;
                    if r.status.is_server_error() {
                        failed.push(r.text);
                    }
                }
                (done, failed)
            })
        })
        .collect();
    let (mut total, mut failures) = (0, Vec::new());
    for t in tasks {
        let (done, failed) = t.await.unwrap();
        total += done;
        failures.extend(failed);
    }
    assert!(total > 100, "{}: only {total} requests", app.backend);
    assert!(
        failures.is_empty(),
        "{}: {} of {total} failed: {:?}",
        app.backend,
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert_counters_match(&app).await;
    let doubled: Vec<(i64, i64)> = app
        .sql("SELECT sim_id, COUNT(*) FROM mvno_accounts WHERE sim_id IS NOT NULL AND purged_at IS NULL GROUP \
             BY sim_id HAVING COUNT(*) > 1")
        .await;
    assert!(
        doubled.is_empty(),
        "{}: SIMs on two accounts: {doubled:?}",
        app.backend
    );
    let astray: Vec<(i64,)> = app
        // An account's SIM lives under the account's tenant key: one not found there is astray too.
        .sql("SELECT m.id FROM mvno_accounts m LEFT JOIN sims s ON s.tenant_org_id = m.tenant_org_id \
             AND s.id = m.sim_id WHERE m.purged_at IS NULL AND m.sim_id IS NOT NULL AND \
             (s.id IS NULL OR s.mvno_account_id IS NULL OR s.mvno_account_id <> m.id)")
        .await;
    assert!(
        astray.is_empty(),
        "{}: accounts whose SIM points elsewhere: {astray:?}",
        app.backend
    );
}

backends!(stale_if_match_is_refused_and_fresh_if_match_passes);
/// Optimistic concurrency: reads carry the row version as ETag; an update or delete with a stale
/// If-Match is 412 in the dialect's envelope and changes nothing; without If-Match nothing changes.
async fn stale_if_match_is_refused_and_fresh_if_match_passes(app: TestApp) {
    use axum::body::Body;
    use axum::http::{Method, Request};
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r = app
        .post("/sim", &admin, json!({"data": sim_lines(0, 2, "NANO", "TDC", false), "inStorageAt": fx.org("C1A").oid}))
        .await;
    assert_eq!(r.body["imported"], 2);
    let with = |method: Method, path: &str, tag: &str, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {admin}"))
            .header("if-match", tag);
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        req.body(body).unwrap()
    };
    // emnify SIM: PATCH with the ETag of the read passes, with it again (now stale) is 412.
    let id = app.get("/api/v1/sim", &admin).await.body[0]["id"]
        .as_i64()
        .unwrap();
    let read = app.get(&format!("/api/v1/sim/{id}"), &admin).await;
    let tag = read.headers["etag"].to_str().unwrap().to_string();
    let path = format!("/api/v1/sim/{id}");
    let ok = app
        .send(with(
            Method::PATCH,
            &path,
            &tag,
            Some(json!({"status": {"id": 1}})),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    let stale = app
        .send(with(
            Method::PATCH,
            &path,
            &tag,
            Some(json!({"status": {"id": 2}})),
        ))
        .await;
    stale.assert_emnify_error(412, 1412);
    app.send(with(Method::DELETE, &path, &tag, None))
        .await
        .assert_emnify_error(412, 1412);
    let now = app.get(&path, &admin).await;
    assert_eq!(
        now.body["status"]["id"], 1,
        "the stale PATCH changed nothing"
    );
    assert_ne!(now.headers["etag"].to_str().unwrap(), tag);
    // TelecomX SIM: assign with a stale tag.
    let sim = app.get(&format!("/sim/{}", icc(1)), &admin).await;
    let sim_tag = sim.headers["etag"].to_str().unwrap().to_string();
    let assign = format!("/sim/{}/assign?customer={}", icc(1), fx.org("C1B").oid);
    app.send(with(Method::POST, &assign, "\"v999\"", None))
        .await
        .assert_telecomx_error(412, "precondition_failed");
    let r = app.send(with(Method::POST, &assign, &sim_tag, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // MVNO account: update and delete.
    let plan = app
        .post("/admin/v1/rate-plans", &admin, json!({"name": "P"}))
        .await
        .body["oid"]
        .clone();
    let r = app
        .post("/mvno", &admin, json!({
            "customer": fx.org("C1A").oid, "number": "+4512000002", "ratePlan": plan, "simNumber": icc(0)
        }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let acc = app.get("/mvno/+4512000002", &admin).await;
    let acc_tag = acc.headers["etag"].to_str().unwrap().to_string();
    let r = app
        .send(with(
            Method::POST,
            "/mvno/+4512000002",
            &acc_tag,
            Some(json!({"name": "A"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.send(with(
        Method::POST,
        "/mvno/+4512000002",
        &acc_tag,
        Some(json!({"name": "B"})),
    ))
    .await
    .assert_telecomx_error(412, "precondition_failed");
    app.send(with(Method::DELETE, "/mvno/+4512000002", &acc_tag, None))
        .await
        .assert_telecomx_error(412, "precondition_failed");
    assert_eq!(app.get("/mvno/+4512000002", &admin).await.body["name"], "A");
    // `*` matches any current version; no If-Match behaves as before.
    let r = app
        .send(with(Method::DELETE, "/mvno/+4512000002", "*", None))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_counters_match(&app).await;
}
