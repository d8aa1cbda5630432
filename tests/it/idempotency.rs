//! Idempotency keys (issue 12): a write sent with `Idempotency-Key` runs once per user and key; its
//! repeats get the first answer again, on every backend and in both dialects and the admin API.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;
use simgate::domain::idempotency::{fingerprint, key_hash};
use simgate::store::{Claimed, IdempotencyClaim};
use std::sync::Arc;

fn replayed(r: &Resp) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    key: &str,
    body: Option<Value>,
) -> Resp {
    app.request_with(method, path, Some(token), &[("idempotency-key", key)], body)
        .await
}

/// A rate plan created under an idempotency key (rate plan names need not be unique).
async fn plan(app: &TestApp, token: &str, key: &str, name: &str) -> Resp {
    keyed(
        app,
        Method::POST,
        "/admin/v1/rate-plans",
        token,
        key,
        Some(json!({ "name": name })),
    )
    .await
}

async fn plans_named(app: &TestApp, name: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) FROM rate_plans WHERE name = '{name}'"),
    )
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql::<(i64,)>(sql).await[0].0
}

backends!(a_repeated_request_runs_once_and_gets_the_first_answer);
/// Each dialect and the admin API: the repeat is answered from the first run, byte for byte, and
/// nothing runs twice. Error answers are kept too.
async fn a_repeated_request_runs_once_and_gets_the_first_answer(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    // TelecomX import.
    let import = json!({"data": sim_lines(0, 2, "NANO", "TDC", false)});
    let first = keyed(
        &app,
        Method::POST,
        "/sim",
        &admin,
        "import-1",
        Some(import.clone()),
    )
    .await;
    assert_eq!(first.body["imported"], 2, "{}", first.text);
    assert!(!replayed(&first));
    let again = keyed(
        &app,
        Method::POST,
        "/sim",
        &admin,
        "import-1",
        Some(import.clone()),
    )
    .await;
    assert_eq!((again.status, &again.text), (first.status, &first.text));
    assert_eq!(again.headers["content-type"], first.headers["content-type"]);
    assert!(replayed(&again), "{}", app.backend);
    // Without the key the same import runs and finds the SIMs there.
    let plain = app.post("/sim", &admin, import).await;
    assert_eq!(plain.body["imported"], 0, "{}", plain.text);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sims").await, 2);
    // The admin API: one rate plan, the same one in both answers.
    let a = plan(&app, &admin, "plan-1", "Idem").await;
    let b = plan(&app, &admin, "plan-1", "Idem").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!((b.status, &b.body["oid"]), (a.status, &a.body["oid"]));
    assert!(replayed(&b));
    assert_eq!(plans_named(&app, "Idem").await, 1);
    // emnify: a PATCH, repeated after another change, does not undo that change.
    let id = app.get("/api/v1/sim", &admin).await.body[0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/sim/{id}");
    let activate = Some(json!({"status": {"id": 1}}));
    let r = keyed(
        &app,
        Method::PATCH,
        &path,
        &admin,
        "patch-1",
        activate.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.patch(&path, &admin, json!({"status": {"id": 2}})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = keyed(&app, Method::PATCH, &path, &admin, "patch-1", activate).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(replayed(&r));
    assert_eq!(app.get(&path, &admin).await.body["status"]["id"], 2);
    // A refused request is answered the same again (and still changed nothing).
    let bad = json!({"customer": fx.org("C1A").oid, "number": "not a number"});
    let a = keyed(
        &app,
        Method::POST,
        "/mvno",
        &admin,
        "bad-1",
        Some(bad.clone()),
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.text);
    let b = keyed(&app, Method::POST, "/mvno", &admin, "bad-1", Some(bad)).await;
    assert_eq!((b.status, &b.text), (a.status, &a.text));
    assert!(replayed(&b));
    // Reads ignore the header.
    let r = keyed(&app, Method::GET, "/sim", &admin, "import-1", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!replayed(&r));
}

backends!(a_key_used_for_another_request_is_422);
/// The same key for a different request is refused in the dialect's envelope, and runs nothing.
async fn a_key_used_for_another_request_is_422(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r = plan(&app, &admin, "k", "A").await;
    assert_eq!(r.status, StatusCode::CREATED);
    plan(&app, &admin, "k", "B")
        .await
        .assert_telecomx_error(422, "idempotency_key_reused");
    keyed(
        &app,
        Method::POST,
        "/sim",
        &admin,
        "k",
        Some(json!({"data": sim_lines(0, 1, "NANO", "TDC", false)})),
    )
    .await
    .assert_telecomx_error(422, "idempotency_key_reused");
    keyed(
        &app,
        Method::PATCH,
        "/api/v1/sim/1",
        &admin,
        "k",
        Some(json!({"status": {"id": 1}})),
    )
    .await
    .assert_emnify_error(422, 1422);
    assert_eq!(plans_named(&app, "B").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sims").await, 0);
}

backends!(keys_belong_to_their_user);
/// Keys belong to their user: another user's identical request with the same key runs.
async fn keys_belong_to_their_user(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let reseller = fx.token("R1", ResellerAdmin).to_string();
    let a = plan(&app, &admin, "same", "Shared").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let b = plan(&app, &reseller, "same", "Shared").await;
    assert!(!replayed(&b), "{}", b.text);
    assert_ne!(b.body["oid"], a.body["oid"]);
}

backends!(a_repeat_while_the_first_runs_is_409);
/// A repeat while the first run holds the key is 409; once the key is given up the request runs.
async fn a_repeat_while_the_first_runs_is_409(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let user_id = fx.user("PLATFORM", Admin).id;
    let body = json!({"name": "Busy"});
    let hash = key_hash(b"busy").unwrap();
    let print = fingerprint("POST", "/admin/v1/rate-plans", body.to_string().as_bytes());
    let at = app.state.now();
    let claim = IdempotencyClaim {
        user_id,
        key_hash: &hash,
        fingerprint: &print,
        at,
        expired_before: at - chrono::Duration::days(1),
        abandoned_before: at - chrono::Duration::minutes(2),
    };
    assert_eq!(
        app.state.store.idempotency_claim(&claim).await.unwrap(),
        Claimed::Started
    );
    plan(&app, &admin, "busy", "Busy")
        .await
        .assert_telecomx_error(409, "idempotency_key_in_use");
    keyed(
        &app,
        Method::POST,
        "/api/v1/sim/1",
        &admin,
        "busy",
        Some(body.clone()),
    )
    .await
    .assert_emnify_error(422, 1422);
    assert_eq!(plans_named(&app, "Busy").await, 0);
    // A run that never finished is abandoned after the request time-out and a minute.
    app.clock.advance(chrono::Duration::seconds(
        app.config.http.request_timeout_secs as i64 + 61,
    ));
    let r = plan(&app, &admin, "busy", "Busy").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!replayed(&r));
}

backends!(concurrent_repeats_run_once, multi_thread);
/// Many identical keyed requests at once: one run; every answer is that run's or 409.
async fn concurrent_repeats_run_once(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let app = Arc::new(app);
    for round in 0..3 {
        let key = format!("race-{round}");
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (app, admin, key) = (app.clone(), admin.clone(), key.clone());
                tokio::spawn(async move { plan(&app, &admin, &key, "Race").await })
            })
            .collect();
        let mut oids = std::collections::HashSet::new();
        let mut ran = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status {
                StatusCode::CREATED => {
                    oids.insert(r.body["oid"].as_str().unwrap().to_string());
                    ran += usize::from(!replayed(&r));
                }
                _ => r.assert_telecomx_error(409, "idempotency_key_in_use"),
            }
        }
        assert_eq!((ran, oids.len()), (1, 1), "{} round {round}", app.backend);
    }
    assert_eq!(plans_named(&app, "Race").await, 3);
}

