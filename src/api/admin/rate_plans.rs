//! Rate plans.
use super::orgs::ref_text;
use super::ListQuery;
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing};
use crate::auth::extract::{Admin, AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::rate_plans;
use crate::state::AppState;
use crate::store::RatePlan;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list))
}

#[derive(Serialize, ToSchema)]
pub struct RatePlanDto {
    id: i64,
    oid: String,
    name: String,
    /// null: offered to every organisation.
    owner_org_id: Option<i64>,
    created_at: String,
}

impl From<RatePlan> for RatePlanDto {
    fn from(r: RatePlan) -> Self {
        RatePlanDto {
            id: r.id,
            oid: r.oid,
            name: r.name,
            owner_org_id: r.owner_org_id,
            created_at: iso_millis(&r.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRatePlanRequest {
    #[schema(example = "Free speech, 5Gb data")]
    name: String,
    /// Owning org (id or oid): the plan is offered to it and its subtree only. Absent: offered to all.
    #[schema(value_type = Option<String>)]
    owner_org: Option<serde_json::Value>,
}

/// Create a rate plan (ADMIN).
#[utoipa::path(operation_id = "create_rate_plan", post, path = "/admin/v1/rate-plans", tag = "admin", security(("bearer" = [])),
    request_body = CreateRatePlanRequest,
    responses(
        (status = 201, body = RatePlanDto),
        (status = 403, description = "access_denied"),
        (status = 422, description = "name / owner_org"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Body(req): Body<CreateRatePlanRequest>,
) -> AppResult<(StatusCode, Json<RatePlanDto>)> {
    let input = rate_plans::CreateRatePlan {
        name: req.name,
        owner_org: ref_text(req.owner_org),
    };
    let plan = rate_plans::create(&state, &p, input).await?;
    Ok((StatusCode::CREATED, Json(plan.into())))
}

/// Rate plans: all for ADMIN; for a RESELLER_ADMIN those its subtree can use or owns.
#[utoipa::path(operation_id = "list_rate_plans", get, path = "/admin/v1/rate-plans", tag = "admin", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Listing<RatePlanDto>), (status = 403, description = "access_denied")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<RatePlanDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (plans, total) = rate_plans::list(&state, &p, page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: plans.into_iter().map(Into::into).collect(),
    }))
}
