//! Identity: TelecomX login/logout/validateToken/employee tokens and emnify authenticate, with
//! every 401 case of both contracts.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use serde_json::json;
use simgate::auth::password::sha1_hex;
use simgate::domain::access::AccessLevel::{self, *};

backends!(telecomx_login_answers_the_contract_shape);
async fn telecomx_login_answers_the_contract_shape(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let r = app
        .request(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": "c1a.owner@fixture.test", "password": USER_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["expiresInMinutes"], 15);
    assert_eq!(r.body["employee"], fx.user("C1A", Owner).oid);
    assert_eq!(r.body["customer"], fx.org("C1A").oid);
    assert_eq!(r.body["accessLevel"], "OWNER");
    let token = r.body["token"].as_str().unwrap();
    let v = app.get("/auth/validateToken", token).await;
    assert_eq!(
        v.body,
        json!({
            "success": true, "employee": fx.user("C1A", Owner).oid, "customer": fx.org("C1A").oid,
            "accessLevel": "OWNER"
        })
    );

    // GET with query parameters, username case-insensitive, persist=true.
    let r = app
        .request(
            Method::GET,
            &format!(
                "/auth/login?username=C1A.OWNER@fixture.test&password={USER_PASSWORD}&persist=true"
            ),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["expiresInMinutes"], -1);
}

backends!(telecomx_login_refuses_bad_credentials_disabled_and_no_login_users);
async fn telecomx_login_refuses_bad_credentials_disabled_and_no_login_users(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let login = |u: &str, p: &str| {
        let body = json!({"username": u, "password": p});
        let app = &app;
        async move {
            app.request(Method::POST, "/auth/login", None, Some(body))
                .await
        }
    };
    login("c1a.owner@fixture.test", "wrong-password")
        .await
        .assert_telecomx_error(401, "credentials_invalid");
    login("nobody@fixture.test", USER_PASSWORD)
        .await
        .assert_telecomx_error(401, "credentials_invalid");
    login("c1a.no_login@fixture.test", USER_PASSWORD)
        .await
        .assert_telecomx_error(401, "credentials_invalid");
    // Disable a user through the admin API: its login and its tokens stop working.
    let admin = app.admin_token().await;
    let victim = fx.user("C1A", Manager);
    let r = app
        .patch(
            &format!("/admin/v1/users/{}", victim.oid),
            &admin,
            json!({"state": "DISABLED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    login("c1a.manager@fixture.test", USER_PASSWORD)
        .await
        .assert_telecomx_error(401, "credentials_invalid");
    app.get("/auth/validateToken", fx.token("C1A", Manager))
        .await
        .assert_telecomx_error(401, "invalid_token");
    // Missing fields are 422 naming the field.
    app.request(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "x@y.z"})),
    )
    .await
    .assert_telecomx_error(422, "password");
}

backends!(telecomx_401_cases);
async fn telecomx_401_cases(app: TestApp) {
    Fixture::build(&app).await;
    // Missing token.
    app.request(Method::GET, "/auth/logout", None, None)
        .await
        .assert_telecomx_error(401, "credentials_invalid");
    // Malformed Authorization header.
    let req = Request::get("/auth/logout")
        .header("authorization", "Token abc")
        .body(Body::empty())
        .unwrap();
    app.send(req)
        .await
        .assert_telecomx_error(401, "format_error");
    // Unknown token, in the header or in ?token=.
    app.get("/auth/logout", "sg_unknown")
        .await
        .assert_telecomx_error(401, "invalid_token");
    app.request(
        Method::GET,
        "/auth/validateToken?token=sg_unknown",
        None,
        None,
    )
    .await
    .assert_telecomx_error(401, "invalid_token");
    // Expired: a session unused for longer than 15 minutes.
    let token = app.admin_token().await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        app.get("/auth/validateToken", &token).await.status,
        StatusCode::OK
    );
    // The expiry slides with use...
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        app.get("/auth/validateToken", &token).await.status,
        StatusCode::OK
    );
    // ...and ends 15 minutes after the last use.
    app.clock.advance(Duration::minutes(16));
    app.get("/auth/validateToken", &token)
        .await
        .assert_telecomx_error(401, "expired");
    // ?token= authenticates any route.
    let token = app.admin_token().await;
    let r = app
        .request(
            Method::GET,
            &format!("/admin/v1/organisations?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

backends!(logout_ends_sessions_but_not_api_tokens);
async fn logout_ends_sessions_but_not_api_tokens(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let s1 = app
        .login("r1.reseller_admin@fixture.test", USER_PASSWORD)
        .await;
    let s2 = app
        .login("r1.reseller_admin@fixture.test", USER_PASSWORD)
        .await;
    let api = fx.token("R1", ResellerAdmin);
    assert_eq!(
        app.get("/auth/logout", &s1).await.body,
        json!({"success": true})
    );
    app.get("/auth/validateToken", &s1)
        .await
        .assert_telecomx_error(401, "invalid_token");
    app.get("/auth/validateToken", &s2)
        .await
        .assert_telecomx_error(401, "invalid_token");
    assert_eq!(
        app.get("/auth/validateToken", api).await.status,
        StatusCode::OK
    );
    // Another user's session is untouched.
    let other = app
        .login("r2.reseller_admin@fixture.test", USER_PASSWORD)
        .await;
    app.get("/auth/logout", api).await;
    assert_eq!(
        app.get("/auth/validateToken", &other).await.status,
        StatusCode::OK
    );
}

backends!(employee_tokens_follow_level_and_scope);
async fn employee_tokens_follow_level_and_scope(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let path =
        |org: &str, level: AccessLevel| format!("/employee/{}/token", fx.user(org, level).oid);
    // Allowed: MANAGER/OWNER for their own org, reseller levels in their subtree, ADMIN anywhere.
    let allowed: [(&str, AccessLevel, &str, AccessLevel); 6] = [
        ("C1A", Manager, "C1A", Viewer),
        ("C1A", Owner, "C1A", Manager),
        ("R1", Reseller, "C1SA", Owner),
        ("R1", ResellerAdmin, "R1S", ResellerAdmin),
        ("PLATFORM", Admin, "C2B", Owner),
        ("PLATFORM", Admin, "R2", ResellerAdmin),
    ];
    for (org, level, target_org, target_level) in allowed {
        let r = app
            .post(
                &path(target_org, target_level),
                fx.token(org, level),
                json!({}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{org} {level:?} -> {target_org} {target_level:?}: {}",
            r.text
        );
        assert_eq!(r.body["success"], true);
        let issued = r.body["token"].as_str().unwrap().to_string();
        let v = app.get("/auth/validateToken", &issued).await;
        assert_eq!(v.body["employee"], fx.user(target_org, target_level).oid);
        // The token survives the target's logout and can be revoked by the issuer.
        let del = app
            .delete(
                &format!("{}/{}", path(target_org, target_level), issued),
                fx.token(org, level),
            )
            .await;
        assert_eq!(del.body, json!({"success": true}), "{}", del.text);
        app.get("/auth/validateToken", &issued)
            .await
            .assert_telecomx_error(401, "invalid_token");
    }
    // Levels below MANAGER: 403 access_denied.
    for level in [Viewer, Personal] {
        app.post(&path("C1A", Viewer), fx.token("C1A", level), json!({}))
            .await
            .assert_telecomx_error(403, "access_denied");
    }
    // Out of scope: 404.
    app.post(&path("C1B", Viewer), fx.token("C1A", Owner), json!({}))
        .await
        .assert_telecomx_error(404, "id");
    app.post(
        &path("C2A", Viewer),
        fx.token("R1", ResellerAdmin),
        json!({}),
    )
    .await
    .assert_telecomx_error(404, "id");
    app.post(
        &path("R1", Viewer),
        fx.token("R1S", ResellerAdmin),
        json!({}),
    )
    .await
    .assert_telecomx_error(404, "id");
    // ADMIN users never: 403 id.
    app.post(
        &path("PLATFORM", Admin),
        fx.token("PLATFORM", Admin),
        json!({}),
    )
    .await
    .assert_telecomx_error(403, "id");
    // Above the caller's own level: 403 id.
    app.post(&path("C1A", Owner), fx.token("C1A", Manager), json!({}))
        .await
        .assert_telecomx_error(403, "id");
    // Not an id: 422; revoking an unknown token: 404 token.
    app.post(
        "/employee/xyz/token",
        fx.token("PLATFORM", Admin),
        json!({}),
    )
    .await
    .assert_telecomx_error(422, "id");
    app.delete(
        &format!("{}/sg_nope", path("C1A", Viewer)),
        fx.token("C1A", Owner),
    )
    .await
    .assert_telecomx_error(404, "token");
}

backends!(emnify_authenticate_with_application_token_password_and_refresh);
async fn emnify_authenticate_with_application_token_password_and_refresh(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let auth = |body: serde_json::Value| {
        let app = &app;
        async move {
            // The Python SDK sends "Bearer None" here: it must be ignored.
            let req = Request::post("/api/v1/authenticate")
                .header("authorization", "Bearer None")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            app.send(req).await
        }
    };
    // Application token -> JWT with exp 7 days out and the vendor's esc claims.
    let r = auth(json!({"application_token": fx.token("R1", ResellerAdmin)})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("refresh_token").is_none());
    let jwt = r.body["auth_token"].as_str().unwrap().to_string();
    let claims = decode_claims(&jwt);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7 * 24 * 3600
    );
    assert_eq!(claims["esc"]["org"], fx.org("R1").id);
    assert_eq!(claims["esc"]["usr"], fx.user("R1", ResellerAdmin).id);
    assert!(claims["esc"]["app"].is_i64());
    // The JWT works as a bearer on both dialects.
    let v = app.get("/auth/validateToken", &jwt).await;
    assert_eq!(
        v.body["employee"],
        fx.user("R1", ResellerAdmin).oid,
        "{}",
        v.text
    );

    // Username + SHA-1 password -> auth_token (240 min) + refresh_token.
    let r =
        auth(json!({"username": "c1a.owner@fixture.test", "password": sha1_hex(USER_PASSWORD)}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let claims = decode_claims(r.body["auth_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        240 * 60
    );
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let r = auth(json!({"refresh_token": refresh})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        decode_claims(r.body["auth_token"].as_str().unwrap())["esc"]["usr"]
            == fx.user("C1A", Owner).id
    );
    // A refresh token is not an auth token.
    app.get("/auth/validateToken", &refresh)
        .await
        .assert_telecomx_error(401, "invalid_token");

    // Failures: 401 1101 with a JSON body.
    auth(json!({"application_token": "sg_wrong"}))
        .await
        .assert_emnify_error(401, 1101);
    auth(json!({"username": "c1a.owner@fixture.test", "password": sha1_hex("wrong")}))
        .await
        .assert_emnify_error(401, 1101);
    auth(json!({"username": "c1a.no_login@fixture.test", "password": sha1_hex(USER_PASSWORD)}))
        .await
        .assert_emnify_error(401, 1101);
    auth(json!({"refresh_token": "a.b.c"}))
        .await
        .assert_emnify_error(401, 1101);
    // A session token is not an application token.
    let session = app.login("c1a.owner@fixture.test", USER_PASSWORD).await;
    auth(json!({"application_token": session}))
        .await
        .assert_emnify_error(401, 1101);
    // A plain password is told that the dialect takes its SHA-1 hex (and is not counted as a
    // failed login).
    let plain =
        auth(json!({"username": "c1a.owner@fixture.test", "password": USER_PASSWORD})).await;
    plain.assert_emnify_error(422, 1400);
    assert!(
        plain.text.contains("SHA-1 hex digest of the password"),
        "{}",
        plain.text
    );
    // No credentials: 422; junk: 400.
    auth(json!({})).await.assert_emnify_error(422, 1400);
    let req = Request::post("/api/v1/authenticate")
        .body(Body::from("{nope"))
        .unwrap();
    app.send(req).await.assert_emnify_error(400, 1000);
}

backends!(emnify_jwt_expiry_and_revocation);
async fn emnify_jwt_expiry_and_revocation(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/authenticate",
            None,
            Some(json!({
                "username": "r2.reseller_admin@fixture.test", "password": sha1_hex(USER_PASSWORD)
            })),
        )
        .await;
    let jwt = r.body["auth_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/auth/validateToken", &jwt).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::minutes(241));
    app.get("/auth/validateToken", &jwt)
        .await
        .assert_telecomx_error(401, "expired");
    app.get("/api/v1/authenticate", &jwt)
        .await
        .assert_emnify_error(405, 1000);

    // A JWT from an application token dies with the token.
    let app_token = fx.token("R2", Owner);
    let r = app
        .request(
            Method::POST,
            "/api/v1/authenticate",
            None,
            Some(json!({"application_token": app_token})),
        )
        .await;
    let jwt = r.body["auth_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/auth/validateToken", &jwt).await.status,
        StatusCode::OK
    );
    let admin = app.admin_token().await;
    let tokens = app
        .get(
            &format!("/admin/v1/users/{}/tokens", fx.user("R2", Owner).id),
            &admin,
        )
        .await;
    let id = tokens.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.delete(&format!("/admin/v1/tokens/{id}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get("/auth/validateToken", &jwt)
        .await
        .assert_telecomx_error(401, "invalid_token");
    // A JWT signed with another secret is refused.
    let forged = simgate::auth::jwt::JwtKeys::new(b"not-the-secret").issue(
        simgate::auth::jwt::Esc {
            org: 1,
            app: None,
            usr: 1,
        },
        simgate::auth::jwt::TokenUse::Auth,
        app.state.now(),
        Duration::minutes(5),
    );
    app.get("/auth/validateToken", &forged)
        .await
        .assert_telecomx_error(401, "invalid_token");
}

fn decode_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64_url_decode(payload);
    serde_json::from_slice(&bytes).unwrap()
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = alphabet.iter().position(|a| *a == c).unwrap() as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

backends!(the_principal_cache_holds_for_its_ttl_and_revocations_flush_it);
async fn the_principal_cache_holds_for_its_ttl_and_revocations_flush_it(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let token = fx.token("C1B", Owner);
    assert_eq!(
        app.get("/auth/validateToken", token).await.status,
        StatusCode::OK
    );
    // Disabled behind the API's back (another node, say): trusted until the TTL (5 s) has passed.
    disable_behind_the_api(&app, fx.user("C1B", Owner).id).await;
    assert_eq!(
        app.get("/auth/validateToken", token).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::seconds(6));
    app.get("/auth/validateToken", token)
        .await
        .assert_telecomx_error(401, "invalid_token");
    // A change this node's store writes takes effect at once, whoever asked for it: through the API
    // or straight through the store (the store marks the change; callers flush nothing).
    let other = fx.token("C1B", Manager);
    assert_eq!(
        app.get("/auth/validateToken", other).await.status,
        StatusCode::OK
    );
    let admin = fx.token("PLATFORM", Admin);
    app.patch(
        &format!("/admin/v1/users/{}", fx.user("C1B", Manager).id),
        admin,
        json!({"state": "DISABLED"}),
    )
    .await;
    app.get("/auth/validateToken", other)
        .await
        .assert_telecomx_error(401, "invalid_token");
    let third = fx.token("C1B", AccessLevel::Viewer);
    assert_eq!(
        app.get("/auth/validateToken", third).await.status,
        StatusCode::OK
    );
    let actor = simgate::store::Actor::system(app.state.now());
    let patch = simgate::store::UserPatch {
        state: Some("DISABLED".into()),
        ..Default::default()
    };
    let observer = fx.user("C1B", AccessLevel::Viewer).id;
    app.state
        .store
        .user_update(
            &simgate::domain::access::Scope::All,
            observer,
            patch,
            &actor,
        )
        .await
        .unwrap();
    app.get("/auth/validateToken", third)
        .await
        .assert_telecomx_error(401, "invalid_token");
}

backends!(
    without_the_cache_every_request_asks_the_database,
    tweak = |c| c.auth.principal_cache_secs = 0
);
async fn without_the_cache_every_request_asks_the_database(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let token = fx.token("C1B", Owner);
    assert_eq!(
        app.get("/auth/validateToken", token).await.status,
        StatusCode::OK
    );
    disable_behind_the_api(&app, fx.user("C1B", Owner).id).await;
    app.get("/auth/validateToken", token)
        .await
        .assert_telecomx_error(401, "invalid_token");
}

/// Disables a user straight in the database, as another node would: this process's store wrote
/// nothing, so nothing here tells its principal cache.
async fn disable_behind_the_api(app: &TestApp, user_id: i64) {
    let changed: Vec<(i64,)> = app
        .sql(&format!(
            "UPDATE users SET state = 'DISABLED' WHERE id = {user_id} RETURNING id"
        ))
        .await;
    assert_eq!(changed, vec![(user_id,)]);
}
