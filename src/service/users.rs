//! Users: create, update, and the user a reference names within the caller's scope; which levels a
//! caller may grant.
use super::access::{self, InScope};
use super::non_empty;
use super::orgs::referenced_org;
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::{EntityRef, ObjectId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewUser, Org, User, UserPatch};

pub struct CreateUser {
    pub org: String,
    pub email: String,
    pub name: String,
    pub password: String,
    pub access_level: String,
}

#[derive(Default)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub access_level: Option<String>,
    pub state: Option<String>,
    pub password: Option<String>,
}

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate_email(email: &str) -> AppResult<String> {
    let e = email.trim().to_ascii_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !e.contains(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(AppError::invalid(
            "email",
            "email must be an address like name@example.com",
        ))
    }
}

fn validate_password(p: &str) -> AppResult<()> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!("password must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Levels must fit the org (ADMIN only on the platform, reseller levels only in reseller orgs),
/// and nobody grants more than they hold.
fn grantable_level(by: &Principal, raw: &str, org: &Org) -> AppResult<AccessLevel> {
    let level = AccessLevel::parse(raw)
        .ok_or_else(|| AppError::invalid("access_level", "unknown access level"))?;
    if !level.allowed_in(org.kind) {
        return Err(AppError::invalid(
            "access_level",
            format!(
                "{} is not allowed in an organisation of kind {}",
                level.as_str(),
                org.kind.as_str()
            ),
        ));
    }
    if level > by.level {
        return Err(AppError::forbidden(
            "access_level",
            "You cannot grant a level above your own",
        ));
    }
    Ok(level)
}

pub async fn create_user(state: &AppState, by: &Principal, input: CreateUser) -> AppResult<User> {
    let org = referenced_org(state, by, "org", &input.org).await?;
    let email = validate_email(&input.email)?;
    let name = non_empty("name", &input.name, 200)?;
    validate_password(&input.password)?;
    let level = grantable_level(by, &input.access_level, &org)?;
    let password_hash = state.auth.passwords.hash_plain_async(input.password).await;
    let actor = state.actor(by);
    let new = NewUser {
        oid: ObjectId::generate(actor.at).into_string(),
        org_id: org.id,
        email,
        name,
        password_hash,
        access_level: level,
    };
    Ok(state.store.user_create(new, &actor).await?)
}

/// A user the caller can see, or 404.
pub async fn visible_user(
    state: &AppState,
    by: &Principal,
    r: &EntityRef,
) -> AppResult<(User, Org)> {
    let scope = by.scope();
    let user = state.store.user_find(&scope, r).await?;
    let user = user.filter(|u| u.state != "DELETED");
    let user = user.or_not_found("not_found", "User not found")?;
    let org = access::org_of(state, by, user.org_id).await?;
    Ok((user, org))
}

pub async fn update_user(
    state: &AppState,
    by: &Principal,
    r: &EntityRef,
    input: UpdateUser,
) -> AppResult<User> {
    let (user, org) = visible_user(state, by, r).await?;
    if !by.may_manage(user.id, org.id, &org.path, user.access_level) {
        return Err(AppError::forbidden(
            "id",
            "You cannot change a user at or above your own level",
        ));
    }
    let own = user.id == by.user_id;
    if own && (input.access_level.is_some() || input.state.is_some()) {
        return Err(AppError::forbidden(
            "id",
            "You cannot change your own access level or state",
        ));
    }
    let access_level = input
        .access_level
        .as_deref()
        .map(|l| grantable_level(by, l, &org))
        .transpose()?;
    let state_value = match input.state.as_deref() {
        None => None,
        Some(s @ ("ENABLED" | "DISABLED" | "DELETED")) => Some(s.to_string()),
        Some(_) => {
            return Err(AppError::invalid(
                "state",
                "state must be ENABLED, DISABLED or DELETED",
            ))
        }
    };
    let name = input.name.map(|n| non_empty("name", &n, 200)).transpose()?;
    let password_hash = match input.password {
        Some(p) => {
            validate_password(&p)?;
            Some(state.auth.passwords.hash_plain_async(p).await)
        }
        None => None,
    };
    let patch = UserPatch {
        name,
        access_level,
        state: state_value,
        password_hash,
    };
    let updated = state
        .store
        .user_update(&by.scope(), user.id, patch, &state.actor(by))
        .await?;
    Ok(updated)
}

/// Sets a user's password on the operator's word (`simgate admin set-password`, which holds the
/// database and so every right): no level check, the password rules still apply, and the user's
/// sessions end (a reset usually follows a loss or a leak). API tokens are left alone.
pub async fn set_password(
    state: &AppState,
    by: &Principal,
    user: &User,
    password: String,
) -> AppResult<()> {
    validate_password(&password)?;
    let password_hash = state.auth.passwords.hash_plain_async(password).await;
    let actor = state.actor(by);
    let patch = UserPatch {
        password_hash: Some(password_hash),
        ..UserPatch::default()
    };
    state
        .store
        .user_update(&by.scope(), user.id, patch, &actor)
        .await?;
    state.store.token_revoke_sessions(user.id, &actor).await?;
    Ok(())
}

/// The users the caller sees, optionally those of `org` (a reference in scope).
pub async fn list(
    state: &AppState,
    by: &Principal,
    org: Option<&str>,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<User>, i64)> {
    let org = match org {
        Some(raw) => Some(super::orgs::org_filter(state, by, "org", raw).await?.id),
        None => None,
    };
    Ok(state.store.user_list(&by.scope(), org, page).await?)
}

/// The user a reference names, if the caller may act for it: in scope and, unless it is the caller,
/// below the caller's level.
pub async fn manageable_user(state: &AppState, by: &Principal, r: &EntityRef) -> AppResult<User> {
    let (user, org) = visible_user(state, by, r).await?;
    if !by.may_manage(user.id, org.id, &org.path, user.access_level) {
        return Err(AppError::forbidden(
            "id",
            "You cannot act for a user at or above your own level",
        ));
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            validate_email(" Bob@Example.COM ").unwrap(),
            "bob@example.com"
        );
        assert!(validate_email("bob").is_err());
        assert!(validate_email("@example.com").is_err());
        assert!(validate_email("bob@").is_err());
        assert!(validate_email("bo b@example.com").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
    }
}
