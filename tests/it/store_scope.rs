//! The store's scope contract, straight against the store: a single-object lookup or write given a
//! scope that does not hold the object finds nothing and changes nothing, for every store that takes
//! one (TelecomX SIMs, MVNO accounts, batches, emnify SIMs, events, usage).

use crate::common::*;
use simgate::domain::access::{AccessLevel, Principal, Scope};
use simgate::domain::ids::ObjectId;
use simgate::domain::mvno::Features;
use simgate::domain::sim::{FormFactor, ImportedSim, SimStatus};
use simgate::store::{
    AccountRef, Actor, BatchSim, EmnifySimPatch, EventSubject, Holder, MvnoPatch, NewAccount,
    NewBatch, Registration, SimPick, StoreError,
};

/// The scope of a user at `level` in the fixture org `key`.
fn scope_of(fx: &Fixture, key: &str, level: AccessLevel) -> Scope {
    let org = fx.org(key);
    Principal {
        user_id: 0,
        user_oid: String::new(),
        email: String::new(),
        name: String::new(),
        level,
        org_id: org.id,
        org_oid: org.oid.clone(),
        org_kind: org.kind,
        org_path: org.path.clone(),
        token_id: None,
        request_id: None,
    }
    .scope()
}

fn imported(i: u64) -> ImportedSim {
    ImportedSim {
        line: i as usize,
        iccid: icc(i),
        puk1: None,
        puk2: None,
        pin1: None,
        pin2: None,
        form_factor: FormFactor::Nano,
        network: "TDC".into(),
        activation_code: None,
        tag: None,
        auto_assign: true,
    }
}

