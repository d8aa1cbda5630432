//! TelecomX SIM inventory: /sim, /sim/{icc}, /sim/status, POST /sim, /sim/{icc}/assign.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use simgate::domain::access::AccessLevel::{self, *};

async fn import(app: &TestApp, token: &str, data: String, in_storage_at: Option<&str>) -> Resp {
    let mut body = json!({"data": data});
    if let Some(org) = in_storage_at {
        body["inStorageAt"] = json!(org);
    }
    app.post("/sim", token, body).await
}

async fn import_ok(app: &TestApp, token: &str, data: String, in_storage_at: Option<&str>) -> i64 {
    let r = import(app, token, data, in_storage_at).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["success"], true);
    r.body["imported"].as_i64().unwrap()
}

backends!(seed_000_status_answers_exactly_the_contract_array);
async fn seed_000_status_answers_exactly_the_contract_array(app: TestApp) {
    let admin = app.admin_token().await;
    let reseller = app
        .post(
            "/admin/v1/organisations",
            &admin,
            json!({"name": "Mobile Reseller ApS", "kind": "RESELLER", "parent": 1}),
        )
        .await;
    let rid = reseller.body["oid"].as_str().unwrap().to_string();
    // Central stock: TDC 200 MINI_MICRO_NANO + 1000 eSIM; TELENOR 300 NANO, 100 MINI_MICRO, 200 MINI_MICRO_NANO.
    let central = [
        sim_lines(0, 200, "MINI_MICRO_NANO", "TDC", false),
        sim_lines(200, 1000, "eSIM", "TDC", false),
        sim_lines(1200, 300, "NANO", "TELENOR", false),
        sim_lines(1500, 100, "MINI_MICRO", "TELENOR", false),
        sim_lines(1600, 200, "MINI_MICRO_NANO", "TELENOR", false),
    ]
    .join("\n");
    assert_eq!(import_ok(&app, &admin, central, None).await, 1800);
    // The reseller's stock: TDC 900 eSIM; TELENOR 10 MINI_MICRO, 20 NANO.
    let theirs = [
        sim_lines(2000, 900, "eSIM", "TDC", false),
        sim_lines(2900, 10, "MINI_MICRO", "TELENOR", false),
        sim_lines(2910, 20, "NANO", "TELENOR", false),
    ]
    .join("\n");
    assert_eq!(import_ok(&app, &admin, theirs, Some(&rid)).await, 930);
    let expected = json!([
        {"reseller": null, "resellerName": null, "inStorageAt": null, "inStorageAtName": "Centrallager",
         "network": {
            "TDC": {"total": 1200, "autoAssign": 0, "nonAutoAssign": 1200, "MINI_MICRO_NANO": 200, "eSIM": 1000},
            "TELENOR": {
                "total": 600, "autoAssign": 0, "nonAutoAssign": 600, "NANO": 300, "MINI_MICRO": 100,
                "MINI_MICRO_NANO": 200
            }}},
        {"reseller": rid, "resellerName": "Mobile Reseller ApS", "inStorageAt": rid,
         "inStorageAtName": "Mobile Reseller ApS",
         "network": {
            "TDC": {"total": 900, "autoAssign": 0, "nonAutoAssign": 900, "eSIM": 900},
            "TELENOR": {"total": 30, "autoAssign": 0, "nonAutoAssign": 30, "MINI_MICRO": 10, "NANO": 20}}}
    ]);
    for path in ["/sim/status", "/sim/simstatus"] {
        let r = app.get(path, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, expected, "{path}");
    }
    // Extensions: one network, one holder.
    let r = app.get("/sim/status?network=telenor", &admin).await;
    assert_eq!(
        r.body[0]["network"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["TELENOR"]
    );
    let r = app.get("/sim/status?customer=central", &admin).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["inStorageAtName"], "Centrallager");
    let r = app
        .get(&format!("/sim/status?customer={rid}"), &admin)
        .await;
    assert_eq!(r.body, json!([expected[1]]));
    app.get("/sim/status?network=VODAFONE", &admin)
        .await
        .assert_telecomx_error(422, "network");
}

