//! emnify endpoints (devices): create, read, list, change, delete; a SIM put in and taken out with
//! the stock, counters and events agreeing at every step; profiles; levels and tenants.

use crate::common::*;
use crate::emnify_sims::{batches, ids_of, sim_ids};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

/// R1 registers batch B1 (12 SIMs, issued by the platform) in status Factory Test and sells the
/// first ten to its customer C1A: the SIMs, by id (the last two unsold).
pub(crate) async fn r1_sims(app: &TestApp, fx: &Fixture) -> Vec<i64> {
    batches(app, fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    let reg = app
        .patch(
            "/api/v1/sim_batch/bic/B1",
            ra,
            json!({"sim_status": {"id": 4}}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let sims = ids_of(&reg.body["sim"]);
    for id in &sims[..10] {
        let r = app
            .patch(
                &format!("/api/v1/sim/{id}"),
                ra,
                json!({"customer_org": {"id": fx.org("C1A").id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    sims
}

/// Five devices with a SIM each: three of C1A (tenant R1), then two of R2's own (B2 registered to
/// R2); each as (endpoint, SIM, the token of the org that made it).
pub(crate) async fn two_tenants_devices(app: &TestApp, fx: &Fixture) -> Vec<(i64, i64, String)> {
    let r1 = r1_sims(app, fx).await;
    let manager = fx.token("C1A", Manager).to_string();
    let ra2 = fx.token("R2", ResellerAdmin).to_string();
    let reg = app
        .patch(
            "/api/v1/sim_batch/bic/B2",
            &ra2,
            json!({"sim_status": {"id": 4}}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let r2 = ids_of(&reg.body["sim"]);
    let mut devices = Vec::new();
    for (i, (token, sim)) in [
        (&manager, r1[0]),
        (&manager, r1[1]),
        (&manager, r1[2]),
        (&ra2, r2[0]),
        (&ra2, r2[1]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = device(&format!("fleet-{i}"));
        body["sim"] = json!({"id": sim});
        devices.push((create(app, token, body).await, sim, token.clone()));
    }
    devices
}

/// POST /api/v1/endpoint: 201, empty body, the id from `Location`.
pub(crate) async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/api/v1/endpoint", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.text, "", "a create answers no body");
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/api/v1/endpoint/"), "{location}");
    location.rsplit('/').next().unwrap().parse().unwrap()
}

pub(crate) fn device(name: &str) -> Value {
    json!({"name": name, "service_profile": {"id": 1}, "tariff_profile": {"id": 1}})
}

pub(crate) async fn endpoint(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app.get(&format!("/api/v1/endpoint/{id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn sim(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app.get(&format!("/api/v1/sim/{id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// The (type, endpoint, sim) of every event with an endpoint, oldest first.
async fn endpoint_events(app: &TestApp, endpoint: i64) -> Vec<(i64, Option<i64>)> {
    app.sql(&format!(
        "SELECT CAST(type_id AS BIGINT), sim_id FROM events WHERE endpoint_id = {endpoint} ORDER BY id"
    ))
    .await
}

/// How many unused SIMs `/sim/status` shows the ADMIN (the counters).
async fn unused_in_stock(app: &TestApp, admin: &str) -> i64 {
    let r = app.get("/sim/status", admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|holder| holder["network"].as_object().unwrap().values())
        .map(|network| network["total"].as_i64().unwrap())
        .sum()
}

backends!(a_device_takes_a_sim_runs_and_gives_it_back);
async fn a_device_takes_a_sim_runs_and_gives_it_back(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let manager = fx.token("C1A", Manager);
    let stock = unused_in_stock(&app, admin).await;

    // The SDK's create: status and ids as floats, a SIM activated by default.
    let id = create(
        &app,
        manager,
        json!({"name": "meter 1", "tags": "demo", "service_profile": {"id": 1.0},
               "tariff_profile": {"id": 1}, "status": {"id": 0.0, "description": "Enabled"},
               "sim": {"id": sims[0]}, "imei": "356938035643809"}),
    )
    .await;
    let e = endpoint(&app, manager, id).await;
    assert_eq!(e["name"], "meter 1");
    assert_eq!(e["tags"], "demo");
    assert_eq!(e["imei"], "356938035643809");
    assert_eq!(e["status"], json!({"id": 0, "description": "Enabled"}));
    assert_eq!(
        e["service_profile"],
        json!({"id": 1, "name": "Default Policy"})
    );
    assert_eq!(
        e["tariff_profile"],
        json!({"id": 1, "name": "Default Policy"})
    );
    assert_eq!(e["sim"]["id"], sims[0]);
    assert_eq!(
        e["sim"]["status"],
        json!({"id": 1, "description": "Activated"})
    );
    assert!(e["created"].as_str().unwrap().ends_with("+0000"));
    assert!(e["sim"].get("eid").is_none(), "unset values are omitted");
    assert_eq!(
        e["ip_address"], "10.192.0.1",
        "the default space's first host"
    );
    // The SIM is now the customer's, in the device, out of the unused stock.
    let s = sim(&app, manager, sims[0]).await;
    assert_eq!(s["customer_org"]["id"], fx.org("C1A").id);
    assert_eq!(s["endpoint"]["id"], id);
    assert_eq!(s["status"]["id"], 1);
    assert_eq!(unused_in_stock(&app, admin).await, stock - 1);
    assert_counters_match(&app).await;
    assert_eq!(
        endpoint_events(&app, id).await,
        vec![(1008, None), (8, Some(sims[0])), (51, Some(sims[0]))]
    );

    // A change of name and a disable (the SDK sends 1.0): 204 each, last_updated moves.
    app.clock.advance(chrono::Duration::minutes(5));
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            manager,
            json!({"name": "meter one", "status": {"id": 1.0}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let after = endpoint(&app, manager, id).await;
    assert_eq!(after["name"], "meter one");
    assert_eq!(after["status"]["id"], 1);
    assert_ne!(after["last_updated"], e["last_updated"]);
    let detail: Vec<(String,)> = app
        .sql(&format!(
            "SELECT CAST(detail AS TEXT) FROM events WHERE endpoint_id = {id} AND type_id = 1009"
        ))
        .await;
    let detail: Value = serde_json::from_str(&detail[0].0).unwrap();
    assert_eq!(
        detail["changes"],
        json!({"name": {"from": "meter 1", "to": "meter one"}})
    );

    // Not deleted while it holds the SIM.
    let r = app.delete(&format!("/api/v1/endpoint/{id}"), manager).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error_code"], 1409);
    assert_eq!(
        r.body["message"],
        format!("Endpoint {id} has SIM {} assigned", sims[0])
    );

    // The SDK suspends a SIM before it releases it; then `{"sim": {"id": null}}`.
    let r = app
        .patch(
            &format!("/api/v1/sim/{}", sims[0]),
            manager,
            json!({"status": {"id": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            manager,
            json!({"sim": {"id": null}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(endpoint(&app, manager, id).await.get("sim").is_none());
    // Released: status and customer kept, unused again.
    let s = sim(&app, manager, sims[0]).await;
    assert_eq!(s["status"]["id"], 2);
    assert_eq!(s["customer_org"]["id"], fx.org("C1A").id);
    assert!(s.get("endpoint").is_none());
    assert_eq!(unused_in_stock(&app, admin).await, stock);
    assert_counters_match(&app).await;
    let history: Vec<(i64, bool)> = app
        .sql(&format!(
            "SELECT sim_id, until_at IS NOT NULL FROM endpoint_sims WHERE endpoint_id = {id}"
        ))
        .await;
    assert_eq!(history, vec![(sims[0], true)]);

    let r = app.delete(&format!("/api/v1/endpoint/{id}"), manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get(&format!("/api/v1/endpoint/{id}"), manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.body["error_code"], 1201);
    let listed = app.get("/api/v1/endpoint", manager).await;
    assert_eq!(listed.body, json!([]));
    assert_eq!(listed.headers["x-total-count"], "0");
    let types: Vec<i64> = endpoint_events(&app, id)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(types, vec![1008, 8, 51, 1009, 43, 9, 50, 1010]);
    let audits: Vec<(String,)> = app
        .sql(&format!(
            "SELECT action FROM audit_log WHERE entity = 'endpoint' AND entity_id = '{id}' ORDER BY id"
        ))
        .await;
    let audits: Vec<&str> = audits.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(audits, ["create", "update", "update", "delete"]);
}

backends!(another_sim_replaces_the_one_in_the_device);
async fn another_sim_replaces_the_one_in_the_device(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let manager = fx.token("C1A", Manager);
    let mut body = device("gateway");
    body["sim"] = json!({"id": sims[1], "activate": false});
    let id = create(&app, manager, body).await;
    assert_eq!(endpoint(&app, manager, id).await["sim"]["status"]["id"], 4);
    // PATCH does not activate unless asked; the old SIM leaves with its status.
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            manager,
            json!({"sim": {"id": sims[2]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let e = endpoint(&app, manager, id).await;
    assert_eq!(e["sim"]["id"], sims[2]);
    assert_eq!(e["sim"]["status"]["id"], 4);
    assert!(sim(&app, manager, sims[1]).await.get("endpoint").is_none());
    // In a device a Factory Test SIM may be suspended (the SDK's disable), elsewhere not.
    let r = app
        .patch(
            &format!("/api/v1/sim/{}", sims[2]),
            manager,
            json!({"status": {"id": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/sim/{}", sims[1]),
            manager,
            json!({"status": {"id": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // Activation on request, for the SIM already there.
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            manager,
            json!({"sim": {"id": sims[2], "activate": true}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(endpoint(&app, manager, id).await["sim"]["status"]["id"], 1);
    // A SIM in another device is refused, by name.
    let other = create(&app, manager, device("other")).await;
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{other}"),
            manager,
            json!({"sim": {"id": sims[2]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        r.body["message"],
        format!("SIM {} is already assigned to endpoint {id}", sims[2])
    );
    let history: Vec<(i64, bool)> = app
        .sql(&format!(
            "SELECT sim_id, until_at IS NULL FROM endpoint_sims WHERE endpoint_id = {id} ORDER BY from_at, sim_id"
        ))
        .await;
    assert_eq!(history, vec![(sims[1], false), (sims[2], true)]);
    assert_counters_match(&app).await;
}

backends!(endpoint_bodies_are_checked);
async fn endpoint_bodies_are_checked(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let manager = fx.token("C1A", Manager);
    let nested = |r: &Resp| r.body["errors"][0]["error_code"].as_i64();
    let r = app
        .post(
            "/api/v1/endpoint",
            manager,
            json!({"service_profile": {"id": 1}, "tariff_profile": {"id": 1}}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1400)),
        "{}",
        r.text
    );
    assert_eq!(nested(&r), Some(1402), "{}", r.text);
    let r = app
        .post("/api/v1/endpoint", manager, json!({"name": "x"}))
        .await;
    assert_eq!(nested(&r), Some(1402), "{}", r.text);
    // Every problem of a body is listed, each with its own code.
    let r = app
        .post(
            "/api/v1/endpoint",
            manager,
            json!({"name": " ", "imei": "12345", "ip_address": null}),
        )
        .await;
    assert_eq!(r.body["error_code"], 1400, "{}", r.text);
    let listed: Vec<(i64, String)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["error_code"].as_i64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let fields: Vec<&str> = listed
        .iter()
        .map(|(_, m)| m.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "imei",
            "service_profile",
            "tariff_profile",
            "ip_address"
        ],
        "{}",
        r.text
    );
    assert_eq!(
        listed.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [1402, 1403, 1402, 1402, 1403],
        "{}",
        r.text
    );
    let r = app
        .patch(
            &format!(
                "/api/v1/endpoint/{}",
                create(&app, manager, device("p")).await
            ),
            manager,
            json!({"name": "", "status": {"id": 7}}),
        )
        .await;
    assert_eq!(
        (
            r.body["error_code"].as_i64(),
            r.body["errors"].as_array().map(Vec::len)
        ),
        (Some(1400), Some(2)),
        "{}",
        r.text
    );
    let mut bad = device("x");
    bad["service_profile"] = json!({"id": 9});
    let r = app.post("/api/v1/endpoint", manager, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error_code"], 1401);
    assert_eq!(r.body["message"], "Service profile with Id '9' not found.");
    for (field, value) in [
        ("imei", json!("12345")),
        ("status", json!({"id": 2})),
        ("name", json!("  ")),
        ("service_profile", json!({"id": 1.5})),
        ("tariff_profile", json!({"id": "1"})),
    ] {
        let mut body = device("x");
        body[field] = value;
        let r = app.post("/api/v1/endpoint", manager, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.text
        );
    }
    let mut body = device("x");
    body["sim"] = json!({"id": 999999});
    let r = app.post("/api/v1/endpoint", manager, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["message"], "SIM with Id '999999' not found.");
    // Nothing was half-written (the one device is the PATCH's above).
    let count: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM endpoints").await;
    assert_eq!(count[0].0, 1);

    let id = create(&app, manager, device("x")).await;
    let r = app
        .patch(&format!("/api/v1/endpoint/{id}"), manager, json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1400)),
        "{}",
        r.text
    );
    // The id before the body: unknown is 404 whatever is sent; non-numeric 400.
    let r = app.patch("/api/v1/endpoint/-1", manager, json!({})).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(1201)),
        "{}",
        r.text
    );
    assert_eq!(r.body["message"], "Endpoint with id -1 not found");
    let r = app.get("/api/v1/endpoint/abc", manager).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(1000)),
        "{}",
        r.text
    );
    // `imei: null` and `tags: ""` clear.
    app.patch(
        &format!("/api/v1/endpoint/{id}"),
        manager,
        json!({"imei": "356938035643809", "tags": "t"}),
    )
    .await;
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            manager,
            json!({"imei": null, "tags": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let e = endpoint(&app, manager, id).await;
    assert!(e.get("imei").is_none() && e.get("tags").is_none(), "{e}");
    let r = app.get("/api/v1/endpoint/status", manager).await;
    assert_eq!(
        r.body,
        json!([{"id": 0, "description": "Enabled"}, {"id": 1, "description": "Disabled"},
               {"id": 2, "description": "Deleted"}])
    );
}

backends!(endpoints_exist_only_in_their_tenant);
async fn endpoints_exist_only_in_their_tenant(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let id = create(&app, fx.token("C1A", Manager), device("c1a device")).await;
    // Readers read, writers write; a viewer cannot write.
    let viewer = fx.token("C1A", Viewer);
    endpoint(&app, viewer, id).await;
    let r = app.post("/api/v1/endpoint", viewer, device("no")).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::FORBIDDEN, Some(1104)),
        "{}",
        r.text
    );
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            viewer,
            json!({"name": "no"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Up the tree it is seen; in a sibling or another tenant it does not exist.
    endpoint(&app, fx.token("R1", ResellerAdmin), id).await;
    endpoint(&app, fx.token("PLATFORM", Admin), id).await;
    for (org, level) in [
        ("C1B", Manager),
        ("R2", ResellerAdmin),
        ("C2A", Owner),
        ("R1S", ResellerAdmin),
    ] {
        let t = fx.token(org, level);
        let path = format!("/api/v1/endpoint/{id}");
        for r in [
            app.get(&path, t).await,
            app.patch(&path, t, json!({"name": "mine"})).await,
            app.delete(&path, t).await,
        ] {
            assert_eq!(
                (r.status, r.body["error_code"].as_i64()),
                (StatusCode::NOT_FOUND, Some(1201)),
                "{org}: {}",
                r.text
            );
            assert_eq!(
                r.body["message"],
                format!("Endpoint with id {id} not found")
            );
        }
        let listed = app.get("/api/v1/endpoint", t).await;
        assert_eq!(listed.headers["x-total-count"], "0", "{org}");
    }
    // R1's SIMs serve R1's subtree only: C2A cannot take one (as if it did not exist).
    let mut body = device("thief");
    body["sim"] = json!({"id": sims[3]});
    let r = app
        .post("/api/v1/endpoint", fx.token("C2A", Manager), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.body["message"],
        format!("SIM with Id '{}' not found.", sims[3])
    );
    // An organisation outside the caller's scope is refused like an unknown one.
    body = device("elsewhere");
    body["organisation"] = json!({"id": fx.org("C2A").id});
    let r = app
        .post("/api/v1/endpoint", fx.token("R1", ResellerAdmin), body)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error_code"], 1401);
    // A reseller creates for its customer, who then sees it.
    let mut body = device("for c1b");
    body["organisation"] = json!({"id": fx.org("C1B").id});
    body["sim"] = json!({"id": sims[11]});
    let for_c1b = create(&app, fx.token("R1", ResellerAdmin), body).await;
    let e = endpoint(&app, fx.token("C1B", Viewer), for_c1b).await;
    // An unsold SIM becomes the device's org's.
    assert_eq!(e["sim"]["id"], sims[11]);
    let s = sim(&app, fx.token("C1B", Viewer), sims[11]).await;
    assert_eq!(s["customer_org"]["id"], fx.org("C1B").id);
    // C1A's SIM does not go into C1B's device, even when R1 asks.
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{for_c1b}"),
            fx.token("R1", ResellerAdmin),
            json!({"sim": {"id": sims[4]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error_code"], 1401);
    assert_counters_match(&app).await;
    // Profile use counts only what the caller sees.
    let r = app
        .get("/api/v1/service_profile", fx.token("C1B", Viewer))
        .await;
    assert_eq!(r.body[0]["used_count"], 1, "{}", r.text);
    let r = app
        .get("/api/v1/service_profile/1", fx.token("R1", ResellerAdmin))
        .await;
    assert_eq!(r.body["used_count"], 2, "{}", r.text);
    assert_eq!(r.body["service"], json!([]));
}

backends!(endpoint_lists_filter_sort_and_page);
async fn endpoint_lists_filter_sort_and_page(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let manager = fx.token("C1A", Manager);
    let mut ids = Vec::new();
    for (i, name) in ["delta", "Alpha", "charlie", "bravo"].iter().enumerate() {
        let mut body = device(name);
        if i < 2 {
            body["sim"] = json!({"id": sims[i]});
        }
        if i == 3 {
            body["status"] = json!({"id": 1});
            body["tags"] = json!("north");
        }
        ids.push(create(&app, manager, body).await);
    }
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/api/v1/endpoint?{q}"), manager).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
            ids_of(&r.body)
        }
    };
    assert_eq!(list("").await, ids);
    assert_eq!(
        list("sort=DeviceSort.NAME").await,
        vec![ids[1], ids[3], ids[2], ids[0]]
    );
    assert_eq!(
        list("sort=-name").await,
        vec![ids[0], ids[2], ids[3], ids[1]]
    );
    assert_eq!(list("q=name:ALP").await, vec![ids[1]]);
    assert_eq!(list("q=status:1").await, vec![ids[3]]);
    assert_eq!(list("q=status:0,sim_status:1").await, vec![ids[0], ids[1]]);
    assert_eq!(list("q=tags:nor").await, vec![ids[3]]);
    let iccid = sim(&app, manager, sims[1]).await["iccid"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(&format!("/api/v1/endpoint?q=iccid:{iccid}"), manager)
        .await;
    assert_eq!(ids_of(&r.body), vec![ids[1]]);
    // The SDK's date filter: a date-time, matched by its day.
    assert_eq!(list("q=created:2026-03-15%2000:00:00").await.len(), 4);
    assert_eq!(list("q=created:2026-03-16").await.len(), 0);
    let r = app.get("/api/v1/endpoint?per_page=3&page=2", manager).await;
    assert_eq!(ids_of(&r.body), vec![ids[3]]);
    assert_eq!(r.headers["x-total-pages"], "2");
    assert_eq!(r.headers["x-current-page"], "2");
    for bad in ["q=colour:red", "q=status:x", "sort=colour"] {
        let r = app.get(&format!("/api/v1/endpoint?{bad}"), manager).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    // Profiles: the seeded defaults.
    let r = app.get("/api/v1/tariff_profile", manager).await;
    assert_eq!(
        r.body,
        json!([{"id": 1, "name": "Default Policy", "used_count": 4}])
    );
    // Tariff profiles are the provider's: no caller writes them here, the ADMIN neither.
    for token in [manager, fx.token("PLATFORM", Admin)] {
        for r in [
            app.post("/api/v1/tariff_profile", token, json!({"name": "mine"}))
                .await,
            app.patch("/api/v1/tariff_profile/1", token, json!({"name": "mine"}))
                .await,
            app.delete("/api/v1/tariff_profile/1", token).await,
        ] {
            assert_eq!(
                (r.status, r.body["error_code"].as_i64()),
                (StatusCode::FORBIDDEN, Some(1104)),
                "{}",
                r.text
            );
        }
    }
    let r = app.get("/api/v1/tariff_profile/7", manager).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(1201))
    );
    // The SIM list without a device, as the SDK asks for it.
    let free = sim_ids(&app, manager, "&q=endpoint:null").await;
    assert!(!free.contains(&sims[0]) && !free.contains(&sims[1]));
    // The SDK glues a filter model to it without a comma, and names a sort by its typo.
    let model: Vec<(i64,)> = app.sql("SELECT id FROM sim_models").await;
    let glued = sim_ids(
        &app,
        manager,
        &format!("&q=model:{}endpoint:null", model[0].0),
    )
    .await;
    assert_eq!(glued, free);
    let by_typo = sim_ids(&app, manager, "&sort=CUSTOMER_PRG").await;
    assert_eq!(by_typo, sim_ids(&app, manager, "&sort=customer_org").await);
}

backends!(one_sim_goes_into_one_device_under_concurrency, multi_thread);
async fn one_sim_goes_into_one_device_under_concurrency(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let manager = fx.token("C1A", Manager).to_string();
    let mut devices = Vec::new();
    for i in 0..6 {
        devices.push(create(&app, &manager, device(&format!("d{i}"))).await);
    }
    // Six devices reach for the same SIM at once, and three more SIMs are created into the
    // same devices' neighbours: exactly one device gets the contended SIM.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for d in &devices {
        let (app, manager, d, s) = (app.clone(), manager.clone(), *d, sims[5]);
        tasks.push(tokio::spawn(async move {
            app.patch(
                &format!("/api/v1/endpoint/{d}"),
                &manager,
                json!({"sim": {"id": s, "activate": true}}),
            )
            .await
            .status
        }));
    }
    for (i, s) in sims[6..9].iter().enumerate() {
        let (app, manager, s) = (app.clone(), manager.clone(), *s);
        tasks.push(tokio::spawn(async move {
            let mut body = device(&format!("new{i}"));
            body["sim"] = json!({"id": s});
            app.post("/api/v1/endpoint", &manager, body).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let won = statuses[..6]
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(
        statuses[..6]
            .iter()
            .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert!(
        statuses[6..].iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let holders: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT endpoint_id FROM sims WHERE id = {} AND endpoint_id IS NOT NULL",
            sims[5]
        ))
        .await;
    assert_eq!(holders.len(), 1);
    assert_counters_match(&app).await;

    // Six writers bar the same operator on one device at once: one adds it, five are told 1405.
    let list = format!("/api/v1/endpoint/{}/operator_blacklist/1", devices[0]);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (app, manager, list) = (app.clone(), manager.clone(), list.clone());
        tasks.push(tokio::spawn(async move {
            let r = app
                .request(axum::http::Method::PUT, &list, Some(&manager), None)
                .await;
            (r.status, r.body["error_code"].as_i64())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.sort();
    let mut expected = vec![(StatusCode::CONFLICT, Some(1405)); 5];
    expected.insert(0, (StatusCode::NO_CONTENT, None));
    assert_eq!(answers, expected);
    let rows: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM endpoint_operator_blacklist")
        .await;
    assert_eq!(rows[0].0, 1);
}

backends!(operators_and_a_devices_blacklist);
async fn operators_and_a_devices_blacklist(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let viewer = fx.token("C1A", Viewer);
    let manager = fx.token("C1A", Manager);
    let r = app.get("/api/v1/operator", viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let all = r.body.as_array().unwrap();
    assert!(all.len() > 1000, "{}", all.len());
    // By country name, then id; every calling code an integer in a string (the SDK parses it).
    let keys: Vec<(String, i64)> = all
        .iter()
        .map(|o| {
            (
                o["country"]["name"].as_str().unwrap().to_string(),
                o["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(all.iter().all(|o| o["country"]["country_code"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .is_ok()));
    let tdc = all
        .iter()
        .find(|o| o["name"] == "TDC" && o["country"]["iso_code"] == "dk")
        .expect("the default network TDC is an operator");
    assert_eq!(tdc["name_and_country"], "Denmark / TDC");
    assert_eq!(tdc["country"]["country_code"], "45");
    assert_eq!(tdc["country"]["mcc"], "238");
    let mncs: Vec<&str> = tdc["mnc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mnc"].as_str().unwrap())
        .collect();
    assert_eq!(mncs, ["01", "10"]);
    assert!(tdc["mnc"][0]["id"].is_i64());
    let telia = all
        .iter()
        .find(|o| o["name"] == "Telia" && o["country"]["iso_code"] == "dk")
        .unwrap();
    let (tdc, telia) = (tdc["id"].as_i64().unwrap(), telia["id"].as_i64().unwrap());

    let id = create(&app, manager, device("roamer")).await;
    let list = format!("/api/v1/endpoint/{id}/operator_blacklist");
    assert_eq!(app.get(&list, viewer).await.body, json!([]));
    for op in [telia, tdc] {
        let r = app
            .request(
                axum::http::Method::PUT,
                &format!("{list}/{op}"),
                Some(manager),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let r = app
        .request(
            axum::http::Method::PUT,
            &format!("{list}/{tdc}"),
            Some(manager),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::CONFLICT, Some(1405)),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["message"],
        format!("Operator with Id '{tdc}' is already blacklisted on Endpoint with Id '{id}'.")
    );
    let listed = app.get(&list, viewer).await;
    let ids: Vec<i64> = ids_of(&listed.body);
    let mut expected = vec![tdc, telia];
    expected.sort();
    assert_eq!(ids, expected, "by id");
    assert_eq!(listed.body[0]["country"]["iso_code"], "dk");
    // Unknown operator, an operator not listed: 404 with a message; a viewer may not write.
    let r = app
        .request(
            axum::http::Method::PUT,
            &format!("{list}/99999999"),
            Some(manager),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(1201)),
        "{}",
        r.text
    );
    assert_eq!(r.body["message"], "Operator with Id '99999999' not found.");
    let r = app
        .delete(&format!("{list}/{}", all[0]["id"]), manager)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .request(
            axum::http::Method::PUT,
            &format!("{list}/{tdc}"),
            Some(viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app.delete(&format!("{list}/{tdc}"), manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(ids_of(&app.get(&list, viewer).await.body), vec![telia]);
    // Another tenant's caller finds no such endpoint.
    let r = app.get(&list, fx.token("C2A", Owner)).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(1201))
    );
    let r = app
        .request(
            axum::http::Method::PUT,
            &format!("{list}/{tdc}"),
            Some(fx.token("R2", ResellerAdmin)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let changes: Vec<(String,)> = app
        .sql(&format!("SELECT CAST(detail AS TEXT) FROM events WHERE endpoint_id = {id} AND type_id = 1012 ORDER BY id"))
        .await;
    let actions: Vec<String> = changes
        .iter()
        .map(|c| {
            serde_json::from_str::<Value>(&c.0).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["added", "added", "removed"]);
    // Deleting the device drops its list.
    let r = app.delete(&format!("/api/v1/endpoint/{id}"), manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let left: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM endpoint_operator_blacklist")
        .await;
    assert_eq!(left[0].0, 0);
}

backends!(a_devices_events_and_connectivity);
async fn a_devices_events_and_connectivity(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let manager = fx.token("C1A", Manager);
    let mut body = device("tracker");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, manager, body).await;
    let types = |r: &Resp| -> Vec<i64> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"]["id"].as_i64().unwrap())
            .collect()
    };
    let events = app
        .get(&format!("/api/v1/endpoint/{id}/event"), manager)
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(types(&events), vec![51, 8, 1008], "newest first");
    assert_eq!(events.headers["x-total-count"], "3");
    assert_eq!(events.body[0]["sim"]["id"], sims[0]);
    // Another tenant's caller, or an unknown id: no events.
    for (token, path) in [
        (
            fx.token("C2A", Owner),
            format!("/api/v1/endpoint/{id}/event"),
        ),
        (manager, "/api/v1/endpoint/999999/event".to_string()),
    ] {
        let r = app.get(&path, token).await;
        assert_eq!(
            (r.status, r.body.clone()),
            (StatusCode::OK, json!([])),
            "{path}"
        );
    }

    let connectivity = format!("/api/v1/endpoint/{id}/connectivity");
    let c = app.get(&connectivity, manager).await;
    assert_eq!(
        c.body,
        json!({"status": {"description": "OFFLINE"}, "services": []}),
        "{}",
        c.text
    );
    // The network reports the SIM: an event from before it went in is not the device's.
    let tdc: Vec<(i64,)> = app.sql("SELECT id FROM operators WHERE name = 'TDC'").await;
    let ingest = |lines: Value| {
        let app = &app;
        async move {
            let r = app.post("/admin/v1/events", admin, lines).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.body["rejected_count"], 0, "{}", r.text);
        }
    };
    ingest(json!([
        {"sim_id": sims[0], "timestamp": "2026-03-15T11:00:00Z", "type_id": 1, "description": "before"},
        {"sim_id": sims[0], "timestamp": "2026-03-15T12:30:00Z", "type_id": 1, "description": "Update location",
         "detail": {"operator": {"id": tdc[0].0}}},
        {"sim_id": sims[0], "timestamp": "2026-03-15T12:31:00Z", "type_id": 3, "description": "Create PDP Context",
         "detail": {"pdp_context": {"apn": "em", "rat_type": 6}}},
    ]))
    .await;
    let c = app.get(&connectivity, manager).await;
    assert_eq!(c.body["status"]["description"], "ONLINE", "{}", c.text);
    assert_eq!(c.body["location"]["operator"]["name"], "TDC");
    assert_eq!(c.body["location"]["country"]["name"], "Denmark");
    assert_eq!(
        c.body["location"]["last_updated"],
        "2026-03-15T12:30:00.000+0000"
    );
    assert_eq!(c.body["pdp_context"], json!({"apn": "em", "rat_type": 6}));
    assert_eq!(c.body["services"], json!(["SMS", "GPRS"]));
    let events = app
        .get(&format!("/api/v1/endpoint/{id}/event?per_page=10"), manager)
        .await;
    assert_eq!(types(&events), vec![3, 1, 51, 8, 1008]);
    ingest(
        json!([{"sim_id": sims[0], "timestamp": "2026-03-15T12:40:00Z", "type_id": 16,
                   "description": "Cancel location"}]),
    )
    .await;
    let c = app.get(&connectivity, manager).await;
    assert_eq!(
        c.body,
        json!({"status": {"description": "OFFLINE"}, "services": []})
    );

    // Resets are recorded as the device's event; other bodies, lower levels, other tenants refused.
    let r = app
        .patch(&connectivity, manager, json!({"location": null}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &connectivity,
            manager,
            json!({"pdp_context": null, "location": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let resets: Vec<(String,)> = app
        .sql(&format!("SELECT CAST(detail AS TEXT) FROM events WHERE endpoint_id = {id} AND type_id = 1011 ORDER BY id"))
        .await;
    let resets: Vec<Value> = resets
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.0).unwrap()["reset"].clone())
        .collect();
    assert_eq!(
        resets,
        vec![json!(["location"]), json!(["location", "pdp_context"])]
    );
    for bad in [
        json!({}),
        json!({"location": {"x": 1}}),
        json!({"status": 1}),
    ] {
        let r = app.patch(&connectivity, manager, bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .patch(
            &connectivity,
            fx.token("C1A", Viewer),
            json!({"location": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .patch(
            &connectivity,
            fx.token("R2", ResellerAdmin),
            json!({"location": null}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(1201))
    );
    let r = app.get(&connectivity, fx.token("C2A", Owner)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let before: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE sim_id = {} AND endpoint_id IS NULL AND source = 0",
            sims[0]
        ))
        .await;
    assert_eq!(
        before[0].0, 1,
        "the event from before the device is the SIM's alone"
    );
}

backends!(a_device_gets_and_cancels_sms, multi_thread);
async fn a_device_gets_and_cancels_sms(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let manager = fx.token("C1A", Manager);
    let id = create(&app, manager, device("pager")).await;
    let sms = format!("/api/v1/endpoint/{id}/sms");
    // Accepted without a SIM: it waits for one.
    let r = app.post(&sms, manager, json!({"payload": "hello"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{sms}/")), "{location}");
    let listed = app.get(&sms, manager).await;
    assert_eq!(listed.headers["x-total-count"], "1");
    let m = &listed.body[0];
    assert_eq!(
        m["status"],
        json!({"id": 1, "description": "DELIVERY ATTEMPT PENDING"})
    );
    assert_eq!(m["sms_type"], json!({"id": 1, "description": "MT"}));
    assert_eq!(m["source_address"], "simgate");
    assert_eq!(
        m["source_address_type"],
        json!({"id": 208, "description": "Alphanumeric"})
    );
    assert_eq!(m["retry_count"], "0");
    assert_eq!(m["payload"], "hello");
    assert_eq!(m["endpoint"], json!({"id": id, "name": "pager"}));
    assert_eq!(m["submit_date"], "2026-03-15T12:00:00.000+0000");
    assert_eq!(m["expiry_date"], "2026-03-16T12:00:00.000+0000");
    assert!(m.get("final_date").is_none() && m.get("sim_id").is_none());
    assert_eq!(app.get(&location, manager).await.body, *m);

    let r = app
        .post(
            &sms,
            manager,
            json!({"payload": "hi", "source_address": "+4512345678", "udh": "050003cc0201",
                                    "dcs": 8, "expiry_date": "2026-03-15 18:00:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let newest = &app.get(&sms, manager).await.body[0];
    assert_eq!(newest["source_address_type"]["id"], 145);
    assert_eq!(newest["expiry_date"], "2026-03-15T18:00:00.000+0000");
    assert_eq!(
        (newest["udh"].as_str(), newest["dcs"].as_i64()),
        (Some("050003CC0201"), Some(8))
    );
    for bad in [
        json!({}),
        json!({"payload": ""}),
        json!({"payload": "x".repeat(1001)}),
        json!({"payload": "x", "expiry_date": "2026-03-15T11:00:00Z"}),
        json!({"payload": "x", "udh": "abc"}),
        json!({"payload": "x", "dcs": 300}),
        json!({"payload": "x", "source_address_type": {"id": 7}}),
    ] {
        let r = app.post(&sms, manager, bad.clone()).await;
        assert_eq!(
            (r.status, r.body["error_code"].as_i64()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(1400)),
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .post(&sms, fx.token("C1A", Viewer), json!({"payload": "no"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    for r in [
        app.get(&sms, fx.token("C2A", Owner)).await,
        app.post(
            &sms,
            fx.token("R2", ResellerAdmin),
            json!({"payload": "no"}),
        )
        .await,
        app.get(&location, fx.token("C1B", Viewer)).await,
    ] {
        assert_eq!(
            (r.status, r.body["error_code"].as_i64()),
            (StatusCode::NOT_FOUND, Some(1201)),
            "{}",
            r.text
        );
    }
    let r = app.get(&format!("{sms}/999999"), manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Six cancels at once: one cancels, five are told why not.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (app, manager, location) = (app.clone(), manager.to_string(), location.clone());
        tasks.push(tokio::spawn(async move {
            app.delete(&location, &manager).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    let mut expected = vec![StatusCode::CONFLICT; 5];
    expected.insert(0, StatusCode::NO_CONTENT);
    assert_eq!(statuses, expected);
    let r = app.delete(&location, manager).await;
    assert_eq!(
        r.body["message"],
        format!(
            "SMS {} cannot be canceled in status 'CANCELED'",
            location.rsplit('/').next().unwrap()
        )
    );
    let canceled = app.get(&location, manager).await.body;
    assert_eq!(canceled["status"]["id"], 7);
    assert_eq!(canceled["final_date"], "2026-03-15T12:00:00.000+0000");
    let types: Vec<(i64,)> = app
        .sql(&format!("SELECT CAST(type_id AS BIGINT) FROM events WHERE endpoint_id = {id} AND type_id IN (1013, 1014) ORDER BY id"))
        .await;
    assert_eq!(types, vec![(1013,), (1013,), (1014,)]);
    // Deleting the device cancels what still waits.
    let r = app.delete(&format!("/api/v1/endpoint/{id}"), manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let waiting: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM sms WHERE endpoint_id = {id} AND status <> 7"
        ))
        .await;
    assert_eq!(waiting[0].0, 0);
}

backends!(single_reads_read_together_keep_to_their_scope, multi_thread);
/// Reads of single devices that arrive together are answered by one query (the store's point
/// reads): each caller still gets its own devices and a 404 for the other tenant's, and the
/// platform sees them all.
async fn single_reads_read_together_keep_to_their_scope(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let devices = two_tenants_devices(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let app = std::sync::Arc::new(app);
    let mut reads = Vec::new();
    for round in 0..8 {
        for (k, (id, sim, owner)) in devices.iter().enumerate() {
            // Each device read by its owner, by the other tenant and by the platform.
            let other = &devices[if k < 3 { 3 } else { 0 }].2;
            for (token, seen) in [(owner, true), (other, false), (&admin, true)] {
                let (app, token, id, sim) = (app.clone(), token.clone(), *id, *sim);
                reads.push(tokio::spawn(async move {
                    let r = app.get(&format!("/api/v1/endpoint/{id}"), &token).await;
                    if seen {
                        assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.text);
                        assert_eq!(
                            (r.body["id"].as_i64(), r.body["sim"]["id"].as_i64()),
                            (Some(id), Some(sim))
                        );
                    } else {
                        assert_eq!(r.status, StatusCode::NOT_FOUND, "round {round}: {}", r.text);
                        assert_eq!(
                            r.body["message"],
                            format!("Endpoint with id {id} not found")
                        );
                    }
                }));
            }
        }
    }
    for r in reads {
        r.await.unwrap();
    }
}

backends!(
    list_totals_follow_every_write_under_concurrency,
    multi_thread
);
/// A list's total comes from counters kept by every device write (`endpoint_counts`): creates,
/// changes of status, tags and profile, and deletes racing each other leave the counters equal to
/// the rows, and each filtered total equal to the number of devices it lists.
async fn list_totals_follow_every_write_under_concurrency(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let manager = fx.token("C1A", Manager).to_string();
    let ra2 = fx.token("R2", ResellerAdmin).to_string();
    let mut devices = Vec::new();
    for i in 0..8 {
        devices.push(create(&app, &manager, device(&format!("c{i}"))).await);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for (k, d) in devices.iter().enumerate() {
        // Two writers on each device: its status or tags, and a delete of every third one.
        for round in 0..2 {
            let (app, manager, d) = (app.clone(), manager.clone(), *d);
            tasks.push(tokio::spawn(async move {
                let path = format!("/api/v1/endpoint/{d}");
                let r = if k % 3 == 0 && round == 1 {
                    app.delete(&path, &manager).await
                } else if round == 0 {
                    app.patch(&path, &manager, json!({"status": {"id": 1}}))
                        .await
                } else {
                    app.patch(&path, &manager, json!({"tags": format!("fleet-{}", k % 2)}))
                        .await
                };
                assert!(
                    r.status == StatusCode::NO_CONTENT || r.status == StatusCode::NOT_FOUND,
                    "{}",
                    r.text
                );
            }));
        }
    }
    for i in 0..4 {
        // Creates alongside, in this tenant and in the other.
        let (app, manager, ra2) = (app.clone(), manager.clone(), ra2.clone());
        tasks.push(tokio::spawn(async move {
            let mut body = device(&format!("n{i}"));
            body["tags"] = json!("fleet-0");
            create(&app, if i % 2 == 0 { &manager } else { &ra2 }, body).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_counters_match(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    for token in [&manager, &ra2, &admin] {
        for q in [
            "",
            "q=status:0",
            "q=status:1",
            "q=tags:fleet-0",
            "q=status:1,tags:fleet",
            "q=tariff_profile:1",
        ] {
            let r = app
                .get(&format!("/api/v1/endpoint?per_page=1000&{q}"), token)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
            assert_eq!(
                r.headers["x-total-count"],
                ids_of(&r.body).len().to_string(),
                "{q}: {}",
                r.text
            );
        }
    }
    // The counts themselves: 8 + 2 of C1A less the 3 deleted, 2 of R2.
    let r = app.get("/api/v1/endpoint", &manager).await;
    assert_eq!(r.headers["x-total-count"], "7");
    let r = app.get("/api/v1/endpoint?q=status:1", &manager).await;
    assert_eq!(r.headers["x-total-count"], "5");
    let r = app.get("/api/v1/endpoint", &ra2).await;
    assert_eq!(r.headers["x-total-count"], "2");
}

backends!(
    single_device_labels_equal_the_joined_read_and_follow_renames,
    by_name
);
/// The single-device read takes its org's path and its profiles' names from a short cache instead of
/// joining them: the answer is the same as the joined read's (cache off), a rename of either profile
/// on this node shows at once, and another tenant still gets a 404 once the labels are cached.
async fn single_device_labels_equal_the_joined_read_and_follow_renames(backend: &'static str) {
    let mut answers = Vec::new();
    for secs in [5, 0] {
        let app = TestApp::new(backend, move |c| c.database.label_cache_secs = secs).await;
        let fx = Fixture::build(&app).await;
        let sims = r1_sims(&app, &fx).await;
        let manager = fx.token("C1A", Manager).to_string();
        let r = app
            .post(
                "/api/v1/service_profile",
                &manager,
                json!({"name": "trucks"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let service = r.headers["location"].to_str().unwrap().rsplit('/').next();
        let service: i64 = service.unwrap().parse().unwrap();
        let r = app
            .post(
                "/admin/v1/tariff-profiles",
                fx.token("PLATFORM", Admin),
                json!({"name": "EU 1GB", "owner_org": fx.org("R1").id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let tariff = r.body["id"].as_i64().unwrap();
        let mut body = device("truck");
        body["service_profile"] = json!({"id": service});
        body["tariff_profile"] = json!({"id": tariff});
        body["sim"] = json!({"id": sims[0]});
        let ep = create(&app, &manager, body).await;

        let first = endpoint(&app, &manager, ep).await;
        assert_eq!(
            endpoint(&app, &manager, ep).await,
            first,
            "a cached read answers the same"
        );
        assert_eq!(
            (
                first["service_profile"]["name"].as_str(),
                first["tariff_profile"]["name"].as_str(),
                first["sim"]["id"].as_i64()
            ),
            (Some("trucks"), Some("EU 1GB"), Some(sims[0]))
        );
        // With its org's labels cached, the other tenant and a sibling customer still see nothing.
        for token in [fx.token("R2", ResellerAdmin), fx.token("C1B", Manager)] {
            app.get(&format!("/api/v1/endpoint/{ep}"), token)
                .await
                .assert_emnify_error(404, 1201);
        }
        // Renames through the emnify and the admin API show at once.
        let r = app
            .patch(
                &format!("/api/v1/service_profile/{service}"),
                &manager,
                json!({"name": "vans"}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = app
            .patch(
                &format!("/admin/v1/tariff-profiles/{tariff}"),
                fx.token("PLATFORM", Admin),
                json!({"name": "EU 2GB"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let after = endpoint(&app, &manager, ep).await;
        assert_eq!(
            (
                after["service_profile"]["name"].as_str(),
                after["tariff_profile"]["name"].as_str()
            ),
            (Some("vans"), Some("EU 2GB"))
        );
        answers.push(after);
    }
    // The same device, read with the cache (5 s) and without (0): the same answer but for its dates.
    let strip = |mut v: Value| {
        for k in ["created", "last_updated"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(strip(answers[0].clone()), strip(answers[1].clone()));
}
