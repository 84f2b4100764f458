//! `/api/jobs`: the background work (syncs, reconciliations) with filters, and the actions on
//! one job: retry a failed or cancelled one, cancel one still waiting.

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery, filter};
use super::items::Page;
use super::tasks::{JobPage, Pending, TaskView};
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use stocksync_domain::TaskId;
use stocksync_domain::task::{TaskKind, TaskState};
use stocksync_store::NewJob;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(cancel))
        .routes(routes!(retry))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filter {
    state: Option<String>,
    kind: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/jobs",
    tag = "jobs",
    description = "Jobs, newest first, filtered by `state` and `kind`, paginated.",
    params(Filter, Page),
    responses((status = 200, description = "a page of jobs", body = JobPage), (status = 400, description = "unknown state or kind, or `page` or `per_page` out of bounds", body = ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<Filter>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<JobPage>, ApiError> {
    let wanted_state = filter(
        "state",
        query.state.as_deref(),
        TaskState::parse,
        TaskState::NAMES,
    )?;
    let wanted_kind = filter(
        "kind",
        query.kind.as_deref(),
        TaskKind::parse,
        TaskKind::NAMES,
    )?;
    let (jobs, total) = state
        .store
        .tasks(wanted_state, wanted_kind, page.offset(), page.limit())
        .await?;
    Ok(Json(JobPage {
        jobs: jobs.iter().map(TaskView::from).collect(),
        paging: page.paging(total),
    }))
}

#[utoipa::path(
    post,
    path = "/api/jobs/{id}/retry",
    tag = "jobs",
    description = "Runs a failed, dead or cancelled job again (as a new job; one made for every account by an earlier version, as one job per account).",
    params(("id" = String, Path, description = "the job id")),
    responses((status = 202, description = "enqueued", body = Pending), (status = 404, description = "no such job", body = ErrorBody), (status = 409, description = "not failed, dead or cancelled", body = ErrorBody))
)]
async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Pending>), ApiError> {
    let job = state.store.task(&id).await?.ok_or_else(|| no_job(&id))?;
    if !matches!(
        job.state,
        TaskState::Failed | TaskState::Dead | TaskState::Cancelled
    ) {
        return Err(ApiError::conflict(format!(
            "job {id} is {}; only failed, dead or cancelled jobs can be retried",
            job.state.as_str()
        )));
    }
    let sync = &state.synchronizer;
    let again = match &job.account {
        Some(account) => vec![
            sync.request_job(NewJob {
                payload: job.payload.as_deref(),
                ..NewJob::new(job.kind, account)
            })
            .await?,
        ],
        // Made for every account by an earlier version: one job per account now.
        None => sync.request_each(job.kind, &state.accounts).await?,
    };
    Ok((StatusCode::ACCEPTED, Json(Pending::from(again.as_slice()))))
}

#[utoipa::path(
    delete,
    path = "/api/jobs/{id}",
    tag = "jobs",
    description = "Cancels a job still waiting (enqueued, or scheduled for a retry).",
    params(("id" = String, Path, description = "the job id")),
    responses((status = 204, description = "cancelled"), (status = 404, description = "no such job", body = ErrorBody), (status = 409, description = "not waiting", body = ErrorBody))
)]
async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.cancel_task(&TaskId::new(&id)).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    let job = state.store.task(&id).await?.ok_or_else(|| no_job(&id))?;
    Err(ApiError::conflict(format!(
        "job {id} is {}; only a job still waiting can be cancelled",
        job.state.as_str()
    )))
}

fn no_job(id: &str) -> ApiError {
    ApiError::not_found(format!("no job with id '{id}'"))
}
