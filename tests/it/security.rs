//! Tenant isolation and hostile input (issue 11): objects reached through other objects, SIMs that
//! change hands, peers, credentials that end, login throttling, inputs no backend stores alike,
//! one row per physical SIM.

use crate::common::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use serde_json::{json, Value};
use simgate::auth::password::sha1_hex;
use simgate::domain::access::AccessLevel::*;

async fn import_at(app: &TestApp, fx: &Fixture, org: &str, start: u64, n: u64) {
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .post(
            "/sim",
            admin,
            json!({"data": sim_lines(start, n, "NANO", "TDC", false), "inStorageAt": fx.org(org).oid}),
        )
        .await;
    assert_eq!(r.body["imported"], n, "{}: {}", app.backend, r.text);
}

/// The emnify id of a SIM, as ADMIN sees it.
async fn sim_id(app: &TestApp, fx: &Fixture, iccid: &str) -> i64 {
    let r = app
        .get(
            &format!("/api/v1/sim?q=iccid:{iccid}"),
            fx.token("PLATFORM", Admin),
        )
        .await;
    r.body[0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no SIM {iccid}: {}", r.text))
}

async fn jwt(app: &TestApp, body: Value) -> Resp {
    app.request(Method::POST, "/api/v1/authenticate", None, Some(body))
        .await
}

async fn rate_plan(app: &TestApp, fx: &Fixture) -> String {
    let r = app
        .post(
            "/admin/v1/rate-plans",
            fx.token("PLATFORM", Admin),
            json!({"name": "Plan"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["oid"].as_str().unwrap().to_string()
}

backends!(a_batch_exists_only_inside_its_issuers_subtree);
async fn a_batch_exists_only_inside_its_issuers_subtree(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let sims: Vec<Value> = (0..3).map(|i| json!({"iccid": icc(500 + i)})).collect();
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "R1-BATCH", "issuer_org": fx.org("R1").id, "sims": sims}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Another tenant: validate and register answer as for an unknown BIC (404 1201).
    for token in [fx.token("R2", ResellerAdmin), fx.token("C2A", Owner)] {
        let unknown = app.get("/api/v1/sim_batch/bic/NO-SUCH", token).await;
        unknown.assert_emnify_error(404, 1201);
        let foreign = app.get("/api/v1/sim_batch/bic/R1-BATCH", token).await;
        foreign.assert_emnify_error(404, 1201);
        assert_eq!(
            foreign.body["message"]
                .as_str()
                .unwrap()
                .replace("R1-BATCH", "X"),
            unknown.body["message"]
                .as_str()
                .unwrap()
                .replace("NO-SUCH", "X"),
            "the same answer as an unknown BIC"
        );
        app.patch("/api/v1/sim_batch/bic/R1-BATCH", token, json!({"id": 1}))
            .await
            .assert_emnify_error(404, 1201);
        app.patch("/api/v1/sim_batch/bic/NO-SUCH", token, json!({"id": 1}))
            .await
            .assert_emnify_error(404, 1201);
    }
    // Nothing of the batch moved.
    let still: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM sims WHERE reseller_org_id IS NULL AND customer_org_id IS NULL")
        .await;
    assert_eq!(still[0].0, 3);
    // Inside the issuer's subtree (a sub-reseller's customer) it exists and registers.
    let c1sa = fx.token("C1SA", Owner);
    let ok = app.get("/api/v1/sim_batch/bic/R1-BATCH", c1sa).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let reg = app
        .patch("/api/v1/sim_batch/bic/R1-BATCH", c1sa, json!({"id": 1}))
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    assert_eq!(reg.body["sim"].as_array().unwrap().len(), 3);
    assert_counters_match(&app).await;
}

backends!(a_sims_history_names_no_user_or_org_of_a_previous_tenant);
async fn a_sims_history_names_no_user_or_org_of_a_previous_tenant(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_at(&app, &fx, "C1A", 0, 1).await;
    let id = sim_id(&app, &fx, &icc(0)).await;
    // R1's customer activates it; then the platform moves it to R2's customer.
    let r = app
        .patch(
            &format!("/api/v1/sim/{id}"),
            fx.token("C1A", Owner),
            json!({"status": {"id": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/sim/{id}"),
            admin,
            json!({"reseller_org": {"id": fx.org("R2").id}, "customer_org": {"id": fx.org("C2A").id}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/sim/{id}"),
            fx.token("C2A", Owner),
            json!({"status": {"id": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let c1a_owner = fx.user("C1A", Owner);
    let c2a_owner = fx.user("C2A", Owner);
    let staff = &fx.user("PLATFORM", Admin).email;
    // ADMIN sees everything (so the assertions below can fail).
    let all = app.get(&format!("/api/v1/sim/{id}/event"), admin).await;
    assert!(
        all.text.contains(&c1a_owner.email) && all.text.contains(staff.as_str()),
        "{}",
        all.text
    );
    // The new holder sees every event, but no user or org of R1's side, nor the platform's staff.
    let seen = app
        .get(&format!("/api/v1/sim/{id}/event"), fx.token("C2A", Owner))
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(
        seen.body.as_array().unwrap().len(),
        all.body.as_array().unwrap().len()
    );
    assert_eq!(seen.headers["x-total-count"], all.headers["x-total-count"]);
    for secret in [
        &c1a_owner.email,
        &c1a_owner.name,
        "C1A org",
        "R1 org",
        staff,
    ] {
        assert!(
            !seen.text.contains(secret),
            "{}: {secret} in {}",
            app.backend,
            seen.text
        );
    }
    assert!(
        seen.text.contains(&c2a_owner.email),
        "its own users stay named"
    );
    let moved = seen
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["detail"]["transition"]["sim"]["reseller_org"].is_object())
        .expect("the org change event");
    let change = &moved["detail"]["transition"]["sim"];
    assert_eq!(
        change["reseller_org"]["from"],
        Value::Null,
        "R1's id is not shown"
    );
    assert_eq!(change["reseller_org"]["to"], fx.org("R2").id);
    assert_eq!(
        moved["organisation"]["id"],
        fx.org("PLATFORM").id,
        "staff show as the platform"
    );
    assert!(moved.get("user").is_none(), "{moved}");
    // The previous holder no longer sees the SIM or its history.
    let gone = app
        .get(&format!("/api/v1/sim/{id}/event"), fx.token("C1A", Owner))
        .await;
    assert_eq!(gone.body, json!([]));
}

backends!(a_sim_in_use_stays_in_its_holders_tenant);
async fn a_sim_in_use_stays_in_its_holders_tenant(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_at(&app, &fx, "C1A", 0, 1).await;
    let plan = rate_plan(&app, &fx).await;
    let r = app
        .post(
            "/mvno",
            fx.token("C1A", Owner),
            json!({"customer": fx.org("C1A").oid, "number": "+4512345678", "ratePlan": plan, "simNumber": icc(0)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let account = r.body["_id"].as_str().unwrap().to_string();
    let id = sim_id(&app, &fx, &icc(0)).await;
    for body in [
        json!({"reseller_org": {"id": fx.org("R2").id}}),
        json!({"customer_org": {"id": fx.org("C2A").id}}),
    ] {
        let r = app.patch(&format!("/api/v1/sim/{id}"), admin, body).await;
        r.assert_emnify_error(409, 1409);
        assert!(r.text.contains(&account), "names the account: {}", r.text);
    }
    // Within the tenant it may move.
    let r = app
        .patch(
            &format!("/api/v1/sim/{id}"),
            admin,
            json!({"reseller_org": {"id": fx.org("R1S").id}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // R2 never got the subscriber's SIM.
    let r2 = app
        .get(&format!("/api/v1/sim/{id}"), fx.token("R2", ResellerAdmin))
        .await;
    r2.assert_emnify_error(404, 1201);
    assert_counters_match(&app).await;
}

backends!(managing_a_user_needs_a_level_above_it);
async fn managing_a_user_needs_a_level_above_it(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let r = app
        .post(
            "/admin/v1/users",
            admin,
            json!({
                "org": fx.org("R1").id, "email": "ra2@r1.test", "name": "RA2", "password": "first-password-1",
                "access_level": "RESELLER_ADMIN"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let peer = r.body["id"].as_i64().unwrap();
    let peer_oid = r.body["oid"].as_str().unwrap().to_string();
    let ra = fx.token("R1", ResellerAdmin);
    for body in [
        json!({"password": "taken-over-pass-1"}),
        json!({"state": "DISABLED"}),
        json!({"access_level": "RESELLER"}),
    ] {
        app.patch(&format!("/admin/v1/users/{peer}"), ra, body)
            .await
            .assert_telecomx_error(403, "id");
    }
    app.post(&format!("/admin/v1/users/{peer}/tokens"), ra, json!({}))
        .await
        .assert_telecomx_error(403, "id");
    app.post(&format!("/employee/{peer_oid}/token"), ra, json!({}))
        .await
        .assert_telecomx_error(403, "id");
    // A level below is managed; so is oneself; ADMIN manages anyone.
    let below = fx.user("R1", Reseller).id;
    let r = app
        .patch(
            &format!("/admin/v1/users/{below}"),
            ra,
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let own = fx.user("R1", ResellerAdmin).id;
    let r = app
        .patch(&format!("/admin/v1/users/{own}"), ra, json!({"name": "Me"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .patch(
            &format!("/admin/v1/users/{peer}"),
            admin,
            json!({"state": "DISABLED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Tokens: for oneself, and for a level below; not for a peer.
    let manager = fx.user("C1A", Manager).oid.clone();
    for token in [fx.token("C1A", Manager), fx.token("C1A", Owner)] {
        let r = app
            .post(&format!("/employee/{manager}/token"), token, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let owner = fx.user("C1A", Owner).oid.clone();
    app.post(
        &format!("/employee/{owner}/token"),
        fx.token("C1A", Manager),
        json!({}),
    )
    .await
    .assert_telecomx_error(403, "id");
}

backends!(a_password_change_or_disable_ends_sessions_jwts_and_refresh_tokens);
async fn a_password_change_or_disable_ends_sessions_jwts_and_refresh_tokens(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let user = fx.user("C1A", Manager).clone();
    let app_token = fx.token("C1A", Manager).to_string();
    let session = app.login(&user.email, USER_PASSWORD).await;
    let pair = jwt(
        &app,
        json!({"username": user.email, "password": sha1_hex(USER_PASSWORD)}),
    )
    .await;
    assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
    let (user_jwt, refresh) = (
        pair.body["auth_token"].as_str().unwrap().to_string(),
        pair.body["refresh_token"].as_str().unwrap().to_string(),
    );
    let app_jwt = jwt(&app, json!({"application_token": app_token}))
        .await
        .body["auth_token"]
        .as_str()
        .unwrap()
        .to_string();
    let works = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/sim", &token).await.status }
    };
    for t in [&session, &user_jwt, &app_jwt, &app_token] {
        assert_eq!(works(t.clone()).await, StatusCode::OK);
    }
    app.clock.advance(Duration::seconds(1));
    let r = app
        .patch(
            &format!("/admin/v1/users/{}", user.id),
            admin,
            json!({"password": "a-new-password-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for t in [&session, &user_jwt] {
        assert_eq!(
            works(t.clone()).await,
            StatusCode::UNAUTHORIZED,
            "{}",
            app.backend
        );
    }
    jwt(&app, json!({"refresh_token": refresh}))
        .await
        .assert_emnify_error(401, 1101);
    // API tokens (and their JWTs) stay valid unless revoked.
    for t in [&app_jwt, &app_token] {
        assert_eq!(works(t.clone()).await, StatusCode::OK);
    }
    app.clock.advance(Duration::seconds(1));
    let fresh = jwt(
        &app,
        json!({"username": user.email, "password": sha1_hex("a-new-password-1")}),
    )
    .await;
    let fresh = fresh.body["auth_token"].as_str().unwrap().to_string();
    assert_eq!(works(fresh.clone()).await, StatusCode::OK);
    // A disable ends it; a re-enable does not bring it back, but API tokens work again.
    app.clock.advance(Duration::seconds(1));
    let set = |state: &'static str| {
        let app = &app;
        let path = format!("/admin/v1/users/{}", user.id);
        async move {
            app.patch(&path, admin, json!({"state": state}))
                .await
                .status
        }
    };
    assert_eq!(set("DISABLED").await, StatusCode::OK);
    assert_eq!(works(fresh.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(works(app_token.clone()).await, StatusCode::UNAUTHORIZED);
    app.clock.advance(Duration::seconds(1));
    assert_eq!(set("ENABLED").await, StatusCode::OK);
    assert_eq!(works(fresh).await, StatusCode::UNAUTHORIZED);
    assert_eq!(works(app_token).await, StatusCode::OK);
}

/// A login request from a given client address.
async fn login_from(app: &TestApp, ip: Option<&str>, email: &str, password: &str) -> Resp {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/auth/login")
        .header("content-type", "application/json");
    if let Some(ip) = ip {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        req = req.extension(ConnectInfo(addr));
    }
    let body = json!({"username": email, "password": password}).to_string();
    app.send(req.body(Body::from(body)).unwrap()).await
}

backends!(
    failed_logins_are_throttled_per_user_and_per_address,
    tweak = |c| c.auth.login_failures_per_address = 15
);
async fn failed_logins_are_throttled_per_user_and_per_address(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let victim = fx.user("C1A", Owner).email.clone();
    for _ in 0..10 {
        login_from(&app, None, &victim, "wrong-password")
            .await
            .assert_telecomx_error(401, "credentials_invalid");
    }
    // The right password no longer helps, in either dialect, until the window has passed.
    let r = login_from(&app, None, &victim, USER_PASSWORD).await;
    r.assert_telecomx_error(429, "too_many_requests");
    let retry: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let e = jwt(
        &app,
        json!({"username": victim, "password": sha1_hex(USER_PASSWORD)}),
    )
    .await;
    e.assert_emnify_error(429, 1105);
    assert!(e.headers.contains_key("retry-after"));
    // Other users are unaffected.
    let other = fx.user("C1A", Manager).email.clone();
    assert_eq!(
        login_from(&app, None, &other, USER_PASSWORD).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        login_from(&app, None, &victim, USER_PASSWORD).await.status,
        StatusCode::OK
    );
    // Per address: 15 failures over many usernames from one address close it to everyone,
    // while another address still gets in.
    for i in 0..15 {
        let r = login_from(&app, Some("10.0.0.1"), &format!("guess{i}@x.test"), "nope").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    login_from(&app, Some("10.0.0.1"), &other, USER_PASSWORD)
        .await
        .assert_telecomx_error(429, "too_many_requests");
    assert_eq!(
        login_from(&app, Some("10.0.0.2"), &other, USER_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    assert!(
        metrics.text.contains("simgate_login_throttled_total"),
        "{}",
        metrics.text
    );
}

backends!(
    concurrent_failed_logins_all_count,
    multi_thread,
    tweak = |c| c.auth.login_failures_per_user = 1000
);
/// Concurrent failed logins all count (one atomic upsert each): a burst cannot slip past the limit.
async fn concurrent_failed_logins_all_count(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let app = app.clone();
            let ip = format!("10.1.0.{}", i % 3);
            tokio::spawn(async move {
                login_from(&app, Some(&ip), "burst@x.test", "wrong")
                    .await
                    .status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let mut rows: Vec<(String, i64)> = app
        .sql("SELECT key, CAST(failures AS BIGINT) FROM login_failures ORDER BY key")
        .await;
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("ip:10.1.0.0".to_string(), 8),
            ("ip:10.1.0.1".to_string(), 8),
            ("ip:10.1.0.2".to_string(), 8),
            ("user:burst@x.test".to_string(), 24),
        ],
        "{}",
        app.backend
    );
}

#[path = "security/hostile.rs"]
mod hostile;
#[path = "security/probe.rs"]
mod probe;

/// Every log line written while a capture is open, at every level. One global subscriber for the
/// whole binary (a thread-local one loses events to the callsite cache when other tests run beside
/// it); its filter is asked per event and lets nothing through while no capture is open, so the
/// other tests pay nothing for it.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

static OPEN_CAPTURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// The global capture, installed on first use; open while the guard lives. Returns where the
    /// buffer stood.
    fn open() -> (Capture, usize, CaptureGuard) {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::Layer;
        static GLOBAL: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
        let capture = GLOBAL
            .get_or_init(|| {
                let capture = Capture::default();
                let writer = capture.clone();
                let layer = tracing_subscriber::fmt::layer()
                    .with_writer(move || writer.clone())
                    .with_filter(tracing_subscriber::filter::filter_fn(|_| {
                        OPEN_CAPTURES.load(std::sync::atomic::Ordering::SeqCst) > 0
                    }));
                tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                    .expect("the only global subscriber of this binary");
                capture
            })
            .clone();
        OPEN_CAPTURES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let from = capture.0.lock().unwrap().len();
        (capture, from, CaptureGuard)
    }

    fn since(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()[from..]).into_owned()
    }
}

struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        OPEN_CAPTURES.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

backends!(secrets_never_reach_a_log_line);
async fn secrets_never_reach_a_log_line(app: TestApp) {
    let (capture, from, _open) = Capture::open();
    let fx = Fixture::build(&app).await;
    let owner = fx.token("C1A", Owner);
    let target = fx.user("C1A", Viewer).oid.clone();
    let r = app
        .post(&format!("/employee/{target}/token"), owner, json!({}))
        .await;
    let secret = r.body["token"].as_str().unwrap().to_string();
    let r = app
        .delete(&format!("/employee/{target}/token/{secret}"), owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let session = app.login(&fx.user("C1A", Owner).email, USER_PASSWORD).await;
    app.get(&format!("/auth/validateToken?token={session}"), &session)
        .await;
    let logged = capture.since(from);
    assert!(
        logged.contains("/employee/"),
        "the requests were logged: {logged}"
    );
    for s in [&secret, &session, owner, USER_PASSWORD] {
        assert!(!logged.contains(s), "{}: a secret in the log", app.backend);
    }
}
