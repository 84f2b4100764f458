//! Access control: with an `ApiKey` configured, every route but the health checks needs
//! `Authorization: Bearer <key>`, compared in constant time.

use super::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::ExposeSecret;
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
    let matches: bool = presented
        .trim()
        .as_bytes()
        .ct_eq(key.expose_secret().as_bytes())
        .into();
    if matches {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::unauthorized())
    }
}
