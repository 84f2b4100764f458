//! `GET /api/itemstask/{id}`: the state of an asynchronous task, or of the tasks one request
//! made (one per account: `{id},{id},…`), shown together as one task; and the answer shapes of
//! tasks and of the requests that enqueue them.

use super::error::ErrorBody;
use super::extract::ApiPath;
use super::items::Paging;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use stocksync_domain::task::{Task, TaskState};
use utoipa::ToSchema;
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
    responses(
        (status = 200, description = "the task, or the tasks together", body = TaskAnswer),
        (status = 400, description = "too many ids", body = ErrorBody),
        (status = 404, description = "no such task", body = ErrorBody)
    )
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskAnswer>, ApiError> {
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
        [task] => TaskAnswer::One(TaskView::from(task)),
        tasks => TaskAnswer::Group(TaskGroupView::from(tasks)),
    }))
}

/// One task, or the tasks of one request together.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum TaskAnswer {
    One(TaskView),
    Group(TaskGroupView),
}

/// A job (a sync, a reconciliation, a read of the products a webhook named).
#[derive(Serialize, ToSchema)]
// No other field (in the description: `additionalProperties: false`), so that a group, which
// has `tasks`, fits one of `TaskAnswer`'s shapes only.
#[serde(deny_unknown_fields)]
pub struct TaskView {
    id: String,
    /// `sync_all`, `reconcile`, `reconcile_dry_run` or `read_items`.
    kind: &'static str,
    /// The one account it is for (`shop:woocommerce` for the shop platform's reconciliation;
    /// `null` only for a job left by an earlier version).
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
    #[schema(value_type = Option<ReconcileResult>)]
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

/// Tasks asked for together, as one task: the group's state (`TaskState::of_group`), each
/// account's line in `summary` (or, when one failed, in `error`), reconciliation reports merged
/// into one `result`, and each task under `tasks`.
#[derive(Serialize, ToSchema)]
pub struct TaskGroupView {
    /// The tasks' ids, separated by commas.
    id: String,
    /// The tasks' kind when they share one.
    kind: Option<&'static str>,
    /// Always `null`: the tasks are for several accounts.
    #[schema(value_type = Option<String>)]
    account_id: Option<()>,
    /// `running` until all have ended, then the worst outcome.
    state: &'static str,
    attempts: Option<i64>,
    run_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    worker: Option<()>,
    #[schema(value_type = Option<String>)]
    lease_until: Option<()>,
    scheduled: bool,
    #[schema(value_type = Option<Object>)]
    items: Option<()>,
    summary: Option<String>,
    /// The reconciliation reports merged: `{"dry_run", "accounts": […], "shop": {…}}`.
    #[schema(value_type = Option<ReconcileResult>)]
    result: Value,
    error: Option<String>,
    created_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    tasks: Vec<TaskView>,
}

impl From<&[Task]> for TaskGroupView {
    fn from(tasks: &[Task]) -> Self {
        let states: Vec<TaskState> = tasks.iter().map(|t| t.state).collect();
        let ended = tasks.iter().all(|t| t.state.has_ended());
        let lines = |line: fn(&Task) -> Option<&str>| {
            let lines: Vec<&str> = tasks.iter().filter_map(line).collect();
            (!lines.is_empty()).then(|| lines.join("; "))
        };
        let failed = tasks.iter().any(|t| t.error.is_some());
        let kind = tasks.first().map(|t| t.kind);
        Self {
            id: tasks
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            kind: kind
                .filter(|kind| tasks.iter().all(|t| t.kind == *kind))
                .map(|kind| kind.as_str()),
            account_id: None,
            state: TaskState::of_group(&states).as_str(),
            attempts: tasks.iter().map(|t| t.attempts).max(),
            run_at: tasks.iter().filter_map(|t| t.run_at).min(),
            worker: None,
            lease_until: None,
            scheduled: tasks.iter().all(|t| t.dedupe_key.is_some()),
            items: None,
            summary: (ended && !failed)
                .then(|| lines(|t| t.summary.as_deref()))
                .flatten(),
            result: merged_reports(tasks),
            error: failed
                .then(|| lines(|t| t.error.as_deref().or(t.summary.as_deref())))
                .flatten(),
            created_at: tasks.iter().map(|t| t.created_at).min(),
            started_at: tasks.iter().filter_map(|t| t.started_at).min(),
            finished_at: ended
                .then(|| tasks.iter().filter_map(|t| t.finished_at).max())
                .flatten(),
            tasks: tasks.iter().map(TaskView::from).collect(),
        }
    }
}

/// A reconciliation's report: each POS account's, and the shop platform's.
#[derive(Serialize, ToSchema)]
pub struct ReconcileResult {
    dry_run: bool,
    /// Each account's report (`{account_id, ok, report | error}`); absent from the shop's job.
    #[schema(value_type = Option<Vec<Object>>)]
    accounts: Vec<Value>,
    /// The shop's report, when a shop platform is configured (absent from an account's job).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::shop::reconcile::ShopReport>)]
    shop: Option<Value>,
}

/// The reconciliation reports of a group (each `{"dry_run", "accounts": [one]}`, or the shop's
/// `{"dry_run", "shop": {…}}`) as one.
fn merged_reports(tasks: &[Task]) -> Value {
    let results: Vec<Value> = tasks
        .iter()
        .filter_map(|t| t.result.as_deref())
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    let Some(first) = results.first() else {
        return Value::Null;
    };
    let merged = ReconcileResult {
        dry_run: first["dry_run"].as_bool().unwrap_or_default(),
        accounts: results
            .iter()
            .flat_map(|r| r["accounts"].as_array().cloned().unwrap_or_default())
            .collect(),
        shop: results.iter().find_map(|r| r.get("shop").cloned()),
    };
    serde_json::to_value(merged).unwrap_or_default()
}

/// The answer to a request that enqueued tasks (one per account, or one): the original's
/// `status`/`location` shape, `location` following them together, and the tasks.
#[derive(Serialize, ToSchema)]
pub struct Pending {
    /// `pending`.
    status: &'static str,
    /// Where to follow the tasks together: `/api/itemstask/{id},{id},…`.
    location: String,
    /// Always `null` here (the original's field).
    #[schema(value_type = Option<String>)]
    error_message: Option<()>,
    tasks: Vec<TaskView>,
}

impl From<&[Task]> for Pending {
    fn from(tasks: &[Task]) -> Self {
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        Self {
            status: "pending",
            location: format!("/api/itemstask/{}", ids.join(",")),
            error_message: None,
            tasks: tasks.iter().map(TaskView::from).collect(),
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
