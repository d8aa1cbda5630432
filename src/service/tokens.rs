//! API tokens issued to a user (admin API, TelecomX employee tokens, `simgate admin`).
use super::non_empty;
use crate::auth::token;
use crate::domain::access::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewToken, Token, TokenKind, User};
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
    super::users::manageable_user(state, by, &user)
        .await
        .map_err(|e| match e {
            AppError::Forbidden { .. } => e,
            _ => missing(),
        })?;
    state.store.token_revoke(token.id, &state.actor(by)).await?;
    state.auth.forget_all();
    Ok(())
}
