//! Organisation names and SIM model descriptions for the single-SIM read, and org paths and profile
//! names for the single-endpoint read, kept in memory for `database.label_cache_secs`. Measured: the
//! four joins that fetch them with the SIM halve the database's throughput for that read (pgbench,
//! prepared: 38k vs 72k tps), and these rows hardly change. An org's path (its place in the tree,
//! which decides visibility) never changes after creation, and an org is never deleted: paths are
//! kept for good. Only names and countries can be stale: never on the node that changed them (it
//! forgets the entry), at most the TTL on the others.
use crate::store::{EmnifySim, EndpointRow, ProfileKind};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OrgLabel {
    pub id: i64,
    pub name: String,
    pub country: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ModelLabel {
    pub id: i64,
    pub description: String,
    pub memory_size: Option<i32>,
    pub form_factor: String,
    pub manufacturer: Option<String>,
}

/// A service or tariff profile's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ProfileLabel {
    pub id: i64,
    pub name: String,
}

/// What an endpoint's read lacks: its org, service profile and tariff profile, each `Ok` from the cache
/// or `Err(id)` to be loaded.
pub(crate) struct EndpointFound {
    /// The org's path.
    pub org: Result<String, i64>,
    pub service: Result<ProfileLabel, i64>,
    pub tariff: Result<ProfileLabel, i64>,
}

impl EndpointFound {
    /// Sets the label columns of `row` from what was found, as the joined query would have; `None`
    /// when a label's row is gone (the joined query, inner-joined, would not have found the endpoint).
    pub fn fill(self, mut row: EndpointRow) -> Option<EndpointRow> {
        let (Ok(org), Ok(service), Ok(tariff)) = (self.org, self.service, self.tariff) else {
            return None;
        };
        row.org_path = org;
        row.service_profile_name = service.name;
        row.tariff_profile_name = tariff.name;
        Some(row)
    }
}

struct TtlMap<V> {
    entries: RwLock<HashMap<i64, (Instant, V)>>,
}

impl<V: Clone> TtlMap<V> {
    fn new() -> Self {
        TtlMap {
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, id: i64, ttl: Duration) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&id)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, id: i64, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.insert(id, (Instant::now(), value));
    }

    fn forget(&self, id: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(&id);
    }
}

/// The labels one SIM needs.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub orgs: Vec<OrgLabel>,
    pub model: Option<ModelLabel>,
}

pub(crate) struct Labels {
    ttl: Duration,
    orgs: TtlMap<OrgLabel>,
    /// Org paths, kept for good: a path never changes and an org is never deleted. The endpoint read
    /// needs no more of its org, so it never reloads one (with the TTL, a read of random devices
    /// across 5,000 customers reloaded an org for one request in ten).
    paths: RwLock<HashMap<i64, String>>,
    models: TtlMap<ModelLabel>,
    services: TtlMap<ProfileLabel>,
    tariffs: TtlMap<ProfileLabel>,
}

