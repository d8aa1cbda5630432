//! emnify SIM statistics from ingested usage.

use crate::common::*;
use crate::emnify_sims::{batches, sim_ids};
use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use simgate::domain::access::AccessLevel::*;

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
        json!({
            "iccid": iccid, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "data", "volume_tx": 1.5,
            "volume_rx": 2.5, "cost": 0.1
        }),
        json!({
            "sim_id": sim, "timestamp": "2026-03-15T12:20:00Z", "traffic_type": "data", "volume_tx": 0.5,
            "volume_rx": 0.5, "cost": 0.1
        }),
        json!({
            "sim_id": sim, "timestamp": "2026-03-02T08:00:00Z", "traffic_type": "sms", "volume_tx": 3,
            "volume_rx": 1, "cost": 0.4
        }),
        json!({
            "sim_id": sim, "timestamp": "2026-02-20T08:00:00Z", "traffic_type": "data", "volume_tx": 10,
            "volume_rx": 30, "cost": 2, "currency": "USD"
        }),
        json!({
            "sim_id": sim, "timestamp": "2026-01-20T08:00:00Z", "traffic_type": "data", "volume_tx": 99,
            "volume_rx": 99
        }),
        json!({
            "sim_id": 424242, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "data", "volume_tx": 1,
            "volume_rx": 1
        }),
        json!({"sim_id": sim, "timestamp": "yesterday", "traffic_type": "data", "volume_tx": 1, "volume_rx": 1}),
        json!({
            "sim_id": sim, "timestamp": "2026-03-15T12:10:00Z", "traffic_type": "voice", "volume_tx": 1,
            "volume_rx": 1
        }),
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
    let r = app.post("/admin/v1/usage", admin, json!([{
        "sim_id": sim, "timestamp": "2026-03-15T12:59:59Z", "traffic_type": "data", "volume_tx": 1, "volume_rx": 0
    }])).await;
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
    let r = app
        .post(
            "/admin/v1/events",
            admin,
            json!([{
        "sim_id": sim, "timestamp": "2026-03-15T14:00:00Z", "type_id": 1, "severity": 2,
        "description": "Update location"
    }, {"sim_id": sim, "type_id": 1}]),
        )
        .await;
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
