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

/// A device asking for an address in `space`.
fn in_space(name: &str, space: i64) -> Value {
    let mut body = device(name);
    body["ip_address_space"] = json!({"id": space});
    body
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
        let body = in_space("foreign space", bad);
        let r = app.post("/api/v1/endpoint", &manager, body).await;
        assert_eq!(code(&r), (StatusCode::UNPROCESSABLE_ENTITY, Some(1401)));
        assert_eq!(
            r.body["message"],
            format!("IP address space with Id '{bad}' not found.")
        );
    }
    // The space alone, full: 404 1601, as emnify answers.
    let body = in_space("full", own);
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

backends!(a_picked_address_is_always_the_lowest_free_host);
/// Creates with and without an address, moves and deletes, in a fixed pseudo-random order over a
/// /27 (30 hosts): every picked address is the lowest host the model holds free.
async fn a_picked_address_is_always_the_lowest_free_host(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let block = space(&app, &admin, "10.62.0.0/27", fx.org("C1A").id).await;
    let host_of = |v: &Value| -> u8 {
        v.as_str()
            .unwrap()
            .rsplit('.')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // device id -> host, as the model has it
    let mut held: std::collections::BTreeMap<i64, u8> = Default::default();
    let lowest = |held: &std::collections::BTreeMap<i64, u8>| {
        (1..=30u8).find(|h| !held.values().any(|x| x == h))
    };
    let mut next = generator(0x5eed);
    for step in 0..70 {
        let devices: Vec<i64> = held.keys().copied().collect();
        let pick = |k: u64| devices[k as usize % devices.len()];
        match next(10) {
            // A picked address.
            0..=3 => {
                let body = in_space(&format!("p{step}"), block);
                let r = app.post("/api/v1/endpoint", &manager, body).await;
                match lowest(&held) {
                    Some(want) => {
                        assert_eq!(r.status, StatusCode::CREATED, "step {step}: {}", r.text);
                        let id = r.headers["location"].to_str().unwrap().rsplit('/').next();
                        let id: i64 = id.unwrap().parse().unwrap();
                        let got = host_of(&ip_of(&app, &manager, id).await);
                        assert_eq!(got, want, "step {step}: held {held:?}");
                        held.insert(id, got);
                    }
                    None => assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1601))),
                }
            }
            // A chosen address, free or held.
            4 | 5 => {
                let h = next(30) as u8 + 1;
                let mut body = in_space(&format!("c{step}"), block);
                body["ip_address"] = json!(format!("10.62.0.{h}"));
                let r = app.post("/api/v1/endpoint", &manager, body).await;
                if held.values().any(|x| *x == h) {
                    assert_eq!(code(&r), (StatusCode::CONFLICT, Some(1409)), "step {step}");
                } else {
                    assert_eq!(r.status, StatusCode::CREATED, "step {step}: {}", r.text);
                    let id = r.headers["location"].to_str().unwrap().rsplit('/').next();
                    held.insert(id.unwrap().parse().unwrap(), h);
                }
            }
            // A device leaves, freeing its address at once.
            6 | 7 if !devices.is_empty() => {
                let id = pick(next(1000));
                let r = app
                    .delete(&format!("/api/v1/endpoint/{id}"), &manager)
                    .await;
                assert_eq!(r.status, StatusCode::NO_CONTENT, "step {step}: {}", r.text);
                held.remove(&id);
            }
            // A device is given another address, or asks for a new one in the block.
            8 | 9 if !devices.is_empty() => {
                let id = pick(next(1000));
                let path = format!("/api/v1/endpoint/{id}");
                if next(2) == 0 {
                    let h = next(30) as u8 + 1;
                    let body = json!({"ip_address": format!("10.62.0.{h}"), "ip_address_space": {"id": block}});
                    let r = app.patch(&path, &manager, body).await;
                    match held.iter().find(|(_, x)| **x == h) {
                        Some((other, _)) if *other != id => {
                            assert_eq!(code(&r), (StatusCode::CONFLICT, Some(1409)), "step {step}")
                        }
                        _ => {
                            assert_eq!(r.status, StatusCode::NO_CONTENT, "step {step}: {}", r.text);
                            held.insert(id, h);
                        }
                    }
                } else {
                    let r = app
                        .patch(&path, &manager, json!({"ip_address_space": {"id": block}}))
                        .await;
                    assert_eq!(r.status, StatusCode::NO_CONTENT, "step {step}: {}", r.text);
                    let mut others = held.clone();
                    others.remove(&id);
                    let want = lowest(&others).unwrap();
                    let got = host_of(&ip_of(&app, &manager, id).await);
                    assert_eq!(got, want, "step {step}: re-allocated, held {others:?}");
                    held.insert(id, got);
                }
            }
            _ => {}
        }
    }
    let stored: Vec<(String,)> = app
        .sql(&format!(
            "SELECT ip_address FROM endpoints WHERE ip_address_space_id = {block} AND status <> 2"
        ))
        .await;
    let mut stored: Vec<u8> = stored.iter().map(|a| host_of(&json!(a.0))).collect();
    stored.sort();
    let mut model: Vec<u8> = held.values().copied().collect();
    model.sort();
    assert_eq!(stored, model);
    assert!(model.len() > 5, "the walk filled the block: {model:?}");
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
            let body = in_space(&format!("c{i}"), small);
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
    // Three deletes racing five creates in the full block: the creates get freed hosts or 1601, and
    // whatever is left free afterwards is handed out lowest first.
    let ids: Vec<(i64, String)> = app
        .sql(&format!(
            "SELECT id, ip_address FROM endpoints WHERE ip_address_space_id = {small} ORDER BY id"
        ))
        .await;
    let leaving: Vec<i64> = ids
        .iter()
        .filter(|(_, a)| ["10.60.0.2", "10.60.0.4", "10.60.0.5"].contains(&a.as_str()))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(leaving.len(), 3);
    let mut tasks = Vec::new();
    for (i, id) in leaving.iter().enumerate() {
        let (app, manager, id) = (app.clone(), manager.clone(), *id);
        tasks.push(tokio::spawn(async move {
            let r = app
                .delete(&format!("/api/v1/endpoint/{id}"), &manager)
                .await;
            (i, r.status, None)
        }));
    }
    for i in 0..5 {
        let (app, manager) = (app.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            let body = in_space(&format!("r{i}"), small);
            let r = app.post("/api/v1/endpoint", &manager, body).await;
            (3 + i, r.status, r.body["error_code"].as_i64())
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            (i, status, _) if i < 3 => assert_eq!(status, StatusCode::NO_CONTENT),
            (_, StatusCode::CREATED, _) => created += 1,
            (_, status, code) => assert_eq!((status, code), (StatusCode::NOT_FOUND, Some(1601))),
        }
    }
    assert!(created <= 3, "{created} creates in three freed hosts");
    let held_hosts = || async {
        let rows: Vec<(String,)> = app
            .sql(&format!(
                "SELECT ip_address FROM endpoints WHERE ip_address_space_id = {small} AND status <> 2"
            ))
            .await;
        rows.into_iter().map(|a| a.0).collect::<Vec<_>>()
    };
    let now = held_hosts().await;
    let mut unique = now.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), now.len(), "an address given twice: {now:?}");
    assert_eq!(now.len(), 3 + created);
    let mut free: Vec<String> = (1..=6)
        .map(|h| format!("10.60.0.{h}"))
        .filter(|a| !now.contains(a))
        .collect();
    free.sort_by_key(|a| a.rsplit('.').next().unwrap().parse::<u8>().unwrap());
    for want in free {
        let body = in_space("after", small);
        let id = create(&app, &manager, body).await;
        assert_eq!(ip_of(&app, &manager, id).await, want.as_str());
    }
    let body = in_space("full again", small);
    let r = app.post("/api/v1/endpoint", &manager, body).await;
    assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1601)));
    // A delete of the space racing a create in it: never a space gone under a held address.
    let mut tasks = Vec::new();
    let extra = space(&app, &admin, "10.61.0.0/29", fx.org("C1A").id).await;
    {
        let (app, manager) = (app.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            let body = in_space("racer", extra);
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
