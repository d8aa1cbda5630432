//! emnify SIM API: batches, lifecycle, who may change what, events, statistics, paging.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::{self, *};

/// A SIM model and two batches issued by the platform: B1 (12 SIMs) and B2 (3 SIMs).
pub(crate) async fn batches(app: &TestApp, fx: &Fixture) -> i64 {
    let admin = fx.token("PLATFORM", Admin);
    let model = app.post("/admin/v1/sim-models", admin, json!({
        "description": "Triple cut", "memory_size": 128, "form_factor": "MINI_MICRO_NANO", "manufacturer": "Acme"
    })).await;
    assert_eq!(model.status, StatusCode::CREATED, "{}", model.text);
    let model_id = model.body["id"].as_i64().unwrap();
    for (bic, start, n) in [("B1", 0u64, 12u64), ("B2", 100, 3)] {
        let sims: Vec<Value> = (start..start + n)
            .map(|i| json!({
                "iccid": icc(i), "imsi": format!("23801{i:010}"), "msisdn": format!("+4570{i:06}"),
                "production_date": "2019-01-25"
            }))
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
pub(crate) fn ids_of(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

pub(crate) async fn sim_ids(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
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
    assert_counters_match(&app).await;
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
