//! emnify SIM changes: status transitions, and org changes by relation and org type.

use crate::common::*;
use crate::emnify_sims::{batches, sim_ids};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

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
    assert_counters_match(&app).await;
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
    assert_counters_match(&app).await;
}
