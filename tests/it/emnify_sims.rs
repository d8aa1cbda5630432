//! emnify SIM API: batches, lifecycle, who may change what, events, statistics, paging.

use crate::common::*;
use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::{self, *};

/// A SIM model and two batches issued by the platform: B1 (12 SIMs) and B2 (3 SIMs).
async fn batches(app: &TestApp, fx: &Fixture) -> i64 {
    let admin = fx.token("PLATFORM", Admin);
    let model = app.post("/admin/v1/sim-models", admin, json!({"description": "Triple cut", "memory_size": 128, "form_factor": "MINI_MICRO_NANO", "manufacturer": "Acme"})).await;
    assert_eq!(model.status, StatusCode::CREATED, "{}", model.text);
    let model_id = model.body["id"].as_i64().unwrap();
    for (bic, start, n) in [("B1", 0u64, 12u64), ("B2", 100, 3)] {
        let sims: Vec<Value> = (start..start + n)
            .map(|i| json!({"iccid": icc(i), "imsi": format!("23801{i:010}"), "msisdn": format!("+4570{i:06}"), "production_date": "2019-01-25"}))
            .collect();
        let r = app
            .post(
                "/admin/v1/sim-batches",
                admin,
                json!({"bic": bic, "issuer_org": 1, "model": model_id, "sims": sims}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["quantity"], n);
    }
    model_id
}

/// The SIM ids of a list's body, in its order.
fn ids_of(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

async fn sim_ids(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let r = app
        .get(&format!("/api/v1/sim?per_page=2500{q}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    ids_of(&r.body)
}

backends!(reseller_registers_a_batch_and_runs_its_sims);
async fn reseller_registers_a_batch_and_runs_its_sims(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let model = batches(&app, &fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    let check = app.get("/api/v1/sim_batch/bic/%23B1", ra).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    assert_eq!(
        (
            check.body["bic"].as_str(),
            check.body["quantity"].as_i64(),
            check.body["sim_model_id"].as_i64()
        ),
        (Some("B1"), Some(12), Some(model))
    );
    // The Python SDK's body: a bare status.
    let reg = app
        .patch(
            "/api/v1/sim_batch/bic/B1",
            ra,
            json!({"id": 1, "description": "Activated"}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let sims = reg.body["sim"].as_array().unwrap();
    assert_eq!(sims.len(), 12);
    let first = &sims[0];
    assert_eq!(
        first["status"],
        json!({"id": 1, "description": "Activated"})
    );
    assert_eq!(first["reseller_org"]["id"], fx.org("R1").id);
    assert_eq!(first["reseller_org"]["name"], "R1 org");
    assert_eq!(first["issuer_org"]["id"], 1);
    assert!(first.get("customer_org").is_none());
    assert_eq!(first["activation_date"], "2026-03-15T12:00:00.000+0000");
    assert_eq!(first["production_date"], "2019-01-25T00:00:00.000+0000");
    assert_eq!(first["model"]["formfactor"]["name"], "MINI_MICRO_NANO");
    assert_eq!(first["msisdn"], "4570000000");
    assert_eq!(first["iccid"].as_str().unwrap().len(), 19);
    assert_eq!(first["iccid_with_luhn"].as_str().unwrap().len(), 20);
    assert!(first.get("endpoint").is_none());
    // Registered once only.
    app.get("/api/v1/sim_batch/bic/B1", ra)
        .await
        .assert_emnify_error(409, 1409);
    app.patch("/api/v1/sim_batch/bic/B1", ra, json!({}))
        .await
        .assert_emnify_error(422, 1401);
    app.get("/api/v1/sim_batch/bic/NOPE", ra)
        .await
        .assert_emnify_error(404, 1201);
    app.patch("/api/v1/sim_batch/bic/NOPE", ra, json!({}))
        .await
        .assert_emnify_error(404, 1201);
    app.patch(
        "/api/v1/sim_batch/bic/B2",
        ra,
        json!({"sim_status": {"id": 2}}),
    )
    .await
    .assert_emnify_error(422, 1400);
    let events: Vec<(String,)> = app
        .sql("SELECT description FROM events WHERE type_id = 48")
        .await;
    assert_eq!(
        events,
        vec![("Batch of 12 SIM(s) registered.".to_string(),)]
    );

    // The reseller sees its 12; its customer none yet; another reseller's customer none.
    let ids = sim_ids(&app, ra, "").await;
    assert_eq!(ids.len(), 12);
    assert!(sim_ids(&app, fx.token("C1A", Owner), "").await.is_empty());
    assert!(sim_ids(&app, fx.token("C2A", Owner), "").await.is_empty());
    app.get(&format!("/api/v1/sim/{}", ids[0]), fx.token("C2A", Owner))
        .await
        .assert_emnify_error(404, 1201);

    // The reseller runs the SIMs it has not sold on...
    let sim = ids[0];
    assert_eq!(
        app.patch(
            &format!("/api/v1/sim/{}", ids[1]),
            ra,
            json!({"status": {"id": 2}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // ...gives one to its customer, and from then on the customer runs the status.
    let r = app
        .patch(
            &format!("/api/v1/sim/{sim}"),
            ra,
            json!({"customer_organisation": {"id": fx.org("C1A").id}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(r.text.is_empty());
    app.patch(
        &format!("/api/v1/sim/{sim}"),
        ra,
        json!({"status": {"id": 2}}),
    )
    .await
    .assert_emnify_error(403, 1104);
    let owner = fx.token("C1A", Owner);
    assert_eq!(
        app.patch(
            &format!("/api/v1/sim/{sim}"),
            owner,
            json!({"status": {"id": 2, "description": "Suspended"}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/sim/{sim}"), owner).await.body["status"]["id"],
        2
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/sim/{sim}"),
            owner,
            json!({"status": {"id": 1}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let ev = app.get(&format!("/api/v1/sim/{sim}/event"), owner).await;
    assert_eq!(ev.status, StatusCode::OK, "{}", ev.text);
    let list = ev.body.as_array().unwrap();
    assert_eq!(
        list[0]["event_type"],
        json!({"id": 8, "description": "SIM activation"})
    );
    assert_eq!(
        list[0]["description"],
        "Status of SIM changed from 'Suspended' to 'Activated'"
    );
    assert_eq!(
        list[0]["detail"]["transition"]["sim"]["status"]["from"],
        json!({"id": 2, "description": "Suspended"})
    );
    assert_eq!(list[1]["event_type"]["id"], 9);
    assert_eq!(list[2]["event_type"]["id"], 51);
    assert_eq!(list[0]["event_source"]["id"], 2);
    assert_eq!(list[0]["user"]["id"], fx.user("C1A", Owner).id);
    assert_eq!(list[0]["sim"]["id"], sim);
    assert_eq!(
        ev.headers["x-total-count"], "4",
        "import + assignment + 2 status events"
    );
    // Past the end: the last page (of 3 a page, the 4th event).
    let past = app
        .get(&format!("/api/v1/sim/{sim}/event?per_page=3&page=5"), owner)
        .await;
    assert_eq!(
        (
            past.headers["x-current-page"].to_str().unwrap(),
            past.body.as_array().unwrap().len()
        ),
        ("2", 1)
    );
    assert_eq!(past.body[0]["id"], list[3]["id"]);
    // The customer cannot move it on; a viewer cannot change anything.
    app.patch(
        &format!("/api/v1/sim/{sim}"),
        owner,
        json!({"customer_org": {"id": fx.org("C1B").id}}),
    )
    .await
    .assert_emnify_error(403, 1104);
    app.patch(
        &format!("/api/v1/sim/{sim}"),
        fx.token("C1A", Viewer),
        json!({"status": {"id": 2}}),
    )
    .await
    .assert_emnify_error(403, 1104);
    // Event filters.
    let typed = app
        .get(
            &format!("/api/v1/sim/{sim}/event?q=type:9|8&sort=id"),
            owner,
        )
        .await;
    let types: Vec<i64> = typed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(types, vec![9, 8]);
    assert_eq!(
        app.get(
            &format!("/api/v1/sim/{sim}/event?q=description:suspended"),
            owner
        )
        .await
        .body
        .as_array()
        .unwrap()
        .len(),
        2
    );
    app.get(&format!("/api/v1/sim/{sim}/event?q=colour:red"), owner)
        .await
        .assert_emnify_error(422, 1301);
    app.get(&format!("/api/v1/sim/{sim}/event?sort=colour"), owner)
        .await
        .assert_emnify_error(422, 1302);
    app.get(
        &format!("/api/v1/sim/{sim}/event?q=from:2026-03-01T00:00:00Z"),
        owner,
    )
    .await
    .assert_emnify_error(422, 1301);
    let ranged = app
        .get(
            &format!(
                "/api/v1/sim/{sim}/event?q=from:2026-03-15T00:00:00Z,until:2026-03-16T00:00:00Z"
            ),
            owner,
        )
        .await;
    assert_eq!(ranged.body.as_array().unwrap().len(), 4);
    // Unknown or invisible numeric ids: 200 []; non-numeric: 400.
    let none = app.get("/api/v1/sim/999999/event", owner).await;
    assert_eq!(
        (none.status, none.body.clone()),
        (StatusCode::OK, json!([]))
    );
    assert_eq!(
        app.get(&format!("/api/v1/sim/{sim}/event"), fx.token("C2A", Owner))
            .await
            .body,
        json!([])
    );
    app.get("/api/v1/sim/abc/event", owner)
        .await
        .assert_emnify_error(400, 1000);
    app.get("/api/v1/sim/abc", owner)
        .await
        .assert_emnify_error(400, 1000);
}

backends!(status_transitions_allowed_and_refused);
async fn status_transitions_allowed_and_refused(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let ids = sim_ids(&app, admin, "&q=status:0").await;
    assert_eq!(ids.len(), 15);
    let set = |id: i64, status: i64| {
        let app = &app;
        async move {
            app.patch(
                &format!("/api/v1/sim/{id}"),
                admin,
                json!({"status": {"id": status}}),
            )
            .await
        }
    };
    let path = [(ids[0], vec![4, 1, 2, 1]), (ids[1], vec![1, 2])];
    for (id, steps) in path {
        for s in steps {
            let r = set(id, s).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{id} -> {s}: {}", r.text);
        }
    }
    for (id, to) in [
        (ids[2], 2),
        (ids[2], 3),
        (ids[0], 0),
        (ids[0], 4),
        (ids[1], 4),
    ] {
        let r = set(id, to).await;
        r.assert_emnify_error(409, 1409);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("cannot be changed from"),
            "{}",
            r.text
        );
    }
    // Same status: 204, no event.
    let before: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id IN (8, 9, 45)")
        .await;
    assert_eq!(set(ids[1], 2).await.status, StatusCode::NO_CONTENT);
    let after: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id IN (8, 9, 45)")
        .await;
    assert_eq!(before, after);
    // First activation sets activation_date; unknown status or empty body is 422.
    assert!(app
        .get(&format!("/api/v1/sim/{}", ids[2]), admin)
        .await
        .body
        .get("activation_date")
        .is_none());
    set(ids[2], 9).await.assert_emnify_error(422, 1400);
    app.patch(
        &format!("/api/v1/sim/{}", ids[2]),
        admin,
        json!({"colour": "red"}),
    )
    .await
    .assert_emnify_error(422, 1400);
    app.patch(
        &format!("/api/v1/sim/{}", ids[2]),
        admin,
        json!({"status": {}}),
    )
    .await
    .assert_emnify_error(422, 1400);
    set(999_999, 1).await.assert_emnify_error(404, 1201);
    let statuses = app.get("/api/v1/sim/status", admin).await;
    assert_eq!(statuses.body.as_array().unwrap().len(), 5);
    assert_eq!(
        statuses.body[4],
        json!({"id": 4, "description": "Factory Test"})
    );
}

backends!(org_changes_follow_relation_and_org_types);
async fn org_changes_follow_relation_and_org_types(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    app.patch("/api/v1/sim_batch/bic/B1", ra, json!(null)).await;
    let ids = sim_ids(&app, ra, "").await;
    let patch = |token: &'static str, id: i64, body: Value| {
        let app = &app;
        async move { app.patch(&format!("/api/v1/sim/{id}"), token, body).await }
    };
    let ra: &'static str = Box::leak(ra.to_string().into_boxed_str());
    // Reseller: customer_org to an ENTERPRISE child, reseller_org to a reseller child (its sub-reseller).
    assert_eq!(
        patch(
            ra,
            ids[0],
            json!({"customer_org": {"id": fx.org("C1B").id}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        patch(
            ra,
            ids[1],
            json!({"reseller_org": {"id": fx.org("R1S").id}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // ...not to a grandchild, another reseller's customer, or a reseller as customer.
    patch(
        ra,
        ids[2],
        json!({"customer_org": {"id": fx.org("C1SA").id}}),
    )
    .await
    .assert_emnify_error(422, 1401);
    patch(
        ra,
        ids[2],
        json!({"customer_org": {"id": fx.org("C2A").id}}),
    )
    .await
    .assert_emnify_error(422, 1401);
    patch(
        ra,
        ids[2],
        json!({"reseller_org": {"id": fx.org("C1A").id}}),
    )
    .await
    .assert_emnify_error(422, 1401);
    patch(ra, ids[2], json!({"customer_org": {"id": 424242}}))
        .await
        .assert_emnify_error(422, 1401);
    // The issuer field is the issuer's.
    patch(ra, ids[2], json!({"issuer_org": {"id": fx.org("R2").id}}))
        .await
        .assert_emnify_error(403, 1104);
    // Clearing: {"id": null} or {}.
    assert_eq!(
        patch(ra, ids[0], json!({"customer_org": {}})).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(app
        .get(&format!("/api/v1/sim/{}", ids[0]), ra)
        .await
        .body
        .get("customer_org")
        .is_none());
    // ADMIN (issuer side): issuer to an SP; then R2's users see it.
    let admin = fx.token("PLATFORM", Admin);
    let admin: &'static str = Box::leak(admin.to_string().into_boxed_str());
    assert_eq!(
        patch(
            admin,
            ids[3],
            json!({"issuer_organisation": {"id": fx.org("R2").id}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert!(sim_ids(&app, fx.token("R2", ResellerAdmin), "")
        .await
        .contains(&ids[3]));
    patch(
        admin,
        ids[3],
        json!({"issuer_org": {"id": fx.org("C2A").id}}),
    )
    .await
    .assert_emnify_error(422, 1401);
    // The sub-reseller sees the SIM it was given, and filters work on org fields.
    assert_eq!(
        sim_ids(&app, fx.token("R1S", ResellerAdmin), "").await,
        vec![ids[1]]
    );
    assert_eq!(
        sim_ids(&app, ra, &format!("&q=reseller_org:{}", fx.org("R1S").id)).await,
        vec![ids[1]]
    );
    // Delete: a reseller cannot delete SIMs it sold (its own reseller_org); the issuer can.
    app.delete(&format!("/api/v1/sim/{}", ids[4]), ra)
        .await
        .assert_emnify_error(403, 1104);
    assert_eq!(
        app.delete(&format!("/api/v1/sim/{}", ids[4]), admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get(&format!("/api/v1/sim/{}", ids[4]), admin)
        .await
        .assert_emnify_error(404, 1201);
    assert!(!sim_ids(&app, admin, "").await.contains(&ids[4]));
    app.delete(&format!("/api/v1/sim/{}", ids[4]), admin)
        .await
        .assert_emnify_error(404, 1201);
    app.delete(&format!("/api/v1/sim/{}", ids[5]), fx.token("R1", Viewer))
        .await
        .assert_emnify_error(403, 1104);
}

backends!(list_paging_headers_q_and_sort);
async fn list_paging_headers_q_and_sort(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .get("/api/v1/sim?per_page=4&page=2&q=status:0&sort=-id", admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["x-total-count"], "15");
    assert_eq!(r.headers["x-total-pages"], "4");
    assert_eq!(r.headers["x-current-page"], "2");
    assert_eq!(r.headers["x-count-per-page"], "4");
    assert_eq!(r.headers["x-sort"], "-id");
    let link = r.headers["link"].to_str().unwrap();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(
        link.contains("q=status%3A0") && link.contains("sort=-id"),
        "{link}"
    );
    let ids: Vec<i64> = ids_of(&r.body);
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    // Past the end: the last page; below 1: the first; no SIMs: one page.
    let last = app.get("/api/v1/sim?per_page=4&page=99", admin).await;
    assert_eq!(
        (
            last.headers["x-current-page"].to_str().unwrap(),
            last.body.as_array().unwrap().len()
        ),
        ("4", 3)
    );
    assert_eq!(
        app.get("/api/v1/sim?page=0", admin).await.headers["x-current-page"],
        "1"
    );
    let empty = app.get("/api/v1/sim?q=model:999", admin).await;
    assert_eq!(
        (
            empty.headers["x-total-pages"].to_str().unwrap(),
            empty.body.clone()
        ),
        ("1", json!([]))
    );
    app.get("/api/v1/sim?page=abc", admin)
        .await
        .assert_emnify_error(400, 1000);
    // q fields.
    let one = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move { sim_ids(app, admin, &format!("&q={q}")).await.len() }
    };
    let iccid19 = simgate::domain::emnify::iccid_forms(&icc(3)).0;
    let with_luhn = simgate::domain::emnify::iccid_forms(&icc(3)).1;
    assert_eq!(one(&format!("iccid:{iccid19}")).await, 1);
    assert_eq!(one(&format!("iccid_with_luhn:{with_luhn}")).await, 1);
    assert_eq!(one("imsi:238010000000004").await, 1);
    assert_eq!(one("msisdn:45700000").await, 12);
    assert_eq!(one("msisdn:457000010").await, 3);
    assert_eq!(one("production_date:2019-01-25").await, 15);
    assert_eq!(one("endpoint:null").await, 15);
    assert_eq!(one("issuer_org:1,status:0|1").await, 15);
    assert_eq!(one("customer_org:3").await, 0);
    for bad in [
        "colour:red",
        "status:9",
        "production_date:yesterday",
        "id:x",
        "nocolon",
    ] {
        app.get(&format!("/api/v1/sim?q={bad}"), admin)
            .await
            .assert_emnify_error(422, 1301);
    }
    // sort: every listed field, any case, the SDK's enum names; anything else 1302.
    for s in [
        "id",
        "-issuer_org",
        "reseller_org",
        "customer_org",
        "iccid",
        "eid",
        "status",
        "production_date",
        "endpoint",
        "model",
        "ID",
        "SimSort.iccid",
    ] {
        assert_eq!(
            app.get(&format!("/api/v1/sim?sort={s}"), admin)
                .await
                .status,
            StatusCode::OK,
            "{s}"
        );
    }
    app.get("/api/v1/sim?sort=imsi", admin)
        .await
        .assert_emnify_error(422, 1302);
    // Levels: PERSONAL has no API; everyone else sees only its side.
    app.get("/api/v1/sim", fx.token("C1A", Personal))
        .await
        .assert_emnify_error(403, 1104);
    app.request(axum::http::Method::GET, "/api/v1/sim", None, None)
        .await
        .assert_emnify_error(401, 1102);
    app.get("/api/v1/sim", "sg_wrong")
        .await
        .assert_emnify_error(401, 1102);
}

backends!(statistics_from_ingested_usage);
async fn statistics_from_ingested_usage(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
    let sim = sim_ids(&app, ra, "").await[0];
    let iccid = icc(0);
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 15, 12, 30, 0).unwrap());
    let admin = fx.token("PLATFORM", Admin);
    // NDJSON: last hour, earlier this month, last month, the month before; plus bad records.
    let body = [
        json!({"iccid": iccid, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "data", "volume_tx": 1.5, "volume_rx": 2.5, "cost": 0.1}),
        json!({"sim_id": sim, "timestamp": "2026-03-15T12:20:00Z", "traffic_type": "data", "volume_tx": 0.5, "volume_rx": 0.5, "cost": 0.1}),
        json!({"sim_id": sim, "timestamp": "2026-03-02T08:00:00Z", "traffic_type": "sms", "volume_tx": 3, "volume_rx": 1, "cost": 0.4}),
        json!({"sim_id": sim, "timestamp": "2026-02-20T08:00:00Z", "traffic_type": "data", "volume_tx": 10, "volume_rx": 30, "cost": 2, "currency": "USD"}),
        json!({"sim_id": sim, "timestamp": "2026-01-20T08:00:00Z", "traffic_type": "data", "volume_tx": 99, "volume_rx": 99}),
        json!({"sim_id": 424242, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "data", "volume_tx": 1, "volume_rx": 1}),
        json!({"sim_id": sim, "timestamp": "yesterday", "traffic_type": "data", "volume_tx": 1, "volume_rx": 1}),
        json!({"sim_id": sim, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "voice", "volume_tx": 1, "volume_rx": 1}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n")
        + "\nnot json";
    let req = axum::http::Request::post("/admin/v1/usage")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/x-ndjson")
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["accepted"], 5);
    let rejected: Vec<i64> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["index"].as_i64().unwrap())
        .collect();
    assert_eq!(rejected, vec![5, 6, 7, 8]);
    // A JSON array works too; it adds into the same bucket.
    let r = app.post("/admin/v1/usage", admin, json!([{"sim_id": sim, "timestamp": "2026-03-15T12:59:59Z", "traffic_type": "data", "volume_tx": 1, "volume_rx": 0}])).await;
    assert_eq!(r.body["accepted"], 1);
    let s = app.get(&format!("/api/v1/sim/{sim}/stats"), ra).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.body["current_month"]["data"]["volume"], 6.0);
    assert_eq!(s.body["current_month"]["data"]["volume_tx"], 3.0);
    assert_eq!(s.body["current_month"]["data"]["month"], "2026-03-01");
    assert_eq!(
        s.body["current_month"]["data"]["id"],
        format!("{sim}2026035").parse::<u64>().unwrap()
    );
    assert_eq!(s.body["current_month"]["sms"]["volume"], 4.0);
    assert_eq!(s.body["current_month"]["sms"]["traffic_type_id"], 6);
    assert_eq!(s.body["last_month"]["data"]["volume"], 40.0);
    assert_eq!(s.body["last_month"]["data"]["currency"]["code"], "USD");
    assert!(s.body["last_month"].get("sms").is_none());
    assert_eq!(s.body["last_hour"]["data"]["volume"], 6.0);
    assert!(s.body["last_hour"].get("sms").is_none());
    // An hour later the last hour still counts the 12:00 bucket; two hours later it is empty.
    app.clock.advance(Duration::hours(2));
    let s = app.get(&format!("/api/v1/sim/{sim}/stats"), ra).await;
    assert_eq!(s.body["last_hour"], json!({}));
    // Daily.
    let d = app.get(&format!("/api/v1/sim/{sim}/stats/daily"), ra).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let days: Vec<&str> = d
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["date"].as_str().unwrap())
        .collect();
    assert_eq!(days, vec!["2026-03-02", "2026-03-15"]);
    assert_eq!(d.body[1]["data"]["volume"], 6.0);
    let feb = app
        .get(
            &format!("/api/v1/sim/{sim}/stats/daily?start_date=2026-02-01"),
            ra,
        )
        .await;
    assert_eq!(feb.body.as_array().unwrap().len(), 1);
    let jan = app
        .get(
            &format!("/api/v1/sim/{sim}/stats/daily?end_date=2026-01-31"),
            ra,
        )
        .await;
    assert_eq!(jan.body[0]["data"]["volume"], 198.0);
    app.get(
        &format!("/api/v1/sim/{sim}/stats/daily?start_date=2026-03-10&end_date=2026-03-01"),
        ra,
    )
    .await
    .assert_emnify_error(422, 1403);
    app.get(
        &format!("/api/v1/sim/{sim}/stats/daily?start_date=March"),
        ra,
    )
    .await
    .assert_emnify_error(422, 1403);
    // Nobody outside sees them.
    app.get(&format!("/api/v1/sim/{sim}/stats"), fx.token("C2A", Owner))
        .await
        .assert_emnify_error(404, 1201);
    // Network events ingest.
    let r = app.post("/admin/v1/events", admin, json!([{"sim_id": sim, "timestamp": "2026-03-15T14:00:00Z", "type_id": 1, "severity": 2, "description": "Update location"}, {"sim_id": sim, "type_id": 1}])).await;
    assert_eq!(
        (
            r.body["accepted"].as_i64(),
            r.body["rejected"].as_array().unwrap().len()
        ),
        (Some(1), 1),
        "{}",
        r.text
    );
    let ev = app
        .get(&format!("/api/v1/sim/{sim}/event?q=source:0"), ra)
        .await;
    assert_eq!(ev.body[0]["description"], "Update location");
    assert_eq!(ev.body[0]["alert"], true);
    app.post("/admin/v1/usage", ra, json!([]))
        .await
        .assert_telecomx_error(403, "access_denied");
}

backends!(foreign_batches_and_levels);
async fn foreign_batches_and_levels(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    // One SIM of B2 is already stored at R2's customer: B2 is foreign to R1.
    let r = app
        .post(
            &format!("/sim/{}/assign?customer={}", icc(100), fx.org("C2A").oid),
            admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.get("/api/v1/sim_batch/bic/B2", fx.token("R1", ResellerAdmin))
        .await
        .assert_emnify_error(422, 1401);
    app.patch(
        "/api/v1/sim_batch/bic/B2",
        fx.token("R1", ResellerAdmin),
        json!({}),
    )
    .await
    .assert_emnify_error(422, 1401);
    // The customer it belongs to can register it, as customer, in Factory Test.
    let r = app
        .patch(
            "/api/v1/sim_batch/bic/B2",
            fx.token("C2A", Owner),
            json!({"sim_status": {"id": 4}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["sim"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["customer_org"]["id"] == fx.org("C2A").id && s["status"]["id"] == 4));
    assert!(r.body["sim"][0].get("activation_date").is_none());
    // Viewers cannot register.
    app.patch(
        "/api/v1/sim_batch/bic/B1",
        fx.token("R1", Viewer),
        json!({}),
    )
    .await
    .assert_emnify_error(403, 1104);
    let _ = AccessLevel::Admin;
}

backends!(concurrent_registrations_and_patches, multi_thread);
/// Concurrent registrations of one batch: exactly one wins. Concurrent PATCHes lose no update.
async fn concurrent_registrations_and_patches(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for org in ["R1", "R2", "R1S", "C1A"] {
        let (app, token) = (
            app.clone(),
            fx.token(
                org,
                if org.starts_with('C') {
                    Owner
                } else {
                    ResellerAdmin
                },
            )
            .to_string(),
        );
        tasks.push(tokio::spawn(async move {
            app.patch("/api/v1/sim_batch/bic/B1", &token, json!({}))
                .await
                .status
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap().as_u16());
    }
    codes.sort();
    assert_eq!(codes, vec![200, 422, 422, 422]);
    let registrations: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id = 48")
        .await;
    assert_eq!(registrations[0].0, 1);
    // Two suspensions of one active SIM at once: one event, both 204.
    let admin = fx.token("PLATFORM", Admin).to_string();
    let sim = sim_ids(&app, &admin, "&q=status:1").await[0];
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (app, token) = (app.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            app.patch(
                &format!("/api/v1/sim/{sim}"),
                &token,
                json!({"status": {"id": 2}}),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::NO_CONTENT);
    }
    let suspensions: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE type_id = 9 AND sim_id = {sim}"
        ))
        .await;
    assert_eq!(suspensions[0].0, 1);
}

backends!(totals_equal_the_listed_rows_for_every_side_and_filter);
/// The list's total comes from counters when every condition is a counter key, from the rows otherwise;
/// either way it must equal the number of SIMs the same query lists, for every side of every SIM.
async fn totals_equal_the_listed_rows_for_every_side_and_filter(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let model = batches(&app, &fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    let reg = app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let ids = sim_ids(&app, ra, "").await;
    for (i, sim) in ids.iter().enumerate().take(6) {
        let customer = if i % 2 == 0 { "C1A" } else { "C1B" };
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"customer_org": {"id": fx.org(customer).id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    for sim in &ids[6..9] {
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"status": {"id": 2}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let deleted = app
        .delete(
            &format!("/api/v1/sim/{}", ids[11]),
            fx.token("PLATFORM", Admin),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_counters_match(&app).await;

    let c1a = fx.org("C1A").id;
    let queries = [
        String::new(),
        "&q=status:1".into(),
        "&q=status:0|2".into(),
        format!("&q=customer_org:{c1a}"),
        format!("&q=model:{model},status:1"),
        "&q=endpoint:null".into(),
        "&q=issuer_org:1".into(),
        "&q=customer_org:0".into(),
        "&q=production_date:2019-01-25".into(),
        "&q=msisdn:45700000".into(),
    ];
    let mut nonzero = 0;
    for (org, level) in [
        ("PLATFORM", Admin),
        ("R1", ResellerAdmin),
        ("R1S", ResellerAdmin),
        ("R2", ResellerAdmin),
        ("C1A", Owner),
        ("C1B", Viewer),
    ] {
        for q in &queries {
            let token = fx.token(org, level);
            let r = app
                .get(&format!("/api/v1/sim?per_page=2500{q}"), token)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let listed = r.body.as_array().unwrap().len();
            assert_eq!(
                r.headers["x-total-count"].to_str().unwrap(),
                listed.to_string(),
                "{org} {q}"
            );
            nonzero += usize::from(listed > 0);
        }
    }
    // The sides differ: the platform sees 14 (one deleted), R1 its 11, C1A three, R2 none.
    assert_eq!(
        sim_ids(&app, fx.token("PLATFORM", Admin), "").await.len(),
        14
    );
    assert_eq!(sim_ids(&app, ra, "").await.len(), 11);
    assert_eq!(sim_ids(&app, fx.token("C1A", Owner), "").await.len(), 3);
    assert!(sim_ids(&app, fx.token("R2", ResellerAdmin), "")
        .await
        .is_empty());
    assert!(nonzero > 20, "the checks must see SIMs: {nonzero}");
}

backends!(
    single_sim_labels_equal_the_joined_read_and_follow_renames,
    by_name
);
/// The single-SIM read takes org and model labels from a short cache instead of joining them: the
/// answer is the same as the joined read's, and a rename on this node shows at once.
async fn single_sim_labels_equal_the_joined_read_and_follow_renames(backend: &'static str) {
    let mut answers = Vec::new();
    for secs in [5, 0] {
        let app = TestApp::new(backend, move |c| c.database.label_cache_secs = secs).await;
        let fx = Fixture::build(&app).await;
        batches(&app, &fx).await;
        let ra = fx.token("R1", ResellerAdmin);
        app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
        let sim = sim_ids(&app, ra, "").await[0];
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"customer_org": {"id": fx.org("C1A").id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let owner = fx.token("C1A", Owner);
        let first = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let again = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(first.body, again.body, "a cached read answers the same");
        let listed = app.get(&format!("/api/v1/sim?q=id:{sim}"), owner).await;
        assert_eq!(
            listed.body[0], first.body,
            "the list (joined) and the single read agree"
        );
        assert_eq!(first.body["customer_org"]["name"], "C1A org");
        assert_eq!(first.body["issuer_org"]["id"], 1);
        assert_eq!(first.body["model"]["manufacturer"]["name"], "Acme");
        // Other sides still cannot see it, cache or not.
        app.get(&format!("/api/v1/sim/{sim}"), fx.token("C1B", Owner))
            .await
            .assert_emnify_error(404, 1201);
        // A rename through the admin API shows at once.
        let r = app
            .patch(
                &format!("/admin/v1/organisations/{}", fx.org("C1A").id),
                fx.token("PLATFORM", Admin),
                json!({"name": "Renamed C1A"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let after = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(after.body["customer_org"]["name"], "Renamed C1A");
        answers.push(first.body.clone());
    }
    // The same SIM, with the cache (5 s) and without (0): the same answer.
    assert!(
        answers.len() == 2 && answers[0] == answers[1],
        "{answers:#?}"
    );
}

backends!(concurrent_single_reads_each_get_their_own_answer);
/// Single-SIM reads that arrive together share queries: each still gets its own SIM (or its 404),
/// repeats of one SIM each get a copy.
async fn concurrent_single_reads_each_get_their_own_answer(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let ids = sim_ids(&app, &admin, "").await;
    assert_eq!(ids.len(), 15);
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for round in 0..4 {
        for (i, id) in ids.iter().chain([&ids[0], &ids[0], &999_999]).enumerate() {
            let (app, admin, id) = (app.clone(), admin.clone(), *id);
            tasks.push(tokio::spawn(async move {
                let r = app.get(&format!("/api/v1/sim/{id}"), &admin).await;
                (round, i, id, r.status, r.body["id"].as_i64())
            }));
        }
    }
    for t in tasks {
        let (round, i, id, status, got) = t.await.unwrap();
        if id == 999_999 {
            assert_eq!(status, StatusCode::NOT_FOUND, "round {round} #{i}");
        } else {
            assert_eq!(
                (status, got),
                (StatusCode::OK, Some(id)),
                "round {round} #{i}"
            );
        }
    }
}

backends!(single_reads_recover_from_dropped_connections_and_let_the_store_close);
/// Point reads keep up to two connections between batches: they recover when the database drops
/// its connections, and they give them back so that the store can close.
async fn single_reads_recover_from_dropped_connections_and_let_the_store_close(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let sim = sim_ids(&app, admin, "").await[0];
    let path = format!("/api/v1/sim/{sim}");
    assert_eq!(app.get(&path, admin).await.status, StatusCode::OK);
    if app.backend == "postgres" {
        drop_all_connections(&app).await;
        // The read on the connection that died may fail; after that every connection is checked
        // before use for a while, so it is the only failure.
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(app.get(&path, admin).await.status);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::OK), "{statuses:?}");
        assert!(
            statuses.iter().filter(|s| **s != StatusCode::OK).count() <= 2,
            "{statuses:?}"
        );
    }
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(10), app.state.store.close()).await;
    assert!(
        closed.is_ok(),
        "the store closes with point-read connections held"
    );
}

/// Every page, read one after the other, of `q` sorted by `sort` (3 SIMs a page): the ids, and the total.
async fn all_pages(app: &TestApp, token: &str, q: &str, sort: &str) -> (Vec<i64>, usize) {
    let (mut ids, mut total) = (Vec::new(), 0);
    for page in 1.. {
        let r = app
            .get(
                &format!("/api/v1/sim?per_page=3&page={page}&q={q}&sort={sort}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        total = r.headers["x-total-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let got: Vec<i64> = ids_of(&r.body);
        ids.extend(&got);
        // Past the end the last page comes again.
        if ids.len() >= total || got.len() < 3 {
            break;
        }
    }
    (ids, total)
}

/// Each side's pages are exactly the SIMs it may see, in the asked order, compared with
/// the visibility rule applied here to the rows: through its tenant's range while no SIM is shared,
/// through the org conditions alone once one is, and through the filters' indexes when filtered.
async fn pages_match_visibility(app: &TestApp, fx: &Fixture) -> usize {
    type Row = (i64, String, i64, Option<i64>, Option<i64>, Option<i64>);
    let paths: std::collections::HashMap<i64, String> = app
        .sql::<(i64, String)>("SELECT id, path FROM organisations")
        .await
        .into_iter()
        .collect();
    let sims: Vec<Row> = app
        .sql("SELECT id, iccid, CAST(status AS BIGINT), issuer_org_id, reseller_org_id, customer_org_id FROM sims WHERE status <> 3")
        .await;
    let mut checked = 0;
    for (org, level) in [
        ("R1", ResellerAdmin),
        ("R1S", ResellerAdmin),
        ("R2", ResellerAdmin),
        ("C1A", Owner),
    ] {
        let own = fx.org(org).id;
        let sees = |o: Option<i64>| {
            o.is_some_and(|o| match level {
                Owner => o == own,
                _ => paths[&o].starts_with(&paths[&own]),
            })
        };
        let visible: Vec<&Row> = sims
            .iter()
            .filter(|s| sees(s.3) || sees(s.4) || sees(s.5))
            .collect();
        for (q, sort) in [
            ("", "id"),
            ("", "-id"),
            ("", "iccid"),
            ("", "-iccid"),
            ("", "-status"),
            ("status:1", "iccid"),
            ("status:0|2", "-id"),
        ] {
            let mut expected: Vec<&Row> = visible
                .iter()
                .copied()
                .filter(|s| match q {
                    "status:1" => s.2 == 1,
                    "status:0|2" => s.2 == 0 || s.2 == 2,
                    _ => true,
                })
                .collect();
            match sort {
                "id" => expected.sort_by_key(|s| s.0),
                "-id" => expected.sort_by_key(|s| std::cmp::Reverse(s.0)),
                "iccid" => expected.sort_by(|a, b| a.1.cmp(&b.1)),
                "-iccid" => expected.sort_by(|a, b| b.1.cmp(&a.1)),
                // Ties by id in the last key's direction.
                _ => expected.sort_by_key(|s| std::cmp::Reverse((s.2, s.0))),
            }
            let expected: Vec<i64> = expected.iter().map(|s| s.0).collect();
            let (got, total) = all_pages(app, fx.token(org, level), q, sort).await;
            assert_eq!(got, expected, "{} {org} q={q} sort={sort}", app.backend);
            assert_eq!(total, expected.len(), "{} {org} q={q} total", app.backend);
            checked += expected.len();
        }
    }
    checked
}

backends!(pages_are_the_visible_sims_in_order_before_and_after_a_shared_sim);
async fn pages_are_the_visible_sims_in_order_before_and_after_a_shared_sim(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let (admin, ra) = (fx.token("PLATFORM", Admin), fx.token("R1", ResellerAdmin));
    let reg = app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let ids = sim_ids(&app, ra, "&sort=id").await;
    for (i, sim) in ids.iter().enumerate().take(8) {
        let (by, patch) = match i % 4 {
            0 => (ra, json!({"customer_org": {"id": fx.org("C1A").id}})),
            1 => (
                admin,
                json!({"reseller_org": {"id": fx.org("R1S").id}, "customer_org": {"id": fx.org("C1SA").id}}),
            ),
            2 => (ra, json!({"status": {"id": 2}})),
            _ => (ra, json!({"reseller_org": {"id": fx.org("R1S").id}})),
        };
        let r = app.patch(&format!("/api/v1/sim/{sim}"), by, patch).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    // Stores a SIM at a customer (TelecomX assign); then the SIMs shared between top-level orgs.
    let assign = |i: u64, customer: &'static str| {
        let (app, fx) = (&app, &fx);
        async move {
            let path = format!("/sim/{}/assign?customer={}", icc(i), fx.org(customer).oid);
            let r = app.post(&path, admin, json!({})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_counters_match(app).await;
            app.sql::<(i64,)>("SELECT id FROM sims WHERE tenant_org_id = 0")
                .await
        }
    };
    // B2 goes to R2's customer.
    assert!(assign(101, "C2A").await.is_empty());
    let before = pages_match_visibility(&app, &fx).await;
    assert!(before > 40, "the checks must see SIMs: {before}");

    // A SIM issued by R2 and stored at R1's customer: its orgs lie under two top-level orgs.
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "B3", "issuer_org": fx.org("R2").id, "sims": [{"iccid": icc(200)}, {"iccid": icc(201)}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shared = assign(200, "C1A").await;
    assert_eq!(shared.len(), 1);
    let after = pages_match_visibility(&app, &fx).await;
    assert!(
        after > before,
        "R1, R2 and C1A each see the shared SIM: {before} -> {after}"
    );
    for side in [ra, fx.token("R2", ResellerAdmin), fx.token("C1A", Owner)] {
        assert!(sim_ids(&app, side, "").await.contains(&shared[0].0));
    }
}

backends!(many_matches_walk_the_sort_order);
/// Past `FILTER_FIRST_MAX` (20,000) matches a filtered page walks the sort order instead of sorting the
/// matches: 21,000 SIMs in three batches, registered by R1 (activated). Pages at the start, middle and
/// end equal the rows in that order, for the ADMIN (whole table) and for R1 (its tenant's range).
async fn many_matches_walk_the_sort_order(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let (admin, ra) = (fx.token("PLATFORM", Admin), fx.token("R1", ResellerAdmin));
    for b in 0..3u64 {
        // Batches interleave their ICCs, so that ICC order and id order differ.
        let sims: Vec<Value> = (0..7_000u64)
            .map(|i| json!({"iccid": icc(i * 3 + b)}))
            .collect();
        let bic = format!("W{b}");
        let r = app
            .post(
                "/admin/v1/sim-batches",
                admin,
                json!({"bic": bic, "issuer_org": 1, "sims": sims}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = app
            .patch(&format!("/api/v1/sim_batch/bic/{bic}"), ra, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let by_icc: Vec<i64> = app
        .sql::<(i64,)>("SELECT id FROM sims WHERE status = 1 ORDER BY iccid")
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(by_icc.len(), 21_000);
    let mut by_id_desc = by_icc.clone();
    by_id_desc.sort_by(|a, b| b.cmp(a));
    for (token, sort, expected) in [
        (ra, "iccid", &by_icc),
        (admin, "-id", &by_id_desc),
        (ra, "-id", &by_id_desc),
    ] {
        for page in [1usize, 105, 210] {
            let r = app
                .get(
                    &format!("/api/v1/sim?per_page=100&page={page}&q=status:1&sort={sort}"),
                    token,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.headers["x-total-count"], "21000");
            assert_eq!(
                ids_of(&r.body),
                expected[(page - 1) * 100..page * 100],
                "{sort} page {page}"
            );
        }
    }
}
