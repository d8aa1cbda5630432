//! `simgate demo`: a realistic, reproducible dataset (same seed, same data) built through the same
//! store operations the API uses, so every counter, event and audit row is what real use makes.
use crate::auth::token;
use crate::domain::access::AccessLevel;
use crate::domain::ids::ObjectId;
use crate::domain::mvno::Features;
use crate::domain::org::OrgKind;
use crate::domain::sim::{FormFactor, ImportedSim, SimStatus};
use crate::service::access::SYSTEM;
use crate::state::AppState;
use crate::store::{
    Actor, BatchSim, EmnifySimPatch, Holder, IpChoice, NewAccount, NewBatch, NewEndpoint, NewOrg,
    NewRatePlan, NewSimModel, NewToken, NewUser, Org, SimAttach, SimPick, TokenKind, UsageRecord,
};
use chrono::{Duration, DurationRound};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const DEMO_PASSWORD: &str = "demo-password";

pub struct Options {
    pub sims: u64,
    pub seed: u64,
    /// The tenant tree's size; by default it grows with `sims` (3..50 resellers, 10..5,000 customers).
    pub resellers: Option<usize>,
    pub customers: Option<usize>,
}

impl Options {
    pub fn new(sims: u64, seed: u64) -> Options {
        Options {
            sims,
            seed,
            resellers: None,
            customers: None,
        }
    }
}

pub struct Summary {
    pub resellers: usize,
    pub customers: usize,
    pub sims: u64,
    pub accounts: usize,
    /// Devices (emnify endpoints), most of them holding a SIM.
    pub endpoints: usize,
    pub reseller_admin: String,
    pub reseller_token: String,
}

const NETWORKS: [&str; 3] = ["TDC", "TELENOR", "TELIA"];

fn form_factor(rng: &mut StdRng) -> FormFactor {
    match rng.gen_range(0..10) {
        0..=3 => FormFactor::Nano,
        4..=5 => FormFactor::MiniMicroNano,
        6 => FormFactor::MiniMicro,
        _ => FormFactor::ESim,
    }
}

fn org(name: String, kind: OrgKind, parent: i64, at: chrono::DateTime<chrono::Utc>) -> NewOrg {
    NewOrg {
        oid: ObjectId::generate(at).into_string(),
        name,
        kind,
        parent_id: Some(parent),
        country: Some("DK".into()),
    }
}

