//! Web sales and returns: `POST /api/synchronizer/sale` (the original body and answer shape)
//! and `POST /api/synchronizer/return`, each validated, then checked, applied and stored in one
//! transaction before the `202`; `GET /api/sales/{id}`, where one is on its way to the POS; and
//! `POST /api/sales/{id}/retry` to put a dead one back in the outbox.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, FlexId, filter};
use super::items::{Page, Paging};
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stocksync_domain::SaleId;
use stocksync_domain::bounds::{Cents, Units};
use stocksync_domain::sale::{Sale, SaleRequest, SaleState};
use stocksync_store::{SaleOutcome, SaleRetry};
use utoipa::{IntoParams, ToSchema};
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

/// A web sale or return.
#[derive(Deserialize, ToSchema)]
struct MovementBody {
    item_ecommerce_id: FlexId,
    delta: Units,
    balance: Cents,
    /// The shop's order: a retried request with the same one answers the first result.
    order_id: Option<FlexId>,
}

/// A web sale: `delta` units sold, `balance` cents paid. `Idempotency-Key` (or `order_id`)
/// makes a retried request answer the first result.
#[utoipa::path(
    post,
    path = "/api/synchronizer/sale",
    tag = "sales",
    description = "A web sale (`item_ecommerce_id`, `delta`, `balance` in cents, optional `order_id`; `Idempotency-Key` header).",
    request_body = MovementBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retried request answer the first result (1 to 128 characters)")),
    responses((status = 202, description = "accepted: status, location", body = Accepted), (status = 400, description = "invalid sale", body = ErrorBody), (status = 404, description = "unknown item", body = ErrorBody), (status = 409, description = "not enough stock", body = ErrorBody), (status = 422, description = "malformed body, a number out of its bounds, or a reused key", body = ErrorBody))
)]
async fn sale(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MovementBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
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
    request_body = MovementBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retried request answer the first result (1 to 128 characters)")),
    responses((status = 202, description = "accepted", body = Accepted), (status = 400, description = "invalid return", body = ErrorBody), (status = 404, description = "unknown item", body = ErrorBody), (status = 422, description = "malformed body, a number out of its bounds, or a reused key", body = ErrorBody))
)]
async fn give_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MovementBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
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

/// A sale or return moved an item's quantity: the shop platform's worker, if any, pushes it
/// now rather than at its next look.
fn wake_shop(state: &AppState) {
    if let Some(shop) = &state.shop {
        shop.wake.notify_one();
    }
}

