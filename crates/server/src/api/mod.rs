//! The HTTP API: the original program's routes and JSON field names, plus health checks; the
//! dashboard (`crate::dashboard`) is mounted here too, its data behind the same key.
//! Each resource has its own `router()`; access control, body limit, request ids and tracing
//! are applied once, here.

pub mod auth;
mod error;
mod extract;
mod health;
mod items;
mod jobs;
mod link_view;
mod metrics;
mod sales;
mod synchronizer;
mod tasks;
mod webhooks;

pub use error::ApiError;

use crate::accounts::Accounts;
use crate::synchronizer::Synchronizer;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use secrecy::SecretString;
use std::sync::Arc;
use stocksync_store::Store;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Bodies larger than this are refused with 413 (a sale or a link is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub accounts: Accounts,
    pub synchronizer: Synchronizer,
    /// Rung when a sale is accepted or retried, so the outbox pushes it at once.
    pub outbox_wake: Arc<crate::outbox::OutboxWake>,
    /// Every POS call made, by account, endpoint and status.
    pub calls: stocksync_pos::CallLog,
    pub api_key: Option<Arc<SecretString>>,
    /// How each account's webhooks are authenticated.
    pub webhooks: Arc<Vec<(stocksync_domain::AccountId, crate::config::WebhookConfig)>>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(items::router())
        .merge(link_view::router())
        .merge(synchronizer::router())
        .merge(sales::router())
        .merge(tasks::router())
        .merge(jobs::router())
        .merge(metrics::router())
        .merge(crate::dashboard::data_router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    Router::new()
        .merge(health::router())
        .merge(crate::dashboard::router())
        .merge(webhooks::router())
        .merge(protected)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
            })
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