/// Builds the dataset; `progress` is told each finished step with its weight out of 100.
pub async fn run(
    state: &AppState,
    opts: Options,
    progress: impl Fn(u64, &str),
) -> anyhow::Result<Summary> {
    let store = &state.store;
    if store.org_count().await? > 1 {
        anyhow::bail!("simgate demo needs a fresh database (it holds organisations already)");
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let now = state.now();
    let actor = Actor::system(now);
    let platform = store
        .org_find(
            &crate::service::access::SYSTEM,
            &crate::domain::ids::EntityRef::Id(1),
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("no platform org"))?;
    let n_resellers = opts
        .resellers
        .unwrap_or((opts.sims / 20_000) as usize)
        .clamp(1, 50);
    let n_customers = opts
        .customers
        .unwrap_or((opts.sims / 200) as usize)
        .clamp(1, 5000);
    let n_resellers = if opts.resellers.is_none() {
        n_resellers.max(3)
    } else {
        n_resellers
    };
    let n_customers = if opts.customers.is_none() {
        n_customers.max(10)
    } else {
        n_customers
    };
    let password_hash = state
        .auth
        .passwords
        .hash_plain_async(DEMO_PASSWORD.into())
        .await;

    // The tenant tree: resellers of every kind (some nested), customers spread over them.
    let kinds = [OrgKind::Reseller, OrgKind::ServiceProvider, OrgKind::Mno];
    let mut resellers: Vec<Org> = Vec::new();
    for i in 0..n_resellers {
        let parent = if i >= 3 && i % 5 == 0 {
            resellers[i % 3].id
        } else {
            platform.id
        };
        resellers.push(
            store
                .org_create(
                    org(format!("Demo Reseller {i:02}"), kinds[i % 3], parent, now),
                    &actor,
                )
                .await?,
        );
    }
    let mut customers: Vec<(Org, usize)> = Vec::new();
    for j in 0..n_customers {
        let r = j % n_resellers;
        customers.push((
            store
                .org_create(
                    org(
                        format!("Demo Customer {j:04}"),
                        OrgKind::Enterprise,
                        resellers[r].id,
                        now,
                    ),
                    &actor,
                )
                .await?,
            r,
        ));
    }
    let user = |org_id: i64, email: String, name: String, level: AccessLevel| NewUser {
        oid: ObjectId::generate(now).into_string(),
        org_id,
        email,
        name,
        password_hash: password_hash.clone(),
        access_level: level,
    };
    let mut reseller_token = String::new();
    for (i, r) in resellers.iter().enumerate() {
        let ra = store
            .user_create(
                user(
                    r.id,
                    format!("ra{i:02}@reseller.demo"),
                    format!("Reseller admin {i:02}"),
                    AccessLevel::ResellerAdmin,
                ),
                &actor,
            )
            .await?;
        store
            .user_create(
                user(
                    r.id,
                    format!("sales{i:02}@reseller.demo"),
                    format!("Sales {i:02}"),
                    AccessLevel::Reseller,
                ),
                &actor,
            )
            .await?;
        let secret = token::generate();
        store
            .token_create(
                NewToken {
                    user_id: ra.id,
                    token_hash: token::hash(&secret),
                    label: Some("demo".into()),
                    kind: TokenKind::Application,
                    expires_at: None,
                },
                &actor,
            )
            .await?;
        if i == 0 {
            reseller_token = secret;
        }
    }
    for (j, (c, _)) in customers.iter().enumerate() {
        store
            .user_create(
                user(
                    c.id,
                    format!("owner{j:04}@customer.demo"),
                    format!("Owner {j:04}"),
                    AccessLevel::Owner,
                ),
                &actor,
            )
            .await?;
    }
    progress(10, "tenants");

    let plans = [
        store
            .rate_plan_create(
                NewRatePlan {
                    oid: ObjectId::generate(now).into_string(),
                    name: "Basic 5GB".into(),
                    owner_org_id: None,
                },
                &actor,
            )
            .await?,
        store
            .rate_plan_create(
                NewRatePlan {
                    oid: ObjectId::generate(now).into_string(),
                    name: "Unlimited".into(),
                    owner_org_id: None,
                },
                &actor,
            )
            .await?,
    ];
    let model = store
        .sim_model_create(
            NewSimModel {
                description: "Triple cut 128K".into(),
                memory_size: Some(128),
                form_factor: FormFactor::MiniMicroNano,
                manufacturer: Some("Demo".into()),
            },
            &actor,
        )
        .await?;

    // TelecomX stock: 30% central, 30% at resellers, 40% at customers, imported 10,000 at a time.
    let holder_of_reseller = |r: &Org| Holder {
        org_id: r.id,
        reseller_org_id: Some(r.id),
        customer_org_id: None,
    };
    // A hundred chunks whatever the size, each to a random holder: the stock spreads alike over
    // the tree at every scale (at most one import's worth per chunk).
    let chunk = (opts.sims / 100).clamp(1, 10_000);
    let mut next_icc = 0u64;
    let stock = opts.sims;
    // (customer org, first ICC index, count) of each chunk a customer holds.
    let mut customer_stock: Vec<(i64, u64, u64)> = Vec::new();
    while next_icc < stock {
        let n = chunk.min(stock - next_icc);
        let holder = match rng.gen_range(0..10) {
            0..=2 => None,
            3..=5 => Some(holder_of_reseller(
                &resellers[rng.gen_range(0..n_resellers)],
            )),
            _ => {
                let (c, r) = &customers[rng.gen_range(0..n_customers)];
                Some(Holder {
                    org_id: c.id,
                    reseller_org_id: Some(resellers[*r].id),
                    customer_org_id: Some(c.id),
                })
            }
        };
        let sims: Vec<ImportedSim> = (next_icc..next_icc + n)
            .map(|i| ImportedSim {
                line: (i - next_icc + 1) as usize,
                iccid: format!("8945{i:015}"),
                puk1: Some(format!("{:08}", rng.gen_range(0..100_000_000u32))),
                puk2: Some(format!("{:08}", rng.gen_range(0..100_000_000u32))),
                pin1: Some(format!("{:04}", rng.gen_range(0..10_000u32))),
                pin2: Some(format!("{:04}", rng.gen_range(0..10_000u32))),
                form_factor: form_factor(&mut rng),
                network: NETWORKS[rng.gen_range(0..3)].to_string(),
                activation_code: None,
                tag: None,
                auto_assign: rng.gen_bool(0.3),
            })
            .collect();
        store
            .sim_import(&sims, holder.as_ref(), platform.id, &actor)
            .await?;
        if let Some(Holder {
            customer_org_id: Some(c),
            ..
        }) = holder
        {
            customer_stock.push((c, next_icc, n));
        }
        next_icc += n;
        progress(10 + 50 * next_icc / stock, "SIMs");
    }

    // emnify side: two batches; the first registered by a reseller and run through every status.
    let batch_size = (opts.sims / 20).clamp(10, 10_000);
    for b in 0..2u64 {
        let sims = (0..batch_size)
            .map(|i| BatchSim {
                iccid: format!("8988303{:012}", b * batch_size + i),
                imsi: Some(format!("90143{:010}", b * batch_size + i)),
                msisdn: Some(format!("4570{:07}", b * batch_size + i)),
                eid: None,
                puk1: None,
                puk2: None,
                pin1: None,
                pin2: None,
                network: NETWORKS[(i % 3) as usize].to_string(),
                form_factor: FormFactor::MiniMicroNano,
                production_date: Some(now.date_naive() - Duration::days(90)),
            })
            .collect();
        store
            .batch_create(
                NewBatch {
                    bic: format!("DEMO-BATCH-{b}"),
                    issuer_org_id: platform.id,
                    model_id: Some(model.id),
                    sims,
                },
                &actor,
            )
            .await?;
    }
    let batch = store
        .batch_by_bic(&SYSTEM, "DEMO-BATCH-0")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo batch missing"))?
        .0;
    let registered = store
        .batch_register(
            &SYSTEM,
            batch.id,
            crate::store::Registration {
                reseller_org_id: Some(resellers[0].id),
                customer_org_id: None,
                status: SimStatus::Activated,
                by_org: resellers[0].id,
            },
            &actor,
        )
        .await?;
    for (k, sim) in registered.iter().take(300).enumerate() {
        let status = if k % 3 == 0 {
            SimStatus::Suspended
        } else {
            continue;
        };
        store
            .esim_patch(
                &SYSTEM,
                sim.id,
                EmnifySimPatch {
                    status: Some(status),
                    ..Default::default()
                },
                &actor,
            )
            .await?;
    }
    progress(70, "batches");

    // MVNO accounts on customers' SIMs; some deleted recently, some long ago (then purged).
    let n_accounts = ((opts.sims / 20) as usize).clamp(10, 2000);
    let mut accounts = 0;
    let mut in_use = Vec::new();
    for a in 0..n_accounts {
        let (c, r) = &customers[rng.gen_range(0..n_customers)];
        let pick = SimPick {
            chain: vec![c.id, resellers[*r].id],
            iccid: None,
            esim_only: false,
            auto_only: false,
        };
        let new = NewAccount {
            oid: ObjectId::generate(now).into_string(),
            customer_org_id: c.id,
            number: format!("+4581{a:06}"),
            rate_plan_id: Some(plans[a % 2].id),
            name: Some(format!("Subscriber {a}")),
            employee_user_id: None,
            device_type: Some(["iPhone 15", "Pixel 8", "Galaxy S24"][a % 3].into()),
            imei: None,
            notes: None,
            features: Features::default(),
            start_date: Some(now - Duration::days(rng.gen_range(1..400))),
        };
        let Ok(rec) = store.mvno_create(new, &pick, &actor).await else {
            continue;
        };
        accounts += 1;
        in_use.push(rec.sim_id.unwrap_or_default());
        match a % 20 {
            0 | 1 => {
                store
                    .mvno_delete(
                        &SYSTEM,
                        rec.key(),
                        now + Duration::days(state.config.mvno.recovery_days),
                        &actor,
                    )
                    .await?;
            }
            2 => {
                let long_ago = Actor::system(now - Duration::days(45));
                store
                    .mvno_delete(&SYSTEM, rec.key(), now - Duration::days(15), &long_ago)
                    .await?;
            }
            _ => {}
        }
    }
    store.mvno_purge_due(&actor, 10_000).await?;
    progress(80, "accounts");
    // The devices' creates read and update the rows just loaded: planned for empty tables (no
    // autovacuum yet, or none at all), 600,000 of them took hours instead of minutes.
    store.analyze().await?;

    let endpoints = devices(
        state,
        &mut rng,
        &customers,
        &customer_stock,
        opts.sims,
        &actor,
    )
    .await?;
    progress(90, "devices");

    // Hourly usage for the SIMs in use over the last two days.
    let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let mut usage = Vec::new();
    for sim_id in in_use.iter().take(1000) {
        for h in 0..48 {
            usage.push(UsageRecord {
                sim_id: *sim_id,
                at: hour - Duration::hours(h),
                hour: hour - Duration::hours(h),
                traffic_type: crate::domain::usage::DATA,
                volume_tx: rng.gen_range(0.0..5.0),
                volume_rx: rng.gen_range(0.0..50.0),
                cost: rng.gen_range(0.0..0.5),
                currency: "EUR".into(),
            });
            if h % 6 == 0 {
                usage.push(UsageRecord {
                    sim_id: *sim_id,
                    at: hour - Duration::hours(h),
                    hour: hour - Duration::hours(h),
                    traffic_type: crate::domain::usage::SMS,
                    volume_tx: 1.0,
                    volume_rx: 0.0,
                    cost: 0.05,
                    currency: "EUR".into(),
                });
            }
        }
        if usage.len() >= 20_000 {
            store.usage_ingest(&usage, &actor).await?;
            usage.clear();
        }
    }
    if !usage.is_empty() {
        store.usage_ingest(&usage, &actor).await?;
    }
    progress(100, "usage");
    Ok(Summary {
        resellers: n_resellers,
        customers: n_customers,
        sims: opts.sims + 2 * batch_size,
        accounts,
        endpoints,
        reseller_admin: "ra00@reseller.demo".into(),
        reseller_token,
    })
}

/// Whether the statistics are read again after the `n`th device: each time the devices have doubled
/// from 5,000. A create looks up its space's addresses and its org's counters, planned from statistics
/// taken when the tables were empty (autovacuum may be off, or behind): measured at 1M SIMs, devices
/// went in at 4,300 a minute until an ANALYZE at 90,000, then at 38,000 a minute.
fn restats_after(n: usize) -> bool {
    n >= 5_000 && n.is_multiple_of(5_000) && (n / 5_000).is_power_of_two()
}

/// Workers creating devices at once (Postgres): a device's create is a dozen round trips, which
/// several workers overlap.
const DEVICE_WORKERS: usize = 4;

/// Devices: nine in ten unused SIMs of customers sit in one (not activated), and devices without a
/// SIM bring them to 60% of the stock, spread over the customers. Each customer with devices draws
/// their addresses from a space of its own, sized for them (10.0.0.0 up, largest first). Created
/// through the store's endpoint create, each customer's in a fixed order: the same seed, the same
/// devices.
async fn devices(
    state: &AppState,
    rng: &mut StdRng,
    customers: &[(Org, usize)],
    customer_stock: &[(i64, u64, u64)],
    sims: u64,
    actor: &Actor,
) -> anyhow::Result<usize> {
    let store = &state.store;
    let mut plan: std::collections::BTreeMap<i64, (Vec<String>, usize)> = Default::default();
    for &(org, first, n) in customer_stock {
        let iccs = &mut plan.entry(org).or_default().0;
        iccs.extend(
            (first..first + n)
                .filter(|_| rng.gen_bool(0.9))
                .map(|i| format!("8945{i:015}")),
        );
    }
    let with_sims: usize = plan.values().map(|p| p.0.len()).sum();
    let target = (sims as usize) * 3 / 5;
    for _ in with_sims..target.max(with_sims) {
        let (c, _) = &customers[rng.gen_range(0..customers.len())];
        plan.entry(c.id).or_default().1 += 1;
    }
    // Address spaces, largest first so that each starts on a multiple of its size.
    let mut sizes: Vec<(u32, i64)> = plan
        .iter()
        .map(|(org, (iccs, simless))| {
            let hosts = (iccs.len() + simless + 2) as u32;
            (hosts.next_power_of_two().max(4), *org)
        })
        .collect();
    sizes.sort_by(|a, b| b.cmp(a));
    let mut offset: u32 = 0;
    for (size, org) in sizes {
        let network = std::net::Ipv4Addr::from(0x0A00_0000u32 + offset);
        let cidr = format!("{network}/{}", 32 - size.trailing_zeros());
        let space = crate::domain::ip::Space::parse(&cidr)?;
        store.ip_space_create(org, &space, actor).await?;
        offset += size;
    }
    // Every device planned first, in a fixed order (the seed decides each one), then created a
    // customer at a time on a few workers: customers share no SIM and no space, so the order between
    // them changes only the ids.
    let mut work: Vec<Vec<NewEndpoint>> = Vec::with_capacity(plan.len());
    for (org, (iccs, simless)) in &plan {
        let mut ids = Vec::with_capacity(iccs.len());
        for chunk in iccs.chunks(10_000) {
            let mut found = store.sim_ids_by_iccid(chunk).await?;
            found.sort();
            ids.extend(found.into_iter().map(|(_, id)| id));
        }
        let slots = ids.into_iter().map(Some).chain((0..*simless).map(|_| None));
        work.push(
            slots
                .enumerate()
                .map(|(k, sim)| NewEndpoint {
                    org_id: *org,
                    name: format!("Device {org}-{k:05}"),
                    status: 0,
                    tags: (k % 4 == 0).then(|| "fleet".to_string()),
                    imei: sim.map(|_| format!("35{:013}", rng.gen_range(0..10_000_000_000_000u64))),
                    imei_lock: false,
                    service_profile_id: 1,
                    tariff_profile_id: 1,
                    // Put in, not activated: the stock keeps its 1% of activated SIMs (one batch),
                    // which the benchmark's filtered list pages are measured against.
                    sim: sim.map(|sim_id| SimAttach {
                        sim_id,
                        activate: false,
                    }),
                    ip: IpChoice::Auto,
                })
                .collect(),
        );
    }
    // SQLite takes one writer at a time: workers would only queue for it.
    let workers = match store.backend() {
        crate::store::Backend::Sqlite => 1,
        _ => DEVICE_WORKERS,
    };
    let mut lanes: Vec<Vec<Vec<NewEndpoint>>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, customer) in work.into_iter().enumerate() {
        lanes[i % workers].push(customer);
    }
    let mut tasks = tokio::task::JoinSet::new();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for lane in lanes {
        let (store, actor, done) = (store.clone(), actor.clone(), done.clone());
        tasks.spawn(async move {
            let mut created = 0;
            for new in lane.into_iter().flatten() {
                // A SIM an MVNO account took meanwhile is refused: that device is left out.
                match store.endpoint_create(new, &SYSTEM, &actor).await {
                    Ok(_) => created += 1,
                    Err(crate::store::StoreError::Rule(_)) => {}
                    Err(e) => return Err(anyhow::Error::from(e)),
                }
                if restats_after(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1) {
                    store.analyze().await?;
                }
            }
            Ok(created)
        });
    }
    let mut created = 0;
    while let Some(done) = tasks.join_next().await {
        created += done??;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::restats_after;

    #[test]
    fn statistics_are_taken_again_each_time_the_devices_double() {
        let at: Vec<usize> = (1..=400_000).filter(|&n| restats_after(n)).collect();
        assert_eq!(
            at,
            [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000]
        );
    }
}
