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
