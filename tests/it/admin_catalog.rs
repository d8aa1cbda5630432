//! The provider's catalog through the admin API: countries, operators (ADMIN writes, emnify reads
//! follow), tariff profiles (ADMIN anywhere, a RESELLER_ADMIN in its subtree); deletes racing the
//! blacklist entry or the device that would use them.

use crate::common::*;
use crate::emnify_endpoints::{create, device, endpoint};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

fn ids(r: &Resp) -> Vec<i64> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn audits(app: &TestApp, entity: &str) -> i64 {
    let n: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = '{entity}'"
        ))
        .await;
    n[0].0
}

backends!(operators_are_the_admins_and_everyone_reads_them);
async fn operators_are_the_admins_and_everyone_reads_them(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let reseller = fx.token("R1", ResellerAdmin).to_string();
    let manager = fx.token("C1A", Manager).to_string();

    // Countries: a page of the ISO list, with calling codes as digits.
    let r = app.get("/admin/v1/countries?limit=5", &reseller).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["total"].as_i64().unwrap() > 240);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
    let all = app.get("/admin/v1/countries?limit=500", &admin).await;
    let dk = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["iso_code"] == "dk")
        .unwrap()
        .clone();
    assert_eq!(
        (dk["country_code"].as_str(), dk["mcc"].as_str()),
        (Some("45"), Some("238"))
    );
    app.get("/admin/v1/countries", &manager)
        .await
        .assert_telecomx_error(403, "access_denied");

    // ADMIN adds one: normalised, given the next id of its range, in emnify's shape.
    let r = app
        .post(
            "/admin/v1/operators",
            &admin,
            json!({"name": " Simgate Mobile ", "country": "DK", "mnc": ["99", "098"], "tapcode": ["dnksg"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert!(id >= 100_000, "{id}");
    assert_eq!(r.body["name"], "Simgate Mobile");
    assert_eq!(r.body["name_and_country"], "Denmark / Simgate Mobile");
    assert_eq!(r.body["country"]["iso_code"], "dk");
    let values = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[key].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(values(&r.body, "mnc"), ["99", "098"]);
    assert_eq!(values(&r.body, "tapcode"), ["DNKSG"]);
    let one = format!("/admin/v1/operators/{id}");
    assert_eq!(app.get(&one, &reseller).await.body, r.body);
    // The emnify dialect lists it for every tenant.
    let listed = app.get("/api/v1/operator", &manager).await;
    assert!(listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == id && o["country"]["country_code"] == "45"));
    // The admin's list: by id, of one country, paged.
    let danish = app
        .get("/admin/v1/operators?country=dk&limit=500", &reseller)
        .await;
    assert_eq!(danish.status, StatusCode::OK, "{}", danish.text);
    let danish_ids = ids(&danish);
    assert!(danish_ids.contains(&id));
    assert!(danish_ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        danish.body["total"].as_i64().unwrap() as usize,
        danish_ids.len()
    );
    let none = app.get("/admin/v1/operators?country=zz", &admin).await;
    assert_eq!(
        (none.body["total"].as_i64(), ids(&none).len()),
        (Some(0), 0)
    );
    app.get("/admin/v1/operators?country=denmark", &admin)
        .await
        .assert_telecomx_error(422, "country");

    // Rules: levels, fields, collisions. Nothing is added by a refusal.
    let before = app.get("/admin/v1/operators?limit=1", &admin).await.body["total"].clone();
    app.post(
        "/admin/v1/operators",
        &reseller,
        json!({"name": "x", "country": "dk"}),
    )
    .await
    .assert_telecomx_error(403, "access_denied");
    for (body, field) in [
        (json!({"country": "dk"}), "name"),
        (json!({"name": "x"}), "country"),
        (json!({"name": " ", "country": "dk"}), "name"),
        (json!({"name": "x", "country": "xx"}), "country"),
        (
            json!({"name": "x", "country": "dk", "mnc": ["9"]}),
            "mnc[0]",
        ),
        (
            json!({"name": "x", "country": "dk", "mnc": ["10", "10"]}),
            "mnc[1]",
        ),
        (
            json!({"name": "x", "country": "dk", "tapcode": ["DNK"]}),
            "tapcode[0]",
        ),
        (json!({"name": "x", "country": "dk", "id": 100_000}), "id"),
        (json!({"name": "x", "country": "dk", "id": 0}), "id"),
    ] {
        app.post("/admin/v1/operators", &admin, body.clone())
            .await
            .assert_telecomx_error(422, field);
    }
    let r = app
        .post(
            "/admin/v1/operators",
            &admin,
            json!({"name": "x", "country": "dk", "colour": "red"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post(
            "/admin/v1/operators",
            &admin,
            json!({"name": "SIMGATE mobile", "country": "dk"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "same name in the country: {}",
        r.text
    );
    let seeded = danish_ids[0];
    let r = app
        .post(
            "/admin/v1/operators",
            &admin,
            json!({"id": seeded, "name": "y", "country": "se"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a taken id: {}", r.text);
    assert_eq!(
        app.get("/admin/v1/operators?limit=1", &admin).await.body["total"],
        before
    );
    // An id of emnify's numbering, free, is kept.
    let r = app
        .post(
            "/admin/v1/operators",
            &admin,
            json!({"id": 99_999, "name": "Mirror", "country": "se"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["id"].as_i64()),
        (StatusCode::CREATED, Some(99_999)),
        "{}",
        r.text
    );

    // PATCH: the fields given; a list replaces the operator's.
    let r = app
        .patch(
            &one,
            &admin,
            json!({"name": "Simgate Mobil", "mnc": ["97"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Simgate Mobil");
    assert_eq!(values(&r.body, "mnc"), ["97"]);
    assert_eq!(values(&r.body, "tapcode"), ["DNKSG"], "untouched");
    app.patch(&one, &admin, json!({}))
        .await
        .assert_telecomx_error(422, "body");
    app.patch(&one, &admin, json!({"id": id + 1}))
        .await
        .assert_telecomx_error(422, "id");
    app.patch(&one, &reseller, json!({"name": "r"}))
        .await
        .assert_telecomx_error(403, "access_denied");
    app.patch("/admin/v1/operators/98765", &admin, json!({"name": "r"}))
        .await
        .assert_telecomx_error(404, "not_found");
    app.get("/admin/v1/operators/abc", &admin)
        .await
        .assert_telecomx_error(404, "not_found");

    // DELETE: refused while a device bars it; gone after, from both dialects.
    let ep = create(&app, &manager, device("barred")).await;
    let bar = format!("/api/v1/endpoint/{ep}/operator_blacklist/{id}");
    let r = app
        .request(axum::http::Method::PUT, &bar, Some(&manager), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.delete(&one, &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(app.get(&one, &admin).await.status, StatusCode::OK, "kept");
    assert_eq!(
        app.delete(&bar, &manager).await.status,
        StatusCode::NO_CONTENT
    );
    app.delete(&one, &reseller)
        .await
        .assert_telecomx_error(403, "access_denied");
    assert_eq!(
        app.delete(&one, &admin).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&one, &admin)
        .await
        .assert_telecomx_error(404, "not_found");
    app.delete(&one, &admin)
        .await
        .assert_telecomx_error(404, "not_found");
    let listed = app.get("/api/v1/operator", &manager).await;
    assert!(!listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == id));
    assert_eq!(
        audits(&app, "operator").await,
        4,
        "two creates, an update, a delete"
    );
}

backends!(tariff_profiles_are_managed_in_the_admins_scope);
async fn tariff_profiles_are_managed_in_the_admins_scope(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let r1 = fx.token("R1", ResellerAdmin).to_string();
    let r2 = fx.token("R2", ResellerAdmin).to_string();
    let manager = fx.token("C1A", Manager).to_string();

    let r = app
        .post(
            "/admin/v1/tariff-profiles",
            &admin,
            json!({"name": " EU 1GB ", "description": "roaming", "owner_org": fx.org("R1").id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        (
            r.body["name"].as_str(),
            r.body["owner_org_id"].as_i64(),
            r.body["used_count"].as_i64()
        ),
        (Some("EU 1GB"), Some(fx.org("R1").id), Some(0))
    );
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    let one = format!("/admin/v1/tariff-profiles/{id}");
    // Its owner's reseller admin sees and manages it; another's does not see it.
    assert_eq!(app.get(&one, &r1).await.body["id"], id);
    app.get(&one, &r2)
        .await
        .assert_telecomx_error(404, "not_found");
    app.patch(&one, &r2, json!({"name": "x"}))
        .await
        .assert_telecomx_error(404, "not_found");
    app.delete(&one, &r2)
        .await
        .assert_telecomx_error(404, "not_found");
    assert_eq!(
        ids(&app.get("/admin/v1/tariff-profiles", &r1).await),
        vec![id]
    );
    assert!(ids(&app.get("/admin/v1/tariff-profiles", &r2).await).is_empty());
    assert_eq!(
        ids(&app.get("/admin/v1/tariff-profiles", &admin).await),
        vec![1, id]
    );
    let filtered = app
        .get(
            &format!("/admin/v1/tariff-profiles?org={}", fx.org("R1").id),
            &r2,
        )
        .await;
    assert_eq!(
        filtered.body["total"], 0,
        "another's org filters to nothing"
    );
    app.get("/admin/v1/tariff-profiles", &manager)
        .await
        .assert_telecomx_error(403, "access_denied");

    // A reseller admin's own: its org by default; never an org outside its subtree.
    let r = app
        .post("/admin/v1/tariff-profiles", &r2, json!({"name": "R2 plan"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["owner_org_id"], fx.org("R2").id);
    let r2_plan = r.body["id"].as_i64().unwrap();
    app.post(
        "/admin/v1/tariff-profiles",
        &r2,
        json!({"name": "n", "owner_org": fx.org("C1A").id}),
    )
    .await
    .assert_telecomx_error(422, "owner_org");
    app.post(
        "/admin/v1/tariff-profiles",
        &r2,
        json!({"description": "d"}),
    )
    .await
    .assert_telecomx_error(422, "name");

    // The emnify dialect: read by the owner's subtree, used by its devices only.
    let emnify: Vec<i64> = app
        .get("/api/v1/tariff_profile", &manager)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(emnify, vec![1, id]);
    let mut body = device("on plan");
    body["tariff_profile"] = json!({"id": id});
    let ep = create(&app, &manager, body).await;
    let mut body = device("elsewhere");
    body["tariff_profile"] = json!({"id": id});
    app.post("/api/v1/endpoint", fx.token("C2A", Manager), body)
        .await
        .assert_emnify_error(422, 1401);
    let mut body = device("foreign plan");
    body["tariff_profile"] = json!({"id": r2_plan});
    app.post("/api/v1/endpoint", &manager, body)
        .await
        .assert_emnify_error(422, 1401);
    app.post("/api/v1/tariff_profile", &manager, json!({"name": "mine"}))
        .await
        .assert_emnify_error(403, 1104);

    // Changes: renamed (devices show the new name), description cleared.
    let r = app
        .patch(&one, &r1, json!({"name": "EU 2GB", "description": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["name"].as_str(), r.body["description"].is_null()),
        (Some("EU 2GB"), true)
    );
    assert_eq!(r.body["used_count"], 1);
    assert_eq!(
        endpoint(&app, &manager, ep).await["tariff_profile"]["name"],
        "EU 2GB"
    );
    app.patch(&one, &r1, json!({}))
        .await
        .assert_telecomx_error(422, "body");
    app.patch(&one, &r1, json!({"owner_org": 1}))
        .await
        .assert_telecomx_error(422, "owner_org");

    // Delete: refused while a live device uses it; then gone.
    let r = app.delete(&one, &r1).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        app.delete(&format!("/api/v1/endpoint/{ep}"), &manager)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.delete(&one, &r1).await.status, StatusCode::NO_CONTENT);
    app.get(&one, &admin)
        .await
        .assert_telecomx_error(404, "not_found");
    let events: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE type_id = 1017 AND org_id = {}",
            fx.org("R1").id
        ))
        .await;
    assert_eq!(events[0].0, 3, "created, updated, deleted");
    assert_eq!(audits(&app, "tariff_profile").await, 4);
}

backends!(catalog_deletes_never_strand_a_device, multi_thread);
async fn catalog_deletes_never_strand_a_device(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let manager = fx.token("C1A", Manager).to_string();
    let app = std::sync::Arc::new(app);
    let ep = create(&app, &manager, device("racer")).await;
    for round in 0..4 {
        // An operator deleted while a device bars it.
        let r = app
            .post(
                "/admin/v1/operators",
                &admin,
                json!({"name": format!("racer {round}"), "country": "dk"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let op = r.body["id"].as_i64().unwrap();
        let (a, m) = (app.clone(), manager.clone());
        let barring = tokio::spawn(async move {
            a.request(
                axum::http::Method::PUT,
                &format!("/api/v1/endpoint/{ep}/operator_blacklist/{op}"),
                Some(&m),
                None,
            )
            .await
            .status
        });
        let (a, t) = (app.clone(), admin.clone());
        let deleting = tokio::spawn(async move {
            a.delete(&format!("/admin/v1/operators/{op}"), &t)
                .await
                .status
        });
        let outcome = (barring.await.unwrap(), deleting.await.unwrap());
        assert!(
            matches!(
                outcome,
                (StatusCode::NO_CONTENT, StatusCode::CONFLICT)
                    | (StatusCode::NOT_FOUND, StatusCode::NO_CONTENT)
            ),
            "operator round {round}: {outcome:?}"
        );

        // A tariff profile deleted while a device takes it.
        let r = app
            .post(
                "/admin/v1/tariff-profiles",
                &admin,
                json!({"name": format!("plan {round}")}),
            )
            .await;
        let plan = r.body["id"].as_i64().unwrap();
        let (a, m) = (app.clone(), manager.clone());
        let creating = tokio::spawn(async move {
            let mut body = device(&format!("d{round}"));
            body["tariff_profile"] = json!({"id": plan});
            a.post("/api/v1/endpoint", &m, body).await.status
        });
        let (a, t) = (app.clone(), admin.clone());
        let deleting = tokio::spawn(async move {
            a.delete(&format!("/admin/v1/tariff-profiles/{plan}"), &t)
                .await
                .status
        });
        let outcome = (creating.await.unwrap(), deleting.await.unwrap());
        assert!(
            matches!(
                outcome,
                (StatusCode::CREATED, StatusCode::CONFLICT)
                    | (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NO_CONTENT)
            ),
            "tariff round {round}: {outcome:?}"
        );
    }
    // No blacklist names an operator that is gone; no live device a plan that is gone.
    let barred: Vec<(i64,)> = app
        .sql("SELECT DISTINCT operator_id FROM endpoint_operator_blacklist")
        .await;
    let operators: Vec<(i64,)> = app.sql("SELECT id FROM operators").await;
    assert!(barred.iter().all(|b| operators.contains(b)));
    let using: Vec<(i64,)> = app
        .sql("SELECT DISTINCT tariff_profile_id FROM endpoints WHERE status <> 2")
        .await;
    let plans: Vec<(i64,)> = app.sql("SELECT id FROM tariff_profiles").await;
    assert!(using.iter().all(|u| plans.contains(u)));
}
