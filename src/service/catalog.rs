//! What the provider manages for every tenant through the admin API (spec/emnify-endpoints.md §8):
//! countries and operators (read by the admin API's callers, written by ADMIN) and tariff profiles
//! (ADMIN anywhere, a RESELLER_ADMIN for the orgs of its subtree; one outside it does not exist for
//! it).
use super::access;
use super::ip_spaces::org_in_scope;
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::operator;
use crate::domain::paging::Page;
use crate::domain::profile;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{
    Country, NewOperator, NewTariffProfile, Operator, OperatorPatch, StoreError, StoreResult,
    TariffProfileRow, ADMIN_IDS,
};

/// An operator as a body gives it (all optional: a PATCH gives some).
#[derive(Debug, Default)]
pub struct OperatorInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub mnc: Option<Vec<String>>,
    pub tapcode: Option<Vec<String>>,
}

fn operator_not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("Operator {id} not found"))
}

fn tariff_not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("Tariff profile {id} not found"))
}

fn on<T>(r: StoreResult<T>, missing: impl FnOnce() -> AppError) -> AppResult<T> {
    match r {
        Err(StoreError::NotFound) => Err(missing()),
        other => Ok(other?),
    }
}

fn admin_only(p: &Principal) -> AppResult<()> {
    Ok(p.require(&[AccessLevel::Admin])?)
}

/// Countries by name, a page of them (there are some 250).
pub async fn countries(state: &AppState, page: Page) -> AppResult<(Vec<Country>, i64)> {
    let all = state.store.countries().await?;
    let total = all.len() as i64;
    let rows = all
        .into_iter()
        .skip(page.offset.try_into().unwrap_or(usize::MAX))
        .take(page.limit as usize)
        .collect();
    Ok((rows, total))
}

/// The country an ISO code names; `None` for a well-formed code of no country.
async fn country(state: &AppState, raw: &str) -> AppResult<Option<i64>> {
    let iso = operator::iso_country(raw)?;
    Ok(state
        .store
        .countries()
        .await?
        .into_iter()
        .find(|c| c.iso_code == iso)
        .map(|c| c.id))
}

async fn known_country(state: &AppState, raw: &str) -> AppResult<i64> {
    country(state, raw).await?.ok_or_else(|| {
        AppError::invalid(
            "country",
            format!("{raw:?} is no country (GET /admin/v1/countries lists them)"),
        )
    })
}

