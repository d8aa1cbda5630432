//! The tenant probe: objects of every kind in every tenant of the two-reseller tree (with a
//! sub-reseller), then every route of `/openapi.json` walked as every principal — with its API
//! token and with its emnify JWT — aimed at the objects outside its scope. Nothing of another
//! tenant may be read (its ICCs, numbers, users, org names, BICs in any answer), counted (a list's
//! total is the rows it lists) or changed (its rows are the same after the walk). Routes are read
//! from the OpenAPI document: a new route is walked without touching this file, and a new path or
//! query parameter fails the probe until it says which foreign value it takes.
use super::*;
use simgate::domain::access::AccessLevel;
use std::collections::{BTreeSet, HashMap};

/// (method, path template, parameters as (name, in)) of one documented operation.
type Route = (String, String, Vec<(String, String)>);

/// What a principal must not see, and what it may aim at.
#[derive(Default)]
struct Foreign {
    /// Quoted strings that may not appear in any answer.
    markers: BTreeSet<String>,
    iccs: Vec<String>,
    sim_ids: Vec<i64>,
    org_ids: Vec<i64>,
    org_oids: Vec<String>,
    user_ids: Vec<i64>,
    user_oids: Vec<String>,
    accounts: Vec<String>,
    deleted_accounts: Vec<String>,
    bics: Vec<String>,
    token_ids: Vec<i64>,
    token_secrets: Vec<(String, String)>,
    plans: Vec<String>,
    endpoint_ids: Vec<i64>,
    space_ids: Vec<i64>,
    profile_ids: Vec<i64>,
    tariff_ids: Vec<i64>,
}

struct World {
    fx: Fixture,
    /// org id -> path
    paths: HashMap<i64, String>,
    /// (iccid, emnify id, owner org ids)
    sims: Vec<(String, i64, Vec<i64>)>,
    /// (oid, number, customer org id, deleted)
    accounts: Vec<(String, String, i64, bool)>,
    /// (bic, issuer org id)
    batches: Vec<(String, i64)>,
    /// (plan oid, owner org id)
    plans: Vec<(String, i64)>,
    /// (endpoint id, org id, name, the ICC of its SIM)
    endpoints: Vec<(i64, i64, String, Option<String>)>,
    /// (IP address space id, org id, block)
    spaces: Vec<(i64, i64, String)>,
    /// (service profile id, owner org id, name)
    profiles: Vec<(i64, i64, String)>,
    /// (tariff profile id, owner org id, name)
    tariffs: Vec<(i64, i64, String)>,
}

