//! `GET /api/itemstask/{id}`: the state of an asynchronous task, and the answer shapes of tasks
//! and of the requests that enqueue one.

use super::error::ErrorBody;
use super::extract::ApiPath;
use super::items::Paging;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use stocksync_domain::task::Task;
use utoipa::ToSchema;
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
    responses((status = 200, description = "the task", body = TaskView), (status = 404, description = "no such task", body = ErrorBody))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let task = state
        .store
        .task(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no task with id '{id}'")))?;
    Ok(Json(TaskView::from(&task)))
}

/// A job (a sync, a reconciliation, a read of the products a webhook named).
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    id: String,
    /// `sync_all`, `reconcile`, `reconcile_dry_run` or `read_items`.
    kind: &'static str,
    /// The one account it is for; every account when `null`.
    account_id: Option<String>,
    /// `enqueued`, `scheduled`, `running`, `succeeded`, `failed`, `dead` or `cancelled`.
    state: &'static str,
    attempts: i64,
    run_at: Option<DateTime<Utc>>,
    worker: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    /// Made by a schedule's tick.
    scheduled: bool,
    /// The products a webhook named.
    items: Option<Value>,
    summary: Option<String>,
    /// The outcome in detail (a reconciliation's report).
    result: Option<Value>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<&Task> for TaskView {
    fn from(task: &Task) -> Self {
        let json = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
        };
        Self {
            id: task.id.to_string(),
            kind: task.kind.as_str(),
            account_id: task.account.as_ref().map(ToString::to_string),
            state: task.state.as_str(),
            attempts: task.attempts,
            run_at: task.run_at,
            worker: task.worker.clone(),
            lease_until: task.lease_until,
            scheduled: task.dedupe_key.is_some(),
            items: json(&task.payload),
            summary: task.summary.clone(),
            result: json(&task.result),
            error: task.error.clone(),
            created_at: task.created_at,
            started_at: task.started_at,
            finished_at: task.finished_at,
        }
    }
}

/// The answer to a request that enqueued a task: the original's `status`/`location` shape,
/// with the task.
#[derive(Serialize, ToSchema)]
pub struct Pending {
    /// `pending`.
    status: &'static str,
    /// Where to follow the task: `/api/itemstask/{id}`.
    location: String,
    /// Always `null` here (the original's field).
    #[schema(value_type = Option<String>)]
    error_message: Option<()>,
    task: TaskView,
}

impl From<&Task> for Pending {
    fn from(task: &Task) -> Self {
        Self {
            status: "pending",
            location: format!("/api/itemstask/{}", task.id),
            error_message: None,
            task: TaskView::from(task),
        }
    }
}

/// A page of jobs.
#[derive(Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<TaskView>,
    #[serde(flatten)]
    pub paging: Paging,
}

/// [`Pending`] as JSON, for handlers that answer with more than the task.
pub fn pending_json(task: &Task) -> Value {
    serde_json::to_value(Pending::from(task)).unwrap_or_default()
}
