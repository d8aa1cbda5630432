//! Service profiles written through the emnify dialect: create, change, delete, their services;
//! owners, levels, tenants; a delete racing a device that takes the profile.

use crate::common::*;
use crate::emnify_endpoints::{create, device};
use axum::http::StatusCode;
use serde_json::json;
use simgate::domain::access::AccessLevel::*;

fn code(r: &Resp) -> (StatusCode, Option<i64>) {
    (r.status, r.body["error_code"].as_i64())
}

backends!(service_profiles_are_written_by_their_owners);
async fn service_profiles_are_written_by_their_owners(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let manager = fx.token("C1A", Manager).to_string();
    let r = app
        .post(
            "/api/v1/service_profile",
            &manager,
            json!({"name": " fleet ", "description": "trucks", "apply_quota": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(location, format!("/api/v1/service_profile/{id}"));
    let one = format!("/api/v1/service_profile/{id}");
    let p = app.get(&one, fx.token("C1A", Viewer)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(
        p.body,
        json!({"id": id, "name": "fleet", "description": "trucks", "used_count": 0, "allowed_3g": true,
               "allowed_4g": true, "allowed_nb_iot": true, "apply_data_quota": true, "apply_sms_quota": false,
               "service": []})
    );
    // Its owner's subtree sees it; another tenant does not.
    let ids = |r: &Resp| -> Vec<i64> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(&app.get("/api/v1/service_profile", &manager).await),
        vec![1, id]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/service_profile", fx.token("R1", ResellerAdmin))
            .await),
        vec![1, id]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/service_profile", fx.token("C2A", Manager))
            .await),
        vec![1]
    );
    for token in [fx.token("C2A", Manager), fx.token("C1SA", Manager)] {
        let r = app.get(&one, token).await;
        assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1201)));
        let r = app.patch(&one, token, json!({"name": "x"})).await;
        assert_eq!(code(&r), (StatusCode::NOT_FOUND, Some(1201)));
    }

    // Levels, bodies, owners.
    let r = app
        .post(
            "/api/v1/service_profile",
            fx.token("C1A", Viewer),
            json!({"name": "v"}),
        )
        .await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, Some(1104)));
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "n", "allowed_3g": "yes"}),
    ] {
        let r = app
            .post("/api/v1/service_profile", &manager, bad.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .post(
            "/api/v1/service_profile",
            &manager,
            json!({"name": "n", "organisation": {"id": fx.org("C2A").id}}),
        )
        .await;
    assert_eq!(code(&r), (StatusCode::UNPROCESSABLE_ENTITY, Some(1401)));
    let r = app
        .patch(
            "/api/v1/service_profile/1",
            &manager,
            json!({"name": "mine"}),
        )
        .await;
    assert_eq!(
        code(&r),
        (StatusCode::FORBIDDEN, Some(1104)),
        "the platform's profile"
    );
    let r = app.patch(&one, &manager, json!({})).await;
    assert_eq!(code(&r).0, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch(
            &one,
            &manager,
            json!({"name": "fleet 2", "description": null, "apply_sms_quota": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let p = app.get(&one, &manager).await;
    assert_eq!(
        (p.body["name"].as_str(), p.body.get("description")),
        (Some("fleet 2"), None)
    );
    assert_eq!(p.body["apply_sms_quota"], true);

    // Services: listed once (1405 again), unknown → 404, removed once (404 again).
    let data = format!("{one}/service/38");
    let put = |path: String, token: String| {
        let app = &app;
        async move {
            app.request(axum::http::Method::PUT, &path, Some(&token), None)
                .await
        }
    };
    assert_eq!(
        put(data.clone(), manager.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        code(&put(data.clone(), manager.clone()).await),
        (StatusCode::CONFLICT, Some(1405))
    );
    assert_eq!(
        code(&put(format!("{one}/service/99"), manager.clone()).await),
        (StatusCode::NOT_FOUND, Some(1201))
    );
    assert_eq!(
        app.get(&one, &manager).await.body["service"],
        json!([{"id": 38, "description": "Data"}])
    );
    assert_eq!(
        app.delete(&data, &manager).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        code(&app.delete(&data, &manager).await),
        (StatusCode::NOT_FOUND, Some(1201))
    );

    // In use: 409 on delete; counted; free again once the device is gone.
    let mut body = device("on fleet");
    body["service_profile"] = json!({"id": id});
    let ep = create(&app, &manager, body).await;
    assert_eq!(app.get(&one, &manager).await.body["used_count"], 1);
    let r = app.delete(&one, &manager).await;
    assert_eq!(code(&r), (StatusCode::CONFLICT, Some(1409)));
    let mut body = device("elsewhere");
    body["service_profile"] = json!({"id": id});
    let r = app
        .post("/api/v1/endpoint", fx.token("C2A", Manager), body)
        .await;
    assert_eq!(code(&r), (StatusCode::UNPROCESSABLE_ENTITY, Some(1401)));
    assert_eq!(
        app.delete(&format!("/api/v1/endpoint/{ep}"), &manager)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&one, &manager).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        code(&app.get(&one, &manager).await),
        (StatusCode::NOT_FOUND, Some(1201))
    );
    // Every change is an event 1016 of the owner, with its audit row.
    let events: Vec<(i64,)> = app
        .sql(&format!(
            "SELECT COUNT(*) FROM events WHERE type_id = 1016 AND org_id = {}",
            fx.org("C1A").id
        ))
        .await;
    assert_eq!(
        events[0].0, 5,
        "created, updated, service added and removed, deleted"
    );
}

backends!(a_profile_is_never_deleted_under_a_new_device, multi_thread);
async fn a_profile_is_never_deleted_under_a_new_device(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let manager = fx.token("C1A", Manager).to_string();
    let app = std::sync::Arc::new(app);
    for round in 0..4 {
        let r = app
            .post(
                "/api/v1/service_profile",
                &manager,
                json!({"name": format!("p{round}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let id: i64 = r.headers["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (a, m) = (app.clone(), manager.clone());
        let creating = tokio::spawn(async move {
            let mut body = device(&format!("d{round}"));
            body["service_profile"] = json!({"id": id});
            a.post("/api/v1/endpoint", &m, body).await.status
        });
        let (a, m) = (app.clone(), manager.clone());
        let deleting = tokio::spawn(async move {
            a.delete(&format!("/api/v1/service_profile/{id}"), &m)
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
            "{outcome:?}"
        );
    }
    // No live device names a profile that is gone.
    let using: Vec<(i64,)> = app
        .sql("SELECT DISTINCT service_profile_id FROM endpoints WHERE status <> 2")
        .await;
    let profiles: Vec<(i64,)> = app.sql("SELECT id FROM service_profiles").await;
    assert!(using.iter().all(|u| profiles.contains(u)));
}
