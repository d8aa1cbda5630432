//! Organisations: create, update, and the org a reference names within the caller's scope (admin API
//! and `simgate admin`).
use super::access::InScope;
use super::{non_empty, parse_ref};
use crate::domain::access::Principal;
use crate::domain::ids::{EntityRef, ObjectId};
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewOrg, Org, OrgPatch};

pub struct CreateOrg {
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub country: Option<String>,
}

/// An org the caller can see, or 404 (outside the scope it does not exist).
pub async fn visible_org(state: &AppState, by: &Principal, r: &EntityRef) -> AppResult<Org> {
    state
        .store
        .org_find(&by.scope(), r)
        .await?
        .or_not_found("not_found", "Organisation not found")
}

/// An org named by a query parameter: outside the scope it is 403, whether or not it exists.
pub async fn org_filter(
    state: &AppState,
    by: &Principal,
    field: &'static str,
    raw: &str,
) -> AppResult<Org> {
    let r = parse_ref(field, raw)?;
    state.store.org_find(&by.scope(), &r).await?.or_denied()
}

/// An org referenced in a request body: 422 naming the field when unknown or outside the scope.
pub(crate) async fn referenced_org(
    state: &AppState,
    by: &Principal,
    field: &'static str,
    raw: &str,
) -> AppResult<Org> {
    let r = parse_ref(field, raw)?;
    state.store.org_find(&by.scope(), &r).await?.ok_or_else(|| {
        AppError::invalid_as(
            crate::error::Invalid::Reference,
            field,
            format!("Unknown {field}"),
        )
    })
}

pub async fn create_org(state: &AppState, by: &Principal, input: CreateOrg) -> AppResult<Org> {
    let name = non_empty("name", &input.name, 200)?;
    let kind = OrgKind::parse(&input.kind)
        .filter(|k| *k != OrgKind::Platform)
        .ok_or_else(|| {
            AppError::invalid(
                "kind",
                "kind must be one of MNO, SERVICE_PROVIDER, RESELLER, ENTERPRISE",
            )
        })?;
    let parent_raw = input
        .parent
        .as_deref()
        .ok_or_else(|| AppError::required("parent"))?;
    let parent = referenced_org(state, by, "parent", parent_raw).await?;
    if !parent.kind.may_parent(kind) {
        return Err(AppError::invalid(
            "kind",
            format!(
                "an organisation of kind {} cannot be created under a {}",
                kind.as_str(),
                parent.kind.as_str()
            ),
        ));
    }
    let country = input
        .country
        .map(|c| non_empty("country", &c, 64))
        .transpose()?;
    let actor = state.actor(by);
    let new = NewOrg {
        oid: ObjectId::generate(actor.at).into_string(),
        name,
        kind,
        parent_id: Some(parent.id),
        country,
    };
    Ok(state.store.org_create(new, &actor).await?)
}

pub async fn update_org(
    state: &AppState,
    by: &Principal,
    r: &EntityRef,
    name: Option<String>,
    country: Option<Option<String>>,
) -> AppResult<Org> {
    let org = visible_org(state, by, r).await?;
    let patch = OrgPatch {
        name: name.map(|n| non_empty("name", &n, 200)).transpose()?,
        country: country
            .map(|c| c.map(|c| non_empty("country", &c, 64)).transpose())
            .transpose()?,
    };
    Ok(state
        .store
        .org_update(&by.scope(), org.id, patch, &state.actor(by))
        .await?)
}

/// The organisations the caller sees, optionally the children of `parent` (a reference in scope).
pub async fn list(
    state: &AppState,
    by: &Principal,
    parent: Option<&str>,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<Org>, i64)> {
    let parent = match parent {
        Some(raw) => Some(org_filter(state, by, "parent", raw).await?.id),
        None => None,
    };
    Ok(state.store.org_list(&by.scope(), parent, page).await?)
}
