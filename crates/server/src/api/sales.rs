//! `/api/sales/{id}`: where a web sale is on its way to the POS, and `POST …/retry` to put a
//! dead one back in the outbox.

use super::extract::ApiPath;
use super::synchronizer::accepted_json;
use super::{AppState, error::ApiError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use stocksync_domain::SaleId;
use stocksync_domain::sale::Sale;
use stocksync_store::SaleRetry;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sales/{id}", get(show))
        .route("/api/sales/{id}/retry", post(retry))
}

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

async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match state.store.retry_sale(&SaleId::new(&id)).await? {
        SaleRetry::Requeued(sale) => {
            state.outbox_wake.notify_one();
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
        "delta": sale.request.delta,
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
