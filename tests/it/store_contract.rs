//! The store contract: one story, run against SQLite and Postgres alike.

use crate::common::*;
use simgate::domain::access::{AccessLevel, Scope};
use simgate::domain::ids::{EntityRef, ObjectId};
use simgate::domain::org::OrgKind;
use simgate::domain::paging::Page;
use simgate::store::{
    Actor, NewOrg, NewToken, NewUser, OrgPatch, StoreError, TokenKind, UserPatch,
};

backends!(store_story);
async fn store_story(app: TestApp) {
    let store = app.state.store.clone();
    let actor = Actor::system(app.state.now());
    let all = Page {
        offset: 0,
        limit: 500,
    };
    let new_org = |name: &str, kind, parent| NewOrg {
        oid: ObjectId::generate(actor.at).into_string(),
        name: name.into(),
        kind,
        parent_id: parent,
        country: None,
    };

    // Paths materialize the ancestry.
    let root = store
        .org_find(&Scope::All, &EntityRef::Id(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((root.kind, root.path.as_str()), (OrgKind::Platform, "/1/"));
    let r = store
        .org_create(new_org("R", OrgKind::Reseller, Some(root.id)), &actor)
        .await
        .unwrap();
    let sub = store
        .org_create(new_org("S", OrgKind::Reseller, Some(r.id)), &actor)
        .await
        .unwrap();
    let c = store
        .org_create(new_org("C", OrgKind::Enterprise, Some(sub.id)), &actor)
        .await
        .unwrap();
    assert_eq!(c.path, format!("/1/{}/{}/{}/", r.id, sub.id, c.id));
    // An unknown parent is NotFound, and nothing is left half-written.
    let before = store.org_count().await.unwrap();
    assert!(matches!(
        store
            .org_create(new_org("X", OrgKind::Reseller, Some(9999)), &actor)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.org_count().await.unwrap(), before);
    // Ten siblings so that ids 1x share a textual prefix with 1: the subtree filter must not leak.
    for i in 0..10 {
        store
            .org_create(
                new_org(&format!("sib{i}"), OrgKind::Reseller, Some(root.id)),
                &actor,
            )
            .await
            .unwrap();
    }

    // Scope filters.
    let (orgs, total) = store
        .org_list(
            &Scope::Subtree {
                org_id: r.id,
                path: r.path.clone(),
            },
            None,
            all,
        )
        .await
        .unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        orgs.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![r.id, sub.id, c.id]
    );
    let (orgs, total) = store
        .org_list(
            &Scope::Org {
                org_id: c.id,
                path: c.path.clone(),
            },
            None,
            all,
        )
        .await
        .unwrap();
    assert_eq!((total, orgs[0].id), (1, c.id));
    let (_, total) = store
        .org_list(&Scope::All, Some(root.id), all)
        .await
        .unwrap();
    assert_eq!(total, 11);
    let (page, total) = store
        .org_list(
            &Scope::All,
            None,
            Page {
                offset: 2,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.len(), total), (3, 14));
    assert_eq!(page[0].id, 3);

    // Updates keep what the patch leaves out.
    let renamed = store
        .org_update(
            &Scope::All,
            c.id,
            OrgPatch {
                name: Some("C2".into()),
                country: Some(Some("DK".into())),
            },
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.country.as_deref(),
            renamed.kind
        ),
        ("C2", Some("DK"), OrgKind::Enterprise)
    );
    let by_oid = store
        .org_find(
            &Scope::All,
            &EntityRef::Oid(ObjectId::parse(&c.oid).unwrap()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_oid.name, "C2");

    // Users: named unique constraint -> Conflict.
    let new_user = |email: &str, org_id| NewUser {
        oid: ObjectId::generate(actor.at).into_string(),
        org_id,
        email: email.into(),
        name: "n".into(),
        password_hash: "h".into(),
        access_level: AccessLevel::Owner,
    };
    let u = store
        .user_create(new_user("u@c.test", c.id), &actor)
        .await
        .unwrap();
    match store.user_create(new_user("u@c.test", r.id), &actor).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "users_email_key"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let ru = store
        .user_create(new_user("r@r.test", r.id), &actor)
        .await
        .unwrap();
    let (users, total) = store
        .user_list(
            &Scope::Subtree {
                org_id: sub.id,
                path: sub.path.clone(),
            },
            None,
            all,
        )
        .await
        .unwrap();
    assert_eq!((total, users[0].id), (1, u.id));
    let (_, total) = store
        .user_list(
            &Scope::Subtree {
                org_id: r.id,
                path: r.path.clone(),
            },
            Some(r.id),
            all,
        )
        .await
        .unwrap();
    assert_eq!(total, 1);
    let id = store.identity_by_email("u@c.test").await.unwrap().unwrap();
    assert_eq!(
        (id.org_path.as_str(), id.org_kind, id.password_hash.as_str()),
        (c.path.as_str(), OrgKind::Enterprise, "h")
    );

    // Tokens: by hash with identity; touch; revoke; disabling the user revokes the rest.
    let mk_token = |hash: &str, kind| NewToken {
        user_id: u.id,
        token_hash: hash.into(),
        label: None,
        kind,
        expires_at: None,
    };
    let t1 = store
        .token_create(
            mk_token("a".repeat(64).as_str(), TokenKind::Session),
            &actor,
        )
        .await
        .unwrap();
    store
        .token_create(
            mk_token("b".repeat(64).as_str(), TokenKind::Application),
            &actor,
        )
        .await
        .unwrap();
    let found = store.token_by_hash(&"a".repeat(64)).await.unwrap().unwrap();
    assert_eq!(
        (found.token.id, found.identity.user_id, found.token.kind),
        (t1.id, u.id, TokenKind::Session)
    );
    let later = actor.at + chrono::Duration::minutes(5);
    store
        .token_touch(t1.id, later, Some(later + chrono::Duration::minutes(15)))
        .await
        .unwrap();
    let touched = store.token_get(t1.id).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, Some(later));
    assert_eq!(
        touched.expires_at,
        Some(later + chrono::Duration::minutes(15))
    );
    assert_eq!(store.token_revoke_sessions(u.id, &actor).await.unwrap(), 1);
    assert!(store
        .token_get(t1.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(store.token_list(u.id).await.unwrap().len(), 1);
    store
        .user_update(
            &Scope::All,
            u.id,
            UserPatch {
                state: Some("DISABLED".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    // A disable ends sessions (and voids JWTs issued before it); API tokens end only when
    // revoked (they do not work while the user is disabled).
    let app_token = store.token_by_hash(&"b".repeat(64)).await.unwrap().unwrap();
    assert!(app_token.token.revoked_at.is_none());
    let disabled = store.identity_by_user(u.id).await.unwrap().unwrap();
    assert_eq!(disabled.tokens_valid_after, Some(actor.at));
    assert_eq!(
        store.identity_by_user(u.id).await.unwrap().unwrap().state,
        "DISABLED"
    );
    let unchanged = store
        .user_find(&Scope::All, &EntityRef::Id(ru.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.access_level, AccessLevel::Owner);

    // Settings: the first writer wins, later writers read it.
    assert_eq!(
        store.setting_get_or_init("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store.setting_get_or_init("k", "second").await.unwrap(),
        "first"
    );
    store.ping().await.unwrap();
}

backends!(concurrent_writers_all_succeed);
async fn concurrent_writers_all_succeed(app: TestApp) {
    let store = app.state.store.clone();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let at = app.state.now();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::system(at);
            store
                .org_create(
                    NewOrg {
                        oid: ObjectId::generate(at).into_string(),
                        name: format!("o{i}"),
                        kind: OrgKind::Reseller,
                        parent_id: Some(1),
                        country: None,
                    },
                    &actor,
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every concurrent create commits");
    }
    assert_eq!(store.org_count().await.unwrap(), 17);
}
