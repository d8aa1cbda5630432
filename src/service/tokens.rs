//! API tokens issued to a user (admin API, TelecomX employee tokens, `simgate admin`).
use super::access::InScope;
use super::non_empty;
use crate::auth::token;
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::{EntityRef, ObjectId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewToken, Token, TokenKey, TokenKind, User};
use chrono::Duration;

/// Issues an application token acting as `user`; the token text is returned once.
pub async fn issue_token(
    state: &AppState,
    by: &Principal,
    user: &User,
    label: Option<String>,
    expires_in_days: Option<i64>,
) -> AppResult<(Token, String)> {
    if let Some(days) = expires_in_days {
        if !(1..=3650).contains(&days) {
            return Err(AppError::invalid(
                "expires_in_days",
                "expires_in_days must be 1 to 3650",
            ));
        }
    }
    let label = label.map(|l| non_empty("label", &l, 200)).transpose()?;
    let actor = state.actor(by);
    let secret = token::generate();
    let new = NewToken {
        user_id: user.id,
        token_hash: token::hash(&secret),
        label,
        kind: TokenKind::Application,
        expires_at: expires_in_days.map(|d| actor.at + Duration::days(d)),
    };
    let t = state.store.token_create(new, &actor).await?;
    Ok((t, secret))
}

/// `POST /admin/v1/users/{ref}/tokens`: an application token for a user the caller may act for.
pub async fn create(
    state: &AppState,
    by: &Principal,
    user: &EntityRef,
    label: Option<String>,
    expires_in_days: Option<i64>,
) -> AppResult<(Token, String)> {
    let user = super::users::manageable_user(state, by, user).await?;
    issue_token(state, by, &user, label, expires_in_days).await
}

/// The API tokens of a user the caller sees (never their values), a page of them and the total.
pub async fn list(
    state: &AppState,
    by: &Principal,
    user: &crate::domain::ids::EntityRef,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<Token>, i64)> {
    let (user, _) = super::users::visible_user(state, by, user).await?;
    let tokens = state.store.token_list(user.id).await?;
    let total = tokens.len() as i64;
    let items = tokens
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .collect();
    Ok((items, total))
}

/// Revokes a live token of a user the caller may act for. Unknown, revoked and out-of-scope tokens
/// are alike: not found; a user at or above the caller's level is 403.
pub async fn revoke(state: &AppState, by: &Principal, raw_id: &str) -> AppResult<()> {
    let missing = || AppError::not_found("not_found", "Token not found");
    let id: i64 = raw_id.parse().map_err(|_| missing())?;
    let token = state
        .store
        .token_get(id)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or_else(missing)?;
    let user = crate::domain::ids::EntityRef::Id(token.user_id);
    let user = super::users::manageable_user(state, by, &user)
        .await
        .map_err(|e| match e {
            AppError::Forbidden { .. } => e,
            _ => missing(),
        })?;
    let revoked = state
        .store
        .token_revoke(user.id, TokenKey::Id(token.id), &state.actor(by))
        .await?;
    if !revoked {
        return Err(missing());
    }
    Ok(())
}

/// The employee (a user, by its 24-hex id) the TelecomX token routes act for: in the caller's scope
/// and below its level; ADMIN users never get tokens this way.
async fn employee(state: &AppState, p: &Principal, raw_id: &str) -> AppResult<User> {
    let oid = ObjectId::parse(raw_id)
        .ok_or_else(|| AppError::invalid("id", "id must be a 24-hex employee id"))?;
    let user = state
        .store
        .user_find(&p.scope(), &EntityRef::Oid(oid))
        .await?
        .filter(|u| u.state != "DELETED")
        .or_not_found("id", "Employee not found")?;
    if user.access_level == AccessLevel::Admin {
        return Err(AppError::forbidden(
            "id",
            "Tokens cannot be created for ADMIN users",
        ));
    }
    let org = super::access::org_of(state, p, user.org_id).await?;
    if !p.may_manage(user.id, org.id, &org.path, user.access_level) {
        return Err(AppError::forbidden(
            "id",
            "You cannot act for a user at or above your own level",
        ));
    }
    Ok(user)
}

/// `POST /employee/{id}/token`: a persistent application token acting as the employee; its text once.
pub async fn issue_for_employee(
    state: &AppState,
    p: &Principal,
    raw_id: &str,
) -> AppResult<String> {
    let user = employee(state, p, raw_id).await?;
    let (_, secret) = issue_token(state, p, &user, Some("employee token".into()), None).await?;
    Ok(secret)
}

/// `DELETE /employee/{id}/token/{token}`: revokes that live token of the employee, else 404 `token`.
pub async fn revoke_for_employee(
    state: &AppState,
    p: &Principal,
    raw_id: &str,
    secret: &str,
) -> AppResult<()> {
    let user = employee(state, p, raw_id).await?;
    let hash = token::hash(secret);
    let revoked = state
        .store
        .token_revoke(user.id, TokenKey::Hash(&hash), &state.actor(p))
        .await?;
    if !revoked {
        return Err(AppError::not_found("token", "Token not found"));
    }
    Ok(())
}
