//! Web sales and returns: `POST /api/synchronizer/sale` (the original body and answer shape)
//! and `POST /api/synchronizer/return`, each validated, then checked, applied and stored in one
//! transaction before the `202`; `GET /api/sales/{id}`, where one is on its way to the POS; and
//! `POST /api/sales/{id}/retry` to put a dead one back in the outbox.

use super::extract::{ApiJson, ApiPath, ApiQuery, FlexId, filter};
use super::items::Page;
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::SaleId;
use stocksync_domain::sale::{Sale, SaleRequest, SaleState};
use stocksync_store::{SaleOutcome, SaleRetry};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sale))
        .routes(routes!(give_back))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(retry))
}

#[derive(Deserialize)]
struct MovementBody {
    item_ecommerce_id: FlexId,
    delta: i64,
    balance: i64,
    order_id: Option<FlexId>,
}

/// A web sale: `delta` units sold, `balance` cents paid. `Idempotency-Key` (or `order_id`)
/// makes a retried request answer the first result.
#[utoipa::path(
    post,
    path = "/api/synchronizer/sale",
    tag = "sales",
    description = "A web sale (`item_ecommerce_id`, `delta`, `balance` in cents, optional `order_id`; `Idempotency-Key` header).",
    responses((status = 202, description = "accepted: status, location"), (status = 400, description = "invalid sale"), (status = 404, description = "unknown item"), (status = 409, description = "not enough stock"), (status = 422, description = "malformed body or reused key"))
)]
async fn sale(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MovementBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = idempotency_key(&headers, body.order_id.as_ref(), "order")?;
    let request = SaleRequest::parse(
        &body.item_ecommerce_id.0,
        body.delta,
        body.balance,
        key.as_deref(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    accept(&state, &request).await
}

/// A web return: `delta` units back in stock, `balance` cents refunded; recorded on the POS as
/// a sale is. Its keys are kept apart from sales' (a sale and its return may share an order id).
#[utoipa::path(
    post,
    path = "/api/synchronizer/return",
    tag = "sales",
    description = "A web return: units back in the shop and on the POS.",
    responses((status = 202, description = "accepted"), (status = 400, description = "invalid return"), (status = 404, description = "unknown item"), (status = 422, description = "malformed body or reused key"))
)]
async fn give_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MovementBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = idempotency_key(&headers, body.order_id.as_ref(), "return-order")?.map(|key| {
        if key.starts_with("return-order:") {
            key
        } else {
            format!("return:{key}")
        }
    });
    let request = SaleRequest::parse_return(
        &body.item_ecommerce_id.0,
        body.delta,
        body.balance,
        key.as_deref(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    accept(&state, &request).await
}

/// The `Idempotency-Key` header, else `{prefix}:{order_id}`.
fn idempotency_key(
    headers: &HeaderMap,
    order_id: Option<&FlexId>,
    prefix: &str,
) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        Some(value) => value
            .to_str()
            .map(|key| Some(key.to_owned()))
            .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be plain text")),
        None => Ok(order_id.map(|id| format!("{prefix}:{}", id.0))),
    }
}

async fn accept(
    state: &AppState,
    request: &SaleRequest,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match state.store.accept_sale(request).await? {
        SaleOutcome::Accepted(sale) => {
            state.outbox_wake.wake(&sale.account_id);
            Ok((StatusCode::ACCEPTED, Json(accepted_json(&sale))))
        }
        SaleOutcome::Replayed(sale) => Ok((StatusCode::ACCEPTED, Json(accepted_json(&sale)))),
        SaleOutcome::KeyReused(first) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            format!(
                "this idempotency key was used for a different request ({})",
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

/// The original answer shape for an accepted sale (or return).
fn accepted_json(sale: &Sale) -> Value {
    json!({
        "status": "accepted",
        "location": format!("/api/sales/{}", sale.id),
        "error_message": null,
    })
}

#[derive(Deserialize)]
struct Filter {
    state: Option<String>,
}

/// Sales and returns, newest first, optionally in one state (`?state=dead` for those that wait
/// for you).
#[utoipa::path(
    get,
    path = "/api/sales",
    tag = "sales",
    description = "Sales and returns, newest first, filtered by `state`, paginated.",
    responses((status = 200, description = "a page of sales"), (status = 400, description = "unknown state"))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<Filter>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Value>, ApiError> {
    page.check()?;
    let wanted = filter(
        "state",
        query.state.as_deref(),
        SaleState::parse,
        SaleState::NAMES,
    )?;
    let (sales, total) = state
        .store
        .sales(wanted, page.offset(), page.per_page)
        .await?;
    Ok(page.answer("sales", sales.iter().map(sale_json).collect(), total))
}

#[utoipa::path(
    get,
    path = "/api/sales/{id}",
    tag = "sales",
    description = "Where a sale is on its way to the POS.",
    params(("id" = String, Path, description = "the sale id")),
    responses((status = 200, description = "the sale"), (status = 404, description = "no such sale"))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let sale = state
        .store
        .sale(&SaleId::new(&id))
        .await?
        .ok_or_else(|| no_sale(&id))?;
    Ok(Json(sale_json(&sale)))
}

#[utoipa::path(
    post,
    path = "/api/sales/{id}/retry",
    tag = "sales",
    description = "Puts a dead sale back in the outbox.",
    params(("id" = String, Path, description = "the sale id")),
    responses((status = 202, description = "back in the outbox"), (status = 404, description = "no such sale"), (status = 409, description = "not dead, or sold out since"))
)]
async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match state.store.retry_sale(&SaleId::new(&id)).await? {
        SaleRetry::Requeued(sale) => {
            state.outbox_wake.wake(&sale.account_id);
            Ok((StatusCode::ACCEPTED, Json(accepted_json(&sale))))
        }
        SaleRetry::NotDead(sale) => Err(ApiError::conflict(format!(
            "sale {id} is {}; only dead sales can be retried",
            sale.state
        ))),
        SaleRetry::NotEnoughStock => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_enough_stock",
            format!("sale {id}'s units were given back to the shop and are sold out since"),
        )),
        SaleRetry::NotFound => Err(no_sale(&id)),
    }
}

fn no_sale(id: &str) -> ApiError {
    ApiError::not_found(format!("no sale with id '{id}'"))
}

fn sale_json(sale: &Sale) -> Value {
    json!({
        "id": sale.id,
        "state": sale.state.as_str(),
        "item_ecommerce_id": sale.request.ecommerce_id,
        "kind": if sale.request.is_return() { "return" } else { "sale" },
        "delta": sale.request.delta.abs(),
        "balance": sale.request.balance_cents,
        "idempotency_key": sale.request.idempotency_key,
        "link_id": sale.link_id,
        "account_id": sale.account_id,
        "item_pos_id": sale.pos_ref,
        "attempts": sale.attempts,
        "last_error": sale.last_error,
        "next_attempt_at": sale.next_attempt_at,
        "pos_reference": sale.pos_reference,
        "confirmed_at": sale.confirmed_at,
        "units_given_back": sale.restored,
        "created_at": sale.created_at,
    })
}
