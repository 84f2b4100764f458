//! `/api/synchronizer`: status, start, stop, forceUpdate and reconcile. (Its `sale` and
//! `return` routes are in `sales.rs`.)

use super::extract::ApiQuery;
use super::tasks::pending_json;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::AccountId;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::ports::CallBudget;
use stocksync_domain::task::TaskKind;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(force_update))
        .routes(routes!(reconcile))
}

#[utoipa::path(
    get,
    path = "/api/synchronizer",
    tag = "synchronizer",
    description = "Running or not, schedules, accounts with their last sync, calls and budget.",
    responses((status = 200, description = "the status"))
)]
async fn status(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let sync = &state.synchronizer;
    let (running, now) = (sync.is_running(), chrono::Utc::now());
    let month = now.format("%Y-%m").to_string();
    let mut accounts = Vec::new();
    for account in state.accounts.iter() {
        let last = sync.last_sync(account).await;
        let id = account.config.id.as_str();
        // Hiboutik counts calls against a monthly quota; the others have none to show.
        let budget = match &account.config.vendor {
            VendorConfig::Hiboutik {
                maximum_requests, ..
            } => json!({
                "used": state.store.used(&account.config.id, &month).await?,
                "limit": maximum_requests,
                "month": month,
            }),
            _ => Value::Null,
        };
        accounts.push(json!({
            "account_id": account.config.id,
            "type": account.config.kind.as_str(),
            "last_sync": last,
            "calls": state.calls.total(id),
            "rate_limited": state.calls.with_status(id, 429),
            "budget": budget,
        }));
    }
    Ok(Json(json!({
        "running": running,
        "cron": sync.sync_schedule.expression,
        "next_run": running.then(|| sync.sync_schedule.next_after(now)).flatten(),
        "reconcile_cron": sync.reconcile_schedule.expression,
        "next_reconcile": running.then(|| sync.reconcile_schedule.next_after(now)).flatten(),
        "pending_sales": state.store.pending_sales_count().await?,
        "accounts": accounts,
    })))
}

#[utoipa::path(
    post,
    path = "/api/synchronizer/start",
    tag = "synchronizer",
    description = "Starts the periodic syncs (idempotent, remembered).",
    responses((status = 200, description = "started"))
)]
async fn start(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.synchronizer.set_running(true).await?;
    Ok(Json(json!({ "status": "started" })))
}

#[utoipa::path(
    post,
    path = "/api/synchronizer/stop",
    tag = "synchronizer",
    description = "Stops the periodic syncs (idempotent, remembered).",
    responses((status = 200, description = "stopped"))
)]
async fn stop(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.synchronizer.set_running(false).await?;
    Ok(Json(json!({ "status": "stopped" })))
}

/// Enqueues a sync of every account (or of `?account=ID`) now; the answer says where to
/// follow it.
#[utoipa::path(
    post,
    path = "/api/synchronizer/forceUpdate",
    tag = "synchronizer",
    description = "Enqueues a sync of every account now (or of one: `?account=ID`).",
    responses((status = 202, description = "enqueued: location of the task"), (status = 404, description = "unknown account"))
)]
async fn force_update(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let account = match query.account {
        Some(id) => {
            let id = AccountId::new(id);
            if state.accounts.get(&id).is_none() {
                return Err(ApiError::not_found(format!(
                    "no POS account '{id}' is configured (configured: {})",
                    state.accounts.ids().join(", ")
                )));
            }
            Some(id)
        }
        None => None,
    };
    let task = state
        .synchronizer
        .request_for(TaskKind::SyncAll, account.as_ref())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(pending_json(&task))))
}

#[derive(Deserialize)]
struct AccountQuery {
    account: Option<String>,
}

#[derive(Deserialize)]
struct ReconcileQuery {
    #[serde(default)]
    dry_run: bool,
}

/// Enqueues a full read of every account that reports (and, unless `dry_run`, fixes) every
/// link whose shop quantity differs from the POS, and every linked product gone from the POS.
#[utoipa::path(
    post,
    path = "/api/synchronizer/reconcile",
    tag = "synchronizer",
    description = "Enqueues a full read of every account that reports drift and fixes it unless `dry_run=true`.",
    responses((status = 202, description = "enqueued: location of the task"), (status = 400, description = "bad query"))
)]
async fn reconcile(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReconcileQuery>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let kind = if query.dry_run {
        TaskKind::ReconcileDryRun
    } else {
        TaskKind::Reconcile
    };
    enqueue(&state, kind).await
}

async fn enqueue(state: &AppState, kind: TaskKind) -> Result<(StatusCode, Json<Value>), ApiError> {
    let task = state.synchronizer.request(kind).await?;
    Ok((StatusCode::ACCEPTED, Json(pending_json(&task))))
}
