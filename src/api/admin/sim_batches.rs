//! SIM models and SIM batches (ADMIN).
use super::orgs::ref_text;
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing};
use crate::auth::extract::{Admin, AdminApi, Require};
use crate::domain::paging::Page;
use crate::domain::sim::FormFactor;
use crate::error::{AppError, AppResult};
use crate::service::batches;
use crate::state::AppState;
use crate::store::{NewSimModel, SimModel};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_model, list_models))
        .routes(routes!(create_batch))
}

#[derive(Serialize, ToSchema)]
pub struct ModelDto {
    id: i64,
    description: String,
    memory_size: Option<i32>,
    form_factor: FormFactor,
    manufacturer: Option<String>,
    created_at: String,
}

impl From<SimModel> for ModelDto {
    fn from(m: SimModel) -> Self {
        ModelDto {
            id: m.id,
            description: m.description,
            memory_size: m.memory_size,
            form_factor: m.form_factor,
            manufacturer: m.manufacturer,
            created_at: iso_millis(&m.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSimModel {
    description: String,
    memory_size: Option<i32>,
    /// MINI_MICRO, NANO, MINI_MICRO_NANO or eSIM.
    form_factor: String,
    manufacturer: Option<String>,
}

/// Create a SIM model.
#[utoipa::path(operation_id = "create_sim_model", post, path = "/admin/v1/sim-models", tag = "admin", security(("bearer" = [])),
    request_body = CreateSimModel,
    responses(
        (status = 201, body = ModelDto),
        (status = 403, description = "access_denied"),
        (status = 422, description = "description / form_factor / memory_size"),
    ))]
async fn create_model(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Body(req): Body<CreateSimModel>,
) -> AppResult<(StatusCode, Json<ModelDto>)> {
    let description = req.description.trim().to_string();
    if description.is_empty() {
        return Err(AppError::invalid("description", "description is required"));
    }
    let form_factor = FormFactor::parse(&req.form_factor).ok_or_else(|| {
        AppError::invalid(
            "form_factor",
            "form_factor must be MINI_MICRO, NANO, MINI_MICRO_NANO or eSIM",
        )
    })?;
    if req.memory_size.is_some_and(|m| m <= 0) {
        return Err(AppError::invalid(
            "memory_size",
            "memory_size must be positive",
        ));
    }
    let new = NewSimModel {
        description,
        memory_size: req.memory_size,
        form_factor,
        manufacturer: req.manufacturer,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .sim_model_create(new, &state.actor(&p))
                .await?
                .into(),
        ),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// SIM models.
#[utoipa::path(operation_id = "list_sim_models", get, path = "/admin/v1/sim-models", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Listing<ModelDto>), (status = 403, description = "access_denied")))]
async fn list_models(
    State(state): State<AppState>,
    _caller: Require<AdminApi>,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Listing<ModelDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (items, total) = batches::models(&state, page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSimInput {
    iccid: String,
    imsi: Option<String>,
    msisdn: Option<String>,
    eid: Option<String>,
    puk1: Option<String>,
    puk2: Option<String>,
    pin1: Option<String>,
    pin2: Option<String>,
    /// Default: the first configured network.
    network: Option<String>,
    /// Default: the model's, else NANO.
    form_factor: Option<String>,
    /// YYYY-MM-DD
    production_date: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatch {
    bic: String,
    /// Issuer org (id or oid).
    #[schema(value_type = String)]
    issuer_org: serde_json::Value,
    model: Option<i64>,
    sims: Vec<BatchSimInput>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchCreated {
    id: i64,
    bic: String,
    quantity: i32,
}

/// Create a SIM batch with its SIMs (status Issued, issuer set, central stock).
#[utoipa::path(operation_id = "create_sim_batch", post, path = "/admin/v1/sim-batches", tag = "admin", security(("bearer" = [])),
    request_body = CreateBatch,
    responses(
        (status = 201, body = BatchCreated),
        (status = 403, description = "access_denied"),
        (status = 409, description = "bic / sim exists"),
        (status = 422, description = "bic / issuer_org / model / sims[i]"),
    ))]
async fn create_batch(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Body(req): Body<CreateBatch>,
) -> AppResult<(StatusCode, Json<BatchCreated>)> {
    let spec = batches::BatchSpec {
        bic: req.bic,
        issuer_org: ref_text(Some(req.issuer_org)),
        model: req.model,
        sims: req
            .sims
            .into_iter()
            .map(|s| batches::BatchSimSpec {
                iccid: s.iccid,
                imsi: s.imsi,
                msisdn: s.msisdn,
                eid: s.eid,
                puk1: s.puk1,
                puk2: s.puk2,
                pin1: s.pin1,
                pin2: s.pin2,
                network: s.network,
                form_factor: s.form_factor,
                production_date: s.production_date,
            })
            .collect(),
    };
    let batch = batches::create(&state, &p, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(BatchCreated {
            id: batch.id,
            bic: batch.bic,
            quantity: batch.quantity,
        }),
    ))
}