backends!(reseller_story_status_and_lists_match_the_sims_exactly);
async fn reseller_story_status_and_lists_match_the_sims_exactly(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_ok(&app, admin, sim_lines(0, 40, "NANO", "TDC", false), None).await;
    import_ok(
        &app,
        admin,
        sim_lines(100, 10, "eSIM", "TELENOR", true),
        None,
    )
    .await;
    let assign = |i: u64, org: &str, auto: Option<bool>| {
        let target = fx.org(org).oid.clone();
        let app = &app;
        async move {
            let q = auto.map(|a| format!("&autoAssign={a}")).unwrap_or_default();
            let r = app
                .post(
                    &format!("/sim/{}/assign?customer={target}{q}", icc(i)),
                    admin,
                    json!({}),
                )
                .await;
            assert_eq!(r.body, json!({"success": true}), "{}", r.text);
        }
    };
    // ADMIN: 10 to R1, 5 to its customer C1A, 4 to sub-reseller R1S (autoAssign), 3 to R2, 2 eSIMs to R1.
    for i in 0..10 {
        assign(i, "R1", None).await;
    }
    for i in 10..15 {
        assign(i, "C1A", None).await;
    }
    for i in 15..19 {
        assign(i, "R1S", Some(true)).await;
    }
    for i in 19..22 {
        assign(i, "R2", None).await;
    }
    for i in 100..102 {
        assign(i, "R1", None).await;
    }
    // R1's RESELLER_ADMIN moves two of its own SIMs to its customer C1B (GET works too).
    let ra = fx.token("R1", ResellerAdmin);
    for i in 0..2 {
        let r = app
            .get(
                &format!("/sim/{}/assign?customer={}", icc(i), fx.org("C1B").oid),
                ra,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let status = app.get("/sim/status", ra).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    let by_holder: Vec<(String, Value)> = status
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["inStorageAtName"].as_str().unwrap().to_string(),
                h["network"].clone(),
            )
        })
        .collect();
    let r1_oid = fx.org("R1").oid.clone();
    // Ordered by resellerName then holder: C1A org, C1B org, R1 org (reseller R1), then R1S org (reseller R1S).
    assert_eq!(
        by_holder
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["C1A org", "C1B org", "R1 org", "R1S org"]
    );
    assert_eq!(
        by_holder[0].1,
        json!({"TDC": {"total": 5, "autoAssign": 0, "nonAutoAssign": 5, "NANO": 5}})
    );
    assert_eq!(
        by_holder[1].1,
        json!({"TDC": {"total": 2, "autoAssign": 0, "nonAutoAssign": 2, "NANO": 2}})
    );
    assert_eq!(
        by_holder[2].1,
        json!({"TDC": {"total": 8, "autoAssign": 0, "nonAutoAssign": 8, "NANO": 8},
               "TELENOR": {"total": 2, "autoAssign": 2, "nonAutoAssign": 0, "eSIM": 2}})
    );
    assert_eq!(
        by_holder[3].1,
        json!({"TDC": {"total": 4, "autoAssign": 4, "nonAutoAssign": 0, "NANO": 4}})
    );
    assert_eq!(status.body[0]["reseller"], r1_oid);
    assert_eq!(status.body[3]["reseller"], fx.org("R1S").oid);
    // /sim for the same reseller: its whole subtree (8 + 2 + 5 + 2 + 4 = 21), ordered by ICC.
    let list = app.get("/sim?limit=500", ra).await;
    assert_eq!(list.body["total"], 21, "{}", list.text);
    let ids: Vec<&str> = list.body["sims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(ids.len(), 21, "one page, read in the tenant's range");
    // A RESELLER (not admin) has no /sim/status, but lists the subtree.
    app.get("/sim/status", fx.token("R1", Reseller))
        .await
        .assert_telecomx_error(403, "access_denied");
    assert_eq!(
        app.get("/sim", fx.token("R1", Reseller)).await.body["total"],
        21
    );
    // The sub-reseller sees only its own; the other reseller only its 3.
    assert_eq!(
        app.get("/sim", fx.token("R1S", ResellerAdmin)).await.body["total"],
        4
    );
    let r2 = app.get("/sim/status", fx.token("R2", ResellerAdmin)).await;
    assert_eq!(r2.body.as_array().unwrap().len(), 1);
    assert_eq!(r2.body[0]["network"]["TDC"]["total"], 3);
    // The admin's status counts all 50 SIMs: central keeps 40 + 10 - 22 - 2 = 26.
    let all = app.get("/sim/status", admin).await;
    let total: i64 = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            h["network"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n["total"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .sum();
    assert_eq!(total, 50);
    assert_eq!(all.body[0]["inStorageAtName"], "Centrallager");
    assert_eq!(all.body[0]["network"]["TDC"]["total"], 18);
    assert_eq!(all.body[0]["network"]["TELENOR"]["total"], 8);
    // And the counters equal a GROUP BY over the SIMs.
    assert_counters_match(&app).await;
}

backends!(counters_equal_a_group_by_after_a_random_sequence);
async fn counters_equal_a_group_by_after_a_random_sequence(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    let holders = ["R1", "R1S", "R2", "C1A", "C1SB", "C2A", "PLATFORM"];
    let forms = ["NANO", "eSIM", "MINI_MICRO", "MINI_MICRO_NANO"];
    let nets = ["TDC", "TELENOR", "TELIA"];
    let mut next = generator(0x5eed);
    let mut imported = 0u64;
    for step in 0..60 {
        if step % 6 == 0 {
            let n = 5 + next(20);
            let holder = holders[next(holders.len() as u64) as usize];
            let target = (holder != "PLATFORM").then(|| fx.org(holder).oid.clone());
            let data = sim_lines(
                imported,
                n,
                forms[next(4) as usize],
                nets[next(3) as usize],
                next(2) == 0,
            );
            import_ok(&app, admin, data, target.as_deref()).await;
            imported += n;
        } else if imported > 0 {
            let sim = next(imported);
            let holder = holders[next(holders.len() as u64) as usize];
            let target = if holder == "PLATFORM" {
                "central".to_string()
            } else {
                fx.org(holder).oid.clone()
            };
            let auto = match next(3) {
                0 => "&autoAssign=true",
                1 => "&autoAssign=false",
                _ => "",
            };
            let r = app
                .post(
                    &format!("/sim/{}/assign?customer={target}{auto}", icc(sim)),
                    admin,
                    json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }
    assert_counters_match(&app).await;
}

backends!(every_route_by_access_level);
async fn every_route_by_access_level(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_ok(
        &app,
        admin,
        sim_lines(0, 3, "NANO", "TDC", false),
        Some(&fx.org("C1A").oid),
    )
    .await;
    import_ok(
        &app,
        admin,
        sim_lines(10, 3, "NANO", "TDC", false),
        Some(&fx.org("R1").oid),
    )
    .await;
    import_ok(
        &app,
        admin,
        sim_lines(20, 3, "NANO", "TDC", false),
        Some(&fx.org("C2A").oid),
    )
    .await;
    import_ok(&app, admin, sim_lines(30, 3, "NANO", "TDC", false), None).await;
    for (org, level) in fx.principals() {
        let token = fx.token(org, level);
        let list = app.get("/sim", token).await;
        let one = app.get(&format!("/sim/{}", icc(0)), token).await;
        let status = app.get("/sim/status", token).await;
        let imp = import(&app, token, sim_lines(900, 1, "NANO", "TDC", false), None).await;
        let who = format!("{org} {level:?}");
        match level {
            Personal => {
                list.assert_telecomx_error(403, "access_denied");
                one.assert_telecomx_error(403, "access_denied");
            }
            Admin => {
                assert_eq!(list.body["total"], 12, "{who}");
                assert_eq!(one.status, StatusCode::OK, "{who}");
            }
            _ => {
                // Customer levels see their org's stock; reseller levels their subtree's.
                let expected = match (org, level >= AccessLevel::Reseller) {
                    ("C1A", _) | ("C2A", _) => 3,
                    ("R1", true) => 6,
                    // Customer levels in a reseller org see that org's own stock.
                    ("R1", false) => 3,
                    ("R2", true) => 3,
                    _ => 0,
                };
                assert_eq!(list.body["total"], expected, "{who}: {}", list.text);
                let sees_first = org == "C1A" || (org == "R1" && level >= AccessLevel::Reseller);
                assert_eq!(
                    one.status,
                    if sees_first {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    },
                    "{who}: {}",
                    one.text
                );
            }
        }
        match level {
            ResellerAdmin | Admin => assert_eq!(status.status, StatusCode::OK, "{who}"),
            _ => status.assert_telecomx_error(403, "access_denied"),
        }
        if level == Admin {
            assert_eq!(imp.status, StatusCode::OK, "{who}");
        } else {
            imp.assert_telecomx_error(403, "access_denied");
        }
    }
    // Customer levels are held to their own org: another customer is 403, even one that does not exist.
    let owner = fx.token("C1A", Owner);
    app.get(&format!("/sim?customer={}", fx.org("C1A").oid), owner)
        .await;
    assert_eq!(
        app.get(&format!("/sim?customer={}", fx.org("C1A").oid), owner)
            .await
            .body["total"],
        3
    );
    app.get(&format!("/sim?customer={}", fx.org("C1B").oid), owner)
        .await
        .assert_telecomx_error(403, "access_denied");
    let ra = fx.token("R1", ResellerAdmin);
    app.get(&format!("/sim?customer={}", fx.org("C2A").oid), ra)
        .await
        .assert_telecomx_error(403, "access_denied");
    app.get("/sim?customer=ffffffffffffffffffffffff", ra)
        .await
        .assert_telecomx_error(403, "access_denied");
    app.get("/sim?customer=central", ra)
        .await
        .assert_telecomx_error(403, "access_denied");
    assert_eq!(
        app.get(&format!("/sim?customer={}", fx.org("C1A").oid), ra)
            .await
            .body["total"],
        3
    );
    assert_eq!(
        app.get(&format!("/sim?customer={}", fx.org("R1").oid), ra)
            .await
            .body["total"],
        3
    );
    assert_eq!(
        app.get("/sim?customer=central", admin).await.body["total"],
        4
    );
    app.get(&format!("/sim/status?customer={}", fx.org("C2A").oid), ra)
        .await
        .assert_telecomx_error(403, "access_denied");

    // Assign: customer levels 403; a reseller moves only SIMs it holds, only to orgs it sees.
    let to = |i: u64, org: &str| format!("/sim/{}/assign?customer={}", icc(i), fx.org(org).oid);
    app.post(&to(0, "C1A"), owner, json!({}))
        .await
        .assert_telecomx_error(403, "access_denied");
    app.post(&to(20, "C1A"), ra, json!({}))
        .await
        .assert_telecomx_error(404, "not_found");
    app.post(&to(30, "C1A"), ra, json!({}))
        .await
        .assert_telecomx_error(404, "not_found");
    app.post(&to(10, "C2A"), ra, json!({}))
        .await
        .assert_telecomx_error(422, "customer");
    app.post(
        &format!("/sim/{}/assign?customer=central", icc(10)),
        ra,
        json!({}),
    )
    .await
    .assert_telecomx_error(422, "customer");
    app.post(&format!("/sim/{}/assign", icc(10)), ra, json!({}))
        .await
        .assert_telecomx_error(422, "customer");
    assert_eq!(
        app.post(&to(10, "C1SA"), fx.token("R1", Reseller), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    // The sub-reseller now sees it in its customer's stock; R1 still does too.
    assert_eq!(
        app.get(&format!("/sim/{}", icc(10)), fx.token("R1S", ResellerAdmin))
            .await
            .status,
        StatusCode::OK
    );
    // ADMIN takes a SIM back to central stock.
    assert_eq!(
        app.post(
            &format!("/sim/{}/assign?customer=central", icc(10)),
            admin,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    app.get(&format!("/sim/{}", icc(10)), ra)
        .await
        .assert_telecomx_error(404, "not_found");
    assert_counters_match(&app).await;
}

backends!(list_filters_paging_and_the_sim_object);
async fn list_filters_paging_and_the_sim_object(app: TestApp) {
    let admin = app.admin_token().await;
    let lines = "894500000000000000001;12345678;87654321;1234;4321;eSIM;TDC;LPA:1$smdp.example$X1;box 7;true\n\
                 8945000000000000002F;11112222;33334444;0000;1111;NANO;TELENOR";
    assert_eq!(
        import_ok(
            &app,
            &admin,
            lines.replace("894500000000000000001", "89450000000000000001"),
            None
        )
        .await,
        2
    );
    import_ok(
        &app,
        &admin,
        sim_lines(100, 30, "MINI_MICRO", "TELIA", false),
        None,
    )
    .await;
    // Stored in the canonical form: no Luhn check digit, no F padding.
    let r = app.get("/sim/89450000000000000001", &admin).await;
    assert_eq!(
        r.body,
        json!({"_id": "8945000000000000000", "puk1": "12345678", "puk2": "87654321", "pin1": "1234", "pin2": "4321",
               "formFactor": "eSIM", "network": "TDC", "inStorageAt": null, "autoAssign": true,
               "activationCode": "LPA:1$smdp.example$X1", "tag": "box 7"})
    );
    // A lower-case f finds the upper-case one.
    assert_eq!(
        app.get("/sim/8945000000000000002f", &admin).await.body["formFactor"],
        "NANO"
    );
    let total = |q: &str| {
        let (app, admin) = (&app, &admin);
        let q = q.to_string();
        async move {
            app.get(&format!("/sim?{q}"), admin).await.body["total"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(total("").await, 32);
    assert_eq!(total("formFactor=eSIM").await, 1);
    assert_eq!(total("formFactor=esim").await, 1);
    assert_eq!(total("network=TELIA").await, 30);
    assert_eq!(total("autoAssign=true").await, 1);
    assert_eq!(total("autoAssign=0").await, 31);
    assert_eq!(total("filter=0002F").await, 1);
    // 12 zeros then "11": ICCs 8945 000000000000 11x.
    assert_eq!(total(&format!("filter={}11", "0".repeat(12))).await, 10);
    assert_eq!(total("network=TELIA&filter=0000000000001").await, 30);
    let page = app
        .get("/sim?network=TELIA&offset=10&limit=5", &admin)
        .await;
    assert_eq!(
        (
            page.body["offset"].as_i64(),
            page.body["limit"].as_i64(),
            page.body["total"].as_i64()
        ),
        (Some(10), Some(5), Some(30))
    );
    let ids: Vec<String> = page.body["sims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, (110..115).map(icc).collect::<Vec<_>>());
    // Bad input.
    app.get("/sim?formFactor=WATCH", &admin)
        .await
        .assert_telecomx_error(422, "formFactor");
    app.get("/sim?network=VODAFONE", &admin)
        .await
        .assert_telecomx_error(422, "network");
    app.get("/sim?limit=0", &admin)
        .await
        .assert_telecomx_error(422, "limit");
    app.get("/sim?limit=501", &admin)
        .await
        .assert_telecomx_error(422, "limit");
    app.get("/sim?offset=-1", &admin)
        .await
        .assert_telecomx_error(422, "offset");
    app.get("/sim?customer=acme", &admin)
        .await
        .assert_telecomx_error(422, "customer");
    app.get("/sim?autoAssign=maybe", &admin)
        .await
        .assert_telecomx_error(422, "autoAssign");
    app.get("/sim?filter=abc", &admin)
        .await
        .assert_telecomx_error(422, "filter");
    app.get("/sim/12345", &admin)
        .await
        .assert_telecomx_error(422, "sim");
    app.get("/sim/8945000000000000999", &admin)
        .await
        .assert_telecomx_error(404, "not_found");
    app.request(Method::GET, "/sim", None, None)
        .await
        .assert_telecomx_error(401, "credentials_invalid");
}

backends!(import_rules);
async fn import_rules(app: TestApp) {
    let admin = app.admin_token().await;
    let data = format!(
        "{}\nnot a sim\n{}\n123456;1;2;3;4;NANO;TDC\n{}\n{}",
        sim_lines(0, 1, "NANO", "TDC", false),
        sim_lines(1, 1, "WATCH", "TDC", false),
        sim_lines(2, 1, "NANO", "VODAFONE", false),
        sim_lines(0, 1, "eSIM", "TELIA", true),
    );
    let r = import(&app, &admin, data, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["imported"], 1);
    let skipped: Vec<i64> = r.body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_i64().unwrap())
        .collect();
    assert_eq!(skipped, vec![2, 3, 4, 5, 6]);
    assert!(
        r.body["skipped"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("form factor"),
        "{}",
        r.text
    );
    // Existing ICCs are skipped, never overwritten.
    let r = import(
        &app,
        &admin,
        format!(
            "{}\n{}",
            sim_lines(0, 1, "eSIM", "TELIA", true),
            sim_lines(5, 1, "NANO", "TDC", false)
        ),
        None,
    )
    .await;
    assert_eq!(r.body["imported"], 1);
    assert_eq!(
        r.body["skipped"],
        json!([{"line": 1, "reason": format!("SIM {} already exists", icc(0))}])
    );
    assert_eq!(
        app.get(&format!("/sim/{}", icc(0)), &admin).await.body["formFactor"],
        "NANO"
    );
    // Only the first 100 reasons.
    let bad = (0..150).map(|_| "x").collect::<Vec<_>>().join("\n");
    let r = import(
        &app,
        &admin,
        format!("{bad}\n{}", sim_lines(7, 1, "NANO", "TDC", false)),
        None,
    )
    .await;
    assert_eq!(r.body["skipped"].as_array().unwrap().len(), 100);
    // Errors.
    app.post("/sim", &admin, json!({}))
        .await
        .assert_telecomx_error(400, "bad_request");
    import(&app, &admin, "garbage\nmore garbage".into(), None)
        .await
        .assert_telecomx_error(422, "data");
    import(&app, &admin, "".into(), None)
        .await
        .assert_telecomx_error(422, "data");
    import(
        &app,
        &admin,
        sim_lines(1000, 10_001, "NANO", "TDC", false),
        None,
    )
    .await
    .assert_telecomx_error(409, "data");
    import(
        &app,
        &admin,
        sim_lines(1000, 1, "NANO", "TDC", false),
        Some("ffffffffffffffffffffffff"),
    )
    .await
    .assert_telecomx_error(422, "inStorageAt");
    import(
        &app,
        &admin,
        sim_lines(1000, 1, "NANO", "TDC", false),
        Some("nope"),
    )
    .await
    .assert_telecomx_error(422, "inStorageAt");
    // Exactly 10,000 lines is fine, in one go.
    assert_eq!(
        import_ok(
            &app,
            &admin,
            sim_lines(20_000, 10_000, "NANO", "TDC", false),
            None
        )
        .await,
        10_000
    );
    // Each imported SIM has its event; each import one audit row.
    let events: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM events WHERE type_id = 1000")
        .await;
    assert_eq!(events[0].0, 10_003);
    let audits: Vec<(i64,)> = app
        .sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'sim' AND action = 'import'")
        .await;
    assert_eq!(audits[0].0, 4);
}

backends!(assignment_writes_event_and_audit_and_keeps_pins_out_of_the_audit);
async fn assignment_writes_event_and_audit_and_keeps_pins_out_of_the_audit(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin);
    import_ok(&app, admin, sim_lines(0, 1, "NANO", "TDC", false), None).await;
    let r = app
        .post(
            &format!(
                "/sim/{}/assign?customer={}&autoAssign=true",
                icc(0),
                fx.org("C1A").oid
            ),
            admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sim = app.get(&format!("/sim/{}", icc(0)), admin).await;
    assert_eq!(
        (
            sim.body["inStorageAt"].as_str(),
            sim.body["autoAssign"].as_bool()
        ),
        (Some(fx.org("C1A").oid.as_str()), Some(true))
    );
    // The holder's roles follow: customer C1A under reseller R1.
    let roles: Vec<(Option<i64>, Option<i64>)> = app
        .sql(&format!(
            "SELECT reseller_org_id, customer_org_id FROM sims WHERE iccid = '{}'",
            icc(0)
        ))
        .await;
    assert_eq!(roles[0], (Some(fx.org("R1").id), Some(fx.org("C1A").id)));
    let events: Vec<(i64, String)> = app
        .sql("SELECT org_id, description FROM events WHERE type_id = 1001")
        .await;
    assert_eq!(
        events,
        vec![(fx.org("C1A").id, "SIM moved to storage".to_string())]
    );
    let audits: Vec<(String,)> = app
        .sql("SELECT CAST(after AS TEXT) FROM audit_log WHERE entity = 'sim' AND action = 'assign'")
        .await;
    assert_eq!(audits.len(), 1);
    assert!(
        !audits[0].0.contains("12345678") && !audits[0].0.contains("\"pin1\""),
        "{}",
        audits[0].0
    );
}
