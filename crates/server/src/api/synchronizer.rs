//! `/api/synchronizer`: status, start, stop, forceUpdate, and the web-shop sale
//! (`POST /api/synchronizer/sale`, the original body and answer shape).

use super::extract::{ApiJson, ApiQuery, FlexId};
use super::tasks::task_json;
use super::{AppState, error::ApiError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::sale::{Sale, SaleRequest};
use stocksync_domain::task::TaskKind;
use stocksync_store::SaleOutcome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/synchronizer", get(status))
        .route("/api/synchronizer/start", post(start))
        .route("/api/synchronizer/stop", post(stop))
        .route("/api/synchronizer/forceUpdate", post(force_update))
        .route("/api/synchronizer/reconcile", post(reconcile))
        .route("/api/synchronizer/sale", post(sale))
}

async fn status(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let sync = &state.synchronizer;
    let (running, now) = (sync.is_running(), chrono::Utc::now());
    let mut accounts = Vec::new();
    for account in state.accounts.iter() {
        let last = sync.last_sync(account).await;
        accounts.push(json!({
            "account_id": account.config.id,
            "type": account.config.kind.as_str(),
            "last_sync": last,
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

async fn start(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.synchronizer.set_running(true).await?;
    Ok(Json(json!({ "status": "started" })))
}

async fn stop(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.synchronizer.set_running(false).await?;
    Ok(Json(json!({ "status": "stopped" })))
}

/// Enqueues a sync of every account now; the answer says where to follow it.
async fn force_update(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    enqueue(&state, TaskKind::SyncAll).await
}

#[derive(Deserialize)]
struct ReconcileQuery {
    #[serde(default)]
    dry_run: bool,
}

/// Enqueues a full read of every account that reports (and, unless `dry_run`, fixes) every
/// link whose shop quantity differs from the POS, and every linked product gone from the POS.
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
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "pending",
            "location": format!("/api/itemstask/{}", task.id),
            "error_message": null,
            "task": task_json(&task),
        })),
    ))
}

#[derive(Deserialize)]
struct SaleBody {
    item_ecommerce_id: FlexId,
    delta: i64,
    balance: i64,
    order_id: Option<FlexId>,
}

/// Accepts a web sale: validated, then stock checked and decremented and the sale stored in one
/// transaction, before answering 202 with the sale's location. `Idempotency-Key` (or
/// `order_id`) makes a retried request answer the first result.
async fn sale(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SaleBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let header_key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::bad_request("the Idempotency-Key header must be plain text")
                })?
                .to_owned(),
        ),
        None => None,
    };
    let key = header_key.or_else(|| body.order_id.map(|id| format!("order:{}", id.0)));
    let request = SaleRequest::parse(
        &body.item_ecommerce_id.0,
        body.delta,
        body.balance,
        key.as_deref(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    match state.store.accept_sale(&request).await? {
        SaleOutcome::Accepted(sale) => {
            state.outbox_wake.notify_one();
            Ok((StatusCode::ACCEPTED, Json(accepted_json(&sale))))
        }
        SaleOutcome::Replayed(sale) => Ok((StatusCode::ACCEPTED, Json(accepted_json(&sale)))),
        SaleOutcome::KeyReused(first) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            format!(
                "this idempotency key was used for a different sale ({})",
                first.id
            ),
        )),
        SaleOutcome::UnknownItem => Err(ApiError::not_found(format!(
            "no link has shop item '{}'",
            request.ecommerce_id
        ))),
        SaleOutcome::NotEnoughStock { available, limit } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_enough_stock",
            format!(
                "not enough stock: {available} unit(s) available, sales stop at {limit}, {} asked",
                request.delta
            ),
        )),
    }
}

pub fn accepted_json(sale: &Sale) -> Value {
    json!({
        "status": "accepted",
        "location": format!("/api/sales/{}", sale.id),
        "error_message": null,
    })
}
