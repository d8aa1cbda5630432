//! IP address spaces (spec/emnify-endpoints.md §1.2, §8): ADMIN anywhere, a RESELLER_ADMIN for the
//! orgs of its subtree. A space outside the caller's subtree does not exist for it.
use super::access::{self, InScope};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ip::Space;
use crate::domain::paging::Page;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::IpSpaceRow;

fn not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("IP address space {id} not found"))
}

/// The org a body or filter names, in the caller's scope.
pub(crate) async fn org_in_scope(
    state: &AppState,
    by: &Principal,
    raw: &str,
    field: &'static str,
) -> AppResult<i64> {
    Ok(access::org(state, by, raw)
        .await?
        .or_invalid(field, format!("{field} must be an organisation you manage"))?
        .id)
}

pub async fn create(
    state: &AppState,
    by: &Principal,
    cidr: &str,
    org: Option<&str>,
) -> AppResult<IpSpaceRow> {
    let space = Space::parse(cidr)?;
    let org = match org {
        Some(raw) => org_in_scope(state, by, raw, "org").await?,
        None => return Err(AppError::required("org")),
    };
    Ok(state
        .store
        .ip_space_create(org, &space, &state.actor(by))
        .await?)
}

pub async fn list(
    state: &AppState,
    by: &Principal,
    org: Option<&str>,
    page: Page,
) -> AppResult<(Vec<IpSpaceRow>, i64)> {
    let org = match org {
        Some(raw) => match access::org(state, by, raw).await? {
            Some(o) => Some(o.id),
            // An org outside the scope holds no space the caller may see.
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    let within = (by.level != AccessLevel::Admin).then_some(by.org_path.as_str());
    Ok(state.store.ip_space_list(within, org, page).await?)
}

pub async fn get(state: &AppState, by: &Principal, id: i64) -> AppResult<IpSpaceRow> {
    let row = state
        .store
        .ip_space_get(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    // Visible when its org is in the caller's scope.
    access::org(state, by, &row.org_id.to_string())
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(row)
}

pub async fn delete(state: &AppState, by: &Principal, id: i64) -> AppResult<()> {
    get(state, by, id).await?;
    match state.store.ip_space_delete(id, &state.actor(by)).await {
        Err(crate::store::StoreError::NotFound) => Err(not_found(id)),
        other => Ok(other?),
    }
}