impl Labels {
    pub fn new(ttl: Duration) -> Self {
        Labels {
            ttl,
            orgs: TtlMap::new(),
            paths: RwLock::default(),
            models: TtlMap::new(),
            services: TtlMap::new(),
            tariffs: TtlMap::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// What the cache holds for `sim`, and the org ids and model id it lacks (or has expired).
    pub fn lookup(&self, sim: &EmnifySim) -> (Found, Vec<i64>, Option<i64>) {
        let mut found = Found::default();
        let mut missing = Vec::new();
        for id in [sim.issuer_org_id, sim.reseller_org_id, sim.customer_org_id]
            .into_iter()
            .flatten()
        {
            match self.orgs.get(id, self.ttl) {
                Some(org) => found.orgs.push(org),
                None if !missing.contains(&id) => missing.push(id),
                None => {}
            }
        }
        let mut missing_model = None;
        if let Some(id) = sim.model_id {
            match self.models.get(id, self.ttl) {
                Some(m) => found.model = Some(m),
                None => missing_model = Some(id),
            }
        }
        (found, missing, missing_model)
    }

    /// What the cache holds for an endpoint's labels.
    pub fn lookup_endpoint(&self, row: &EndpointRow) -> EndpointFound {
        let get = |kind, id| self.profiles(kind).get(id, self.ttl).ok_or(id);
        EndpointFound {
            org: self
                .paths
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&row.org_id)
                .cloned()
                .ok_or(row.org_id),
            service: get(ProfileKind::Service, row.service_profile_id),
            tariff: get(ProfileKind::Tariff, row.tariff_profile_id),
        }
    }

    fn profiles(&self, kind: ProfileKind) -> &TtlMap<ProfileLabel> {
        match kind {
            ProfileKind::Service => &self.services,
            ProfileKind::Tariff => &self.tariffs,
        }
    }

    pub fn put_profile(&self, kind: ProfileKind, label: ProfileLabel) {
        self.profiles(kind).put(label.id, label);
    }

    /// After a profile's name changed on this node.
    pub fn forget_profile(&self, kind: ProfileKind, id: i64) {
        self.profiles(kind).forget(id);
    }

    pub fn put_org(&self, org: OrgLabel) {
        self.paths
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(org.id)
            .or_insert_with(|| org.path.clone());
        self.orgs.put(org.id, org);
    }

    pub fn put_model(&self, model: ModelLabel) {
        self.models.put(model.id, model);
    }

    /// After an org's name or country changed on this node.
    pub fn forget_org(&self, id: i64) {
        self.orgs.forget(id);
    }

    /// Sets the label columns of `sim` from `found`, as the joined query would have.
    pub fn fill(sim: &mut EmnifySim, found: Found) {
        let org =
            |id: Option<i64>| id.and_then(|id| found.orgs.iter().find(|o| o.id == id).cloned());
        let split = |o: Option<OrgLabel>| match o {
            Some(o) => (Some(o.name), o.country, Some(o.path)),
            None => (None, None, None),
        };
        (sim.issuer_name, sim.issuer_country, sim.issuer_path) = split(org(sim.issuer_org_id));
        (sim.reseller_name, sim.reseller_country, sim.reseller_path) =
            split(org(sim.reseller_org_id));
        (sim.customer_name, sim.customer_country, sim.customer_path) =
            split(org(sim.customer_org_id));
        let model = found.model.filter(|m| Some(m.id) == sim.model_id);
        sim.model_description = model.as_ref().map(|m| m.description.clone());
        sim.model_memory_size = model.as_ref().and_then(|m| m.memory_size);
        sim.model_form_factor = model.as_ref().map(|m| m.form_factor.clone());
        sim.model_manufacturer = model.and_then(|m| m.manufacturer);
    }
}

/// Loading what the cache lacks (and keeping it).
impl super::SqlStore {
    /// The labels of orgs `ids`, cached from now on.
    pub(crate) async fn load_orgs(&self, ids: &[i64]) -> super::StoreResult<Vec<OrgLabel>> {
        let mut qb = super::db::Builder::new(
            "SELECT id, name, country, path FROM organisations WHERE id IN ",
        );
        qb.push_list(ids.iter().copied());
        let loaded: Vec<OrgLabel> = qb.build().fetch_all(&self.pool).await?;
        for org in &loaded {
            self.labels.put_org(org.clone());
        }
        Ok(loaded)
    }

    /// An endpoint from the point reads with its org path and profile names filled from the cache
    /// (loading what it lacks); `None` if one of them is gone.
    pub(crate) async fn label_endpoint(
        &self,
        row: EndpointRow,
    ) -> super::StoreResult<Option<EndpointRow>> {
        let mut found = self.labels.lookup_endpoint(&row);
        if let Err(id) = found.org {
            found.org = self.load_orgs(&[id]).await?.pop().map(|o| o.path).ok_or(id);
        }
        for (label, kind) in [
            (&mut found.service, ProfileKind::Service),
            (&mut found.tariff, ProfileKind::Tariff),
        ] {
            if let Err(id) = *label {
                let loaded: Option<ProfileLabel> = super::db::query(format!(
                    "SELECT id, name FROM {} WHERE id = $1",
                    kind.table()
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                if let Some(l) = &loaded {
                    self.labels.put_profile(kind, l.clone());
                }
                *label = loaded.ok_or(id);
            }
        }
        Ok(found.fill(row))
    }
}
