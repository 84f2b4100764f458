//! Access control: with an `ApiKey` configured, every route but the health checks (and the
//! webhooks, which carry their own proof) needs `Authorization: Bearer <key>`, or the
//! dashboard's session cookie, compared in constant time.
//!
//! The cookie holds a token derived from the key (an HMAC), never the key itself: it survives
//! restarts, and changing the key ends every session.

use super::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

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
    let by_key = is_api_key(key, presented);
    let by_cookie = has_session(key, request.headers());
    if by_key || by_cookie {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::unauthorized())
    }
}

/// The name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "stocksync_session";

/// The session token for `key`: HMAC-SHA256 of a fixed label, in hex.
pub fn session_token(key: &SecretString) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"stocksync dashboard session");
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `presented` is the API key (for the dashboard's login form).
pub fn is_api_key(key: &SecretString, presented: &str) -> bool {
    presented
        .trim()
        .as_bytes()
        .ct_eq(key.expose_secret().as_bytes())
        .into()
}

/// Whether the request carries the dashboard's session cookie for `key`.
pub fn has_session(key: &SecretString, headers: &axum::http::HeaderMap) -> bool {
    session_cookie(headers)
        .is_some_and(|token| token.as_bytes().ct_eq(session_token(key).as_bytes()).into())
}

/// The value of the session cookie, if the request has one.
fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}
