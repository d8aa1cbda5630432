//! Time-partitioned tables: monthly partitions ahead of time on Postgres, late and early rows never
//! lost, retention that removes whole months on both backends.

use crate::common::*;
use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use serde_json::json;
use simgate::domain::access::AccessLevel::*;

async fn partitions(app: &TestApp, table: &str) -> Vec<String> {
    let rows: Vec<(String,)> = app
        .sql(&format!(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = '{table}'::regclass ORDER BY 1"
        ))
        .await;
    rows.into_iter().map(|r| r.0).collect()
}

async fn usage_hours(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> = app
        .sql("SELECT substr(CAST(hour AS TEXT), 1, 7) FROM usage_hourly ORDER BY hour")
        .await;
    rows.into_iter().map(|r| r.0).collect()
}

backends!(
    partitions_ahead_late_rows_and_retention,
    tweak = |c| {
        c.retention.events_months = 2;
        c.retention.usage_months = 2;
        c.retention.partition_months_ahead = 1;
    }
);
async fn partitions_ahead_late_rows_and_retention(app: TestApp) {
    let pg = app.backend == "postgres";
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    // The clock says 2026-03-15: March and April exist before the first write.
    if pg {
        assert_eq!(
            partitions(&app, "usage_hourly").await,
            [
                "usage_hourly_default",
                "usage_hourly_p2026_03",
                "usage_hourly_p2026_04"
            ]
        );
        assert_eq!(
            partitions(&app, "events").await,
            ["events_default", "events_p2026_03", "events_p2026_04"]
        );
    }
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "R", "issuer_org": 1, "sims": [{"iccid": icc(1)}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let sim: Vec<(i64,)> = app.sql("SELECT id FROM sims").await;
    let sim = sim[0].0;
    // January (before every partition) and June (after them) land in the default partition.
    let usage = |ts: &str| {
        json!({
            "sim_id": sim, "timestamp": ts, "traffic_type": "data", "volume_tx": 1, "volume_rx": 1
        })
    };
    let r = app
        .post(
            "/admin/v1/usage",
            admin,
            json!([
                usage("2026-01-10T10:00:00Z"),
                usage("2026-03-10T10:00:00Z"),
                usage("2026-04-01T00:00:00Z"),
                usage("2026-06-02T10:00:00Z")
            ]),
        )
        .await;
    assert_eq!(r.body["accepted"], 4, "{}", r.text);
    assert_eq!(
        usage_hours(&app).await,
        ["2026-01", "2026-03", "2026-04", "2026-06"]
    );
    if pg {
        let default: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM usage_hourly_default").await;
        assert_eq!(default[0].0, 2);
    }

    // On 1 June, two months kept means May and June; June and July are prepared, and June's
    // partition takes its row over from the default one.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
    let report = simgate::jobs::maintenance::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(usage_hours(&app).await, ["2026-06"]);
    let events: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM events").await;
    assert_eq!(events[0].0, 0, "March's events are past the retention");
    if pg {
        assert_eq!(
            report.partitions_created, 4,
            "June and July for both tables"
        );
        assert_eq!(
            partitions(&app, "usage_hourly").await,
            [
                "usage_hourly_default",
                "usage_hourly_p2026_06",
                "usage_hourly_p2026_07"
            ]
        );
        assert_eq!(
            partitions(&app, "events").await,
            ["events_default", "events_p2026_06", "events_p2026_07"]
        );
        let moved: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM usage_hourly_p2026_06").await;
        assert_eq!(moved[0].0, 1, "the June row left the default partition");
        let default: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM usage_hourly_default").await;
        assert_eq!(
            default[0].0, 0,
            "January's late row went with the retention"
        );
    } else {
        assert_eq!(report.partitions_created, 0);
    }
    // What is left still answers through the API, and new writes work.
    let daily = app
        .get(
            &format!("/api/v1/sim/{sim}/stats/daily?start_date=2026-06-01&end_date=2026-06-30"),
            admin,
        )
        .await;
    assert_eq!(daily.status, StatusCode::OK, "{}", daily.text);
    assert_eq!(daily.body.as_array().unwrap().len(), 1);
    let r = app
        .patch(
            &format!("/api/v1/sim/{sim}"),
            admin,
            json!({"status": {"id": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let ev = app.get(&format!("/api/v1/sim/{sim}/event"), admin).await;
    assert_eq!(ev.headers["x-total-count"], "1");
    // A second pass finds nothing to do.
    let again = simgate::jobs::maintenance::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(again.partitions_created, 0);
}

backends!(zero_months_keeps_everything);
async fn zero_months_keeps_everything(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "K", "issuer_org": 1, "sims": [{"iccid": icc(2)}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock
        .set(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap());
    let report = simgate::jobs::maintenance::run_once(&app.state)
        .await
        .unwrap();
    assert!(report.removed.is_empty());
    let events: Vec<(i64,)> = app.sql("SELECT COUNT(*) FROM events").await;
    assert_eq!(events[0].0, 1);
}
