//! `GET /api/itemstask/{id}`: the state of an asynchronous task, or of the tasks one request
//! made (one per account: `{id},{id},…`), shown together as one task.

use super::extract::ApiPath;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use stocksync_domain::task::{Task, TaskState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// The most tasks one location follows together (one per configured account).
const MAX_GROUP: usize = 100;

#[utoipa::path(
    get,
    path = "/api/itemstask/{id}",
    tag = "jobs",
    description = "The state of an asynchronous task (the original route); with several ids separated by commas \
        (the `location` of a request that made one job per account), of them together: running until all have ended, \
        then the worst outcome, each task under `tasks`.",
    params(("id" = String, Path, description = "the task id, or several separated by commas")),
    responses((status = 200, description = "the task"), (status = 400, description = "too many ids"), (status = 404, description = "no such task"))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let ids: Vec<&str> = id.split(',').collect();
    if ids.len() > MAX_GROUP {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_GROUP} task ids, separated by commas"
        )));
    }
    let mut tasks = Vec::with_capacity(ids.len());
    for id in ids {
        let task = state
            .store
            .task(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no task with id '{id}'")))?;
        tasks.push(task);
    }
    Ok(Json(match tasks.as_slice() {
        [task] => task_json(task),
        tasks => group_json(tasks),
    }))
}

/// Tasks asked for together, as one task: the group's state (`TaskState::of_group`), each
/// account's line in `summary` (or, when one failed, in `error`), reconciliation reports merged
/// into one `result`, and each task under `tasks`.
fn group_json(tasks: &[Task]) -> Value {
    let states: Vec<TaskState> = tasks.iter().map(|t| t.state).collect();
    let state = TaskState::of_group(&states);
    let ended = tasks.iter().all(|t| t.state.has_ended());
    let lines = |line: fn(&Task) -> Option<&str>| {
        let lines: Vec<&str> = tasks.iter().filter_map(line).collect();
        (!lines.is_empty()).then(|| lines.join("; "))
    };
    let failed = tasks.iter().any(|t| t.error.is_some());
    let error = failed
        .then(|| lines(|t| t.error.as_deref().or(t.summary.as_deref())))
        .flatten();
    let summary = (ended && !failed)
        .then(|| lines(|t| t.summary.as_deref()))
        .flatten();
    let kind = tasks[0].kind;
    json!({
        "id": tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(","),
        "kind": tasks.iter().all(|t| t.kind == kind).then_some(kind.as_str()),
        "account_id": null,
        "state": state.as_str(),
        "attempts": tasks.iter().map(|t| t.attempts).max(),
        "run_at": tasks.iter().filter_map(|t| t.run_at).min(),
        "worker": null,
        "lease_until": null,
        "scheduled": tasks.iter().all(|t| t.dedupe_key.is_some()),
        "items": null,
        "summary": summary,
        "result": merged_reports(tasks),
        "error": error,
        "created_at": tasks.iter().map(|t| t.created_at).min(),
        "started_at": tasks.iter().filter_map(|t| t.started_at).min(),
        "finished_at": ended.then(|| tasks.iter().filter_map(|t| t.finished_at).max()).flatten(),
        "tasks": tasks.iter().map(task_json).collect::<Vec<_>>(),
    })
}

/// The reconciliation reports of a group (each `{"dry_run", "accounts": [one]}`) as one.
fn merged_reports(tasks: &[Task]) -> Value {
    let results: Vec<Value> = tasks
        .iter()
        .filter_map(|t| t.result.as_deref())
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    let Some(first) = results.first() else {
        return Value::Null;
    };
    let accounts: Vec<Value> = results
        .iter()
        .flat_map(|r| r["accounts"].as_array().cloned().unwrap_or_default())
        .collect();
    json!({ "dry_run": first["dry_run"], "accounts": accounts })
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

/// The answer to a request that enqueued tasks (one per account, or one): the original's
/// `status`/`location` shape, `location` following them together, and the tasks.
pub fn pending_json(tasks: &[Task]) -> Value {
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    json!({
        "status": "pending",
        "location": format!("/api/itemstask/{}", ids.join(",")),
        "error_message": null,
        "tasks": tasks.iter().map(task_json).collect::<Vec<_>>(),
    })
}
