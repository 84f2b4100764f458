//! One link seen closely: `GET /api/items/{id}` (its quantities, sales in flight, last sync)
//! and `GET /api/items/{id}/history` (its ledger, newest first): "why is this item at 3?".

use super::extract::{ApiPath, ApiQuery};
use super::items::{Page, link_json};
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use stocksync_domain::LinkId;
use stocksync_domain::link::Link;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(history))
}

/// The link with what is known of it beyond its `stock` row.
pub async fn show(state: &AppState, link: Link) -> Result<Json<Value>, ApiError> {
    let known = state.store.link_state(link.id).await?;
    let last_sync = match state.accounts.get(&link.account_id) {
        Some(account) => state.synchronizer.last_sync(account).await,
        None => None,
    };
    let mut view = link_json(&link);
    view["pos_quantity"] = json!(known.pos_quantity);
    view["observed_at"] = json!(known.observed_at);
    view["pos_counted_at"] = json!(known.counted_at);
    view["in_flight"] = json!(known.in_flight);
    view["dead_sales"] = json!(known.dead_sales);
    view["last_sync"] = json!(last_sync);
    view["account_configured"] = json!(state.accounts.get(&link.account_id).is_some());
    Ok(Json(view))
}

#[utoipa::path(
    get,
    path = "/api/items/{id}/history",
    tag = "items",
    description = "A link's ledger, newest first, paginated.",
    params(("id" = String, Path, description = "the link id")),
    responses((status = 200, description = "ledger entries"), (status = 404, description = "no such link"))
)]
async fn history(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<LinkId>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Value>, ApiError> {
    page.check()?;
    if state.store.link(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no link with id {id}")));
    }
    let (entries, total) = state.store.ledger(id, page.offset(), page.per_page).await?;
    let entries: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": e.at,
                "reason": e.reason,
                "quantity_before": e.quantity_before,
                "quantity_after": e.quantity_after,
                "change": e.quantity_after - e.quantity_before,
                "sale_id": e.sale_id,
                "item_pos_id": e.pos_ref,
                "detail": e.detail,
            })
        })
        .collect();
    let mut answer = page.answer("entries", entries, total);
    answer["link_id"] = json!(id.to_string());
    Ok(answer)
}
