//! Data and SMS quotas of a device: set, read, delete; drawn down by usage ingest with their
//! threshold and used-up events; BLOCKED connectivity and refused SMS while they deny; expiry by the
//! job; levels, tenants and concurrent draws.

use crate::common::*;
use crate::emnify_endpoints::{create, device, r1_sims, two_tenants_devices};
use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};
use simgate::clock::Clock;
use simgate::domain::access::AccessLevel::*;

fn at(app: &TestApp, offset: Duration) -> String {
    (app.clock.now() + offset).to_rfc3339()
}

async fn usage(app: &TestApp, admin: &str, sim: i64, when: String, kind: &str, volume: f64) {
    let r = app
        .post(
            "/admin/v1/usage",
            admin,
            json!([{"sim_id": sim, "timestamp": when, "traffic_type": kind, "volume_tx": volume, "volume_rx": 0}]),
        )
        .await;
    assert_eq!(r.body["accepted"], 1, "{}", r.text);
}

async fn quota(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.get(path, token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn connectivity(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/endpoint/{id}/connectivity"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn types_of(app: &TestApp, endpoint: i64) -> Vec<(i64, i64)> {
    app.sql(&format!(
        "SELECT CAST(type_id AS BIGINT), CAST(source AS BIGINT) FROM events \
         WHERE endpoint_id = {endpoint} AND type_id IN (18, 19, 20, 21, 56, 57, 58, 59, 60, 1018) ORDER BY id"
    ))
    .await
}

backends!(quotas_cap_a_devices_data_and_sms, multi_thread);
async fn quotas_cap_a_devices_data_and_sms(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let mut body = device("metered");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, &manager, body).await;
    let data = format!("/api/v1/endpoint/{id}/quota/data");
    let sms = format!("/api/v1/endpoint/{id}/quota/sms");

    // None yet: 404 1201 in emnify's words.
    let r = app.get(&data, &manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error_code"], 1201);
    assert_eq!(
        r.body["message"],
        format!("No data quota set for endpoint {id}")
    );
    // Bodies are checked; nothing is stored.
    let future = at(&app, Duration::days(30));
    for (path, bad) in [
        (&data, json!({"expiry_date": future})),
        (&data, json!({"volume": 10})),
        (&data, json!({"volume": -1, "expiry_date": future})),
        (
            &data,
            json!({"volume": 10, "expiry_date": at(&app, -Duration::hours(1))}),
        ),
        (
            &data,
            json!({"volume": 10, "expiry_date": future, "action_on_exhaustion": {"id": 2}}),
        ),
        (
            &data,
            json!({"volume": 10, "expiry_date": future, "threshold_percentage": 101}),
        ),
        (
            &data,
            json!({"volume": 10, "expiry_date": future, "status": {"id": 4}}),
        ),
        (
            &sms,
            json!({"volume": 10, "expiry_date": future, "action_on_exhaustion": {"id": 2, "peak_throughput": 64000}}),
        ),
        (&data, json!({"volume": "lots", "expiry_date": future})),
    ] {
        let r = app.post(path, &manager, bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    assert!(types_of(&app, id).await.is_empty());

    // Not enforced (the default profile applies no quota): nothing is blocked.
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "OFFLINE"
    );
    // Enforced: without quotas data is denied and SMS refused.
    let _: Vec<(i64,)> = app
        .sql("UPDATE service_profiles SET apply_data_quota = TRUE, apply_sms_quota = TRUE WHERE id = 1 RETURNING id")
        .await;
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );
    let r = app
        .post(
            &format!("/api/v1/endpoint/{id}/sms"),
            &manager,
            json!({"payload": "hi"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::CONFLICT, Some(1409))
    );

    // A quota lifts the block; usage draws it down, reporting the threshold once and the end.
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 100, "expiry_date": future, "threshold_percentage": 20.0,
            "action_on_exhaustion": {"id": 1.0}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.text, "");
    let r = app
        .post(&sms, &manager, json!({"volume": 2, "expiry_date": future}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "OFFLINE"
    );
    let q = quota(&app, fx.token("C1A", Viewer), &data).await;
    assert_eq!(q["status"], json!({"id": 1, "description": "ACTIVE"}));
    assert_eq!(
        (q["volume"].as_f64(), q["last_volume_added"].as_f64()),
        (Some(100.0), Some(100.0))
    );
    assert_eq!(
        q["action_on_exhaustion"],
        json!({"id": 1, "description": "Block"})
    );
    assert!(q["expiry_date"].as_str().unwrap().ends_with("+0000"));
    let r = app
        .post(
            &format!("/api/v1/endpoint/{id}/sms"),
            &manager,
            json!({"payload": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let later = at(&app, Duration::minutes(5));
    let soon = || later.clone();
    usage(&app, &admin, sims[0], soon(), "data", 70.0).await;
    assert_eq!(quota(&app, &manager, &data).await["volume"], 30.0);
    usage(&app, &admin, sims[0], soon(), "data", 15.0).await;
    usage(&app, &admin, sims[0], soon(), "data", 5.0).await;
    assert_eq!(quota(&app, &manager, &data).await["volume"], 10.0);
    // Older than the quota: not its usage.
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, -Duration::hours(2)),
        "data",
        50.0,
    )
    .await;
    assert_eq!(quota(&app, &manager, &data).await["volume"], 10.0);
    usage(&app, &admin, sims[0], soon(), "data", 25.0).await;
    let q = quota(&app, &manager, &data).await;
    assert_eq!(q["status"], json!({"id": 2, "description": "EXHAUSTED"}));
    assert_eq!(q["volume"], 0.0);
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );
    // Two SMS use the SMS quota up: further SMS are refused, data is unaffected by it.
    usage(&app, &admin, sims[0], soon(), "sms", 2.0).await;
    assert_eq!(quota(&app, &manager, &sms).await["status"]["id"], 2);
    let r = app
        .post(
            &format!("/api/v1/endpoint/{id}/sms"),
            &manager,
            json!({"payload": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Events: assigned (API), threshold and used up (Policy).
    assert_eq!(
        types_of(&app, id).await,
        vec![(56, 2), (58, 2), (18, 1), (19, 1), (21, 1)]
    );
    let alerts: Vec<(i64,)> = app
        .sql(&format!("SELECT COUNT(*) FROM events WHERE endpoint_id = {id} AND type_id IN (18, 19, 21) AND alert"))
        .await;
    assert_eq!(alerts[0].0, 3);

    // Throttle marks EXHAUSTED without blocking; a new quota counts from now.
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 1, "expiry_date": future,
            "action_on_exhaustion": {"id": 2, "peak_throughput": 128000}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    usage(&app, &admin, sims[0], soon(), "data", 5.0).await;
    let q = quota(&app, &manager, &data).await;
    assert_eq!(q["status"]["id"], 2);
    assert_eq!(
        q["action_on_exhaustion"],
        json!({"id": 2, "description": "Throttle", "peak_throughput": 128000})
    );
    assert_ne!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );

    // Levels and tenants: a viewer may not write; another tenant does not see the device.
    let r = app
        .post(
            &data,
            fx.token("C1A", Viewer),
            json!({"volume": 1, "expiry_date": future}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_i64()),
        (StatusCode::FORBIDDEN, Some(1104))
    );
    for path in [&data, &sms] {
        let r = app.get(path, fx.token("C2A", Manager)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            r.body["message"],
            format!("Endpoint with id {id} not found")
        );
        let r = app.delete(path, fx.token("C2A", Manager)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    // Concurrent draws never lose one another: ten records of 1 MB at once take 10 MB.
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 50, "expiry_date": future}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, admin, sim, when) = (app.clone(), admin.clone(), sims[0], soon());
        tasks.push(tokio::spawn(async move {
            usage(&app, &admin, sim, when, "data", 1.0).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(quota(&app, &manager, &data).await["volume"], 40.0);

    // The job expires a quota past its date (event 60); DELETE removes one (57), then 404.
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 50, "expiry_date": at(&app, Duration::hours(1))}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.clock.advance(Duration::hours(2));
    // Past its date it is EXPIRED and denies at once, before the job marks it.
    let q = quota(&app, &manager, &data).await;
    assert_eq!(q["status"], json!({"id": 3, "description": "EXPIRED"}));
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );
    assert_eq!(
        simgate::jobs::quotas::run_once(&app.state).await.unwrap(),
        1
    );
    assert_eq!(
        simgate::jobs::quotas::run_once(&app.state).await.unwrap(),
        0
    );
    let q = quota(&app, &manager, &data).await;
    assert_eq!(q["status"], json!({"id": 3, "description": "EXPIRED"}));
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );
    let r = app.delete(&data, &manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.delete(&data, &manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let events = types_of(&app, id).await;
    assert_eq!(&events[events.len() - 2..], &[(60, 1), (57, 2)]);
}

backends!(a_devices_statistics_follow_its_sims);
async fn a_devices_statistics_follow_its_sims(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let mut body = device("counted");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, &manager, body).await;
    let stats = format!("/api/v1/endpoint/{id}/stats");

    // Before it went in, the SIM's usage is its own; afterwards the device's too.
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, -Duration::hours(2)),
        "data",
        7.0,
    )
    .await;
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(5)),
        "data",
        3.0,
    )
    .await;
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(6)),
        "sms",
        1.0,
    )
    .await;
    // Another SIM replaces it: the old one's later usage is no longer the device's.
    let r = app
        .patch(
            &format!("/api/v1/endpoint/{id}"),
            &manager,
            json!({"sim": {"id": sims[1]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    app.clock.advance(Duration::minutes(10));
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(1)),
        "data",
        100.0,
    )
    .await;
    usage(
        &app,
        &admin,
        sims[1],
        at(&app, Duration::minutes(1)),
        "data",
        2.0,
    )
    .await;

    let s = app.get(&stats, &manager).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let data = &s.body["current_month"]["data"];
    assert_eq!(data["volume"], 5.0, "{}", s.text);
    assert_eq!(data["endpoint_id"], id);
    assert!(data.get("sim_id").is_none());
    let month = app.clock.now().format("%Y%m").to_string();
    assert_eq!(data["id"], format!("{id}{month}5").parse::<u64>().unwrap());
    assert_eq!(s.body["current_month"]["sms"]["volume"], 1.0);
    let sim_stats = app
        .get(&format!("/api/v1/sim/{}/stats", sims[0]), &manager)
        .await;
    assert_eq!(sim_stats.body["current_month"]["data"]["volume"], 110.0);
    let daily = app.get(&format!("{stats}/daily"), &manager).await;
    assert_eq!(daily.status, StatusCode::OK, "{}", daily.text);
    let days = daily.body.as_array().unwrap();
    let total: f64 = days
        .iter()
        .map(|d| d["data"]["volume"].as_f64().unwrap_or(0.0))
        .sum();
    assert_eq!(total, 5.0);
    // Another tenant: the device does not exist.
    for path in [stats.clone(), format!("{stats}/daily")] {
        let r = app.get(&path, fx.token("C2A", Manager)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body["error_code"], 1201);
    }
}

backends!(a_gateway_delivers_receives_and_expires_sms);
async fn a_gateway_delivers_receives_and_expires_sms(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let mut body = device("phone");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, &manager, body).await;
    let simless = create(&app, &manager, device("no sim")).await;
    let send = |endpoint: i64, text: &'static str| {
        let (app, manager) = (&app, manager.clone());
        async move {
            let r = app
                .post(
                    &format!("/api/v1/endpoint/{endpoint}/sms"),
                    &manager,
                    json!({"payload": text}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            let loc = r.headers["location"].to_str().unwrap().to_string();
            loc.rsplit('/').next().unwrap().parse::<i64>().unwrap()
        }
    };
    let a = send(id, "a").await;
    let b = send(id, "b").await;
    let c = send(id, "c").await;
    let d = send(simless, "d").await;

    // The gateway's view: MT SMS waiting on devices with a SIM, oldest first, with the SIM.
    let r = app.get("/admin/v1/sms", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let waiting: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(waiting, vec![a, b, c]);
    assert_eq!(r.body[0]["sim_id"], sims[0]);
    assert!(r.body[0]["iccid"].as_str().unwrap().starts_with("89"));
    assert_eq!(
        app.get("/admin/v1/sms", fx.token("R1", ResellerAdmin))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/admin/v1/sms?limit=0", &admin).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Reports move SMS as the contract allows; the rest are refused by index.
    let now = at(&app, Duration::minutes(1));
    let r = app
        .post(
            "/admin/v1/sms/reports",
            &admin,
            json!([
                {"sms_id": a, "status": 2, "timestamp": now},
                {"sms_id": a, "status": 4, "timestamp": now},
                {"sms_id": b, "status": 3, "timestamp": now},
                {"sms_id": b, "status": 5, "timestamp": now, "gsm_map_error": 27},
                {"sms_id": a, "status": 2, "timestamp": now},
                {"sms_id": 999999, "status": 4, "timestamp": now},
                {"sms_id": c, "status": 6, "timestamp": now},
                {"sms_id": c, "status": 4, "timestamp": "yesterday"}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["accepted"], 4, "{}", r.text);
    let refused: Vec<i64> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["index"].as_i64().unwrap())
        .collect();
    assert_eq!(refused, vec![4, 5, 6, 7]);
    let one = |sms: i64| {
        let (app, manager) = (&app, manager.clone());
        async move {
            let r = app
                .get(&format!("/api/v1/endpoint/{id}/sms/{sms}"), &manager)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body
        }
    };
    let sa = one(a).await;
    assert_eq!(sa["status"], json!({"id": 4, "description": "DELIVERED"}));
    assert!(sa["delivery_date"].is_string() && sa["final_date"].is_string());
    assert_eq!(sa["sim_id"], sims[0].to_string());
    let sb = one(b).await;
    assert_eq!(sb["status"]["id"], 5);
    assert_eq!(sb["retry_count"], "1");
    assert!(sb.get("delivery_date").is_none());
    let finals: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE type_id = 1014 AND endpoint_id = {id}"
        ))
        .await;
    assert_eq!(finals[0].0, 2);
    // A delivered SMS cannot be canceled.
    let r = app
        .delete(&format!("/api/v1/endpoint/{id}/sms/{a}"), &manager)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // MO: filed as delivered under the device its SIM was in; a SIM in no device is refused.
    let r = app
        .post(
            "/admin/v1/sms/mo",
            &admin,
            json!([
                {"sim_id": sims[0], "timestamp": now, "payload": "pong", "destination_address": "4915"},
                {"sim_id": sims[5], "timestamp": now, "payload": "lost"},
                {"sim_id": sims[0], "timestamp": now, "payload": ""}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["accepted"], 1, "{}", r.text);
    let list = app
        .get(&format!("/api/v1/endpoint/{id}/sms"), &manager)
        .await;
    let mo = &list.body[0];
    assert_eq!(mo["sms_type"], json!({"id": 2, "description": "MO"}));
    assert_eq!(
        (mo["payload"].as_str(), mo["status"]["id"].as_i64()),
        (Some("pong"), Some(4))
    );
    let received: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE type_id = 1015 AND endpoint_id = {id}"
        ))
        .await;
    assert_eq!(received[0].0, 1);

    // The job expires what still waits past its expiry date, once.
    app.clock.advance(Duration::hours(25));
    assert_eq!(simgate::jobs::sms::run_once(&app.state).await.unwrap(), 2);
    assert_eq!(simgate::jobs::sms::run_once(&app.state).await.unwrap(), 0);
    assert_eq!(one(c).await["status"]["id"], 6);
    let r = app
        .get(&format!("/api/v1/endpoint/{simless}/sms/{d}"), &manager)
        .await;
    assert_eq!(r.body["status"], json!({"id": 6, "description": "EXPIRED"}));
    let r = app.get("/admin/v1/sms", &admin).await;
    assert_eq!(r.body, json!([]));
}

backends!(concurrent_reports_move_an_sms_once, multi_thread);
async fn concurrent_reports_move_an_sms_once(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let mut body = device("racer");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, &manager, body).await;
    let app = std::sync::Arc::new(app);
    for round in 0..3 {
        let r = app
            .post(
                &format!("/api/v1/endpoint/{id}/sms"),
                &manager,
                json!({"payload": format!("r{round}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let sms: i64 = r.headers["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let now = at(&app, Duration::minutes(1));
        // Four gateways report it delivered or failed at once, and its sender cancels it: one wins.
        let mut reports = Vec::new();
        for status in [4, 5, 4, 5] {
            let (app, admin, now) = (app.clone(), admin.clone(), now.clone());
            reports.push(tokio::spawn(async move {
                let r = app
                    .post(
                        "/admin/v1/sms/reports",
                        &admin,
                        json!([{"sms_id": sms, "status": status, "timestamp": now}]),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                r.body["accepted"].as_i64().unwrap()
            }));
        }
        let (a, m) = (app.clone(), manager.clone());
        let cancel = tokio::spawn(async move {
            a.delete(&format!("/api/v1/endpoint/{id}/sms/{sms}"), &m)
                .await
                .status
        });
        let mut accepted = 0;
        for t in reports {
            accepted += t.await.unwrap();
        }
        let canceled = cancel.await.unwrap() == StatusCode::NO_CONTENT;
        assert_eq!(
            accepted + i64::from(canceled),
            1,
            "round {round}: {accepted} reports accepted, canceled: {canceled}"
        );
        let moves: Vec<(i64,)> = app
            .sql(&format!(
                "SELECT COUNT(*) FROM events WHERE type_id = 1014 AND endpoint_id = {id} \
                 AND description LIKE 'SMS {sms} %'"
            ))
            .await;
        assert_eq!(moves[0].0, 1, "round {round}: one move, one event");
        let status = app
            .get(&format!("/api/v1/endpoint/{id}/sms/{sms}"), &manager)
            .await
            .body["status"]["id"]
            .as_i64()
            .unwrap();
        assert!(
            [4, 5, 7].contains(&status),
            "delivered, failed or canceled: {status}"
        );
    }
}

backends!(auto_refill_quotas_come_back_each_day, multi_thread);
async fn auto_refill_quotas_come_back_each_day(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let _: Vec<(i64,)> = app
        .sql("UPDATE service_profiles SET apply_data_quota = TRUE WHERE id = 1 RETURNING id")
        .await;
    let mut body = device("refilled");
    body["sim"] = json!({"id": sims[0]});
    let id = create(&app, &manager, body).await;
    let data = format!("/api/v1/endpoint/{id}/quota/data");
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 10, "expiry_date": at(&app, Duration::days(3)), "auto_refill": 1,
                   "threshold_percentage": 50}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(1)),
        "data",
        10.0,
    )
    .await;
    assert_eq!(quota(&app, &manager, &data).await["status"]["id"], 2);
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "BLOCKED"
    );
    // The same day nothing is refilled.
    assert_eq!(
        simgate::jobs::quotas::run_once(&app.state).await.unwrap(),
        0
    );

    // The first pass of the next UTC day refills it once: full, ACTIVE, the block lifted, event 56.
    let now = app.clock.now();
    let midnight = simgate::domain::quota::day_start(now) + Duration::days(1);
    app.clock.advance(midnight - now + Duration::seconds(30));
    // Two nodes' passes at once refill it once.
    let (a, b) = tokio::join!(
        simgate::jobs::quotas::run_once(&app.state),
        simgate::jobs::quotas::run_once(&app.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        simgate::jobs::quotas::run_once(&app.state).await.unwrap(),
        0
    );
    let q = quota(&app, &manager, &data).await;
    assert_eq!(q["status"], json!({"id": 1, "description": "ACTIVE"}));
    assert_eq!(
        (q["volume"].as_f64(), q["last_volume_added"].as_f64()),
        (Some(10.0), Some(10.0))
    );
    assert_eq!(
        connectivity(&app, &manager, id).await["status"]["description"],
        "OFFLINE"
    );
    // Usage from before the refill (ingested late) is not drawn from it; after it, it is, and the
    // threshold is reported again.
    usage(
        &app,
        &admin,
        sims[0],
        (midnight - Duration::hours(1)).to_rfc3339(),
        "data",
        4.0,
    )
    .await;
    assert_eq!(quota(&app, &manager, &data).await["volume"], 10.0);
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(1)),
        "data",
        6.0,
    )
    .await;
    assert_eq!(quota(&app, &manager, &data).await["volume"], 4.0);
    let events = types_of(&app, id).await;
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![56, 19, 56, 18],
        "assigned, used up (the threshold passed with it), refilled, threshold"
    );

    // A quota without auto_refill, or one expiring by the next day, is left alone.
    let r = app
        .post(
            &data,
            &manager,
            json!({"volume": 5, "expiry_date": at(&app, Duration::days(3))}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    usage(
        &app,
        &admin,
        sims[0],
        at(&app, Duration::minutes(2)),
        "data",
        5.0,
    )
    .await;
    app.clock.advance(Duration::days(1));
    assert_eq!(
        simgate::jobs::quotas::run_once(&app.state).await.unwrap(),
        0
    );
    assert_eq!(quota(&app, &manager, &data).await["status"]["id"], 2);
}

backends!(one_ingest_draws_the_quotas_of_many_tenants, multi_thread);
/// An ingest that spans devices of two tenants draws each device's quota by its own records (with
/// the threshold and used-up events of each), and concurrent ingests over the same devices in
/// opposite orders neither lose a draw nor deadlock.
async fn one_ingest_draws_the_quotas_of_many_tenants(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let devices = two_tenants_devices(&app, &fx).await;
    let _: Vec<(i64,)> = app
        .sql("UPDATE service_profiles SET apply_data_quota = TRUE, apply_sms_quota = TRUE WHERE id = 1 RETURNING id")
        .await;
    let future = at(&app, Duration::days(30));
    for (id, _, token) in &devices {
        for kind in ["data", "sms"] {
            let r = app
                .post(
                    &format!("/api/v1/endpoint/{id}/quota/{kind}"),
                    token,
                    json!({"volume": 100, "expiry_date": future, "threshold_percentage": 50}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
    }
    // One request, the records interleaved: device k is sent 30·k MB of data in three records and
    // k SMS; device 0 nothing, 2 and 3 pass their threshold, 4 uses its data up (no threshold event
    // then: the end is reported instead).
    let mut records = Vec::new();
    for round in 0..3 {
        for (k, (_, sim, _)) in devices.iter().enumerate().rev() {
            if k > 0 {
                records.push(
                    json!({"sim_id": sim, "timestamp": at(&app, Duration::minutes(round)),
                    "traffic_type": "data", "volume_tx": 10.0 * k as f64, "volume_rx": 0}),
                );
            }
            if round == 0 && k > 0 {
                records.push(
                    json!({"sim_id": sim, "timestamp": at(&app, Duration::minutes(round)),
                    "traffic_type": "sms", "volume_tx": k as f64, "volume_rx": 0}),
                );
            }
        }
    }
    let r = app.post("/admin/v1/usage", &admin, json!(records)).await;
    assert_eq!(r.body["accepted"], records.len(), "{}", r.text);
    let expect = [(100.0, 1), (70.0, 1), (40.0, 1), (10.0, 1), (0.0, 2)];
    for ((id, _, token), (left, status)) in devices.iter().zip(expect) {
        let q = quota(&app, token, &format!("/api/v1/endpoint/{id}/quota/data")).await;
        assert_eq!(
            (q["volume"].as_f64(), q["status"]["id"].as_i64()),
            (Some(left), Some(status)),
            "{id}: {q}"
        );
    }
    for (k, (id, _, token)) in devices.iter().enumerate() {
        let q = quota(&app, token, &format!("/api/v1/endpoint/{id}/quota/sms")).await;
        assert_eq!(q["volume"].as_f64(), Some(100.0 - k as f64), "{id}: {q}");
    }
    let policy = |id: i64| {
        let app = &app;
        async move {
            let rows: Vec<(i64,)> = app
                .sql(&format!(
                    "SELECT CAST(type_id AS BIGINT) FROM events WHERE endpoint_id = {id} \
                     AND type_id IN (18, 19, 20, 21) ORDER BY id"
                ))
                .await;
            rows.into_iter().map(|r| r.0).collect::<Vec<i64>>()
        }
    };
    let want: [&[i64]; 5] = [&[], &[], &[18], &[18], &[19]];
    for ((id, _, _), want) in devices.iter().zip(want) {
        assert_eq!(policy(*id).await, want, "device {id}");
    }

    // Eight ingests at once over devices 0..4 (SMS: each sends one to every device), half in
    // each order: every draw counts.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let mut sims: Vec<i64> = devices[..4].iter().map(|d| d.1).collect();
        if n % 2 == 1 {
            sims.reverse();
        }
        let (app, admin) = (app.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            let when = at(&app, Duration::minutes(5));
            let records: Vec<Value> = sims
                .iter()
                .map(|sim| json!({"sim_id": sim, "timestamp": when, "traffic_type": "sms", "volume_tx": 1, "volume_rx": 0}))
                .collect();
            let r = app.post("/admin/v1/usage", &admin, json!(records)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (k, (id, _, token)) in devices[..4].iter().enumerate() {
        let q = quota(&app, token, &format!("/api/v1/endpoint/{id}/quota/sms")).await;
        assert_eq!(
            q["volume"].as_f64(),
            Some(100.0 - k as f64 - 8.0),
            "{id}: {q}"
        );
    }
}
