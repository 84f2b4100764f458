//! One link seen closely: `GET /api/items/{id}` (its quantities, sales in flight, last sync)
//! and `GET /api/items/{id}/history` (its ledger, newest first): "why is this item at 3?".

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery};
use super::items::{LinkView, Page, Paging};
use super::{AppState, error::ApiError};
use crate::synchronizer::LastSync;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use stocksync_domain::LinkId;
use stocksync_domain::ledger::LedgerEntry;
use stocksync_domain::link::Link;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(history))
}

/// A link with what is known of it beyond its `stock` row.
#[derive(Serialize, ToSchema)]
pub struct LinkDetail {
    #[serde(flatten)]
    link: LinkView,
    /// The last count read from the POS (`null` before the first).
    pos_quantity: Option<i64>,
    observed_at: Option<DateTime<Utc>>,
    /// The POS's own time for that count.
    pos_counted_at: Option<DateTime<Utc>>,
    /// Units sold online and not yet recorded on the POS.
    in_flight: i64,
    /// Dead sales waiting for a retry.
    dead_sales: i64,
    last_sync: Option<LastSync>,
    account_configured: bool,
}

/// The link with what is known of it beyond its `stock` row.
pub async fn detail(state: &AppState, link: Link) -> Result<LinkDetail, ApiError> {
    let known = state.store.link_state(link.id).await?;
    let account = state.accounts.get(&link.account_id);
    let last_sync = match account {
        Some(account) => state.synchronizer.last_sync(account).await,
        None => None,
    };
    Ok(LinkDetail {
        link: LinkView::new(&link, state.shop_kind()),
        pos_quantity: known.pos_quantity,
        observed_at: known.observed_at,
        pos_counted_at: known.counted_at,
        in_flight: known.in_flight,
        dead_sales: known.dead_sales,
        last_sync,
        account_configured: account.is_some(),
    })
}

/// One line of a link's ledger.
#[derive(Serialize, ToSchema)]
struct LedgerLine {
    at: DateTime<Utc>,
    /// `registered`, `web_sale`, `web_return`, `sale_confirmed`, `sale_refused`, `sale_retried`,
    /// `pos_count`, `pos_gone`.
    reason: String,
    quantity_before: i64,
    quantity_after: i64,
    /// `quantity_after - quantity_before` (`null` if it does not fit in 64 bits).
    change: Option<i64>,
    sale_id: Option<String>,
    item_pos_id: String,
    detail: Option<String>,
}

impl From<&LedgerEntry> for LedgerLine {
    fn from(entry: &LedgerEntry) -> Self {
        Self {
            at: entry.at,
            reason: entry.reason.clone(),
            quantity_before: entry.quantity_before,
            quantity_after: entry.quantity_after,
            change: entry.quantity_after.checked_sub(entry.quantity_before),
            sale_id: entry.sale_id.clone(),
            item_pos_id: entry.pos_ref.clone(),
            detail: entry.detail.clone(),
        }
    }
}

/// A page of a link's ledger.
#[derive(Serialize, ToSchema)]
struct LedgerPage {
    link_id: String,
    entries: Vec<LedgerLine>,
    #[serde(flatten)]
    paging: Paging,
}

#[utoipa::path(
    get,
    path = "/api/items/{id}/history",
    tag = "items",
    description = "A link's ledger, newest first, paginated.",
    params(("id" = i64, Path, description = "the link id"), Page),
    responses((status = 200, description = "ledger entries", body = LedgerPage), (status = 400, description = "a bad id, or `page` or `per_page` out of bounds", body = ErrorBody), (status = 404, description = "no such link", body = ErrorBody))
)]
async fn history(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<LinkId>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<LedgerPage>, ApiError> {
    if state.store.link(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no link with id {id}")));
    }
    let (entries, total) = state.store.ledger(id, page.offset(), page.limit()).await?;
    Ok(Json(LedgerPage {
        link_id: id.to_string(),
        entries: entries.iter().map(LedgerLine::from).collect(),
        paging: page.paging(total),
    }))
}
