//! `database.read_url`: list and statistics reads go to the replica, everything else to the primary.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;
use simgate::domain::access::AccessLevel::*;

/// The "replica" is a second, empty database with the same schema: whatever a read finds there
/// came from the replica, whatever it finds only in the primary came from the primary.
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "Postgres only (like the replica setting): set SIMGATE_TEST_DATABASE_URL"
)]
async fn lists_and_statistics_read_from_the_replica() {
    let admin_url = postgres_url().expect("built for Postgres tests: SIMGATE_TEST_DATABASE_URL");
    let (replica_url, _replica) = extra_postgres_db(&admin_url).await;
    simgate::store::connect(&replica_url, None, &simgate::store::PoolConfig::single())
        .await
        .unwrap()
        .close()
        .await;
    let replica = replica_url.clone();
    let app = TestApp::new("postgres", move |c| c.database.read_url = replica.clone()).await;
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .post(
            "/sim",
            admin,
            json!({"data": sim_lines(0, 3, "NANO", "TDC", false)}),
        )
        .await;
    assert_eq!(r.body["imported"], 3, "{}", r.text);
    let b = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "RB", "issuer_org": 1, "sims": [{"iccid": icc(10)}]}),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let ids: Vec<(i64,)> = app
        .sql("SELECT id FROM sims WHERE batch_id IS NOT NULL")
        .await;

    // Single objects come from the primary...
    assert_eq!(
        app.get(&format!("/sim/{}", icc(0)), admin).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/sim/{}", ids[0].0), admin)
            .await
            .status,
        StatusCode::OK
    );
    // ...lists, counts and statistics from the replica, which has none of it.
    let list = app.get("/sim?limit=10", admin).await;
    assert_eq!(
        (list.status, list.body["total"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{}",
        list.text
    );
    let status = app.get("/sim/status", admin).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    // The primary counts four TDC SIMs in central stock (3 imported, 1 in the batch); the replica has
    // no TDC stock at all.
    let primary: Vec<(i64,)> = app
        .sql("SELECT count FROM sim_inventory_counts WHERE network = 'TDC'")
        .await;
    assert_eq!(primary, vec![(4,)]);
    assert!(!status.text.contains("TDC"), "{}", status.text);
    let emnify = app.get("/api/v1/sim", admin).await;
    assert_eq!(
        (
            emnify.body.clone(),
            emnify.headers["x-total-count"].to_str().unwrap()
        ),
        (json!([]), "0")
    );
    let events = app
        .get(&format!("/api/v1/sim/{}/event", ids[0].0), admin)
        .await;
    assert_eq!(events.body, json!([]), "{}", events.text);
    assert_eq!(app.get("/mvno?limit=10", admin).await.body["total"], 0);
    // Readiness covers both pools.
    assert_eq!(
        app.request(axum::http::Method::GET, "/readyz", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sqlite_refuses_a_replica() {
    let mut config = test_config();
    config.database.url = format!(
        "sqlite://{}/simgate_replica_refused.db",
        std::env::temp_dir().display()
    );
    config.database.read_url = "postgres://nowhere/db".into();
    let clock = std::sync::Arc::new(simgate::clock::ManualClock::new(chrono::Utc::now()));
    let err = simgate::build(config, clock).await.err().expect("refused");
    assert!(err.to_string().contains("read_url needs Postgres"), "{err}");
}
