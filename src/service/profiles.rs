//! Service-profile writes (spec/emnify-endpoints.md §2): a profile is written by write levels whose
//! scope holds its owner; the platform's and an ancestor's profiles are read-only to them (403 1104).
use super::endpoints::service_profile;
use crate::domain::access::Principal;
use crate::domain::ids::EntityRef;
use crate::domain::profile;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewServiceProfile, ServiceProfilePatch, StoreError};

/// A profile as a body gives it; `apply_quota` is emnify's deprecated name of `apply_data_quota`.
#[derive(Debug, Default)]
pub struct ProfileInput {
    pub name: Option<String>,
    /// `Some(None)`: cleared.
    pub description: Option<Option<String>>,
    pub allowed_3g: Option<bool>,
    pub allowed_4g: Option<bool>,
    pub allowed_nb_iot: Option<bool>,
    pub apply_data_quota: Option<bool>,
    pub apply_sms_quota: Option<bool>,
    pub apply_quota: Option<bool>,
    pub organisation: Option<i64>,
}

fn not_found(id: i64) -> AppError {
    AppError::not_found(
        "not_found",
        format!("Service profile with id {id} not found"),
    )
}

pub(crate) fn description(d: Option<String>) -> AppResult<Option<String>> {
    match d.map(|d| d.trim().to_string()) {
        Some(d) if d.chars().count() > 1000 => {
            Err(AppError::invalid("description", "at most 1000 characters"))
        }
        Some(d) if d.is_empty() => Ok(None),
        d => Ok(d),
    }
}

pub async fn create(state: &AppState, p: &Principal, input: ProfileInput) -> AppResult<i64> {
    let name = profile::name(
        input
            .name
            .as_deref()
            .ok_or_else(|| AppError::required("name"))?,
    )?;
    let owner = super::endpoints::owner_org(state, p, input.organisation).await?;
    let new = NewServiceProfile {
        owner_org_id: owner,
        name,
        description: description(input.description.flatten())?,
        allowed_3g: input.allowed_3g.unwrap_or(true),
        allowed_4g: input.allowed_4g.unwrap_or(true),
        allowed_nb_iot: input.allowed_nb_iot.unwrap_or(true),
        apply_data_quota: input
            .apply_data_quota
            .or(input.apply_quota)
            .unwrap_or(false),
        apply_sms_quota: input.apply_sms_quota.unwrap_or(false),
    };
    Ok(state
        .store
        .service_profile_create(new, &state.actor(p))
        .await?)
}

/// The profile, when the caller sees it (else 404) and its scope holds the owner (else 403).
async fn writable(state: &AppState, p: &Principal, id: i64) -> AppResult<()> {
    let profile = service_profile(state, p, id).await?;
    let owned = match profile.owner_org_id {
        None => false,
        Some(owner) => state
            .store
            .org_find(&p.scope(), &EntityRef::Id(owner))
            .await?
            .is_some(),
    };
    if !owned {
        return Err(AppError::forbidden(
            "access_denied",
            format!("Service profile {id} is managed by an organisation above yours"),
        ));
    }
    Ok(())
}

fn on_profile<T>(id: i64, r: crate::store::StoreResult<T>) -> AppResult<T> {
    match r {
        Err(StoreError::NotFound) => Err(not_found(id)),
        other => Ok(other?),
    }
}

pub async fn update(
    state: &AppState,
    p: &Principal,
    id: i64,
    input: ProfileInput,
) -> AppResult<()> {
    writable(state, p, id).await?;
    if input.organisation.is_some() {
        return Err(AppError::invalid(
            "organisation",
            "a profile's owner cannot change",
        ));
    }
    let patch = ServiceProfilePatch {
        name: input.name.as_deref().map(profile::name).transpose()?,
        description: input.description.map(description).transpose()?,
        allowed_3g: input.allowed_3g,
        allowed_4g: input.allowed_4g,
        allowed_nb_iot: input.allowed_nb_iot,
        apply_data_quota: input.apply_data_quota.or(input.apply_quota),
        apply_sms_quota: input.apply_sms_quota,
    };
    if patch.name.is_none()
        && patch.description.is_none()
        && patch.allowed_3g.is_none()
        && patch.allowed_4g.is_none()
        && patch.allowed_nb_iot.is_none()
        && patch.apply_data_quota.is_none()
        && patch.apply_sms_quota.is_none()
    {
        return Err(AppError::invalid(
            "body",
            "nothing to change: give at least one field",
        ));
    }
    on_profile(
        id,
        state
            .store
            .service_profile_update(id, patch, &state.actor(p))
            .await,
    )
}

pub async fn delete(state: &AppState, p: &Principal, id: i64) -> AppResult<()> {
    writable(state, p, id).await?;
    on_profile(
        id,
        state
            .store
            .service_profile_delete(id, &state.actor(p))
            .await,
    )
}

/// The services a profile the caller sees lists.
pub async fn services(state: &AppState, p: &Principal, id: i64) -> AppResult<Vec<i16>> {
    service_profile(state, p, id).await?;
    Ok(state.store.service_profile_services(id).await?)
}

pub async fn service(
    state: &AppState,
    p: &Principal,
    id: i64,
    service: i64,
    add: bool,
) -> AppResult<()> {
    writable(state, p, id).await?;
    let known = i16::try_from(service)
        .ok()
        .filter(|s| profile::service_description(*s).is_some())
        .ok_or_else(|| {
            AppError::not_found("not_found", format!("Service with id {service} not found"))
        })?;
    on_profile(
        id,
        state
            .store
            .service_profile_service(id, known, add, &state.actor(p))
            .await,
    )
}
