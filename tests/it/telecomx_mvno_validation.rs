//! TelecomX MVNO accounts: what create and update accept and refuse.

use crate::common::*;
use crate::telecomx_mvno::{create, create_ok, world};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

backends!(create_and_update_validation);
async fn create_and_update_validation(app: TestApp) {
    let w = world(&app).await;
    let ra = w.fx.token("R1", ResellerAdmin);
    let bad = |body: Value| {
        let app = &app;
        async move { create(app, ra, body).await }
    };
    bad(w.body("C1A", "4512345678", json!({"autoAssign": true})))
        .await
        .assert_telecomx_error(422, "number");
    bad(w.body("C1A", "+45 1234", json!({"autoAssign": true})))
        .await
        .assert_telecomx_error(422, "number");
    bad(w.body("C1A", "+4512345678", json!({})))
        .await
        .assert_telecomx_error(422, "sim");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "eSim": true}),
    ))
    .await
    .assert_telecomx_error(422, "sim");
    bad(w.body("C1A", "+4512345678", json!({"simNumber": icc(40)})))
        .await
        .assert_telecomx_error(404, "sim");
    bad(w.body("C1A", "+4512345678", json!({"simNumber": icc(999)})))
        .await
        .assert_telecomx_error(404, "sim");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "feature": {"warp": true}}),
    ))
    .await
    .assert_telecomx_error(422, "feature");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "imei": "12"}),
    ))
    .await
    .assert_telecomx_error(422, "imei");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "startDate": "soon"}),
    ))
    .await
    .assert_telecomx_error(422, "startDate");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "employee": w.fx.user("C1B", Owner).oid}),
    ))
    .await
    .assert_telecomx_error(422, "employee");
    bad(w.body(
        "C1A",
        "+4512345678",
        json!({"autoAssign": true, "colour": "red"}),
    ))
    .await
    .assert_telecomx_error(422, "colour");
    let mut no_plan = w.body("C1A", "+4512345678", json!({"autoAssign": true}));
    no_plan["ratePlan"] = json!("ffffffffffffffffffffffff");
    bad(no_plan).await.assert_telecomx_error(404, "ratePlan");
    // A plan owned by another reseller is not offered here.
    let theirs = app
        .post(
            "/admin/v1/rate-plans",
            w.fx.token("PLATFORM", Admin),
            json!({"name": "R2 only", "owner_org": w.fx.org("R2").id}),
        )
        .await;
    let mut foreign = w.body("C1A", "+4512345678", json!({"autoAssign": true}));
    foreign["ratePlan"] = theirs.body["oid"].clone();
    bad(foreign).await.assert_telecomx_error(404, "ratePlan");
    let mut customer = w.body("C1A", "+4512345678", json!({"autoAssign": true}));
    customer["customer"] = json!(w.fx.org("C2A").oid);
    bad(customer).await.assert_telecomx_error(422, "customer");
    // Out of eSIMs: C2A's chain (C2A, R2) holds 5.
    let r2 = w.fx.token("R2", ResellerAdmin);
    for i in 0..5 {
        create_ok(
            &app,
            r2,
            w.body("C2A", &format!("+4550000{i:03}"), json!({"eSim": true})),
        )
        .await;
    }
    let out = create(
        &app,
        r2,
        w.body("C2A", "+4550000999", json!({"eSim": true})),
    )
    .await;
    out.assert_telecomx_error(404, "esim");
    assert_eq!(out.body["error"]["message"], "Out of eSim - none available");
    // A SIM stored at the customer itself is preferred over the reseller's stock; a named one works.
    let own = create_ok(&app, ra, w.body("C1A", "+4551000000", json!({
        "simNumber": icc(32), "employee": w.fx.user("C1A", Viewer).oid, "imei": "490154203237518",
        "startDate": "2026-04-01", "feature": {"mms": true}
    }))).await;
    let acc = app.get(&format!("/mvno/{own}"), ra).await;
    assert_eq!(acc.body["simNumber"], icc(32));
    assert_eq!(acc.body["employee"], w.fx.user("C1A", Viewer).oid);
    assert_eq!(acc.body["employeeName"], "C1A VIEWER");
    assert_eq!(acc.body["startDate"], "2026-04-01T00:00:00.000Z");
    assert_eq!(acc.body["feature"]["mms"], true);

    // Updates.
    let path = format!("/mvno/{own}");
    assert_eq!(app.post(&path, ra, json!({
        "state": "BLOCKED", "feature": {"roaming": false}, "deviceType": "Pixel", "dataDisabled": true,
        "name": null
    })).await.status, StatusCode::OK);
    let acc = app.get(&path, ra).await;
    assert_eq!(
        (
            acc.body["state"].as_str(),
            acc.body["feature"]["roaming"].as_bool(),
            acc.body["feature"]["mms"].as_bool()
        ),
        (Some("BLOCKED"), Some(false), Some(true))
    );
    assert_eq!(
        (
            acc.body["deviceType"].as_str(),
            acc.body["dataDisabled"].as_bool()
        ),
        (Some("Pixel"), Some(true))
    );
    assert_eq!(
        app.get("/mvno?filter=pixel", ra).await.body["total"],
        1,
        "the filter is case-insensitive"
    );
    assert_eq!(
        app.get(&format!("/mvno?ratePlan={}", w.plan), ra)
            .await
            .body["total"],
        1
    );
    assert_eq!(app.get("/mvno?network=TELIA", ra).await.body["total"], 0);
    app.post(&path, ra, json!({"state": "DELETED"}))
        .await
        .assert_telecomx_error(422, "state");
    app.post(&path, ra, json!({"number": "+4599999999"}))
        .await
        .assert_telecomx_error(422, "number");
    app.post(&path, ra, json!({"simNumber": icc(1)}))
        .await
        .assert_telecomx_error(422, "simNumber");
    app.post(&path, ra, json!({"imei": "x"}))
        .await
        .assert_telecomx_error(422, "imei");
    app.post(&path, ra, json!({"ratePlan": "ffffffffffffffffffffffff"}))
        .await
        .assert_telecomx_error(404, "ratePlan");
    app.post("/mvno/ffffffffffffffffffffffff", ra, json!({"notes": "x"}))
        .await
        .assert_telecomx_error(404, "not_found");
    app.delete(&path, ra).await;
    app.post(&path, ra, json!({"notes": "x"}))
        .await
        .assert_telecomx_error(409, "state");
    app.delete(&path, ra)
        .await
        .assert_telecomx_error(404, "not_found");
    app.get("/mvno?limit=0", ra)
        .await
        .assert_telecomx_error(422, "limit");
}
