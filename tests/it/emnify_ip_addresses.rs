//! IP addresses of endpoints: the nearest space first, lowest free host, given addresses, freed
//! addresses, exhaustion (404 1601); the admin API for spaces; concurrent allocations.

use crate::common::*;
use crate::emnify_endpoints::{create, device, endpoint};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

async fn space(app: &TestApp, token: &str, block: &str, org: i64) -> i64 {
    let r = app
        .post(
            "/admin/v1/ip-address-spaces",
            token,
            json!({"ip_address_space": block, "org": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["ip_address_space"], block);
    assert_eq!(r.body["used"], 0);
    r.body["id"].as_i64().unwrap()
}

fn code(r: &Resp) -> (StatusCode, Option<i64>) {
    (r.status, r.body["error_code"].as_i64())
}

async fn ip_of(app: &TestApp, token: &str, id: i64) -> Value {
    endpoint(app, token, id).await["ip_address"].clone()
}

backends!(devices_get_addresses_from_the_nearest_space);
async fn devices_get_addresses_from_the_nearest_space(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();

    // First start made the PLATFORM's default space: a device anywhere draws from it.
    let first = create(&app, &manager, device("d1")).await;
    let e = endpoint(&app, &manager, first).await;
    assert_eq!(e["ip_address"], "10.192.0.1");
    let default_space = e["ip_address_space"]["id"].as_i64().unwrap();
    assert_eq!(
        e["ip_address_space"],
        json!({"id": default_space, "ip_address_space": "10.192.0.0/16", "ip_address_version": 4})
    );
    let listed = app.get("/api/v1/endpoint", &manager).await;
    assert_eq!(
        listed.body[0]["ip_address_space"],
        json!({"id": default_space}),
        "a list names the space by id"
    );

    // The customer's own space comes first, lowest host first (network address excluded).
    let own = space(&app, &admin, "10.191.216.64/30", fx.org("C1A").id).await;
    let second = create(&app, &manager, device("d2")).await;
    let third = create(&app, &manager, device("d3")).await;
    assert_eq!(ip_of(&app, &manager, second).await, "10.191.216.65");
    assert_eq!(ip_of(&app, &manager, third).await, "10.191.216.66");
    // Full (a /30 has two hosts): the ancestors' spaces serve.
    let fourth = create(&app, &manager, device("d4")).await;
    assert_eq!(ip_of(&app, &manager, fourth).await, "10.192.0.2");

    // A given address: taken → 409 1409; in no usable space → 1401; null → 1403; a space the org may
    // not use → 1401. Nothing is created.
    let before: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM endpoints").await;
    let mut body = device("taken");
    body["ip_address"] = json!("10.191.216.65");
    assert_eq!(
        code(&app.post("/api/v1/endpoint", &manager, body).await),
        (StatusCode::CONFLICT, Some(1409))
    );
    let mut body = device("nowhere");
    body["ip_address"] = json!("192.168.1.1");
    assert_eq!(
        code(&app.post("/api/v1/endpoint", &manager, body).await),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1401))
    );
    let mut body = device("null");
    body["ip_address"] = Value::Null;
    assert_eq!(
        code(&app.post("/api/v1/endpoint", &manager, body).await),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1403))
    );
    let mut body = device("garbled");
    body["ip_address"] = json!("10.0.0.300");
    assert_eq!(
        app.post("/api/v1/endpoint", &manager, body).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let other = space(&app, &admin, "10.52.0.0/24", fx.org("C2A").id).await;
    for bad in [other, 999_999] {
        let mut body = device("foreign space");
        body["ip_address_space"] = json!({"id": bad});
        let r = app.post("/api/v1/endpoint", &manager, body).await;
        assert_eq!(code(&r), (StatusCode::UNPROCESSABLE_ENTITY, Some(1401)));
        assert_eq!(
            r.body["message"],
            format!("IP address space with Id '{bad}' not found.")
        );
    }
    // The space alone, full: 404 1601, as emnify answers.
    let mut body = device("full");
    body["ip_address_space"] = json!({"id": own});
    let r = app.post("/api/v1/endpoint", &manager, body).await;
    assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1601)), "{}", r.text);
    assert_eq!(r.body["message"], "No IP Address available.");
    assert_eq!(
        app.sql::<(i64,)>("SELECT COUNT(*) FROM endpoints").await,
        before
    );

    // PATCH to a full space changes nothing; deleting a device frees its address at once.
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{fourth}"),
            &manager,
            json!({"ip_address_space": {"id": own}}),
        )
        .await;
    assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1601)));
    assert_eq!(ip_of(&app, &manager, fourth).await, "10.192.0.2");
    let r = app
        .delete(&format!("/api/v1/endpoint/{second}"), &manager)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{fourth}"),
            &manager,
            json!({"ip_address": "10.191.216.65", "ip_address_space": {"id": own}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let e = endpoint(&app, &manager, fourth).await;
    assert_eq!(e["ip_address"], "10.191.216.65");
    assert_eq!(e["ip_address_space"]["id"], own);
    // Its old address is free again: the next device of the platform's space gets it.
    let fifth = create(&app, fx.token("C1SA", Manager), device("d5")).await;
    assert_eq!(
        ip_of(&app, fx.token("C1SA", Manager), fifth).await,
        "10.192.0.2"
    );
    // The change is the endpoint's event 1009, from and to.
    let changes: Vec<(String,)> = app
        .sql(&format!(
            "SELECT CAST(detail AS TEXT) FROM events WHERE endpoint_id = {fourth} AND type_id = 1009"
        ))
        .await;
    let detail: Value = serde_json::from_str(&changes.last().unwrap().0).unwrap();
    assert_eq!(
        detail["changes"]["ip_address"],
        json!({"from": "10.192.0.2", "to": "10.191.216.65"})
    );

    // The admin API: overlap → 409; in use → 409 on delete; a reseller admin sees its subtree's.
    let r = app
        .post(
            "/admin/v1/ip-address-spaces",
            &admin,
            json!({"ip_address_space": "10.191.216.0/24", "org": fx.org("R2").id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    for bad in ["10.191.216.65/30", "10.0.0.0/33", "nonsense"] {
        let r = app
            .post(
                "/admin/v1/ip-address-spaces",
                &admin,
                json!({"ip_address_space": bad, "org": fx.org("R2").id}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .delete(&format!("/admin/v1/ip-address-spaces/{own}"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r1 = fx.token("R1", ResellerAdmin).to_string();
    let listed = app.get("/admin/v1/ip-address-spaces", &r1).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["total"], 1, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["id"], own);
    assert_eq!(listed.body["items"][0]["used"], 2);
    assert_eq!(listed.body["items"][0]["size"], 2);
    let all = app.get("/admin/v1/ip-address-spaces", &admin).await;
    assert_eq!(all.body["total"], 3);
    let r = app
        .get(&format!("/admin/v1/ip-address-spaces/{other}"), &r1)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another subtree's space");
    let r = app
        .post(
            "/admin/v1/ip-address-spaces",
            &r1,
            json!({"ip_address_space": "10.53.0.0/24", "org": fx.org("C2A").id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .get("/admin/v1/ip-address-spaces", fx.token("C1A", Owner))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .delete(&format!("/admin/v1/ip-address-spaces/{other}"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .get(&format!("/admin/v1/ip-address-spaces/{other}"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

backends!(concurrent_devices_never_share_an_address, multi_thread);
async fn concurrent_devices_never_share_an_address(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    // Six hosts; ten creates at once: six get distinct addresses, four are told 1601.
    let small = space(&app, &admin, "10.60.0.0/29", fx.org("C1A").id).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (app, manager) = (app.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            let mut body = device(&format!("c{i}"));
            body["ip_address_space"] = json!({"id": small});
            let r = app.post("/api/v1/endpoint", &manager, body).await;
            (r.status, r.body["error_code"].as_i64())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.sort();
    let mut expected = vec![(StatusCode::CREATED, None); 6];
    expected.extend(vec![(StatusCode::NOT_FOUND, Some(1601)); 4]);
    assert_eq!(answers, expected);
    let addresses: Vec<(String,)> = app
        .sql(&format!(
            "SELECT ip_address FROM endpoints WHERE ip_address_space_id = {small} ORDER BY ip_address"
        ))
        .await;
    let addresses: Vec<String> = addresses.into_iter().map(|a| a.0).collect();
    assert_eq!(
        addresses,
        (1..=6).map(|h| format!("10.60.0.{h}")).collect::<Vec<_>>()
    );
    // A delete of the space racing a create in it: never a space gone under a held address.
    let mut tasks = Vec::new();
    let extra = space(&app, &admin, "10.61.0.0/29", fx.org("C1A").id).await;
    {
        let (app, manager) = (app.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            let mut body = device("racer");
            body["ip_address_space"] = json!({"id": extra});
            app.post("/api/v1/endpoint", &manager, body).await.status
        }));
    }
    {
        let (app, admin) = (app.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            app.delete(&format!("/admin/v1/ip-address-spaces/{extra}"), &admin)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let held: Vec<(i64,)> = app
        .sql("SELECT DISTINCT space_id FROM ip_allocations")
        .await;
    let spaces: Vec<(i64,)> = app.sql("SELECT id FROM ip_address_spaces").await;
    assert!(
        held.iter().all(|h| spaces.contains(h)),
        "an address held in a deleted space: {statuses:?}"
    );
    assert!(
        matches!(
            statuses.as_slice(),
            [StatusCode::CREATED, StatusCode::CONFLICT]
                | [StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NO_CONTENT]
        ),
        "{statuses:?}"
    );
}
