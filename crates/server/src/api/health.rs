//! Liveness (`/healthz`) and readiness (`/readyz`: the database answers). Open to all.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    description = "Liveness: the process answers.",
    responses((status = 200, description = "ok"))
)]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    description = "Readiness: the database answers.",
    responses((status = 200, description = "ready"), (status = 503, description = "the database does not answer"))
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "error", "code": "database_unreachable", "error_message": "the database does not answer" }),
                ),
            )
        }
    }
}