backends!(telecomx_sims_and_accounts_outside_the_scope_are_not_found);
async fn telecomx_sims_and_accounts_outside_the_scope_are_not_found(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let store = app.state.store.clone();
    let actor = Actor::system(app.state.now());
    let (r1, c1a) = (fx.org("R1"), fx.org("C1A"));
    let holder = Holder {
        org_id: c1a.id,
        reseller_org_id: Some(r1.id),
        customer_org_id: Some(c1a.id),
    };
    store
        .sim_import(&[imported(1), imported(2)], Some(&holder), 1, &actor)
        .await
        .unwrap();
    let owner = scope_of(&fx, "R1", AccessLevel::Reseller);
    let customer = scope_of(&fx, "C1A", AccessLevel::Manager);
    let neighbour = scope_of(&fx, "C1B", AccessLevel::Manager);
    let other_tenant = scope_of(&fx, "R2", AccessLevel::Reseller);

    // A SIM in storage: seen by its holder's line and the platform, by nobody else.
    for (scope, seen) in [
        (&Scope::All, true),
        (&owner, true),
        (&customer, true),
        (&neighbour, false),
        (&other_tenant, false),
    ] {
        let found = store.sim_by_iccid(scope, &icc(1)).await.unwrap();
        assert_eq!(found.is_some(), seen, "{scope:?}");
    }
    let sim = store
        .sim_by_iccid(&Scope::All, &icc(1))
        .await
        .unwrap()
        .unwrap();
    // A move asked for by a scope that does not hold the SIM finds nothing and moves nothing.
    let moved = store
        .sim_assign(&other_tenant, sim.id, None, Some(false), &actor)
        .await;
    assert!(matches!(moved, Err(StoreError::NotFound)), "{moved:?}");
    let unchanged = store
        .sim_by_iccid(&Scope::All, &icc(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (unchanged.in_storage_at, unchanged.version),
        (Some(c1a.id), sim.version)
    );

    // An MVNO account of C1A (it takes the autoAssign SIM 1 from C1A's stock).
    let account = store
        .mvno_create(
            NewAccount {
                oid: ObjectId::generate(actor.at).into_string(),
                customer_org_id: c1a.id,
                number: "+4511223344".into(),
                rate_plan_id: None,
                name: Some("line".into()),
                employee_user_id: None,
                device_type: None,
                imei: None,
                notes: None,
                features: Features::default(),
                start_date: None,
            },
            &SimPick {
                chain: vec![c1a.id],
                iccid: None,
                esim_only: false,
                auto_only: true,
            },
            &actor,
        )
        .await
        .unwrap();
    let by_number = AccountRef::Number("+4511223344".into());
    for (scope, seen) in [
        (&Scope::All, true),
        (&owner, true),
        (&customer, true),
        (&neighbour, false),
        (&other_tenant, false),
    ] {
        let found = store.mvno_find(scope, &by_number, false).await.unwrap();
        assert_eq!(found.is_some(), seen, "{scope:?}");
    }
    // Now on the account, the SIM is seen through the account's customer.
    assert!(store
        .sim_by_iccid(&neighbour, &icc(1))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .sim_by_iccid(&customer, &icc(1))
        .await
        .unwrap()
        .is_some());
    // Writes from outside: not found, nothing written.
    let patch = MvnoPatch {
        name: Some(Some("taken over".into())),
        ..Default::default()
    };
    let r = store
        .mvno_update(&neighbour, account.key(), patch.clone(), &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = store
        .mvno_delete(&other_tenant, account.key(), actor.at, &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let pick = SimPick {
        chain: vec![c1a.id],
        iccid: None,
        esim_only: false,
        auto_only: false,
    };
    let r = store
        .mvno_change_sim(&neighbour, account.key(), &pick, &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let still = store
        .mvno_find(&Scope::All, &by_number, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (still.name.as_deref(), still.version, still.sim_id),
        (Some("line"), account.version, account.sim_id)
    );
    // The same write from the owner's scope lands.
    let updated = store
        .mvno_update(&owner, account.key(), patch, &actor)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("taken over"));
    let r = store
        .mvno_restore(&neighbour, account.key(), None, &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    assert_counters_match(&app).await;
}

backends!(batches_and_emnify_sims_outside_the_scope_are_not_found);
async fn batches_and_emnify_sims_outside_the_scope_are_not_found(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let store = app.state.store.clone();
    let actor = Actor::system(app.state.now());
    let r1 = fx.org("R1");
    let sims = (0..3)
        .map(|i| BatchSim {
            iccid: icc(100 + i),
            imsi: None,
            msisdn: None,
            eid: None,
            puk1: None,
            puk2: None,
            pin1: None,
            pin2: None,
            network: "TDC".into(),
            form_factor: FormFactor::Nano,
            production_date: None,
        })
        .collect();
    // Issued by R1: it exists for R1's subtree (and the platform) only.
    let batch = store
        .batch_create(
            NewBatch {
                bic: "SCOPE-1".into(),
                issuer_org_id: r1.id,
                model_id: None,
                sims,
            },
            &actor,
        )
        .await
        .unwrap();
    let owner = scope_of(&fx, "R1", AccessLevel::Reseller);
    let below = scope_of(&fx, "C1SA", AccessLevel::Manager);
    let other_tenant = scope_of(&fx, "R2", AccessLevel::Reseller);
    let other_customer = scope_of(&fx, "C2A", AccessLevel::Manager);
    for (scope, seen) in [
        (&Scope::All, true),
        (&owner, true),
        (&below, true),
        (&other_tenant, false),
        (&other_customer, false),
    ] {
        let found = store.batch_by_bic(scope, "SCOPE-1").await.unwrap();
        assert_eq!(found.is_some(), seen, "{scope:?}");
    }
    let registration = Registration {
        reseller_org_id: Some(fx.org("R2").id),
        customer_org_id: None,
        status: SimStatus::Activated,
        by_org: fx.org("R2").id,
    };
    let r = store
        .batch_register(&other_tenant, batch.id, registration, &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let registration = Registration {
        reseller_org_id: Some(r1.id),
        customer_org_id: None,
        status: SimStatus::Activated,
        by_org: r1.id,
    };
    let registered = store
        .batch_register(&owner, batch.id, registration, &actor)
        .await
        .unwrap();
    let sim = registered[0].id;

    // An emnify SIM: seen through its issuer, reseller or customer org.
    for (scope, seen) in [
        (&Scope::All, true),
        (&owner, true),
        (&other_tenant, false),
        (&other_customer, false),
    ] {
        let found = store.esim_get(scope, sim).await.unwrap();
        assert_eq!(found.is_some(), seen, "{scope:?}");
        let events = store
            .events_list(scope, EventSubject::Sim(sim), &[], &[], 50, 0)
            .await
            .unwrap();
        assert_eq!(events.1 > 0, seen, "events of {scope:?}");
        let from = actor.at - chrono::Duration::days(1);
        let usage = store.usage_rows(scope, sim, from, actor.at).await.unwrap();
        assert_eq!(usage.is_some(), seen, "usage of {scope:?}");
    }
    let suspend = EmnifySimPatch {
        status: Some(SimStatus::Suspended),
        ..Default::default()
    };
    let r = store
        .esim_patch(&other_tenant, sim, suspend.clone(), &actor)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = store.esim_delete(&other_customer, sim, &actor).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let unchanged = store.esim_get(&Scope::All, sim).await.unwrap().unwrap();
    assert_eq!(unchanged.status, SimStatus::Activated.id());
    store
        .esim_patch(&owner, sim, suspend, &actor)
        .await
        .unwrap();
    let suspended = store.esim_get(&Scope::All, sim).await.unwrap().unwrap();
    assert_eq!(suspended.status, SimStatus::Suspended.id());
    // A deleted SIM is gone for every scope.
    store.esim_delete(&owner, sim, &actor).await.unwrap();
    assert!(store.esim_get(&Scope::All, sim).await.unwrap().is_none());
    assert_counters_match(&app).await;
}
