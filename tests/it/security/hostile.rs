//! Hostile input: NUL characters, overflowing pages, extreme dates, wildcards, huge rejections, one
//! row per physical SIM whatever form its ICC comes in.

use super::*;
use simgate::domain::sim::luhn_digit;

backends!(nul_characters_are_refused_at_the_edge_on_every_backend);
async fn nul_characters_are_refused_at_the_edge_on_every_backend(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    // Unauthenticated login name.
    let r = app
        .request(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": "a\u{0}b", "password": "x"})),
        )
        .await;
    r.assert_telecomx_error(422, "username");
    let r = app
        .request(
            Method::POST,
            "/api/v1/authenticate",
            None,
            Some(json!({"username": "a\u{0}", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error_code"], 1400);
    app.request(
        Method::GET,
        "/auth/login?username=a%00&password=x",
        None,
        None,
    )
    .await
    .assert_telecomx_error(400, "bad_request");
    // Query values and path segments.
    app.get("/api/v1/sim?q=imsi:%00", admin)
        .await
        .assert_emnify_error(400, 1000);
    app.get("/sim?filter=%00", admin)
        .await
        .assert_telecomx_error(400, "bad_request");
    app.get("/api/v1/sim_batch/bic/a%00b", admin)
        .await
        .assert_emnify_error(400, 1000);
    // Names and notes in bodies.
    let r = app
        .post(
            "/admin/v1/organisations",
            admin,
            json!({"name": "Evil\u{0}Corp", "kind": "ENTERPRISE", "parent": 1}),
        )
        .await;
    r.assert_telecomx_error(422, "name");
    let orgs: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM organisations WHERE name LIKE 'Evil%'")
        .await;
    assert_eq!(orgs[0].0, 0, "nothing stored");
    // Ingest rejects only the line that carries one.
    import_at(&app, &fx, "R1", 0, 1).await;
    let ndjson = format!(
        "{}\n{}\n",
        json!({"iccid": icc(0), "timestamp": "2026-03-15T10:00:00Z", "type_id": 3, "description": "ok"}),
        json!({"iccid": icc(0), "timestamp": "2026-03-15T10:00:00Z", "type_id": 3, "description": "bad\u{0}"}),
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/admin/v1/events")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/x-ndjson")
        .body(Body::from(ndjson))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["accepted"].as_i64(),
            r.body["rejected_count"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(r.body["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("NUL"));
}

backends!(overflowing_pages_extreme_dates_wildcards_and_huge_rejections_are_client_errors);
async fn overflowing_pages_extreme_dates_wildcards_and_huge_rejections_are_client_errors(
    app: TestApp,
) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_at(&app, &fx, "C1A", 0, 3).await;
    let id = sim_id(&app, &fx, &icc(0)).await;
    // A page far past the end is the last page.
    let r = app
        .get("/api/v1/sim?page=9223372036854775807&per_page=2", admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.headers["x-current-page"].to_str().unwrap(),
            r.body.as_array().unwrap().len()
        ),
        ("2", 1)
    );
    let r = app
        .get(
            &format!("/api/v1/sim/{id}/event?page=9223372036854775807"),
            admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get("/sim?offset=9223372036854775807", admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["sims"], json!([]));
    let r = app.get("/mvno?offset=9223372036854775807", admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["offset"],
        json!(9223372036854775807i64),
        "{}",
        r.text
    );
    // Dates outside any calendar are 422 naming the field.
    for (path, field) in [
        (
            format!("/api/v1/sim/{id}/stats/daily?start_date=-262143-01-01"),
            "start_date",
        ),
        (
            format!("/api/v1/sim/{id}/stats/daily?end_date=0000-01-01"),
            "end_date",
        ),
        (
            format!("/api/v1/sim/{id}/stats/daily?start_date=10000-01-01"),
            "start_date",
        ),
        (
            "/api/v1/sim?q=production_date:0000-12-31".to_string(),
            "production_date",
        ),
        (
            format!(
                "/api/v1/sim/{id}/event?q=from:-262143-01-01T00:00:00Z,until:2026-01-01T00:00:00Z"
            ),
            "from",
        ),
    ] {
        let r = app.get(&path, admin).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert!(r.text.contains(field), "{path}: {}", r.text);
    }
    // Far-future timestamps (past 2262) are ordinary values; past 9999 a rejected record.
    let r = app
        .post(
            "/admin/v1/usage",
            admin,
            json!([
                {"iccid": icc(0), "timestamp": "2263-01-01T10:30:00Z", "traffic_type": "data",
                 "volume_tx": 1, "volume_rx": 1},
                {"iccid": icc(0), "timestamp": "+10000-01-01T00:00:00Z", "traffic_type": "data",
                 "volume_tx": 1, "volume_rx": 1},
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.body["accepted"].as_i64(),
            r.body["rejected_count"].as_i64()
        ),
        (Some(1), Some(1))
    );
    // Thousands of bad records: every one counted, the first 100 listed.
    let junk = vec![json!({}); 3000];
    let r = app.post("/admin/v1/usage", admin, json!(junk)).await;
    assert_eq!(
        (
            r.body["rejected_count"].as_i64(),
            r.body["rejected"].as_array().map(Vec::len)
        ),
        (Some(3000), Some(100))
    );
    // % and _ match themselves.
    for path in ["/api/v1/sim?q=msisdn:%25", "/api/v1/sim?q=msisdn:_"] {
        let r = app.get(path, admin).await;
        assert_eq!(
            (r.status, r.headers["x-total-count"].to_str().unwrap()),
            (StatusCode::OK, "0"),
            "{path}"
        );
    }
    for path in ["/mvno?filter=%25", "/mvno?filter=_"] {
        let r = app.get(path, admin).await;
        assert_eq!(r.body["total"], 0, "{path}: {}", r.text);
    }
    assert_eq!(app.get("/sim?filter=8945", admin).await.body["total"], 3);
}

backends!(one_physical_sim_is_one_row_in_every_form);
async fn one_physical_sim_is_one_row_in_every_form(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let body = icc(7);
    let with = format!("{body}{}", luhn_digit(&body));
    let wrong = format!("{body}{}", (luhn_digit(&body) as u8 - b'0' + 1) % 10);
    let line = |icc: &str| format!("{icc};12345678;87654321;1234;4321;NANO;TDC");
    let data = [
        line(&with),
        line(&format!("{body}F")),
        line(&body),
        line(&wrong),
    ]
    .join("\n");
    let r = app.post("/sim", admin, json!({ "data": data })).await;
    assert_eq!(r.body["imported"], 1, "{}", r.text);
    let skipped = r.body["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 3, "{}", r.text);
    assert!(
        skipped[2]["reason"].as_str().unwrap().contains("Luhn"),
        "{}",
        r.text
    );
    // Stored once, canonical; found by every form.
    let rows: Vec<(String,)> = app.sql("SELECT iccid FROM sims").await;
    assert_eq!(rows, vec![(body.clone(),)]);
    for form in [&body, &with, &format!("{body}F"), &format!("{with}f")] {
        let r = app.get(&format!("/sim/{form}"), admin).await;
        assert_eq!(
            (r.status, r.body["_id"].as_str()),
            (StatusCode::OK, Some(body.as_str())),
            "{form}"
        );
    }
    app.get(&format!("/sim/{wrong}"), admin)
        .await
        .assert_telecomx_error(422, "sim");
    // Again later, in another form: an existing SIM.
    let r = app.post("/sim", admin, json!({"data": line(&with)})).await;
    assert_eq!(r.body["imported"], 0, "{}", r.text);
    assert!(r.body["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "DUP", "issuer_org": 1, "sims": [{"iccid": with}]}),
        )
        .await;
    r.assert_telecomx_error(409, "sim");
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "BAD", "issuer_org": 1, "sims": [{"iccid": wrong}]}),
        )
        .await;
    r.assert_telecomx_error(422, "sims[0].iccid");
    let listed = app
        .get(&format!("/api/v1/sim?q=iccid_with_luhn:{with}"), admin)
        .await;
    assert_eq!(listed.body[0]["iccid_with_luhn"], with.as_str());
    assert_counters_match(&app).await;
}

backends!(stored_duplicates_of_one_sim_stop_the_migration_with_their_list);
async fn stored_duplicates_of_one_sim_stop_the_migration_with_their_list(app: TestApp) {
    let fx = Fixture::build(&app).await;
    import_at(&app, &fx, "R1", 0, 2).await;
    let (a, b) = (icc(0), icc(1));
    let a_with = format!("{a}{}", luhn_digit(&a));
    let b_with = format!("{b}{}", luhn_digit(&b));
    // As an older simgate stored them: one SIM twice (19 and 20 digits), another only as 20 digits.
    let url = app.config.database.url.clone();
    let rewind = [
        format!("INSERT INTO sims (iccid, form_factor, network, status, issuer_org_id, auto_assign, \
             created_at, updated_at, version, tenant_org_id) \
                 SELECT '{a_with}', form_factor, network, status, issuer_org_id, auto_assign, created_at, \
                 updated_at, 1, tenant_org_id FROM sims WHERE iccid = '{a}'"),
        format!("UPDATE sims SET iccid = '{b_with}' WHERE iccid = '{b}'"),
        // 0005 and 0006 run again (the later migrations stay applied).
        "DELETE FROM _sqlx_migrations WHERE version IN (5, 6)".to_string(),
        "ALTER TABLE users DROP COLUMN tokens_valid_after".to_string(),
        "DROP TABLE login_failures".to_string(),
        "DROP TABLE idempotency_keys".to_string(),
    ];
    exec(&url, &rewind).await;
    let err = simgate::store::connect(&url, None, &simgate::store::PoolConfig::single())
        .await
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(msg.contains(&a_with) && msg.contains("same SIM"), "{msg}");
    assert!(!msg.contains(&b_with), "{msg}");
    // Once the operator removes the duplicate, the rest folds and the migration runs.
    exec(
        &url,
        &[format!("DELETE FROM sims WHERE iccid = '{a_with}'")],
    )
    .await;
    let store = simgate::store::connect(&url, None, &simgate::store::PoolConfig::single())
        .await
        .expect("migrates");
    store.close().await;
    let mut rows: Vec<(String,)> = app.sql("SELECT iccid FROM sims").await;
    rows.sort();
    assert_eq!(rows, vec![(a,), (b,)]);
}

async fn exec(url: &str, statements: &[String]) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(s)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(s)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    }
}
