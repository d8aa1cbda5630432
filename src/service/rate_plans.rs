//! Rate plans: created by the ADMIN, offered to every organisation or to one org's subtree.
use super::access::{self, InScope};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::ObjectId;
use crate::domain::paging::Page;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewRatePlan, RatePlan};

pub struct CreateRatePlan {
    pub name: String,
    /// A reference (id or oid) to the org whose subtree may use the plan; None: every org.
    pub owner_org: Option<String>,
}

pub async fn create(
    state: &AppState,
    by: &Principal,
    input: CreateRatePlan,
) -> AppResult<RatePlan> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    let owner_org_id = match input.owner_org {
        Some(raw) => {
            let org = access::org(state, by, &raw).await?;
            Some(
                org.or_invalid("owner_org", "owner_org must be an existing organisation")?
                    .id,
            )
        }
        None => None,
    };
    let actor = state.actor(by);
    Ok(state
        .store
        .rate_plan_create(
            NewRatePlan {
                oid: ObjectId::generate(actor.at).into_string(),
                name,
                owner_org_id,
            },
            &actor,
        )
        .await?)
}

/// All plans for ADMIN; for anyone else those its subtree can use or owns.
pub async fn list(state: &AppState, by: &Principal, page: Page) -> AppResult<(Vec<RatePlan>, i64)> {
    let visible_to = (by.level != AccessLevel::Admin).then_some(by.org_path.as_str());
    Ok(state.store.rate_plan_list(visible_to, page).await?)
}
