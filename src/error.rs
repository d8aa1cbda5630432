//! The one error type. Handlers and the domain return it; `api::envelope` renders it in the
//! envelope of the dialect the request came in on.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use std::sync::Arc;

pub(crate) type Text = Cow<'static, str>;

/// Why a request is not authenticated. Each dialect has its own code for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No token at all.
    Missing,
    /// An Authorization header that is not `Bearer <token>`.
    Format,
    /// Unknown, revoked or badly signed token.
    InvalidToken,
    /// A token past its expiry.
    Expired,
    /// Wrong username, password, application or refresh token at login / authenticate.
    Credentials,
}

/// Whether a request that met a transient database error may run again at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// No (the database is down, or the pool was exhausted for its whole time-out).
    No,
    /// Any request: its transaction lost a race and wrote nothing.
    Transaction,
    /// A read: its connection failed; a fresh one may work.
    Read,
}

pub use crate::domain::error::Invalid;
use crate::domain::error::{DomainError, Rule};

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("not authenticated: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error("{message}")]
    BadRequest { code: Text, message: Text },
    #[error("{message}")]
    Forbidden { code: Text, message: Text },
    #[error("{message}")]
    NotFound { code: Text, message: Text },
    #[error("{message}")]
    Conflict { code: Text, message: Text },
    #[error("{message}")]
    Invalid {
        code: Text,
        message: Text,
        kind: Invalid,
    },
    /// Several invalid values of one body (each an `Invalid`), reported together: emnify lists them
    /// in one 1400; TelecomX names the first.
    #[error("Input validation failed")]
    Problems(Vec<AppError>),
    /// 503 with `Retry-After`: the database cannot serve now. `retry` says whether the request may
    /// simply run again on this node (see `api::retry`).
    #[error("{message}")]
    Unavailable { message: Text, retry: Retry },
    /// Too many failed logins: 429 with `Retry-After`.
    #[error("Too many failed logins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Logged with the request id; the body says nothing internal.
    #[error("internal error: {0}")]
    Internal(String),
    /// A rejection produced outside the handlers (unknown route, wrong method, body limit,
    /// timeout, unsupported content type). Rendered with the status as given.
    #[error("{message}")]
    Http {
        status: StatusCode,
        code: Text,
        message: Text,
    },
}

