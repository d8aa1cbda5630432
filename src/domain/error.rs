//! What the domain says when it refuses: a malformed value, a missing level, or a business rule. Plain
//! data; `crate::error` renders each in the dialect's envelope (the domain knows no HTTP).
use super::sim::SimStatus;
use std::borrow::Cow;

type Text = Cow<'static, str>;

/// What kind of invalid value this is; emnify distinguishes them by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A value that fails validation (emnify 1400 with a nested 1403).
    Value,
    /// A required field is missing (emnify 1400 with a nested 1402).
    Required,
    /// A malformed value reported on its own (emnify 1403).
    Format,
    /// A reference to an object that may not be used here (emnify 1401).
    Reference,
    /// A bad `q` (emnify 1301).
    Query,
    /// A bad `sort` (emnify 1302).
    Sort,
}

/// A business rule that refused a change. The store enforces these inside the transaction that would
/// break them (as `StoreError::Rule`); the services turn a few into the contract's own answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    /// No SIM satisfies the pick (by ICC, any eSIM, any auto-assign SIM).
    #[error("no SIM available")]
    NoSim { esim: bool },
    #[error("the account is deleted")]
    AccountDeleted,
    #[error("the account must be ACTIVE or BLOCKED")]
    AccountState,
    #[error("the account is not deleted or its recovery window has ended")]
    NotRestorable,
    #[error("the SIM has an endpoint or an MVNO account")]
    SimAttached,
    #[error("the batch is registered already")]
    BatchRegistered,
    /// `If-Match` named a version the row no longer has.
    #[error("stale If-Match")]
    Stale,
    #[error("Status of SIM cannot be changed from '{}' to '{}'", .from.description(), .to.description())]
    Transition { from: SimStatus, to: SimStatus },
    /// An object the body names cannot be used here (unknown, outside the caller's scope, not usable
    /// by the org): emnify 1401, `message` in emnify's words (`Service profile with Id '9' not found.`).
    #[error("{message}")]
    Unusable {
        field: &'static str,
        message: String,
    },
    /// The value collides with one in use (an address another endpoint holds, a block that overlaps
    /// another, a space still serving addresses): a 409 about `field`.
    #[error("{message}")]
    Collides {
        field: &'static str,
        message: String,
    },
    /// The object is held by another (a SIM in an endpoint, an endpoint holding a SIM).
    #[error("{0}")]
    Held(String),
    /// What the route names beside its object is not there (an operator, a listing to remove).
    #[error("{0}")]
    Missing(String),
    /// The thing to add is there already (emnify 1405).
    #[error("{0}")]
    Duplicated(String),
    /// Nothing of the kind is left to give (emnify 404 1601: `No IP Address available.`).
    #[error("{0}")]
    Unavailable(String),
    /// A SIM in use changes hands only within the tenant of the account or device holding it.
    #[error("SIM {sim} is in use by {holder}: its organisations cannot move outside that holder's tenant")]
    InUseElsewhere { sim: i64, holder: String },
}

impl Rule {
    /// The field or subject the refusal is about, as the contracts name it in their error codes.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::NoSim { esim: true } => "esim",
            Rule::NoSim { esim: false } | Rule::SimAttached | Rule::Held(_) => "sim",
            Rule::Unusable { field, .. } | Rule::Collides { field, .. } => field,
            Rule::Missing(_) => "not_found",
            Rule::Unavailable(_) => "unavailable",
            Rule::Duplicated(_) => "duplicated",
            Rule::AccountDeleted | Rule::AccountState => "state",
            Rule::NotRestorable => "id",
            Rule::BatchRegistered => "bic",
            Rule::Stale => "precondition_failed",
            Rule::Transition { .. } | Rule::InUseElsewhere { .. } => "status",
        }
    }
}

/// A refusal from the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is wrong (`field` names it, as the contract does).
    #[error("{field}: {message}")]
    Invalid {
        kind: Invalid,
        field: Text,
        message: Text,
    },
    /// A request that cannot be read at all.
    #[error("{0}")]
    BadRequest(Text),
    /// The principal's level does not allow this.
    #[error("insufficient access level")]
    Denied,
    #[error(transparent)]
    Rule(#[from] Rule),
}

impl DomainError {
    pub fn invalid(field: impl Into<Text>, message: impl Into<Text>) -> Self {
        Self::invalid_as(Invalid::Value, field, message)
    }

    pub fn invalid_as(kind: Invalid, field: impl Into<Text>, message: impl Into<Text>) -> Self {
        DomainError::Invalid {
            kind,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The code of the error it becomes: the field an `Invalid` names, the rule's subject.
    pub fn code(&self) -> &str {
        match self {
            DomainError::Invalid { field, .. } => field,
            DomainError::BadRequest(_) => "bad_request",
            DomainError::Denied => "access_denied",
            DomainError::Rule(rule) => rule.code(),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
