//! The account's events (`GET /api/v1/event`): every event of the orgs in scope, its filters resolved
//! within the scope; the event types (`GET /api/v1/event/type`).

use crate::common::*;
use crate::emnify_endpoints::{create, device, r1_sims};
use axum::http::StatusCode;
use serde_json::json;
use simgate::domain::access::AccessLevel::*;

/// The ids of a page of events, and the total the headers give.
async fn listed(app: &TestApp, token: &str, q: &str) -> (Vec<i64>, i64) {
    let url = if q.is_empty() {
        "/api/v1/event?per_page=2500".to_string()
    } else {
        let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        format!("/api/v1/event?per_page=2500&q={enc}")
    };
    let r = app.get(&url, token).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
    let total = r.headers["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut ids: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    (ids, total)
}

async fn ids_where(app: &TestApp, cond: &str) -> Vec<i64> {
    let rows: Vec<(i64,)> = app
        .sql(&format!("SELECT id FROM events WHERE {cond} ORDER BY id"))
        .await;
    rows.into_iter().map(|r| r.0).collect()
}

backends!(the_accounts_events_stay_in_scope);
async fn the_accounts_events_stay_in_scope(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let sims = r1_sims(&app, &fx).await;
    let manager = fx.token("C1A", Manager).to_string();
    let mut body = device("ev-dev");
    body["sim"] = json!({"id": sims[0]});
    body["tags"] = json!("blue");
    let mine = create(&app, &manager, body).await;
    let theirs = create(&app, fx.token("C2A", Manager), device("other")).await;
    let c1a = fx.org("C1A").id;

    // A customer sees its org's events, all of them, and nothing else.
    let (ids, total) = listed(&app, &manager, "").await;
    assert_eq!(ids, ids_where(&app, &format!("org_id = {c1a}")).await);
    assert_eq!(total, ids.len() as i64);
    assert!(!ids.is_empty());
    // Filters resolve within the scope.
    let of_mine = ids_where(&app, &format!("endpoint_id = {mine}")).await;
    assert!(!of_mine.is_empty());
    assert_eq!(listed(&app, &manager, "endpoint:ev-dev").await.0, of_mine);
    assert_eq!(
        listed(&app, &manager, "endpoint:nothing|ev-dev").await.0,
        of_mine
    );
    assert_eq!(listed(&app, &manager, "tags:blu").await.0, of_mine);
    assert_eq!(listed(&app, &manager, "endpoint:other").await, (vec![], 0));
    let icc: Vec<(String,)> = app
        .sql(&format!("SELECT iccid FROM sims WHERE id = {}", sims[0]))
        .await;
    let of_sim = ids_where(&app, &format!("sim_id = {} AND org_id = {c1a}", sims[0])).await;
    assert!(!of_sim.is_empty());
    assert_eq!(
        listed(&app, &manager, &format!("iccid:{}", icc[0].0))
            .await
            .0,
        of_sim
    );
    let by_user = ids_where(
        &app,
        &format!(
            "user_id = {} AND org_id = {c1a}",
            fx.user("C1A", Manager).id
        ),
    )
    .await;
    let name = fx.user("C1A", Manager).name.to_uppercase();
    assert_eq!(
        listed(&app, &manager, &format!("user:{name}")).await.0,
        by_user
    );
    assert_eq!(
        listed(
            &app,
            &manager,
            &format!("organisation:{}", fx.org("C1A").name)
        )
        .await
        .0,
        ids
    );
    assert_eq!(
        listed(&app, &manager, "type:1008").await.0,
        ids_where(&app, &format!("org_id = {c1a} AND type_id = 1008")).await
    );
    // Bad filters: 1301.
    for bad in [
        "endpoint:a|b|c|d|e|f|g",
        "bogus:1",
        "endpoint:",
        "from:2026-01-01T00:00:00Z",
    ] {
        let enc: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        let r = app.get(&format!("/api/v1/event?q={enc}"), &manager).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert_eq!(r.body["error_code"], 1301, "{bad}");
    }
    // A reseller sees its subtree's, never another tenant's; the ADMIN sees them all.
    let r1 = listed(&app, fx.token("R1", ResellerAdmin), "").await.0;
    assert!(of_mine.iter().all(|id| r1.contains(id)));
    let of_theirs = ids_where(&app, &format!("endpoint_id = {theirs}")).await;
    assert!(!of_theirs.is_empty());
    assert!(of_theirs.iter().all(|id| !r1.contains(id)));
    assert_eq!(
        listed(&app, fx.token("R1", ResellerAdmin), "endpoint:other")
            .await
            .1,
        0
    );
    let all = listed(&app, fx.token("PLATFORM", Admin), "").await;
    assert_eq!(all.1, ids_where(&app, "1 = 1").await.len() as i64);

    // Sorted by a device's, a SIM's, an org's fields: rows without one last, ties newest first.
    let sorted = |sort: &'static str, token: String| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/event?per_page=2500&sort={sort}"), &token)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{sort}: {}", r.text);
            assert_eq!(
                r.headers["x-total-count"],
                r.body.as_array().unwrap().len().to_string()
            );
            r.body
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let by_device = sorted("endpoint", manager.clone()).await;
    let (with, without): (Vec<i64>, Vec<i64>) =
        by_device.iter().partition(|id| of_mine.contains(id));
    assert_eq!(
        by_device,
        [with.clone(), without.clone()].concat(),
        "the device's first"
    );
    assert!(with.windows(2).all(|w| w[0] > w[1]) && without.windows(2).all(|w| w[0] > w[1]));
    let by_iccid = sorted("-iccid", manager.clone()).await;
    assert_eq!(
        &by_iccid[..of_sim.len()],
        of_sim.iter().rev().copied().collect::<Vec<_>>()
    );
    let r1_by_org = sorted(
        "organisation,-id",
        fx.token("R1", ResellerAdmin).to_string(),
    )
    .await;
    let mut expected = r1.clone();
    expected.sort_unstable();
    let mut got = r1_by_org.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "the same events, another order");
    for token in [manager.clone(), fx.token("R1", ResellerAdmin).to_string()] {
        for sort in ["tags", "-ip_address", "imsi", "user"] {
            assert_eq!(
                sorted(sort, token.clone()).await.len(),
                listed(&app, &token, "").await.0.len()
            );
        }
    }
    for bad in ["imei", "iccid_with_luhn", "nope"] {
        let r = app
            .get(&format!("/api/v1/event?sort={bad}"), &manager)
            .await;
        assert_eq!(r.body["error_code"], 1302, "{bad}: {}", r.text);
    }
    let r = app
        .get(
            &format!("/api/v1/endpoint/{mine}/event?sort=iccid"),
            &manager,
        )
        .await;
    assert_eq!(
        r.body["error_code"], 1302,
        "a device's own events sort as a SIM's: {}",
        r.text
    );

    // The types: every one simgate writes, by id, in emnify's words where emnify has them.
    let r = app.get("/api/v1/event/type", &manager).await;
    assert_eq!(r.status, StatusCode::OK);
    let types = r.body.as_array().unwrap();
    assert!(types.contains(&json!({"id": 8, "description": "SIM activation"})));
    assert!(types.contains(&json!({"id": 1008, "description": "Endpoint created"})));
    assert!(types.contains(&json!({"id": 19, "description": "Quota used up"})));
    let ids: Vec<i64> = types.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let written: Vec<(i64,)> = app
        .sql("SELECT DISTINCT CAST(type_id AS BIGINT) FROM events")
        .await;
    assert!(written.iter().all(|(t,)| ids.contains(t)), "{written:?}");
}
