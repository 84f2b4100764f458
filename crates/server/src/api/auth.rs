//! Access control: with an `ApiKey` configured, every route but the health checks (and the
//! webhooks, which carry their own proof) needs `Authorization: Bearer <key>`, or a live
//! dashboard session, compared in constant time.
//!
//! A session is a random token in the `stocksync_session` cookie, made at each login; the
//! database keeps only its SHA-256 (`stocksync_sessions`), with an expiry, and logging out deletes
//! it, so a copied cookie stops working in every process sharing the database. A request
//! authenticated by the cookie that changes something must also carry the session's CSRF token
//! in `X-CSRF-Token` (the dashboard's page holds it; a page of another site cannot read it);
//! requests with the key need none.

use super::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "stocksync_session";
/// The header the dashboard sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(key) = &state.api_key else {
        return Ok(next.run(request).await);
    };
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        .unwrap_or_default();
    if is_api_key(key, presented) {
        return Ok(next.run(request).await);
    }
    let Some(token) = live_session(&state, request.headers()).await? else {
        return Err(ApiError::unauthorized());
    };
    if super::hosts::changes_state(request.method()) && !has_csrf_token(&token, request.headers()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_token_missing",
            "a change made with the dashboard's session needs its X-CSRF-Token header; \
             reload the dashboard",
        ));
    }
    Ok(next.run(request).await)
}

/// Whether `presented` is the API key (for the dashboard's login form).
pub fn is_api_key(key: &SecretString, presented: &str) -> bool {
    presented
        .trim()
        .as_bytes()
        .ct_eq(key.expose_secret().as_bytes())
        .into()
}

/// A new session token: 32 random bytes, in hex.
pub fn new_session_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(&e))?;
    Ok(hex(&bytes))
}

/// What the database keeps of a session token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session: derived from its token (which the page's script cannot read:
/// the cookie is `HttpOnly`), so that it needs no storage and dies with the session.
pub fn csrf_token(token: &str) -> String {
    hex(&Sha256::new()
        .chain_update(b"stocksync csrf\0")
        .chain_update(token.as_bytes())
        .finalize())
}

fn has_csrf_token(token: &str, headers: &HeaderMap) -> bool {
    headers
        .get(CSRF_HEADER)
        .is_some_and(|value| value.as_bytes().ct_eq(csrf_token(token).as_bytes()).into())
}

/// The token of the request's session cookie, when it names a live session.
pub async fn live_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    // A token is 64 hex digits; anything else is not worth a query.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = state.synchronizer.clock.now();
    let live = state
        .store
        .session_is_live(&token_hash(&token), now)
        .await?;
    Ok(live.then_some(token))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_session_token().unwrap(), new_session_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_ne!(csrf_token(&a), token_hash(&a));
        assert_ne!(csrf_token(&a), csrf_token(&b));
    }
}