async fn build(app: &TestApp) -> World {
    let fx = Fixture::build(app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let stock = [
        ("R1", 0, 2),
        ("R1S", 10, 2),
        ("C1A", 20, 4),
        ("C1SA", 30, 3),
        ("R2", 40, 2),
        ("C2A", 50, 4),
        ("C2B", 56, 1),
    ];
    for (org, start, n) in stock {
        import_at(app, &fx, org, start, n).await;
    }
    let r = app
        .post(
            "/sim",
            &admin,
            json!({"data": sim_lines(60, 2, "NANO", "TDC", false)}),
        )
        .await;
    assert_eq!(r.body["imported"], 2, "central stock: {}", r.text);
    let mut plans = Vec::new();
    for org in ["R1", "R2"] {
        let r = app
            .post(
                "/admin/v1/rate-plans",
                &admin,
                json!({"name": format!("{org} plan"), "owner_org": fx.org(org).id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        plans.push((r.body["oid"].as_str().unwrap().to_string(), fx.org(org).id));
    }
    let mut accounts = Vec::new();
    for (org, live, deleted, number, plan) in [
        ("C1A", 21, 20, 11, &plans[0].0),
        ("C1SA", 31, 30, 13, &plans[0].0),
        ("C2A", 51, 50, 22, &plans[1].0),
    ] {
        for (i, deleted_too) in [(live, false), (deleted, true)] {
            let number = format!("+45{number}{i:06}");
            let r = app
                .post(
                    "/mvno",
                    &admin,
                    json!({"customer": fx.org(org).oid, "number": number, "ratePlan": plan, "simNumber": icc(i)}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let oid = r.body["_id"].as_str().unwrap().to_string();
            if deleted_too {
                let d = app.delete(&format!("/mvno/{oid}"), &admin).await;
                assert_eq!(d.status, StatusCode::OK, "{}", d.text);
            }
            accounts.push((oid, number, fx.org(org).id, deleted_too));
        }
    }
    let mut batches = Vec::new();
    for (org, start) in [("R1", 70u64), ("R1S", 75), ("R2", 80)] {
        let bic = format!("BIC-{org}");
        let sims: Vec<Value> = (start..start + 2)
            .map(|i| json!({"iccid": icc(i)}))
            .collect();
        let r = app
            .post(
                "/admin/v1/sim-batches",
                &admin,
                json!({"bic": bic, "issuer_org": fx.org(org).id, "sims": sims}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        batches.push((bic, fx.org(org).id));
    }
    // History with users and orgs in it, and usage.
    for (org, i) in [("C1A", 22u64), ("C1SA", 32), ("C2A", 52)] {
        let id = sim_id(app, &fx, &icc(i)).await;
        let r = app
            .patch(
                &format!("/api/v1/sim/{id}"),
                fx.token(org, Owner),
                json!({"status": {"id": 1}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let u = app
            .post(
                "/admin/v1/usage",
                &admin,
                json!([{
                    "iccid": icc(i), "timestamp": "2026-03-15T10:00:00Z", "traffic_type": "data", "volume_tx": 1,
                    "volume_rx": 2
                }]),
            )
            .await;
        assert_eq!(u.body["accepted"], 1, "{}", u.text);
    }
    // An IP address space for each reseller's subtree (its devices draw from it).
    let mut spaces = Vec::new();
    for (org, block) in [("R1", "10.51.0.0/24"), ("R2", "10.52.0.0/24")] {
        let r = app
            .post(
                "/admin/v1/ip-address-spaces",
                &admin,
                json!({"ip_address_space": block, "org": fx.org(org).id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        spaces.push((
            r.body["id"].as_i64().unwrap(),
            fx.org(org).id,
            block.to_string(),
        ));
    }
    // A service profile of each of two customers.
    let mut profiles = Vec::new();
    for org in ["C1A", "C2A"] {
        let name = format!("probe profile of {org}");
        let r = app
            .post(
                "/api/v1/service_profile",
                fx.token(org, Manager),
                json!({"name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.headers["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        profiles.push((id, fx.org(org).id, name));
    }
    // A tariff profile of each reseller's subtree.
    let mut tariffs = Vec::new();
    for org in ["R1", "R2"] {
        let name = format!("probe tariff of {org}");
        let r = app
            .post(
                "/admin/v1/tariff-profiles",
                &admin,
                json!({"name": name, "owner_org": fx.org(org).id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        tariffs.push((r.body["id"].as_i64().unwrap(), fx.org(org).id, name));
    }
    // Devices, two of them holding a SIM of their org.
    let mut endpoints = Vec::new();
    for (org, sim) in [("C1A", Some(23u64)), ("C1SA", None), ("C2A", Some(53))] {
        let name = format!("probe device of {org}");
        let mut body =
            json!({"name": name, "service_profile": {"id": 1}, "tariff_profile": {"id": 1}});
        if let Some(i) = sim {
            body["sim"] = json!({"id": sim_id(app, &fx, &icc(i)).await});
        }
        let r = app
            .post("/api/v1/endpoint", fx.token(org, Manager), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.headers["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        endpoints.push((id, fx.org(org).id, name, sim.map(icc)));
    }
    let orgs: Vec<(i64, String)> = app.sql("SELECT id, path FROM organisations").await;
    let paths: HashMap<i64, String> = orgs.into_iter().collect();
    let rows: Vec<(String, i64, String)> = app
        .sql(&format!(
            "SELECT s.iccid, s.id, {} FROM sims s LEFT JOIN mvno_accounts m \
             ON m.tenant_org_id = s.tenant_org_id AND m.id = s.mvno_account_id",
            owners_sql()
        ))
        .await;
    let sims = rows
        .into_iter()
        .map(|(iccid, id, owners)| (iccid, id, parse_owners(&owners)))
        .collect();
    World {
        fx,
        paths,
        sims,
        accounts,
        batches,
        plans,
        endpoints,
        spaces,
        profiles,
        tariffs,
    }
}

/// The orgs a SIM belongs to, as a comma-separated list (over `sims s` and its account `m`).
fn owners_sql() -> &'static str {
    "COALESCE(CAST(s.issuer_org_id AS TEXT), '') || ',' || COALESCE(CAST(s.reseller_org_id AS TEXT), '') || ',' || \
     COALESCE(CAST(s.customer_org_id AS TEXT), '') || ',' || COALESCE(CAST(s.in_storage_at AS TEXT), '') || ',' || \
     COALESCE(CAST(m.customer_org_id AS TEXT), '')"
}

fn parse_owners(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|x| x.parse().ok()).collect()
}

struct Who {
    org_id: i64,
    path: String,
    level: AccessLevel,
}

impl Who {
    fn sees(&self, org: i64, w: &World) -> bool {
        match self.level {
            Admin => true,
            Reseller | ResellerAdmin => w.paths[&org].starts_with(&self.path),
            _ => org == self.org_id,
        }
    }
    /// In scope, or one of its own ancestors.
    fn knows(&self, org: i64, w: &World) -> bool {
        self.sees(org, w) || self.path.split('/').any(|p| p == org.to_string())
    }
    /// The caller's org lies in the subtree of `org` (batches are visible there).
    fn under(&self, org: i64) -> bool {
        self.path.split('/').any(|p| p == org.to_string())
    }
}

fn foreign_of(who: &Who, w: &World) -> Foreign {
    let q = |s: &str| format!("\"{s}\"");
    let mut f = Foreign::default();
    for (iccid, id, owners) in &w.sims {
        if !owners.iter().any(|o| who.sees(*o, w)) {
            f.markers.insert(q(iccid));
            f.iccs.push(iccid.clone());
            f.sim_ids.push(*id);
        }
    }
    // The orgs of a SIM the caller sees are named with it (emnify: issuer, reseller, customer), so
    // a reseller org's own users see the customers it sold to; no SIM here spans two tenants.
    let related: BTreeSet<i64> = w
        .sims
        .iter()
        .filter(|(_, _, owners)| owners.iter().any(|o| who.sees(*o, w)))
        .flat_map(|(_, _, owners)| owners.iter().copied())
        .collect();
    for org in w.fx.orgs.values() {
        if !who.sees(org.id, w) {
            f.org_ids.push(org.id);
            f.org_oids.push(org.oid.clone());
            if !who.knows(org.id, w) && !related.contains(&org.id) {
                f.markers.insert(q(&org.name));
            }
        }
    }
    for ((_, _), (user, secret)) in &w.fx.users {
        if !who.sees(user.org_id, w) {
            f.markers.insert(q(&user.email));
            f.user_ids.push(user.id);
            f.user_oids.push(user.oid.clone());
            f.token_secrets.push((user.oid.clone(), secret.clone()));
        }
    }
    for (oid, number, customer, deleted) in &w.accounts {
        if !who.sees(*customer, w) {
            f.markers.insert(q(oid));
            f.markers.insert(q(number));
            if *deleted {
                f.deleted_accounts.push(oid.clone());
            } else {
                f.accounts.push(oid.clone());
            }
        }
    }
    for (bic, issuer) in &w.batches {
        if !who.under(*issuer) && who.level != Admin {
            f.markers.insert(q(bic));
            f.bics.push(bic.clone());
        }
    }
    for (plan, owner) in &w.plans {
        // A plan is offered to its owner's subtree: known to the owner's descendants too.
        if !who.knows(*owner, w) {
            f.markers.insert(q(plan));
            f.plans.push(plan.clone());
        }
    }
    for (id, org, name, sim) in &w.endpoints {
        if !who.sees(*org, w) {
            f.endpoint_ids.push(*id);
            // A SIM the caller sees names the device it sits in (as it names its orgs).
            let named = w.sims.iter().any(|(iccid, _, owners)| {
                Some(iccid) == sim.as_ref() && owners.iter().any(|o| who.sees(*o, w))
            });
            if !named {
                f.markers.insert(q(name));
            }
        }
    }
    for (id, owner, name) in &w.profiles {
        // A profile serves its owner's subtree: known there and wherever the scope holds the owner.
        if !who.knows(*owner, w) {
            f.profile_ids.push(*id);
            f.markers.insert(q(name));
        }
    }
    for (id, owner, name) in &w.tariffs {
        if !who.knows(*owner, w) {
            f.tariff_ids.push(*id);
            f.markers.insert(q(name));
        }
    }
    for (id, org, block) in &w.spaces {
        if !who.sees(*org, w) {
            f.space_ids.push(*id);
            f.markers.insert(q(block));
        }
    }
    f.org_ids.sort();
    f.user_ids.sort();
    f
}

/// Every row of another tenant, fingerprinted: equal before and after a walk.
async fn foreign_rows(db: &Db, who: &Who, w: &World) -> Vec<String> {
    let tables: [(&str, String); 11] = [
        ("sims", format!(
            "SELECT {}, s.iccid || '|' || CAST(s.status AS TEXT) || '|' || CAST(s.version AS TEXT) || '|' || \
             COALESCE(CAST(s.mvno_account_id AS TEXT), '') \
             FROM sims s LEFT JOIN mvno_accounts m \
             ON m.tenant_org_id = s.tenant_org_id AND m.id = s.mvno_account_id",
            owners_sql()
        )),
        ("mvno", "SELECT CAST(customer_org_id AS TEXT), oid || '|' || state || '|' || CAST(version AS TEXT) || \
            '|' || COALESCE(number, '') || '|' || CAST(features AS TEXT) FROM mvno_accounts".into()),
        ("users", "SELECT CAST(org_id AS TEXT), email || '|' || state || '|' || access_level || '|' || \
            password_hash || '|' || name || '|' || COALESCE(CAST(tokens_valid_after AS TEXT), '') FROM users".into()),
        ("tokens", "SELECT CAST(u.org_id AS TEXT), CAST(t.id AS TEXT) || '|' || COALESCE(CAST(t.revoked_at AS \
            TEXT), '') FROM api_tokens t JOIN users u ON u.id = t.user_id".into()),
        ("orgs", "SELECT CAST(id AS TEXT), name || '|' || COALESCE(CAST(parent_id AS TEXT), '') || '|' || \
            COALESCE(country, '') FROM organisations".into()),
        ("plans", "SELECT CAST(owner_org_id AS TEXT), oid || '|' || name FROM rate_plans WHERE owner_org_id IS \
            NOT NULL".into()),
        ("batches", "SELECT 'batch:' || CAST(issuer_org_id AS TEXT), bic || '|' || COALESCE(CAST(registered_at \
            AS TEXT), '') FROM sim_batches".into()),
        ("endpoints", "SELECT CAST(org_id AS TEXT), name || '|' || CAST(status AS TEXT) || '|' || \
            CAST(service_profile_id AS TEXT) || '|' || CAST(updated_at AS TEXT) || '|' || \
            COALESCE(ip_address, '') FROM endpoints".into()),
        ("ip spaces", "SELECT CAST(org_id AS TEXT), cidr FROM ip_address_spaces".into()),
        ("profiles", "SELECT CAST(owner_org_id AS TEXT), name || '|' || CAST(updated_at AS TEXT) \
            FROM service_profiles WHERE owner_org_id IS NOT NULL".into()),
        ("tariffs", "SELECT CAST(owner_org_id AS TEXT), name || '|' || COALESCE(description, '') \
            FROM tariff_profiles WHERE owner_org_id IS NOT NULL".into()),
    ];
    let mut out = Vec::new();
    for (table, sql) in tables {
        for (owners, fingerprint) in db.rows(&sql).await {
            let foreign = match owners.strip_prefix("batch:") {
                Some(issuer) => who.level != Admin && !who.under(issuer.parse().unwrap()),
                None => !parse_owners(&owners).iter().any(|o| who.sees(*o, w)),
            };
            if foreign {
                out.push(format!("{table}: {fingerprint}"));
            }
        }
    }
    out.sort();
    out
}

/// One pool for the probe's many reads.
enum Db {
    Pg(sqlx::PgPool),
    Lite(sqlx::SqlitePool),
}

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("postgres") {
            Db::Pg(sqlx::PgPool::connect(url).await.unwrap())
        } else {
            Db::Lite(sqlx::SqlitePool::connect(url).await.unwrap())
        }
    }
    async fn rows(&self, sql: &str) -> Vec<(String, String)> {
        match self {
            Db::Pg(p) => sqlx::query_as(sql).fetch_all(p).await,
            Db::Lite(p) => sqlx::query_as(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    async fn close(self) {
        match self {
            Db::Pg(p) => p.close().await,
            Db::Lite(p) => p.close().await,
        }
    }
}

/// The foreign value a path parameter takes in the `n`-th variant; None: no such object here.
fn path_value(path: &str, name: &str, f: &Foreign, n: usize) -> Option<String> {
    let pick = |v: &[String]| (!v.is_empty()).then(|| v[n % v.len()].clone());
    let pick_i = |v: &[i64]| (!v.is_empty()).then(|| v[n % v.len()].to_string());
    match name {
        "icc" | "new" => pick(&f.iccs),
        "sim_id" => pick_i(&f.sim_ids),
        "endpoint_id" => pick_i(&f.endpoint_ids),
        "profile_id" if path.starts_with("/api/v1/service_profile") => pick_i(&f.profile_ids),
        "profile_id" if path.starts_with("/api/v1/tariff_profile") => pick_i(&f.tariff_ids),
        "profile_id" => None,
        // Services are everyone's: the profile beside it is the foreign object.
        "service_id" => Some("38".to_string()),
        // Operators are everyone's: the endpoint beside it is the foreign object.
        "operator_id" => Some("1".to_string()),
        // An SMS is reached only through its endpoint, the foreign object beside it.
        "sms_id" => Some("1".to_string()),
        "bic" => pick(&f.bics),
        "ref" if path.starts_with("/admin/v1/organisations") => pick_i(&f.org_ids),
        "ref" if path.starts_with("/admin/v1/users") => pick_i(&f.user_ids),
        "id" if path.starts_with("/admin/v1/tokens") => pick_i(&f.token_ids),
        "id" if path.starts_with("/admin/v1/ip-address-spaces") => pick_i(&f.space_ids),
        "id" if path.starts_with("/admin/v1/tariff-profiles") => pick_i(&f.tariff_ids),
        // Operators are everyone's (ADMIN writes them): none is foreign.
        "id" if path.starts_with("/admin/v1/operators") => None,
        "id" if path.starts_with("/employee/") => pick(&f.user_oids),
        "id" if path.starts_with("/mvno/deleted") => pick(&f.deleted_accounts),
        "id" if path.starts_with("/mvno/") => pick(&f.accounts),
        "token" => (!f.token_secrets.is_empty())
            .then(|| f.token_secrets[n % f.token_secrets.len()].1.clone()),
        _ => panic!("the probe has no foreign value for path parameter {name} of {path}: add one"),
    }
}

/// The query parameters of a walk: paging wide open, filters aimed at foreign objects.
fn query_value(path: &str, name: &str, f: &Foreign, aimed: bool) -> Option<String> {
    let first = |v: &[String]| v.first().cloned();
    let enc = |s: String| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let v = match name {
        "offset" | "page" => Some("0".to_string()),
        "limit" => Some("500".to_string()),
        "per_page" => Some("2500".to_string()),
        "sort" => Some("id".to_string()),
        // Operators are everyone's and too many for one page: a country's are read whole.
        "country" => Some("dk".to_string()),
        _ if !aimed => None,
        "customer" => first(&f.org_oids),
        "parent" | "org" => f.org_ids.first().map(i64::to_string),
        "ratePlan" => first(&f.plans),
        "q" => f.org_ids.first().map(|o| format!("customer_org:{o}")),
        "filter" if path.starts_with("/mvno") => Some("45".to_string()),
        "filter" => Some("8945".to_string()),
        "network" => Some("TDC".to_string()),
        "formFactor" => Some("NANO".to_string()),
        "autoAssign" => Some("false".to_string()),
        "start_date" => Some("2026-03-01".to_string()),
        "end_date" => Some("2026-03-31".to_string()),
        "username" | "password" | "persist" => None,
        "token" => f.token_secrets.first().map(|t| t.1.clone()),
        _ => panic!("the probe has no value for query parameter {name} of {path}: add one"),
    };
    v.map(enc)
}

/// A body naming foreign objects wherever a route takes a reference.
fn hostile_body(f: &Foreign) -> Value {
    let org_id = f.org_ids.first().copied().unwrap_or(0);
    json!({
        "customer": f.org_oids.first(), "inStorageAt": f.org_oids.first(), "org": org_id, "parent": org_id,
        "issuer_org": org_id, "owner_org": org_id, "ratePlan": f.plans.first(), "newRatePlan": f.plans.first(),
        "simNumber": f.iccs.first(), "employee": f.user_oids.first(), "number": "+4599887766",
        "name": "probe", "kind": "ENTERPRISE", "email": "probe@probe.test", "password": "probe-password-1",
        "access_level": "VIEWER", "state": "BLOCKED", "status": {"id": 2},
        "reseller_org": {"id": org_id}, "customer_org": {"id": org_id},
        "data": format!("{};12345678;87654321;1234;4321;NANO;TDC", icc(999)),
        "bic": "PROBE", "sims": [{"iccid": icc(998)}], "description": "probe", "form_factor": "NANO",
        "label": "probe", "feature": {"data": false},
        "sim": {"id": f.sim_ids.first()}, "organisation": {"id": org_id},
        "service_profile": {"id": 1}, "tariff_profile": {"id": 1},
    })
}

fn check_answer(ctx: &str, r: &Resp, f: &Foreign) {
    assert!(
        !r.status.is_server_error(),
        "{ctx}: {} {}",
        r.status,
        r.text
    );
    for m in &f.markers {
        assert!(
            !r.text.contains(m.as_str()),
            "{ctx}: {m} of another tenant in {}",
            r.text
        );
    }
}

/// A list counts only what it lists (every list is read whole: wide pages, small world).
fn check_total(ctx: &str, r: &Resp) {
    if !r.status.is_success() {
        return;
    }
    if let Some(total) = r.headers.get("x-total-count") {
        let n = r.body.as_array().map_or(0, Vec::len);
        assert_eq!(
            total.to_str().unwrap(),
            n.to_string(),
            "{ctx}: total vs rows"
        );
    } else if let Some(total) = r.body.get("total").and_then(Value::as_i64) {
        let n = ["items", "sims", "mvnoAccounts"]
            .iter()
            .find_map(|k| r.body.get(*k).and_then(Value::as_array))
            .map_or(0, Vec::len);
        assert_eq!(total, n as i64, "{ctx}: total vs rows");
    }
}

async fn walk(app: &TestApp, routes: &[Route], token: &str, f: &Foreign, who: &str) {
    for (method, path, params) in routes {
        let m: Method = method.parse().unwrap();
        let in_path: Vec<&str> = params
            .iter()
            .filter(|(n, _)| path.contains(&format!("{{{n}}}")))
            .map(|(n, _)| n.as_str())
            .collect();
        let queries: Vec<&str> = params
            .iter()
            .filter(|(n, at)| at == "query" && !in_path.contains(&n.as_str()))
            .map(|(n, _)| n.as_str())
            .collect();
        let variants = if in_path.is_empty() { 2 } else { 3 };
        for n in 0..variants {
            let mut url = path.clone();
            let mut skip = false;
            for name in &in_path {
                match path_value(path, name, f, n) {
                    Some(v) => url = url.replace(&format!("{{{name}}}"), &v),
                    None => skip = true,
                }
            }
            if skip {
                continue;
            }
            // Without path parameters: variant 0 lists plainly, variant 1 aims its filters abroad.
            let aimed = !in_path.is_empty() || n == 1;
            let qs: Vec<String> = queries
                .iter()
                .filter_map(|q| query_value(path, q, f, aimed).map(|v| format!("{q}={v}")))
                .collect();
            if !qs.is_empty() {
                url = format!("{url}?{}", qs.join("&"));
            }
            let body = (m != Method::GET && m != Method::DELETE).then(|| hostile_body(f));
            let r = app.request(m.clone(), &url, Some(token), body).await;
            let ctx = format!("{} {who}: {method} {url}", app.backend);
            check_answer(&ctx, &r, f);
            if !in_path.is_empty() && m != Method::GET {
                assert!(
                    !r.status.is_success(),
                    "{ctx}: a foreign object was changed: {}",
                    r.text
                );
            }
            if in_path.is_empty() && m == Method::GET && !aimed {
                check_total(&ctx, &r);
            }
        }
    }
}

backends!(no_route_reaches_another_tenant);
async fn no_route_reaches_another_tenant(app: TestApp) {
    let w = build(&app).await;
    let doc = app
        .request(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let params = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap().to_string(),
                                p["in"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            routes.push((method.to_uppercase(), path.clone(), params));
        }
    }
    assert!(routes.len() > 40, "{} routes", routes.len());
    let tokens: Vec<(String, i64)> = app
        .sql("SELECT u.oid, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id")
        .await;
    let db = Db::open(&app.config.database.url).await;
    let mut walked = 0;
    for (org, level) in w.fx.principals() {
        if level == Admin {
            continue; // nothing is foreign to ADMIN
        }
        let o = w.fx.org(org);
        let who = Who {
            org_id: o.id,
            path: o.path.clone(),
            level,
        };
        let mut f = foreign_of(&who, &w);
        f.token_ids = tokens
            .iter()
            .filter(|(oid, _)| f.user_oids.contains(oid))
            .map(|(_, id)| *id)
            .collect();
        let token = w.fx.token(org, level).to_string();
        let auth = jwt(&app, json!({"application_token": token})).await;
        let jwt = auth.body["auth_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", auth.text))
            .to_string();
        let before = foreign_rows(&db, &who, &w).await;
        assert!(
            !before.is_empty() && !f.markers.is_empty(),
            "{org} {level:?} has nothing foreign"
        );
        for (cred, t) in [("token", &token), ("jwt", &jwt)] {
            walk(&app, &routes, t, &f, &format!("{org} {level:?} ({cred})")).await;
            walked += 1;
        }
        let after = foreign_rows(&db, &who, &w).await;
        assert_eq!(
            before, after,
            "{} {org} {level:?} changed another tenant",
            app.backend
        );
    }
    assert!(walked >= 80, "{walked} walks");
    db.close().await;
}
