//! The HTTP API: the original program's routes and JSON field names, plus health checks; the
//! dashboard (`crate::dashboard`) is mounted here too, its data behind the same key.
//! Each resource has its own `router()`; host and origin checks, access control, body limit,
//! time limit, concurrency limit, panics turned into 500s, request ids and tracing are applied
//! once, here.

pub mod auth;
mod error;
mod extract;
mod health;
pub mod hosts;
mod items;
mod items_match;
mod jobs;
mod layer_answers;
mod link_view;
mod metrics;
mod sales;
mod shop;
mod shop_item;
mod shop_webhook;
mod synchronizer;
mod tasks;
mod webhooks;

pub use error::ApiError;

use crate::accounts::Accounts;
use crate::config::ServerLimits;
use crate::synchronizer::Synchronizer;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use std::any::Any;
use std::sync::Arc;
use stocksync_store::Store;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
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
    /// The hosts (and so the origins) the API answers for.
    pub hosts: Arc<hosts::AllowedHosts>,
    /// How long a dashboard login lasts.
    pub session_lifetime: chrono::Duration,
    /// The shop platform, when `Shop` is configured.
    pub shop: Option<crate::shop::ShopHandle>,
}

impl AppState {
    /// The configured shop platform, if any.
    pub fn shop_kind(&self) -> Option<stocksync_domain::ShopKind> {
        self.shop.as_ref().map(|shop| shop.config.kind)
    }
}

/// The whole API. The OpenAPI description is built from the same routes (utoipa), so that a
/// route cannot be served without being described; it is served at `/api/openapi.json`.
pub fn router(state: AppState, limits: ServerLimits) -> Router {
    let (open_api, open_spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(webhooks::router())
        .merge(shop_webhook::router())
        .split_for_parts();
    let (documented, spec) = OpenApiRouter::new()
        .merge(items::router())
        .merge(items_match::router())
        .merge(link_view::router())
        .merge(synchronizer::router())
        .merge(sales::router())
        .merge(tasks::router())
        .merge(jobs::router())
        .merge(metrics::router())
        .merge(shop::router())
        .split_for_parts();
    let mut description = open_spec;
    description.merge(spec);
    layer_answers::describe(&mut description);
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
    let routes = open_api
        .merge(crate::dashboard::router())
        .merge(protected)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hosts::guard,
        ))
        .with_state(state);
    harden(routes, limits)
}

/// The layers around every route: a request runs at most `request_timeout` (then 503), at most
/// `max_concurrent_requests` run at once (past that, 503 at once rather than a queue), a panic
/// becomes a 500 in the error shape, and each request has an id and a log span.
fn harden(routes: Router, limits: ServerLimits) -> Router {
    routes
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(refused_by_a_limit))
                .timeout(limits.request_timeout)
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(
                    limits.max_concurrent_requests,
                )),
        )
        .layer(CatchPanicLayer::custom(panicked))
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
}

async fn refused_by_a_limit(err: tower::BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        tracing::warn!("a request took longer than RequestTimeoutSeconds and was abandoned");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "stocksync did not answer within RequestTimeoutSeconds; the request may or may not have taken effect: send it again (a sale with the same idempotency key is not taken twice)",
        )
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "stocksync is handling as many requests as it may (MaxConcurrentRequests); try again shortly",
        )
    } else {
        ApiError::internal(&err)
    }
}

/// A handler's panic: logged with its message, answered as any internal failure.
fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(&format_args!("a handler panicked: {message}")).into_response()
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use std::time::Duration;
    use tower::ServiceExt;

    async fn call(router: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    #[tokio::test]
    async fn a_panic_is_a_500_in_the_error_shape() {
        async fn boom() -> &'static str {
            panic!("s3cret detail")
        }
        let routes = Router::new().route("/boom", get(boom));
        let (status, body) = call(harden(routes, ServerLimits::default()), "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal");
        assert_eq!(body["status"], "error");
        assert!(!body.to_string().contains("s3cret"), "{body}");
    }

    #[tokio::test]
    async fn a_request_past_its_time_is_a_503() {
        let routes = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        );
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(100),
            ..ServerLimits::default()
        };
        let (status, body) = call(harden(routes, limits), "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "timeout");
    }

    #[tokio::test]
    async fn past_the_concurrency_limit_a_request_is_refused_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        let (gate, inside) = (release.clone(), entered.clone());
        let routes = Router::new().route(
            "/held",
            get(move || {
                let (gate, inside) = (gate.clone(), inside.clone());
                async move {
                    inside.fetch_add(1, Ordering::SeqCst);
                    let _ = gate.acquire().await;
                    "done"
                }
            }),
        );
        let limits = ServerLimits {
            max_concurrent_requests: 2,
            ..ServerLimits::default()
        };
        let app = harden(routes, limits);
        let held: Vec<_> = (0..2)
            .map(|_| tokio::spawn(call(app.clone(), "/held")))
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while entered.load(Ordering::SeqCst) < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the two never started"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (status, body) = call(app.clone(), "/held").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "busy");
        release.add_permits(2);
        for request in held {
            assert_eq!(request.await.unwrap().0, StatusCode::OK);
        }
    }
}
