//! Orders (shop-apis.md §2.8, §4): those updated since a time (`orders(query:
//! "updated_at:>…")`, pages of [`ORDER_PAGE`]) and one by id, each as a `ShopOrder`. Shopify
//! commits an order's units when it is created, so an order counts until it is cancelled;
//! refund lines restocked as `RETURN` or `CANCEL` give their units back.

use super::ShopifyClient;
use crate::wire::{Order, OrderData, OrdersData, cents, gid, numeric_id};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use std::collections::HashMap;
use stocksync_domain::EcommerceId;
use stocksync_domain::ShopError;
use stocksync_domain::shop::{ShopOrder, ShopOrderLine};

/// Orders per page (each with up to 250 lines: kept well under the cost of one query).
pub const ORDER_PAGE: usize = 50;

const ORDER_FIELDS: &str = "fragment O on Order { id name createdAt updatedAt cancelledAt \
    displayFinancialStatus \
    lineItems(first: 250) { nodes { id quantity variant { id } \
    originalTotalSet { shopMoney { amount } } } } \
    refunds { refundLineItems(first: 250) { nodes { quantity restockType lineItem { id } } } } }";

const ORDERS: &str = "query Orders($first: Int!, $after: String, $query: String) { \
    orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { \
    pageInfo { hasNextPage endCursor } nodes { ...O } } }";

const ORDER: &str = "query Order($id: ID!) { order(id: $id) { ...O } }";

impl ShopifyClient {
    /// Orders updated at or after `since` (all when `None`), every page.
    pub(super) async fn updated_orders(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ShopOrder>, ShopError> {
        let query = since.map(|since| {
            // `>` is strict: a second earlier keeps orders updated at `since` itself.
            let from = since - chrono::Duration::seconds(1);
            format!(
                "updated_at:>'{}'",
                from.to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        });
        let text = format!("{ORDERS} {ORDER_FIELDS}");
        let mut orders = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let variables = json!({ "first": ORDER_PAGE, "after": after, "query": query });
            let data: OrdersData = self.graphql("orders", &text, variables).await?;
            orders.extend(data.orders.nodes.into_iter().filter_map(shop_order));
            match data.orders.page_info {
                Some(page) if page.has_next_page && page.end_cursor.is_some() => {
                    after = page.end_cursor;
                }
                _ => return Ok(orders),
            }
        }
    }

    /// One order by its numeric id; `None` when the shop has none.
    pub(super) async fn order_by_id(&self, id: &str) -> Result<Option<ShopOrder>, ShopError> {
        let id = id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let text = format!("{ORDER} {ORDER_FIELDS}");
        let data: OrderData = self
            .graphql("order", &text, json!({ "id": gid("Order", id) }))
            .await?;
        Ok(data.order.and_then(shop_order))
    }
}

/// An order as the port's `ShopOrder`; lines whose variant is gone are left out.
fn shop_order(order: Order) -> Option<ShopOrder> {
    let id = numeric_id(&order.id)?.to_owned();
    let mut restocked: HashMap<&str, i64> = HashMap::new();
    for refund in &order.refunds {
        for line in &refund.refund_line_items.nodes {
            if matches!(line.restock_type.as_str(), "RETURN" | "CANCEL") {
                *restocked.entry(line.line_item.id.as_str()).or_default() += line.quantity;
            }
        }
    }
    let lines = order
        .line_items
        .nodes
        .iter()
        .filter_map(|line| {
            let variant = numeric_id(&line.variant.as_ref()?.id)?;
            Some(ShopOrderLine {
                id: numeric_id(&line.id).unwrap_or(&line.id).to_owned(),
                item: EcommerceId::new(variant),
                quantity: line.quantity,
                restocked: restocked.get(line.id.as_str()).copied().unwrap_or(0),
                total_cents: cents(&line.original_total_set.shop_money.amount).unwrap_or(0),
            })
        })
        .collect();
    let cancelled = order.cancelled_at.is_some();
    let status = if cancelled {
        "cancelled".to_owned()
    } else {
        order
            .display_financial_status
            .map(|status| status.to_ascii_lowercase())
            .unwrap_or_else(|| "open".to_owned())
    };
    Some(ShopOrder {
        id,
        counts: !cancelled,
        status,
        created_at: order.created_at,
        modified_at: order.updated_at,
        lines,
    })
}
