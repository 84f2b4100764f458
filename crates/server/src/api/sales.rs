//! `GET /api/sales/{id}`: where a web sale is on its way to the POS.

use super::extract::ApiPath;
use super::{AppState, error::ApiError};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use stocksync_domain::SaleId;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sales/{id}", get(show))
}

async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let sale = state
        .store
        .sale(&SaleId::new(&id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no sale with id '{id}'")))?;
    Ok(Json(json!({
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
        "pos_reference": sale.pos_reference,
        "created_at": sale.created_at,
    })))
}
