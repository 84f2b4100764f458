//! `/dashboard/data/links`: what the dashboard needs that the public API does not give in one
//! request: a page of links, each with its last POS count, the units sold online still on their
//! way to the POS, and the drift between them and the shop's quantity. Behind the API key.

use crate::api::{ApiError, AppState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::LinkId;
use stocksync_domain::bounds::PageNumber;
use stocksync_domain::link::Link;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/data/links", get(links))
        .route("/dashboard/data/links/{id}", get(link))
}

/// Links per page at most (each costs one query).
const MAX_PER_PAGE: i64 = 200;

#[derive(Deserialize)]
struct PageQuery {
    page: Option<PageNumber>,
    per_page: Option<i64>,
}

async fn links(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let page = query.page.unwrap_or(PageNumber::LOWEST).get();
    let per_page = query.per_page.unwrap_or(25);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::bad_request(format!(
            "per_page must be 1 to {MAX_PER_PAGE}"
        )));
    }
    let found = state.store.links((page - 1) * per_page, per_page).await?;
    let mut rows = Vec::with_capacity(found.links.len());
    for link in &found.links {
        rows.push(row(&state, link).await?);
    }
    Ok(Json(json!({
        "links": rows,
        "page": page,
        "per_page": per_page,
        "total": found.total,
    })))
}

/// One link as the item page shows it: the row, plus its account's last sync.
async fn link(
    State(state): State<AppState>,
    id: Result<Path<LinkId>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let link = state
        .store
        .link(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no link with id {id}")))?;
    let mut view = row(&state, &link).await?;
    let account = state.accounts.get(&link.account_id);
    view["account_configured"] = json!(account.is_some());
    view["account_type"] = json!(account.map(|a| a.config.kind.as_str()));
    view["last_sync"] = match account {
        Some(account) => json!(state.synchronizer.last_sync(account).await),
        None => Value::Null,
    };
    Ok(Json(view))
}

/// A link with what is known of it beyond its `stock` row. `drift` is what the POS count,
/// less the units on their way, says the shop should have, minus what it has (`null` before
/// the first count).
async fn row(state: &AppState, link: &Link) -> Result<Value, ApiError> {
    let known = state.store.link_state(link.id).await?;
    let drift = known
        .pos_quantity
        .map(|pos| pos - known.in_flight - link.quantity);
    Ok(json!({
        "id": link.id.to_string(),
        "item_ecommerce_id": link.ecommerce_id,
        "item_pos_id": link.pos_ref,
        "name": link.description,
        "account_id": link.account_id,
        "quantity": link.quantity,
        "limit_quantity": link.limit_quantity,
        "primary": link.primary,
        "pos_quantity": known.pos_quantity,
        "observed_at": known.observed_at,
        "in_flight": known.in_flight,
        "dead_sales": known.dead_sales,
        "drift": drift,
    }))
}
