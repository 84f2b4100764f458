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
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Bodies larger than this are refused with 413 (a sale or a link is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The description's header; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(info(
    title = "stocksync",
    description = "Keeps POS stock counts (Square, Hiboutik, Lightspeed Retail) and a web shop's stock table in agreement. With an ApiKey, every route but /healthz, /readyz and the webhooks needs `Authorization: Bearer <ApiKey>`."
))]
struct ApiDoc;

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

/// The whole API. The OpenAPI description is built from the same routes (utoipa), so that a
/// route cannot be served without being described; it is served at `/api/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (open_api, open_spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(webhooks::router())
        .split_for_parts();
    let (documented, spec) = OpenApiRouter::new()
        .merge(items::router())
        .merge(link_view::router())
        .merge(synchronizer::router())
        .merge(sales::router())
        .merge(tasks::router())
        .merge(jobs::router())
        .merge(metrics::router())
        .split_for_parts();
    let mut description = open_spec;
    description.merge(spec);
    let description = Arc::new(description);
    let protected = documented
        .merge(crate::dashboard::data_router())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let description = description.clone();
                async move { axum::Json(description.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    open_api
        .merge(crate::dashboard::router())
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
