//! `GET /api/itemstask/{id}`: the state of an asynchronous task.

use super::extract::ApiPath;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use stocksync_domain::task::Task;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show))
}

#[utoipa::path(
    get,
    path = "/api/itemstask/{id}",
    tag = "jobs",
    description = "The state of an asynchronous task (the original route).",
    params(("id" = String, Path, description = "the task id")),
    responses((status = 200, description = "the task"), (status = 404, description = "no such task"))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let task = state
        .store
        .task(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no task with id '{id}'")))?;
    Ok(Json(task_json(&task)))
}

pub fn task_json(task: &Task) -> Value {
    json!({
        "id": task.id,
        "kind": task.kind.as_str(),
        "account_id": task.account,
        "state": task.state.as_str(),
        "attempts": task.attempts,
        "run_at": task.run_at,
        "worker": task.worker,
        "lease_until": task.lease_until,
        "scheduled": task.dedupe_key.is_some(),
        "items": task.payload.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        "summary": task.summary,
        "result": task.result.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
        "error": task.error,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
    })
}

/// The answer to a request that enqueued a task: the original's `status`/`location` shape,
/// with the task.
pub fn pending_json(task: &Task) -> Value {
    json!({
        "status": "pending",
        "location": format!("/api/itemstask/{}", task.id),
        "error_message": null,
        "task": task_json(task),
    })
}