impl AppError {
    pub fn access_denied() -> Self {
        AppError::Forbidden {
            code: "access_denied".into(),
            message: "Insufficient access level".into(),
        }
    }
    pub fn forbidden(code: impl Into<Text>, message: impl Into<Text>) -> Self {
        AppError::Forbidden {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn not_found(code: impl Into<Text>, message: impl Into<Text>) -> Self {
        AppError::NotFound {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn conflict(code: impl Into<Text>, message: impl Into<Text>) -> Self {
        AppError::Conflict {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<Text>) -> Self {
        AppError::BadRequest {
            code: "bad_request".into(),
            message: message.into(),
        }
    }
    pub fn invalid(code: impl Into<Text>, message: impl Into<Text>) -> Self {
        Self::invalid_as(Invalid::Value, code, message)
    }
    pub fn required(code: impl Into<Text>) -> Self {
        let code = code.into();
        let message = format!("{code} is required");
        Self::invalid_as(Invalid::Required, code, message)
    }
    pub fn invalid_as(kind: Invalid, code: impl Into<Text>, message: impl Into<Text>) -> Self {
        AppError::Invalid {
            code: code.into(),
            message: message.into(),
            kind,
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Invalid { .. } | AppError::Problems(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Http { status, .. } => *status,
        }
    }

    /// The TelecomX code: a default code or the name of the offending property.
    pub fn code(&self) -> &str {
        match self {
            AppError::Unauthenticated(f) => match f {
                AuthFailure::Missing | AuthFailure::Credentials => "credentials_invalid",
                AuthFailure::Format => "format_error",
                AuthFailure::InvalidToken => "invalid_token",
                AuthFailure::Expired => "expired",
            },
            AppError::BadRequest { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Invalid { code, .. }
            | AppError::Http { code, .. } => code,
            AppError::Problems(all) => all.first().map_or("body", AppError::code),
            AppError::Unavailable { .. } => "unavailable",
            AppError::Throttled { .. } => "too_many_requests",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message shown to the client. Internal causes are never shown.
    pub fn public_message(&self) -> Cow<'_, str> {
        match self {
            AppError::Unauthenticated(f) => match f {
                AuthFailure::Missing => "Authorization required, please login".into(),
                AuthFailure::Format => "Authorization header must be 'Bearer <token>'".into(),
                AuthFailure::InvalidToken => "Invalid or revoked token".into(),
                AuthFailure::Expired => "Token expired".into(),
                AuthFailure::Credentials => "Invalid credentials".into(),
            },
            AppError::Internal(_) => "Internal server error".into(),
            AppError::Problems(all) if all.len() == 1 => all[0].public_message(),
            other => other.to_string().into(),
        }
    }
}

/// The error travels to the envelope middleware inside the response's extensions.
#[derive(Clone)]
pub struct ErrorSlot(pub Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status().into_response();
        res.extensions_mut().insert(ErrorSlot(Arc::new(self)));
        res
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::NotFound => AppError::not_found("not_found", "Not found"),
            StoreError::Conflict { constraint } => conflict_for_constraint(&constraint),
            StoreError::Rule(rule) => rule.into(),
            StoreError::Unavailable { cause, lost } => {
                tracing::warn!(%cause, "database unavailable");
                AppError::Unavailable {
                    message: "The database is unavailable; retry later".into(),
                    retry: if lost { Retry::Read } else { Retry::No },
                }
            }
            StoreError::Contention(cause) => {
                tracing::debug!(%cause, "transaction conflict");
                AppError::Unavailable {
                    message: "The database is busy; retry".into(),
                    retry: Retry::Transaction,
                }
            }
            StoreError::Database(msg) => AppError::Internal(msg),
        }
    }
}

impl From<Rule> for AppError {
    /// Rules as client errors, coded by the rule's subject.
    fn from(rule: Rule) -> Self {
        let code = rule.code();
        let message: Text = match &rule {
            Rule::NoSim { esim: true } => "Out of eSim - none available".into(),
            Rule::NoSim { esim: false } => "SIM not found or not available".into(),
            Rule::AccountDeleted => "The account is deleted".into(),
            Rule::AccountState => "The account must be ACTIVE or BLOCKED".into(),
            Rule::SimAttached => "The SIM has an endpoint or an MVNO account".into(),
            Rule::BatchRegistered => "The batch is registered already".into(),
            Rule::Stale => {
                "The object has changed since the ETag given in If-Match; read it again".into()
            }
            Rule::NotRestorable => {
                "No deleted account to restore (unknown, or its recovery window has ended)".into()
            }
            Rule::Transition { .. }
            | Rule::InUseElsewhere { .. }
            | Rule::Unusable { .. }
            | Rule::Collides { .. }
            | Rule::Held(_)
            | Rule::Missing(_)
            | Rule::Unavailable(_)
            | Rule::Duplicated(_) => rule.to_string().into(),
        };
        match rule {
            Rule::NoSim { .. } | Rule::NotRestorable | Rule::Missing(_) | Rule::Unavailable(_) => {
                AppError::not_found(code, message)
            }
            Rule::Unusable { .. } => AppError::invalid_as(Invalid::Reference, code, message),
            Rule::AccountState => AppError::forbidden(code, message),
            Rule::Stale => AppError::Http {
                status: StatusCode::PRECONDITION_FAILED,
                code: code.into(),
                message,
            },
            Rule::AccountDeleted
            | Rule::SimAttached
            | Rule::BatchRegistered
            | Rule::Transition { .. }
            | Rule::InUseElsewhere { .. }
            | Rule::Held(_)
            | Rule::Collides { .. }
            | Rule::Duplicated(_) => AppError::conflict(code, message),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid {
                kind,
                field,
                message,
            } => AppError::invalid_as(kind, field, message),
            DomainError::BadRequest(message) => AppError::bad_request(message),
            DomainError::Denied => AppError::access_denied(),
            DomainError::Rule(rule) => rule.into(),
        }
    }
}

/// Named unique constraints become client errors naming the field that clashed.
fn conflict_for_constraint(constraint: &str) -> AppError {
    match constraint {
        "users_email_key" => AppError::conflict("email", "A user with this email already exists"),
        "sims_iccid_key" => AppError::conflict("sim", "A SIM with this ICC already exists"),
        "sim_in_use" => AppError::conflict("sim", "The SIM is in use"),
        "sim_batches_bic_key" => {
            AppError::conflict("bic", "A SIM batch with this BIC already exists")
        }
        "mvno_accounts_number_key" => {
            AppError::conflict("number", "The number is held by another account")
        }
        other => AppError::conflict(
            "conflict",
            format!("Conflict with an existing item ({other})"),
        ),
    }
}

pub type AppResult<T> = Result<T, AppError>;