backends!(kept_answers_expire);
/// Past the keeping time the key is new again, and the maintenance job forgets it.
async fn kept_answers_expire(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let a = plan(&app, &admin, "old", "Old").await;
    app.clock.advance(chrono::Duration::seconds(
        app.config.http.idempotency_key_ttl_secs as i64 - 1,
    ));
    assert!(replayed(&plan(&app, &admin, "old", "Old").await));
    simgate::jobs::maintenance::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM idempotency_keys").await,
        1
    );
    app.clock.advance(chrono::Duration::seconds(2));
    simgate::jobs::maintenance::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM idempotency_keys").await,
        0
    );
    let b = plan(&app, &admin, "old", "Old").await;
    assert!(!replayed(&b));
    assert_ne!(b.body["oid"], a.body["oid"]);
}

backends!(malformed_keys_are_400);
/// Keys that are not 1-255 visible characters are 400 in the dialect's envelope.
async fn malformed_keys_are_400(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let long = "k".repeat(256);
    for key in [long.as_str(), "   "] {
        plan(&app, &admin, key, "X")
            .await
            .assert_telecomx_error(400, "idempotency_key");
        keyed(
            &app,
            Method::PATCH,
            "/api/v1/sim/1",
            &admin,
            key,
            Some(json!({})),
        )
        .await
        .assert_emnify_error(400, 1000);
    }
    assert_eq!(plans_named(&app, "X").await, 0);
}

backends!(credentials_are_never_kept);
/// Answers that carry a credential are never stored; a login authenticates no one beforehand.
async fn credentials_are_never_kept(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let user = fx.user("C1A", Viewer).id;
    let path = format!("/admin/v1/users/{user}/tokens");
    let a = keyed(
        &app,
        Method::POST,
        &path,
        &admin,
        "tok",
        Some(json!({"label": "t"})),
    )
    .await;
    let b = keyed(
        &app,
        Method::POST,
        &path,
        &admin,
        "tok",
        Some(json!({"label": "t"})),
    )
    .await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{}",
        a.text
    );
    assert_eq!(a.headers["cache-control"], "no-store");
    assert!(!replayed(&b));
    assert_ne!(a.body["token"], b.body["token"]);
    let login = json!({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let r = keyed(
        &app,
        Method::POST,
        "/auth/login",
        "None",
        "login",
        Some(login),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM idempotency_keys").await,
        0
    );
}