/// Operators by id, of one country (ISO code) or all.
pub async fn operators(
    state: &AppState,
    country_filter: Option<&str>,
    page: Page,
) -> AppResult<(Vec<Operator>, i64)> {
    let country_id = match country_filter {
        Some(raw) => match country(state, raw).await? {
            Some(id) => Some(id),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    Ok(state.store.operator_page(country_id, page).await?)
}

pub async fn operator(state: &AppState, id: i64) -> AppResult<Operator> {
    state
        .store
        .operator_get(id)
        .await?
        .ok_or_else(|| operator_not_found(id))
}

/// A list a body gives, checked; `None` when it gives none.
type Given = Option<Vec<String>>;

/// The MNCs and TAP codes the body gives.
fn lists(input: &OperatorInput) -> AppResult<(Given, Given)> {
    Ok((
        input.mnc.as_deref().map(operator::mncs).transpose()?,
        input
            .tapcode
            .as_deref()
            .map(operator::tapcodes)
            .transpose()?,
    ))
}

pub async fn create_operator(
    state: &AppState,
    p: &Principal,
    input: OperatorInput,
) -> AppResult<Operator> {
    admin_only(p)?;
    if let Some(id) = input.id {
        if !(1..ADMIN_IDS).contains(&id) {
            return Err(AppError::invalid(
                "id",
                format!(
                    "id must be 1 to {} (larger ids are given out)",
                    ADMIN_IDS - 1
                ),
            ));
        }
    }
    let name = operator::operator_name(
        input
            .name
            .as_deref()
            .ok_or_else(|| AppError::required("name"))?,
    )?;
    let country_id = known_country(
        state,
        input
            .country
            .as_deref()
            .ok_or_else(|| AppError::required("country"))?,
    )
    .await?;
    let (mncs, tapcodes) = lists(&input)?;
    let new = NewOperator {
        id: input.id,
        name,
        country_id,
        mncs: mncs.unwrap_or_default(),
        tapcodes: tapcodes.unwrap_or_default(),
    };
    Ok(state.store.operator_create(new, &state.actor(p)).await?)
}

pub async fn update_operator(
    state: &AppState,
    p: &Principal,
    id: i64,
    input: OperatorInput,
) -> AppResult<Operator> {
    admin_only(p)?;
    if input.name.is_none()
        && input.country.is_none()
        && input.mnc.is_none()
        && input.tapcode.is_none()
    {
        return Err(AppError::invalid(
            "body",
            "give at least one of name, country, mnc, tapcode",
        ));
    }
    let (mncs, tapcodes) = lists(&input)?;
    let patch = OperatorPatch {
        name: input
            .name
            .as_deref()
            .map(operator::operator_name)
            .transpose()?,
        country_id: match input.country.as_deref() {
            Some(raw) => Some(known_country(state, raw).await?),
            None => None,
        },
        mncs,
        tapcodes,
    };
    on(
        state
            .store
            .operator_update(id, patch, &state.actor(p))
            .await,
        || operator_not_found(id),
    )
}

pub async fn delete_operator(state: &AppState, p: &Principal, id: i64) -> AppResult<()> {
    admin_only(p)?;
    on(
        state.store.operator_delete(id, &state.actor(p)).await,
        || operator_not_found(id),
    )
}

/// The caller's subtree, for a RESELLER_ADMIN; everything for ADMIN.
fn within(p: &Principal) -> Option<&str> {
    (p.level != AccessLevel::Admin).then_some(p.org_path.as_str())
}

/// A tariff profile the caller may manage: ADMIN any, a RESELLER_ADMIN one owned in its subtree.
pub async fn tariff_profile(
    state: &AppState,
    p: &Principal,
    id: i64,
) -> AppResult<TariffProfileRow> {
    let row = state
        .store
        .tariff_profile_get(id)
        .await?
        .ok_or_else(|| tariff_not_found(id))?;
    if p.level != AccessLevel::Admin {
        let owner = row.owner_org_id.ok_or_else(|| tariff_not_found(id))?;
        access::org(state, p, &owner.to_string())
            .await?
            .ok_or_else(|| tariff_not_found(id))?;
    }
    Ok(row)
}

pub async fn tariff_profiles(
    state: &AppState,
    p: &Principal,
    org: Option<&str>,
    page: Page,
) -> AppResult<(Vec<TariffProfileRow>, i64)> {
    let owner = match org {
        Some(raw) => match access::org(state, p, raw).await? {
            Some(o) => Some(o.id),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    Ok(state
        .store
        .tariff_profile_list(within(p), owner, page)
        .await?)
}

/// Owned by `owner_org` (in the caller's scope); without one, ADMIN's serves every org and a
/// RESELLER_ADMIN's is its own org's.
pub async fn create_tariff_profile(
    state: &AppState,
    p: &Principal,
    name: Option<String>,
    description: Option<String>,
    owner_org: Option<&str>,
) -> AppResult<TariffProfileRow> {
    let name = profile::name(name.as_deref().ok_or_else(|| AppError::required("name"))?)?;
    let owner_org_id = match owner_org {
        Some(raw) => Some(org_in_scope(state, p, raw, "owner_org").await?),
        None if p.level == AccessLevel::Admin => None,
        None => Some(p.org_id),
    };
    let new = NewTariffProfile {
        owner_org_id,
        name,
        description: super::profiles::description(description)?,
    };
    Ok(state
        .store
        .tariff_profile_create(new, &state.actor(p))
        .await?)
}

pub async fn update_tariff_profile(
    state: &AppState,
    p: &Principal,
    id: i64,
    name: Option<String>,
    description: Option<Option<String>>,
) -> AppResult<TariffProfileRow> {
    tariff_profile(state, p, id).await?;
    if name.is_none() && description.is_none() {
        return Err(AppError::invalid(
            "body",
            "give at least one of name, description",
        ));
    }
    let name = name.as_deref().map(profile::name).transpose()?;
    let description = match description {
        Some(d) => Some(super::profiles::description(d)?),
        None => None,
    };
    on(
        state
            .store
            .tariff_profile_update(id, name, description, &state.actor(p))
            .await,
        || tariff_not_found(id),
    )
}

pub async fn delete_tariff_profile(state: &AppState, p: &Principal, id: i64) -> AppResult<()> {
    tariff_profile(state, p, id).await?;
    on(
        state.store.tariff_profile_delete(id, &state.actor(p)).await,
        || tariff_not_found(id),
    )
}