async fn accept(
    state: &AppState,
    request: &SaleRequest,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    match state.store.accept_sale(request).await? {
        // `accept_sale` never oversells: only a shop's order line does.
        SaleOutcome::Accepted(sale) | SaleOutcome::Oversold(sale) => {
            state.outbox_wake.wake(&sale.account_id);
            wake_shop(state);
            Ok((StatusCode::ACCEPTED, Json(Accepted::from(&sale))))
        }
        SaleOutcome::Replayed(sale) => Ok((StatusCode::ACCEPTED, Json(Accepted::from(&sale)))),
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
#[derive(Serialize, ToSchema)]
struct Accepted {
    /// `accepted`.
    status: &'static str,
    /// Where to follow the sale: `/api/sales/{id}`.
    location: String,
    /// Always `null` here (the original's field).
    #[schema(value_type = Option<String>)]
    error_message: Option<()>,
}

impl From<&Sale> for Accepted {
    fn from(sale: &Sale) -> Self {
        Self {
            status: "accepted",
            location: format!("/api/sales/{}", sale.id),
            error_message: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Filter {
    /// `accepted`, `confirmed` or `dead`.
    state: Option<String>,
}

/// A page of sales and returns.
#[derive(Serialize, ToSchema)]
struct SalePage {
    sales: Vec<SaleView>,
    #[serde(flatten)]
    paging: Paging,
}

/// Sales and returns, newest first, optionally in one state (`?state=dead` for those that wait
/// for you).
#[utoipa::path(
    get,
    path = "/api/sales",
    tag = "sales",
    description = "Sales and returns, newest first, filtered by `state`, paginated.",
    params(Filter, Page),
    responses((status = 200, description = "a page of sales", body = SalePage), (status = 400, description = "unknown state, or `page` or `per_page` out of bounds", body = ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<Filter>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<SalePage>, ApiError> {
    let wanted = filter(
        "state",
        query.state.as_deref(),
        SaleState::parse,
        SaleState::NAMES,
    )?;
    let (sales, total) = state
        .store
        .sales(wanted, page.offset(), page.limit())
        .await?;
    Ok(Json(SalePage {
        sales: sales.iter().map(SaleView::from).collect(),
        paging: page.paging(total),
    }))
}

#[utoipa::path(
    get,
    path = "/api/sales/{id}",
    tag = "sales",
    description = "Where a sale is on its way to the POS.",
    params(("id" = String, Path, description = "the sale id")),
    responses((status = 200, description = "the sale", body = SaleView), (status = 404, description = "no such sale", body = ErrorBody))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SaleView>, ApiError> {
    let sale = state
        .store
        .sale(&SaleId::new(&id))
        .await?
        .ok_or_else(|| no_sale(&id))?;
    Ok(Json(SaleView::from(&sale)))
}

#[utoipa::path(
    post,
    path = "/api/sales/{id}/retry",
    tag = "sales",
    description = "Puts a dead sale back in the outbox.",
    params(("id" = String, Path, description = "the sale id")),
    responses((status = 202, description = "back in the outbox", body = Accepted), (status = 404, description = "no such sale", body = ErrorBody), (status = 409, description = "not dead, or sold out since", body = ErrorBody))
)]
async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    match state.store.retry_sale(&SaleId::new(&id)).await? {
        SaleRetry::Requeued(sale) => {
            state.outbox_wake.wake(&sale.account_id);
            wake_shop(&state);
            Ok((StatusCode::ACCEPTED, Json(Accepted::from(&sale))))
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

/// A sale or return on its way to the POS.
#[derive(Serialize, ToSchema)]
struct SaleView {
    id: String,
    /// `accepted`, `confirmed` or `dead`.
    state: &'static str,
    item_ecommerce_id: String,
    /// `sale` or `return`.
    kind: &'static str,
    /// Units sold or given back.
    delta: i64,
    /// Cents paid or refunded.
    balance: i64,
    idempotency_key: Option<String>,
    link_id: i64,
    account_id: String,
    item_pos_id: String,
    attempts: i64,
    last_error: Option<String>,
    next_attempt_at: Option<DateTime<Utc>>,
    /// The POS's own id for it, once recorded there.
    pos_reference: Option<String>,
    confirmed_at: Option<DateTime<Utc>>,
    /// The units went back to the shop because the POS refused the sale for good.
    units_given_back: bool,
    created_at: DateTime<Utc>,
}

impl From<&Sale> for SaleView {
    fn from(sale: &Sale) -> Self {
        let request = &sale.request;
        Self {
            id: sale.id.to_string(),
            state: sale.state.as_str(),
            item_ecommerce_id: request.ecommerce_id.to_string(),
            kind: if request.is_return() {
                "return"
            } else {
                "sale"
            },
            // Bounded when taken; saturating for rows stored before the bounds were.
            delta: request.delta.saturating_abs(),
            balance: request.balance_cents,
            idempotency_key: request.idempotency_key.clone(),
            link_id: sale.link_id,
            account_id: sale.account_id.to_string(),
            item_pos_id: sale.pos_ref.to_string(),
            attempts: sale.attempts,
            last_error: sale.last_error.clone(),
            next_attempt_at: sale.next_attempt_at,
            pos_reference: sale.pos_reference.clone(),
            confirmed_at: sale.confirmed_at,
            units_given_back: sale.restored,
            created_at: sale.created_at,
        }
    }
}
