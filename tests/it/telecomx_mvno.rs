//! TelecomX MVNO accounts: lifecycle, soft delete with 30-day recovery, /mvno/deleted, restore,
//! SIM change, purge, and the concurrency guarantees.

use crate::common::*;
use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::{self, *};

pub(crate) struct World {
    pub(crate) fx: Fixture,
    pub(crate) plan: String,
}

/// A rate plan for everyone; SIMs at R1 (20 autoAssign NANO, 10 eSIM), C1A (5 NANO), R2 (5 autoAssign NANO, 5 eSIM).
pub(crate) async fn world(app: &TestApp) -> World {
    let fx = Fixture::build(app).await;
    let admin = fx.token("PLATFORM", Admin);
    let plan = app
        .post(
            "/admin/v1/rate-plans",
            admin,
            json!({"name": "Free speech, 5Gb data"}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::CREATED, "{}", plan.text);
    let stock = [
        ("R1", 0, 20, "NANO", true),
        ("R1", 20, 10, "eSIM", false),
        ("C1A", 30, 5, "NANO", false),
        ("R2", 40, 5, "NANO", true),
        ("R2", 45, 5, "eSIM", false),
    ];
    for (org, start, n, ff, auto) in stock {
        let r = app
            .post(
                "/sim",
                admin,
                json!({
                    "data": sim_lines(start, n, ff, "TDC", auto), "inStorageAt": fx.org(org).oid
                }),
            )
            .await;
        assert_eq!(r.body["imported"], n, "{}", r.text);
    }
    World {
        plan: plan.body["oid"].as_str().unwrap().to_string(),
        fx,
    }
}

impl World {
    pub(crate) fn body(&self, customer: &str, number: &str, choice: Value) -> Value {
        let mut b =
            json!({"customer": self.fx.org(customer).oid, "number": number, "ratePlan": self.plan});
        for (k, v) in choice.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }
}

pub(crate) async fn create(app: &TestApp, token: &str, body: Value) -> Resp {
    app.post("/mvno", token, body).await
}

pub(crate) async fn create_ok(app: &TestApp, token: &str, body: Value) -> String {
    let r = create(app, token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["success"], true);
    r.body["_id"].as_str().unwrap().to_string()
}

backends!(owner_story_create_delete_restore_purge);
async fn owner_story_create_delete_restore_purge(app: TestApp) {
    let w = world(&app).await;
    let owner = w.fx.token("C1A", Owner);
    // One auto-assigned SIM (from R1's autoAssign stock), one eSIM.
    let a = create_ok(&app, owner, w.body("C1A", "+4512345678", json!({
        "autoAssign": true, "name": "Bente", "deviceType": "iPhone 15", "notes": "Shop phone"
    }))).await;
    let b = create_ok(
        &app,
        owner,
        w.body("C1A", "+4512345679", json!({"eSim": true})),
    )
    .await;
    let acc = app.get(&format!("/mvno/{a}"), owner).await;
    assert_eq!(acc.status, StatusCode::OK, "{}", acc.text);
    assert_eq!(acc.body["state"], "ACTIVE");
    assert_eq!(acc.body["number"], "+4512345678");
    assert_eq!(acc.body["customer"], w.fx.org("C1A").oid);
    assert_eq!(acc.body["customerName"], "C1A org");
    assert_eq!(acc.body["reseller"], w.fx.org("R1").oid);
    assert_eq!(acc.body["resellerName"], "R1 org");
    assert_eq!(acc.body["ratePlan"], w.plan);
    assert_eq!(acc.body["ratePlanName"], "Free speech, 5Gb data");
    assert_eq!(acc.body["simNumber"], icc(0));
    assert_eq!(
        acc.body["mvnoSim"],
        json!({"simNumber": icc(0), "network": "TDC", "formFactor": "NANO"})
    );
    assert_eq!(acc.body["feature"]["highRate"], true);
    assert_eq!(acc.body["feature"]["mms"], false);
    assert_eq!(
        (
            acc.body["numberState"].as_str(),
            acc.body["dataDisabled"].as_bool()
        ),
        (Some("IN_USE"), Some(false))
    );
    assert!(acc.body.get("deleted").is_none() && acc.body.get("socs").is_none());
    // By number too; the eSIM came from R1's eSIM stock (C1A holds none).
    assert_eq!(
        app.get("/mvno/+4512345679", owner).await.body["mvnoSim"]["formFactor"],
        "eSIM"
    );
    assert_eq!(
        app.get(&format!("/mvno/{b}"), owner).await.body["simNumber"],
        icc(20)
    );
    // The SIMs left storage.
    let r1_stock = app
        .get("/sim?limit=500", w.fx.token("R1", ResellerAdmin))
        .await;
    assert!(
        !r1_stock.text.contains(&icc(0)),
        "an assigned SIM is no longer in stock"
    );
    assert_eq!(r1_stock.body["total"], 33);
    assert_eq!(
        app.get(&format!("/sim/{}", icc(0)), owner).await.status,
        StatusCode::OK,
        "the account's customer sees its SIM"
    );
    app.get(&format!("/sim/{}", icc(0)), w.fx.token("R2", ResellerAdmin))
        .await
        .assert_telecomx_error(404, "not_found");
    assert_eq!(app.get("/mvno", owner).await.body["total"], 2);

    // Delete one: gone from list and get, listed in /mvno/deleted for its RESELLER_ADMIN.
    let deleted_at = app.state.now();
    assert_eq!(
        app.delete(&format!("/mvno/{a}"), owner).await.body,
        json!({"success": true})
    );
    app.get(&format!("/mvno/{a}"), owner)
        .await
        .assert_telecomx_error(404, "not_found");
    assert_eq!(app.get("/mvno", owner).await.body["total"], 1);
    let ra = w.fx.token("R1", ResellerAdmin);
    let del = app.get("/mvno/deleted", ra).await;
    assert_eq!(del.status, StatusCode::OK, "{}", del.text);
    assert_eq!(del.body["total"], 1);
    let d = &del.body["mvnoAccounts"][0];
    assert_eq!(d["_id"], a.as_str());
    assert_eq!(d["state"], "DELETED");
    assert_eq!(d["deleted"], simgate::api::json::iso_millis(&deleted_at));
    assert_eq!(
        d["preterminateUntil"],
        simgate::api::json::iso_millis(&(deleted_at + Duration::days(30)))
    );
    assert_eq!(d["number"], "+4512345678");
    assert_eq!(
        app.get("/mvno/deleted/+4512345678", ra).await.body["_id"],
        a.as_str()
    );
    // Another reseller never sees it; the owner has no /mvno/deleted.
    let r2 = w.fx.token("R2", ResellerAdmin);
    assert_eq!(app.get("/mvno/deleted", r2).await.body["total"], 0);
    app.get(&format!("/mvno/deleted/{a}"), r2)
        .await
        .assert_telecomx_error(404, "not_found");
    app.post(&format!("/mvno/deleted/{a}/restore"), r2, json!({}))
        .await
        .assert_telecomx_error(404, "id");
    app.get("/mvno/deleted", owner)
        .await
        .assert_telecomx_error(403, "access_denied");
    // The number stays taken while recoverable.
    create(
        &app,
        owner,
        w.body("C1A", "+4512345678", json!({"autoAssign": true})),
    )
    .await
    .assert_telecomx_error(409, "number");

    // Restore: same number, same SIM.
    app.clock.advance(Duration::days(3));
    assert_eq!(
        app.post(&format!("/mvno/deleted/{a}/restore"), ra, json!({}))
            .await
            .body,
        json!({"success": true})
    );
    let back = app.get(&format!("/mvno/{a}"), owner).await;
    assert_eq!(
        (
            back.body["state"].as_str(),
            back.body["number"].as_str(),
            back.body["simNumber"].as_str()
        ),
        (Some("ACTIVE"), Some("+4512345678"), Some(icc(0).as_str()))
    );
    assert!(back.body.get("deleted").is_none() && back.body.get("preterminateUntil").is_none());
    assert_eq!(app.get("/mvno/deleted", ra).await.body["total"], 0);

    // Delete again and let the window pass: purged, number free, SIM retired.
    app.delete(&format!("/mvno/{a}"), owner).await;
    app.clock.advance(Duration::days(30) + Duration::seconds(1));
    assert_eq!(
        app.get("/mvno/deleted", ra).await.body["total"],
        0,
        "past the window it is never listed"
    );
    app.post(&format!("/mvno/deleted/{a}/restore"), ra, json!({}))
        .await
        .assert_telecomx_error(404, "id");
    assert_eq!(simgate::jobs::purge::run_once(&app.state).await.unwrap(), 1);
    assert_eq!(
        simgate::jobs::purge::run_once(&app.state).await.unwrap(),
        0,
        "purging is idempotent"
    );
    let purged: Vec<(String, Option<String>, Option<String>)> = app
        .sql(&format!(
            "SELECT state, number, name FROM mvno_accounts WHERE oid = '{a}'"
        ))
        .await;
    assert_eq!(purged, vec![("PURGED".to_string(), None, None)]);
    let sim: Vec<(i16, Option<i64>)> = app
        .sql(&format!(
            "SELECT status, mvno_account_id FROM sims WHERE iccid = '{}'",
            icc(0)
        ))
        .await;
    assert_eq!(sim, vec![(3, None)]);
    create_ok(
        &app,
        owner,
        w.body("C1A", "+4512345678", json!({"autoAssign": true})),
    )
    .await;
    let events: Vec<(i32,)> = app
        .sql("SELECT type_id FROM events WHERE type_id BETWEEN 1002 AND 1006 ORDER BY id")
        .await;
    let types: Vec<i32> = events.into_iter().map(|e| e.0).collect();
    assert_eq!(types, vec![1002, 1002, 1004, 1005, 1004, 1006, 1002]);
    assert_counters_match(&app).await;
}

backends!(the_recovery_window_with_a_controllable_clock);
async fn the_recovery_window_with_a_controllable_clock(app: TestApp) {
    let w = world(&app).await;
    let ra = w.fx.token("R1", ResellerAdmin);
    let old = create_ok(
        &app,
        ra,
        w.body("C1B", "+4520000001", json!({"autoAssign": true})),
    )
    .await;
    let young = create_ok(
        &app,
        ra,
        w.body("C1B", "+4520000002", json!({"autoAssign": true})),
    )
    .await;
    app.delete(&format!("/mvno/{old}"), ra).await;
    app.clock.advance(Duration::days(2));
    app.delete(&format!("/mvno/{young}"), ra).await;
    // 29 days after the younger deletion, 31 after the older.
    app.clock.advance(Duration::days(29));
    let listed = app.get("/mvno/deleted", ra).await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["mvnoAccounts"][0]["_id"], young.as_str());
    app.get(&format!("/mvno/deleted/{old}"), ra)
        .await
        .assert_telecomx_error(404, "not_found");
    app.post(&format!("/mvno/deleted/{old}/restore"), ra, json!({}))
        .await
        .assert_telecomx_error(404, "id");
    // The purge takes the old one only; the young one is restorable still.
    assert_eq!(simgate::jobs::purge::run_once(&app.state).await.unwrap(), 1);
    assert_eq!(
        app.post(&format!("/mvno/deleted/{young}/restore"), ra, json!({}))
            .await
            .status,
        StatusCode::OK
    );
    create_ok(
        &app,
        ra,
        w.body("C1B", "+4520000001", json!({"autoAssign": true})),
    )
    .await;
    create(
        &app,
        ra,
        w.body("C1B", "+4520000002", json!({"autoAssign": true})),
    )
    .await
    .assert_telecomx_error(409, "number");
}

