//! emnify SIM reads: list totals and pages for every side and filter, the single-SIM read with its
//! label cache and batching, pages before and after a SIM is shared, the sort-order walk.

use crate::common::*;
use crate::emnify_sims::{batches, ids_of, sim_ids};
use axum::http::StatusCode;
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::*;

backends!(totals_equal_the_listed_rows_for_every_side_and_filter);
/// The list's total comes from counters when every condition is a counter key, from the rows otherwise;
/// either way it must equal the number of SIMs the same query lists, for every side of every SIM.
async fn totals_equal_the_listed_rows_for_every_side_and_filter(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let model = batches(&app, &fx).await;
    let ra = fx.token("R1", ResellerAdmin);
    let reg = app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let ids = sim_ids(&app, ra, "").await;
    for (i, sim) in ids.iter().enumerate().take(6) {
        let customer = if i % 2 == 0 { "C1A" } else { "C1B" };
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"customer_org": {"id": fx.org(customer).id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    for sim in &ids[6..9] {
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"status": {"id": 2}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let deleted = app
        .delete(
            &format!("/api/v1/sim/{}", ids[11]),
            fx.token("PLATFORM", Admin),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_counters_match(&app).await;

    let c1a = fx.org("C1A").id;
    let queries = [
        String::new(),
        "&q=status:1".into(),
        "&q=status:0|2".into(),
        format!("&q=customer_org:{c1a}"),
        format!("&q=model:{model},status:1"),
        "&q=endpoint:null".into(),
        "&q=issuer_org:1".into(),
        "&q=customer_org:0".into(),
        "&q=production_date:2019-01-25".into(),
        "&q=msisdn:45700000".into(),
    ];
    let mut nonzero = 0;
    for (org, level) in [
        ("PLATFORM", Admin),
        ("R1", ResellerAdmin),
        ("R1S", ResellerAdmin),
        ("R2", ResellerAdmin),
        ("C1A", Owner),
        ("C1B", Viewer),
    ] {
        for q in &queries {
            let token = fx.token(org, level);
            let r = app
                .get(&format!("/api/v1/sim?per_page=2500{q}"), token)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let listed = r.body.as_array().unwrap().len();
            assert_eq!(
                r.headers["x-total-count"].to_str().unwrap(),
                listed.to_string(),
                "{org} {q}"
            );
            nonzero += usize::from(listed > 0);
        }
    }
    // The sides differ: the platform sees 14 (one deleted), R1 its 11, C1A three, R2 none.
    assert_eq!(
        sim_ids(&app, fx.token("PLATFORM", Admin), "").await.len(),
        14
    );
    assert_eq!(sim_ids(&app, ra, "").await.len(), 11);
    assert_eq!(sim_ids(&app, fx.token("C1A", Owner), "").await.len(), 3);
    assert!(sim_ids(&app, fx.token("R2", ResellerAdmin), "")
        .await
        .is_empty());
    assert!(nonzero > 20, "the checks must see SIMs: {nonzero}");
}

backends!(
    single_sim_labels_equal_the_joined_read_and_follow_renames,
    by_name
);
/// The single-SIM read takes org and model labels from a short cache instead of joining them: the
/// answer is the same as the joined read's, and a rename on this node shows at once.
async fn single_sim_labels_equal_the_joined_read_and_follow_renames(backend: &'static str) {
    let mut answers = Vec::new();
    for secs in [5, 0] {
        let app = TestApp::new(backend, move |c| c.database.label_cache_secs = secs).await;
        let fx = Fixture::build(&app).await;
        batches(&app, &fx).await;
        let ra = fx.token("R1", ResellerAdmin);
        app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
        let sim = sim_ids(&app, ra, "").await[0];
        let r = app
            .patch(
                &format!("/api/v1/sim/{sim}"),
                ra,
                json!({"customer_org": {"id": fx.org("C1A").id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let owner = fx.token("C1A", Owner);
        let first = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let again = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(first.body, again.body, "a cached read answers the same");
        let listed = app.get(&format!("/api/v1/sim?q=id:{sim}"), owner).await;
        assert_eq!(
            listed.body[0], first.body,
            "the list (joined) and the single read agree"
        );
        assert_eq!(first.body["customer_org"]["name"], "C1A org");
        assert_eq!(first.body["issuer_org"]["id"], 1);
        assert_eq!(first.body["model"]["manufacturer"]["name"], "Acme");
        // Other sides still cannot see it, cache or not.
        app.get(&format!("/api/v1/sim/{sim}"), fx.token("C1B", Owner))
            .await
            .assert_emnify_error(404, 1201);
        // A rename through the admin API shows at once.
        let r = app
            .patch(
                &format!("/admin/v1/organisations/{}", fx.org("C1A").id),
                fx.token("PLATFORM", Admin),
                json!({"name": "Renamed C1A"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let after = app.get(&format!("/api/v1/sim/{sim}"), owner).await;
        assert_eq!(after.body["customer_org"]["name"], "Renamed C1A");
        answers.push(first.body.clone());
    }
    // The same SIM, with the cache (5 s) and without (0): the same answer.
    assert!(
        answers.len() == 2 && answers[0] == answers[1],
        "{answers:#?}"
    );
}

backends!(concurrent_single_reads_each_get_their_own_answer);
/// Single-SIM reads that arrive together share queries: each still gets its own SIM (or its 404),
/// repeats of one SIM each get a copy.
async fn concurrent_single_reads_each_get_their_own_answer(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let ids = sim_ids(&app, &admin, "").await;
    assert_eq!(ids.len(), 15);
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for round in 0..4 {
        for (i, id) in ids.iter().chain([&ids[0], &ids[0], &999_999]).enumerate() {
            let (app, admin, id) = (app.clone(), admin.clone(), *id);
            tasks.push(tokio::spawn(async move {
                let r = app.get(&format!("/api/v1/sim/{id}"), &admin).await;
                (round, i, id, r.status, r.body["id"].as_i64())
            }));
        }
    }
    for t in tasks {
        let (round, i, id, status, got) = t.await.unwrap();
        if id == 999_999 {
            assert_eq!(status, StatusCode::NOT_FOUND, "round {round} #{i}");
        } else {
            assert_eq!(
                (status, got),
                (StatusCode::OK, Some(id)),
                "round {round} #{i}"
            );
        }
    }
}

backends!(single_reads_recover_from_dropped_connections_and_let_the_store_close);
/// Point reads keep up to two connections between batches: they recover when the database drops
/// its connections, and they give them back so that the store can close.
async fn single_reads_recover_from_dropped_connections_and_let_the_store_close(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let admin = fx.token("PLATFORM", Admin);
    let sim = sim_ids(&app, admin, "").await[0];
    let path = format!("/api/v1/sim/{sim}");
    assert_eq!(app.get(&path, admin).await.status, StatusCode::OK);
    if app.backend == "postgres" {
        drop_all_connections(&app).await;
        // The read on the connection that died may fail; after that every connection is checked
        // before use for a while, so it is the only failure.
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(app.get(&path, admin).await.status);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::OK), "{statuses:?}");
        assert!(
            statuses.iter().filter(|s| **s != StatusCode::OK).count() <= 2,
            "{statuses:?}"
        );
    }
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(10), app.state.store.close()).await;
    assert!(
        closed.is_ok(),
        "the store closes with point-read connections held"
    );
}

/// Every page, read one after the other, of `q` sorted by `sort` (3 SIMs a page): the ids, and the total.
async fn all_pages(app: &TestApp, token: &str, q: &str, sort: &str) -> (Vec<i64>, usize) {
    let (mut ids, mut total) = (Vec::new(), 0);
    for page in 1.. {
        let r = app
            .get(
                &format!("/api/v1/sim?per_page=3&page={page}&q={q}&sort={sort}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        total = r.headers["x-total-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let got: Vec<i64> = ids_of(&r.body);
        ids.extend(&got);
        // Past the end the last page comes again.
        if ids.len() >= total || got.len() < 3 {
            break;
        }
    }
    (ids, total)
}

/// Each side's pages are exactly the SIMs it may see, in the asked order, compared with
/// the visibility rule applied here to the rows: through its tenant's range while no SIM is shared,
/// through the org conditions alone once one is, and through the filters' indexes when filtered.
async fn pages_match_visibility(app: &TestApp, fx: &Fixture) -> usize {
    type Row = (i64, String, i64, Option<i64>, Option<i64>, Option<i64>);
    let paths: std::collections::HashMap<i64, String> = app
        .sql::<(i64, String)>("SELECT id, path FROM organisations")
        .await
        .into_iter()
        .collect();
    let sims: Vec<Row> = app
        .sql("SELECT id, iccid, CAST(status AS BIGINT), issuer_org_id, reseller_org_id, customer_org_id FROM \
             sims WHERE status <> 3")
        .await;
    let mut checked = 0;
    for (org, level) in [
        ("R1", ResellerAdmin),
        ("R1S", ResellerAdmin),
        ("R2", ResellerAdmin),
        ("C1A", Owner),
    ] {
        let own = fx.org(org).id;
        let sees = |o: Option<i64>| {
            o.is_some_and(|o| match level {
                Owner => o == own,
                _ => paths[&o].starts_with(&paths[&own]),
            })
        };
        let visible: Vec<&Row> = sims
            .iter()
            .filter(|s| sees(s.3) || sees(s.4) || sees(s.5))
            .collect();
        for (q, sort) in [
            ("", "id"),
            ("", "-id"),
            ("", "iccid"),
            ("", "-iccid"),
            ("", "-status"),
            ("status:1", "iccid"),
            ("status:0|2", "-id"),
        ] {
            let mut expected: Vec<&Row> = visible
                .iter()
                .copied()
                .filter(|s| match q {
                    "status:1" => s.2 == 1,
                    "status:0|2" => s.2 == 0 || s.2 == 2,
                    _ => true,
                })
                .collect();
            match sort {
                "id" => expected.sort_by_key(|s| s.0),
                "-id" => expected.sort_by_key(|s| std::cmp::Reverse(s.0)),
                "iccid" => expected.sort_by(|a, b| a.1.cmp(&b.1)),
                "-iccid" => expected.sort_by(|a, b| b.1.cmp(&a.1)),
                // Ties by id in the last key's direction.
                _ => expected.sort_by_key(|s| std::cmp::Reverse((s.2, s.0))),
            }
            let expected: Vec<i64> = expected.iter().map(|s| s.0).collect();
            let (got, total) = all_pages(app, fx.token(org, level), q, sort).await;
            assert_eq!(got, expected, "{} {org} q={q} sort={sort}", app.backend);
            assert_eq!(total, expected.len(), "{} {org} q={q} total", app.backend);
            checked += expected.len();
        }
    }
    checked
}

backends!(pages_are_the_visible_sims_in_order_before_and_after_a_shared_sim);
async fn pages_are_the_visible_sims_in_order_before_and_after_a_shared_sim(app: TestApp) {
    let fx = Fixture::build(&app).await;
    batches(&app, &fx).await;
    let (admin, ra) = (fx.token("PLATFORM", Admin), fx.token("R1", ResellerAdmin));
    let reg = app.patch("/api/v1/sim_batch/bic/B1", ra, json!({})).await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.text);
    let ids = sim_ids(&app, ra, "&sort=id").await;
    for (i, sim) in ids.iter().enumerate().take(8) {
        let (by, patch) = match i % 4 {
            0 => (ra, json!({"customer_org": {"id": fx.org("C1A").id}})),
            1 => (
                admin,
                json!({"reseller_org": {"id": fx.org("R1S").id}, "customer_org": {"id": fx.org("C1SA").id}}),
            ),
            2 => (ra, json!({"status": {"id": 2}})),
            _ => (ra, json!({"reseller_org": {"id": fx.org("R1S").id}})),
        };
        let r = app.patch(&format!("/api/v1/sim/{sim}"), by, patch).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    // Stores a SIM at a customer (TelecomX assign); then the SIMs shared between top-level orgs.
    let assign = |i: u64, customer: &'static str| {
        let (app, fx) = (&app, &fx);
        async move {
            let path = format!("/sim/{}/assign?customer={}", icc(i), fx.org(customer).oid);
            let r = app.post(&path, admin, json!({})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_counters_match(app).await;
            app.sql::<(i64,)>("SELECT id FROM sims WHERE tenant_org_id = 0")
                .await
        }
    };
    // B2 goes to R2's customer.
    assert!(assign(101, "C2A").await.is_empty());
    let before = pages_match_visibility(&app, &fx).await;
    assert!(before > 40, "the checks must see SIMs: {before}");

    // A SIM issued by R2 and stored at R1's customer: its orgs lie under two top-level orgs.
    let r = app
        .post(
            "/admin/v1/sim-batches",
            admin,
            json!({"bic": "B3", "issuer_org": fx.org("R2").id, "sims": [{"iccid": icc(200)}, {"iccid": icc(201)}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shared = assign(200, "C1A").await;
    assert_eq!(shared.len(), 1);
    let after = pages_match_visibility(&app, &fx).await;
    assert!(
        after > before,
        "R1, R2 and C1A each see the shared SIM: {before} -> {after}"
    );
    for side in [ra, fx.token("R2", ResellerAdmin), fx.token("C1A", Owner)] {
        assert!(sim_ids(&app, side, "").await.contains(&shared[0].0));
    }
}

backends!(many_matches_walk_the_sort_order);
/// Past `FILTER_FIRST_MAX` (20,000) matches a filtered page walks the sort order instead of sorting the
/// matches: 21,000 SIMs in three batches, registered by R1 (activated). Pages at the start, middle and
/// end equal the rows in that order, for the ADMIN (whole table) and for R1 (its tenant's range).
async fn many_matches_walk_the_sort_order(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let (admin, ra) = (fx.token("PLATFORM", Admin), fx.token("R1", ResellerAdmin));
    for b in 0..3u64 {
        // Batches interleave their ICCs, so that ICC order and id order differ.
        let sims: Vec<Value> = (0..7_000u64)
            .map(|i| json!({"iccid": icc(i * 3 + b)}))
            .collect();
        let bic = format!("W{b}");
        let r = app
            .post(
                "/admin/v1/sim-batches",
                admin,
                json!({"bic": bic, "issuer_org": 1, "sims": sims}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = app
            .patch(&format!("/api/v1/sim_batch/bic/{bic}"), ra, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let by_icc: Vec<i64> = app
        .sql::<(i64,)>("SELECT id FROM sims WHERE status = 1 ORDER BY iccid")
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(by_icc.len(), 21_000);
    let mut by_id_desc = by_icc.clone();
    by_id_desc.sort_by(|a, b| b.cmp(a));
    for (token, sort, expected) in [
        (ra, "iccid", &by_icc),
        (admin, "-id", &by_id_desc),
        (ra, "-id", &by_id_desc),
    ] {
        for page in [1usize, 105, 210] {
            let r = app
                .get(
                    &format!("/api/v1/sim?per_page=100&page={page}&q=status:1&sort={sort}"),
                    token,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.headers["x-total-count"], "21000");
            assert_eq!(
                ids_of(&r.body),
                expected[(page - 1) * 100..page * 100],
                "{sort} page {page}"
            );
        }
    }
}
