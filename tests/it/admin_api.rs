//! The admin API: organisations, users, tokens, and who may manage what (DESIGN.md §4, §6).

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;
use simgate::domain::access::AccessLevel::{self, *};

fn ids(body: &serde_json::Value) -> Vec<i64> {
    let mut v: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    v.sort();
    v
}

backends!(newcomer_story_admin_builds_a_tenant_and_each_user_sees_its_scope);
async fn newcomer_story_admin_builds_a_tenant_and_each_user_sees_its_scope(app: TestApp) {
    let admin = app.admin_token().await;
    let reseller = app
        .post(
            "/admin/v1/organisations",
            &admin,
            json!({
                "name": "Mobile Reseller ApS", "kind": "RESELLER", "parent": 1, "country": "DK"
            }),
        )
        .await;
    assert_eq!(reseller.status, StatusCode::CREATED, "{}", reseller.text);
    assert_eq!(reseller.body["kind"], "RESELLER");
    assert_eq!(reseller.body["parent_id"], 1);
    assert_eq!(reseller.body["oid"].as_str().unwrap().len(), 24);
    let rid = reseller.body["id"].as_i64().unwrap();
    // A parent given by oid works as well as by id.
    let customer = app
        .post(
            "/admin/v1/organisations",
            &admin,
            json!({
                "name": "Bente Bents Autodele", "kind": "ENTERPRISE", "parent": reseller.body["oid"]
            }),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.text);
    let cid = customer.body["id"].as_i64().unwrap();
    let other = app
        .post(
            "/admin/v1/organisations",
            &admin,
            json!({"name": "Other", "kind": "MNO", "parent": 1}),
        )
        .await;
    let oid = other.body["id"].as_i64().unwrap();

    let mk_user = |org: i64, email: &str, level: &str| {
        let body = json!({
            "org": org, "email": email, "name": email, "password": "password-123", "access_level": level
        });
        let (app, admin) = (&app, &admin);
        async move { app.post("/admin/v1/users", admin, body).await }
    };
    let ra = mk_user(rid, "ra@reseller.test", "RESELLER_ADMIN").await;
    assert_eq!(ra.status, StatusCode::CREATED, "{}", ra.text);
    assert_eq!(ra.body["access_level"], "RESELLER_ADMIN");
    assert_eq!(ra.body["state"], "ENABLED");
    assert!(ra.body.get("password").is_none() && !ra.text.contains("argon2"));
    assert_eq!(
        mk_user(cid, "owner@customer.test", "OWNER").await.status,
        StatusCode::CREATED
    );

    let ra_token = app.login("ra@reseller.test", "password-123").await;
    let owner_token = app.login("owner@customer.test", "password-123").await;
    // The reseller admin sees its org and its customer, nothing else.
    let seen = app.get("/admin/v1/organisations", &ra_token).await;
    assert_eq!(ids(&seen.body), vec![rid, cid]);
    assert_eq!(seen.body["total"], 2);
    assert_eq!(
        app.get(&format!("/admin/v1/organisations/{oid}"), &ra_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/admin/v1/organisations/1", &ra_token).await.status,
        StatusCode::NOT_FOUND
    );
    let users = app.get("/admin/v1/users", &ra_token).await;
    assert_eq!(users.body["total"], 2, "{}", users.text);
    // The reseller admin creates a user for its customer.
    let r = app
        .post("/admin/v1/users", &ra_token, json!({
            "org": cid, "email": "viewer@customer.test", "name": "V", "password": "password-123",
            "access_level": "VIEWER"
        }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The customer's owner has no admin API at all.
    app.get("/admin/v1/organisations", &owner_token)
        .await
        .assert_telecomx_error(403, "access_denied");
    // The admin sees everything.
    let all = app.get("/admin/v1/organisations", &admin).await;
    assert_eq!(ids(&all.body), vec![1, rid, cid, oid]);
}

backends!(admin_api_levels_and_scopes);
async fn admin_api_levels_and_scopes(app: TestApp) {
    let fx = Fixture::build(&app).await;
    // Every principal: 403 below RESELLER_ADMIN, its subtree for RESELLER_ADMIN, all for ADMIN.
    for (org, level) in fx.principals() {
        let token = fx.token(org, level);
        let r = app.get("/admin/v1/organisations?limit=500", token).await;
        match level {
            Admin => assert_eq!(r.body["total"], 10),
            ResellerAdmin => {
                let expected: Vec<i64> = {
                    let root = &fx.org(org).path;
                    let mut v: Vec<i64> = fx
                        .orgs
                        .values()
                        .filter(|o| o.path.starts_with(root.as_str()))
                        .map(|o| o.id)
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(ids(&r.body), expected, "{org}");
            }
            _ => r.assert_telecomx_error(403, "access_denied"),
        }
        let u = app.get("/admin/v1/users", token).await;
        if level < ResellerAdmin {
            u.assert_telecomx_error(403, "access_denied");
        }
    }
    let r1 = fx.token("R1", ResellerAdmin);
    // R1 sees its sub-reseller's customers but not R2's; fetching those is 404.
    assert_eq!(
        app.get(
            &format!("/admin/v1/organisations/{}", fx.org("C1SA").oid),
            r1
        )
        .await
        .status,
        StatusCode::OK
    );
    app.get(&format!("/admin/v1/organisations/{}", fx.org("C2A").id), r1)
        .await
        .assert_telecomx_error(404, "not_found");
    app.get(&format!("/admin/v1/users/{}", fx.user("C2A", Owner).id), r1)
        .await
        .assert_telecomx_error(404, "not_found");
    // The sub-reseller does not see its parent.
    let r1s = fx.token("R1S", ResellerAdmin);
    app.get(&format!("/admin/v1/organisations/{}", fx.org("R1").id), r1s)
        .await
        .assert_telecomx_error(404, "not_found");
    // A query parameter naming an org outside the scope is 403, whether or not it exists.
    app.get(
        &format!("/admin/v1/organisations?parent={}", fx.org("R2").id),
        r1,
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    app.get("/admin/v1/organisations?parent=999999", r1)
        .await
        .assert_telecomx_error(403, "access_denied");
    app.get(&format!("/admin/v1/users?org={}", fx.org("C2B").oid), r1)
        .await
        .assert_telecomx_error(403, "access_denied");
    let kids = app
        .get(
            &format!("/admin/v1/organisations?parent={}", fx.org("R1S").id),
            r1,
        )
        .await;
    assert_eq!(ids(&kids.body), {
        let mut v = vec![fx.org("C1SA").id, fx.org("C1SB").id];
        v.sort();
        v
    });
    let org_users = app
        .get(&format!("/admin/v1/users?org={}", fx.org("C1A").id), r1)
        .await;
    assert_eq!(org_users.body["total"], 5, "{}", org_users.text);
    // Creating outside the scope: 422 on the referenced org.
    app.post(
        "/admin/v1/organisations",
        r1,
        json!({"name": "x", "kind": "ENTERPRISE", "parent": fx.org("R2").id}),
    )
    .await
    .assert_telecomx_error(422, "parent");
    app.post("/admin/v1/users", r1, json!({
        "org": fx.org("C2A").id, "email": "x@x.x", "name": "x", "password": "password-1", "access_level": "VIEWER"
    }))
        .await
        .assert_telecomx_error(422, "org");
    // Inside: fine, including a sub-reseller.
    let r = app
        .post(
            "/admin/v1/organisations",
            r1,
            json!({"name": "Sub 2", "kind": "RESELLER", "parent": fx.org("R1").id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // PATCH inside the scope; outside is 404.
    let r = app
        .patch(
            &format!("/admin/v1/organisations/{}", fx.org("C1A").id),
            r1,
            json!({"name": "Renamed", "country": null}),
        )
        .await;
    assert_eq!(r.body["name"], "Renamed", "{}", r.text);
    assert!(r.body.get("country").is_none());
    app.patch(
        &format!("/admin/v1/organisations/{}", fx.org("C2A").id),
        r1,
        json!({"name": "x"}),
    )
    .await
    .assert_telecomx_error(404, "not_found");
}

backends!(admin_api_validation);
async fn admin_api_validation(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let org = |body: serde_json::Value| {
        let app = &app;
        async move { app.post("/admin/v1/organisations", admin, body).await }
    };
    org(json!({"name": "", "kind": "RESELLER", "parent": 1}))
        .await
        .assert_telecomx_error(422, "name");
    org(json!({"name": "x", "kind": "PLATFORM", "parent": 1}))
        .await
        .assert_telecomx_error(422, "kind");
    org(json!({"name": "x", "kind": "SHOP", "parent": 1}))
        .await
        .assert_telecomx_error(422, "kind");
    org(json!({"name": "x", "kind": "RESELLER"}))
        .await
        .assert_telecomx_error(422, "parent");
    org(json!({"name": "x", "kind": "RESELLER", "parent": "nope"}))
        .await
        .assert_telecomx_error(422, "parent");
    org(json!({"name": "x", "kind": "RESELLER", "parent": 424242}))
        .await
        .assert_telecomx_error(422, "parent");
    // Customers are leaves.
    org(json!({"name": "x", "kind": "ENTERPRISE", "parent": fx.org("C1A").id}))
        .await
        .assert_telecomx_error(422, "kind");
    // Unknown fields and missing ones are named.
    org(json!({"name": "x", "kind": "RESELLER", "parent": 1, "colour": "red"}))
        .await
        .assert_telecomx_error(422, "colour");
    org(json!({"kind": "RESELLER", "parent": 1}))
        .await
        .assert_telecomx_error(422, "name");

    let user = |body: serde_json::Value| {
        let app = &app;
        async move { app.post("/admin/v1/users", admin, body).await }
    };
    let base = |org: i64, email: &str, level: &str| {
        json!({
            "org": org, "email": email, "name": "n", "password": "password-1", "access_level": level
        })
    };
    user(base(fx.org("C1A").id, "not-an-email", "VIEWER"))
        .await
        .assert_telecomx_error(422, "email");
    user(base(fx.org("C1A").id, "a@b.c", "GOD"))
        .await
        .assert_telecomx_error(422, "access_level");
    // ADMIN only in the platform org, reseller levels only in reseller orgs.
    user(base(fx.org("R1").id, "a@b.c", "ADMIN"))
        .await
        .assert_telecomx_error(422, "access_level");
    user(base(fx.org("C1A").id, "a@b.c", "RESELLER_ADMIN"))
        .await
        .assert_telecomx_error(422, "access_level");
    user(base(1, "a@b.c", "RESELLER"))
        .await
        .assert_telecomx_error(422, "access_level");
    let mut short = base(fx.org("C1A").id, "a@b.c", "VIEWER");
    short["password"] = json!("short");
    user(short).await.assert_telecomx_error(422, "password");
    // Duplicate email (case-insensitive) is 409 email.
    user(base(fx.org("C1A").id, "C1A.OWNER@fixture.test", "VIEWER"))
        .await
        .assert_telecomx_error(409, "email");
    // Paging rules.
    app.get("/admin/v1/users?limit=0", admin)
        .await
        .assert_telecomx_error(422, "limit");
    app.get("/admin/v1/users?limit=501", admin)
        .await
        .assert_telecomx_error(422, "limit");
    app.get("/admin/v1/users?offset=-1", admin)
        .await
        .assert_telecomx_error(422, "offset");
    let page = app.get("/admin/v1/users?offset=5&limit=10", admin).await;
    assert_eq!(page.body["offset"], 5);
    assert_eq!(page.body["limit"], 10);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 10);
    // The fixture users plus the bootstrap admin.
    assert_eq!(
        page.body["total"].as_i64().unwrap(),
        fx.users.len() as i64 + 1
    );
    // Unknown references in the path are 404.
    app.get("/admin/v1/users/abc", admin)
        .await
        .assert_telecomx_error(404, "not_found");
    app.get("/admin/v1/organisations/999999", admin)
        .await
        .assert_telecomx_error(404, "not_found");
}

backends!(user_updates_respect_levels_and_revoke_access);
async fn user_updates_respect_levels_and_revoke_access(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let r1 = fx.token("R1", ResellerAdmin);
    let path =
        |org: &str, level: AccessLevel| format!("/admin/v1/users/{}", fx.user(org, level).oid);
    // Raise a customer's viewer to manager, rename, reset password.
    let r = app
        .patch(
            &path("C1A", Viewer),
            r1,
            json!({"access_level": "MANAGER", "name": "New Name", "password": "new-password-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["access_level"], "MANAGER");
    assert_eq!(r.body["name"], "New Name");
    app.login("c1a.viewer@fixture.test", "new-password-1").await;
    // Nobody grants a level above their own, or a level the org cannot hold.
    app.patch(&path("R1S", Viewer), r1, json!({"access_level": "ADMIN"}))
        .await
        .assert_telecomx_error(422, "access_level");
    app.patch(
        &path("C1A", Viewer),
        r1,
        json!({"access_level": "RESELLER"}),
    )
    .await
    .assert_telecomx_error(422, "access_level");
    // Nobody changes their own level or state.
    app.patch(&path("R1", ResellerAdmin), r1, json!({"state": "DISABLED"}))
        .await
        .assert_telecomx_error(403, "id");
    // A bad state value.
    app.patch(&path("C1A", Owner), r1, json!({"state": "ASLEEP"}))
        .await
        .assert_telecomx_error(422, "state");
    // Out of scope: 404.
    app.patch(&path("C2A", Owner), r1, json!({"name": "x"}))
        .await
        .assert_telecomx_error(404, "not_found");
    // Deleting a user revokes its tokens and hides it.
    let owner_token = fx.token("C1A", Owner);
    assert_eq!(
        app.get("/auth/validateToken", owner_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.patch(&path("C1A", Owner), r1, json!({"state": "DELETED"}))
            .await
            .status,
        StatusCode::OK
    );
    app.get("/auth/validateToken", owner_token)
        .await
        .assert_telecomx_error(401, "invalid_token");
    app.get(&path("C1A", Owner), r1)
        .await
        .assert_telecomx_error(404, "not_found");
}

backends!(admin_tokens_are_shown_once_listed_and_revoked_in_scope);
async fn admin_tokens_are_shown_once_listed_and_revoked_in_scope(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let r1 = fx.token("R1", ResellerAdmin);
    let target = fx.user("C1SA", Owner);
    let r = app
        .post(
            &format!("/admin/v1/users/{}/tokens", target.id),
            r1,
            json!({"label": "billing", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(r.body["label"], "billing");
    assert_eq!(r.body["expires_at"], "2026-04-14T12:00:00.000Z");
    assert_eq!(
        app.get("/auth/validateToken", &token).await.body["employee"],
        target.oid
    );
    // Listed without its value.
    let list = app
        .get(&format!("/admin/v1/users/{}/tokens", target.oid), r1)
        .await;
    assert_eq!(list.body["total"], 2, "{}", list.text);
    assert!(!list.text.contains(&token));
    let id = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "billing")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Another reseller cannot see or revoke it.
    let r2 = fx.token("R2", ResellerAdmin);
    app.delete(&format!("/admin/v1/tokens/{id}"), r2)
        .await
        .assert_telecomx_error(404, "not_found");
    app.post(
        &format!("/admin/v1/users/{}/tokens", target.id),
        r2,
        json!({}),
    )
    .await
    .assert_telecomx_error(404, "not_found");
    // Customer levels have no admin API.
    app.post(
        &format!("/admin/v1/users/{}/tokens", target.id),
        fx.token("C1SA", Owner),
        json!({}),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    // Bad expiry.
    app.post(
        &format!("/admin/v1/users/{}/tokens", target.id),
        r1,
        json!({"expires_in_days": 0}),
    )
    .await
    .assert_telecomx_error(422, "expires_in_days");
    // Revoked: the token stops working; revoking again is 404.
    assert_eq!(
        app.delete(&format!("/admin/v1/tokens/{id}"), r1)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get("/auth/validateToken", &token)
        .await
        .assert_telecomx_error(401, "invalid_token");
    app.delete(&format!("/admin/v1/tokens/{id}"), r1)
        .await
        .assert_telecomx_error(404, "not_found");
    // Expiry is enforced.
    let r = app
        .post(
            &format!("/admin/v1/users/{}/tokens", target.id),
            r1,
            json!({"expires_in_days": 1}),
        )
        .await;
    let short = r.body["token"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::days(2));
    app.get("/auth/validateToken", &short)
        .await
        .assert_telecomx_error(401, "expired");
    // The CLI's path: an ADMIN can issue a token for itself.
    let me = fx.user("PLATFORM", Admin);
    let r = app
        .post(
            &format!("/admin/v1/users/{}/tokens", me.id),
            fx.token("PLATFORM", Admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

backends!(every_mutation_writes_an_audit_row);
async fn every_mutation_writes_an_audit_row(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/admin/v1/organisations",
            &admin,
            json!({"name": "Audited", "kind": "RESELLER", "parent": 1}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    app.patch(
        &format!("/admin/v1/organisations/{id}"),
        &admin,
        json!({"name": "Audited 2"}),
    )
    .await;
    let rows = audit_rows(&app, "organisation", &id.to_string()).await;
    assert_eq!(
        rows.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        vec!["create", "update"]
    );
    assert!(
        rows.iter()
            .all(|(_, rid)| rid.as_deref().is_some_and(|r| !r.is_empty())),
        "request id recorded: {rows:?}"
    );
}

async fn audit_rows(app: &TestApp, entity: &str, id: &str) -> Vec<(String, Option<String>)> {
    app.sql(&format!(
        "SELECT action, request_id FROM audit_log WHERE entity = '{entity}' AND entity_id = \
         '{id}' ORDER BY id"
    ))
    .await
}