backends!(seed_002_deleted_query_example);
async fn seed_002_deleted_query_example(app: TestApp) {
    let w = world(&app).await;
    let admin = w.fx.token("PLATFORM", Admin);
    let more = app
        .post(
            "/sim",
            admin,
            json!({
                "data": sim_lines(100, 20, "NANO", "TDC", true), "inStorageAt": w.fx.org("R1").oid
            }),
        )
        .await;
    assert_eq!(more.body["imported"], 20);
    // 20 accounts whose number contains 81808, 10 that do not, deleted one minute apart.
    let mut matching = Vec::new();
    for i in 0..30 {
        let number = if i % 3 == 2 {
            format!("+45300000{i:02}")
        } else {
            format!("+4581808{i:03}")
        };
        let id = create_ok(
            &app,
            admin,
            w.body("C1A", &number, json!({"autoAssign": true})),
        )
        .await;
        app.delete(&format!("/mvno/{id}"), admin).await;
        app.clock.advance(Duration::minutes(1));
        if i % 3 != 2 {
            matching.push(id);
        }
    }
    // Newest deletion first.
    matching.reverse();
    let r = app
        .get("/mvno/deleted?filter=81808&offset=10&limit=25", admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["offset"].as_i64(),
            r.body["limit"].as_i64(),
            r.body["total"].as_i64()
        ),
        (Some(10), Some(25), Some(20))
    );
    let ids: Vec<&str> = r.body["mvnoAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        matching[10..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let all = app.get("/mvno/deleted?limit=500", admin).await;
    assert_eq!(all.body["total"], 30);
    let stamps: Vec<&str> = all.body["mvnoAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["deleted"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted);
    // The filter searches SIM numbers too, and rejects bad paging.
    assert_eq!(
        app.get(&format!("/mvno/deleted?filter={}", &icc(3)[10..]), admin)
            .await
            .body["total"],
        1
    );
    app.get("/mvno/deleted?limit=501", admin)
        .await
        .assert_telecomx_error(422, "limit");
    app.get("/mvno/deleted?offset=-1", admin)
        .await
        .assert_telecomx_error(422, "offset");
}

backends!(every_route_by_access_level);
async fn every_route_by_access_level(app: TestApp) {
    let w = world(&app).await;
    let admin = w.fx.token("PLATFORM", Admin);
    let acc = create_ok(
        &app,
        admin,
        w.body("C1A", "+4540000000", json!({"autoAssign": true})),
    )
    .await;
    let mut n = 0;
    for (org, level) in w.fx.principals() {
        let token = w.fx.token(org, level);
        let who = format!("{org} {level:?}");
        let sees =
            level == Admin || org == "C1A" || (org == "R1" && level >= AccessLevel::Reseller);
        let can_read = level >= Viewer;
        let list = app.get("/mvno", token).await;
        let one = app.get(&format!("/mvno/{acc}"), token).await;
        if !can_read {
            list.assert_telecomx_error(403, "access_denied");
            one.assert_telecomx_error(403, "access_denied");
        } else {
            assert_eq!(list.text.contains(&acc), sees, "{who}: {}", list.text);
            assert_eq!(
                one.status,
                if sees {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                },
                "{who}"
            );
        }
        // Create: OWNER, reseller levels, ADMIN — for a customer in scope.
        n += 1;
        let number = format!("+4541{n:06}");
        let c = create(
            &app,
            token,
            w.body("C1A", &number, json!({"autoAssign": true})),
        )
        .await;
        match level {
            Owner | Reseller | ResellerAdmin | Admin if sees => {
                assert_eq!(c.status, StatusCode::OK, "{who}: {}", c.text)
            }
            Owner | Reseller | ResellerAdmin => c.assert_telecomx_error(422, "customer"),
            _ => c.assert_telecomx_error(403, "access_denied"),
        }
        // Update: MANAGER and up.
        let u = app
            .post(
                &format!("/mvno/{acc}"),
                token,
                json!({"notes": format!("by {who}")}),
            )
            .await;
        match level {
            Manager | Owner | Reseller | ResellerAdmin | Admin if sees => {
                assert_eq!(u.status, StatusCode::OK, "{who}: {}", u.text)
            }
            Manager | Owner | Reseller | ResellerAdmin => u.assert_telecomx_error(404, "not_found"),
            _ => u.assert_telecomx_error(403, "access_denied"),
        }
        // Deleted accounts: RESELLER_ADMIN and ADMIN only.
        let d = app.get("/mvno/deleted", token).await;
        if matches!(level, ResellerAdmin | Admin) {
            assert_eq!(d.status, StatusCode::OK, "{who}");
        } else {
            d.assert_telecomx_error(403, "access_denied");
        }
    }
    // Delete: a VIEWER cannot, a MANAGER can; restore needs RESELLER_ADMIN; changesim needs OWNER.
    app.delete(&format!("/mvno/{acc}"), w.fx.token("C1A", Viewer))
        .await
        .assert_telecomx_error(403, "access_denied");
    app.get(
        &format!("/mvno/{acc}/changesim/autoAssign"),
        w.fx.token("C1A", Manager),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    assert_eq!(
        app.delete(&format!("/mvno/{acc}"), w.fx.token("C1A", Manager))
            .await
            .status,
        StatusCode::OK
    );
    app.post(
        &format!("/mvno/deleted/{acc}/restore"),
        w.fx.token("R1", Reseller),
        json!({}),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    assert_eq!(
        app.post(
            &format!("/mvno/deleted/{acc}/restore"),
            w.fx.token("R1", ResellerAdmin),
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    // The customer parameter: customer levels own org only; resellers their subtree (403 outside).
    app.get(
        &format!("/mvno?customer={}", w.fx.org("C1B").oid),
        w.fx.token("C1A", Owner),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    app.get(
        &format!("/mvno?customer={}", w.fx.org("C2A").oid),
        w.fx.token("R1", ResellerAdmin),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    app.get("/mvno?customer=xyz", w.fx.token("R1", ResellerAdmin))
        .await
        .assert_telecomx_error(422, "customer");
    // ADMIN-only fields.
    let by_admin = app.get(&format!("/mvno/{acc}"), admin).await;
    assert!(by_admin.body.get("socsOverride").is_none());
    assert_eq!(
        app.post(
            &format!("/mvno/{acc}"),
            admin,
            json!({
                "socsOverride": [{"soc": "A", "newSoc": "B", "expireEOM": true, "startEOM": false}],
                "socLimit": {"data": 1000, "minutes": 60}
            })
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/mvno/{acc}"), admin).await.body["socLimit"],
        json!({"data": 1000, "minutes": 60})
    );
    // Their shapes are checked, not stored as any JSON.
    for (body, field) in [
        (json!({"socLimit": {"data": -1}}), "socLimit"),
        (json!({"socLimit": {"gigabytes": 5}}), "gigabytes"),
        (json!({"socLimit": "lots"}), "socLimit"),
        (
            json!({"socsOverride": [{"soc": "", "newSoc": "B"}]}),
            "socsOverride",
        ),
        (json!({"socsOverride": [{"soc": "A"}]}), "newSoc"),
        (
            json!({"socsOverride": {"soc": "A", "newSoc": "B"}}),
            "socsOverride",
        ),
    ] {
        app.post(&format!("/mvno/{acc}"), admin, body.clone())
            .await
            .assert_telecomx_error(422, field);
    }
    assert_eq!(
        app.get(&format!("/mvno/{acc}"), admin).await.body["socsOverride"],
        json!([{"soc": "A", "newSoc": "B", "expireEOM": true, "startEOM": false}])
    );
    assert!(app
        .get(&format!("/mvno/{acc}"), w.fx.token("R1", ResellerAdmin))
        .await
        .body
        .get("socLimit")
        .is_none());
    app.post(
        &format!("/mvno/{acc}"),
        w.fx.token("R1", ResellerAdmin),
        json!({"socLimit": {"data": 1}}),
    )
    .await
    .assert_telecomx_error(403, "socLimit");
}

backends!(change_sim_retires_the_old_one);
async fn change_sim_retires_the_old_one(app: TestApp) {
    let w = world(&app).await;
    let owner = w.fx.token("C1A", Owner);
    let acc = create_ok(
        &app,
        owner,
        w.body("C1A", "+4560000000", json!({"simNumber": icc(30)})),
    )
    .await;
    let r = app
        .get(&format!("/mvno/{acc}/changesim/{}", icc(31)), owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "success": true,
            "mvnoSim": {
                "simNumber": icc(31), "network": "TDC", "formFactor": "NANO",
                "puk1": "12345678", "puk2": "87654321", "pin1": "1234", "pin2": "4321"
            }
        })
    );
    let old: Vec<(i16, Option<i64>)> = app
        .sql(&format!(
            "SELECT status, mvno_account_id FROM sims WHERE iccid = '{}'",
            icc(30)
        ))
        .await;
    assert_eq!(old, vec![(3, None)]);
    let r = app.get(&format!("/mvno/{acc}/changesim/eSim"), owner).await;
    assert_eq!(r.body["mvnoSim"]["formFactor"], "eSIM", "{}", r.text);
    let r = app
        .get("/mvno/+4560000000/changesim/autoAssign", owner)
        .await;
    assert_eq!(r.body["mvnoSim"]["simNumber"], icc(0), "{}", r.text);
    assert_eq!(
        app.get(&format!("/mvno/{acc}"), owner).await.body["simNumber"],
        icc(0)
    );
    // Errors.
    app.get(&format!("/mvno/{acc}/changesim/{}", icc(40)), owner)
        .await
        .assert_telecomx_error(404, "sim");
    app.get(&format!("/mvno/{acc}/changesim/nonsense"), owner)
        .await
        .assert_telecomx_error(404, "sim");
    app.get("/mvno/ffffffffffffffffffffffff/changesim/eSim", owner)
        .await
        .assert_telecomx_error(404, "mvnoAccount");
    app.delete(&format!("/mvno/{acc}"), owner).await;
    app.get(&format!("/mvno/{acc}/changesim/eSim"), owner)
        .await
        .assert_telecomx_error(404, "mvnoAccount");
    let events: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id = 1007")
        .await;
    assert_eq!(events[0].0, 3);
    assert_counters_match(&app).await;
}

backends!(
    concurrent_creates_deletes_and_restores_stay_consistent,
    multi_thread
);
/// Parallel requests through the router on a multi-threaded runtime.
async fn concurrent_creates_deletes_and_restores_stay_consistent(app: TestApp) {
    let w = world(&app).await;
    let app = std::sync::Arc::new(app);
    let token = w.fx.token("R2", ResellerAdmin).to_string();
    // 12 auto-assign creates race for R2's 5 autoAssign SIMs: exactly 5 win, each SIM once.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, token, body) = (
            app.clone(),
            token.clone(),
            w.body(
                "C2A",
                &format!("+4570000{i:03}"),
                json!({"autoAssign": true}),
            ),
        );
        tasks.push(tokio::spawn(async move {
            app.post("/mvno", &token, body).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::OK => won += 1,
            _ => r.assert_telecomx_error(404, "sim"),
        }
    }
    assert_eq!(won, 5);
    let sims: Vec<(i64, i64)> = app
        .sql("SELECT sim_id, COUNT(*) FROM mvno_accounts GROUP BY sim_id HAVING COUNT(*) > 1")
        .await;
    assert!(sims.is_empty(), "a SIM was handed out twice: {sims:?}");
    // Two creates for one number: one wins, one is 409.
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (app, token, body) = (
            app.clone(),
            token.clone(),
            w.body("C2A", "+4579999999", json!({"eSim": true})),
        );
        tasks.push(tokio::spawn(async move {
            app.post("/mvno", &token, body).await
        }));
    }
    let mut statuses: Vec<u16> = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status.as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 409]);
    // Delete and restore racing: the account ends either deleted or active, never half of each.
    let acc = app.get("/mvno/+4579999999", &token).await.body["_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..5 {
        let (a, b) = (app.clone(), app.clone());
        let (t1, t2) = (token.clone(), token.clone());
        let (p1, p2) = (
            format!("/mvno/{acc}"),
            format!("/mvno/deleted/{acc}/restore"),
        );
        let del = tokio::spawn(async move { a.delete(&p1, &t1).await.status });
        let res = tokio::spawn(async move { b.post(&p2, &t2, json!({})).await.status });
        let (_, _) = (del.await.unwrap(), res.await.unwrap());
        let row: Vec<(String, Option<String>, Option<String>)> = app
            .sql(&format!(
                "SELECT state, CAST(deleted_at AS TEXT), CAST(preterminate_until AS TEXT) FROM \
                 mvno_accounts WHERE oid = '{acc}'"
            ))
            .await;
        let (state, deleted, until) = &row[0];
        match state.as_str() {
            "ACTIVE" => assert!(deleted.is_none() && until.is_none(), "{row:?}"),
            "DELETED" => assert!(deleted.is_some() && until.is_some(), "{row:?}"),
            other => panic!("unexpected state {other}"),
        }
        if state == "DELETED" {
            app.post(&format!("/mvno/deleted/{acc}/restore"), &token, json!({}))
                .await;
        }
    }
    assert_counters_match(&app).await;
}
