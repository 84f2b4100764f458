//! Orders: those modified since a time (every page, oldest id first; with nothing new, one
//! call), one order by id, and each as the port's `ShopOrder`: whether WooCommerce counts it
//! as sold, and per line the item, the units, the money and the units a refund put back in
//! stock.
//!
//! Restocked units are read from the order line's own meta, where WooCommerce keeps them
//! (`wc_restock_refunded_items`, since 5.5: `_restock_refunded_items` counts the units put back
//! and `_reduced_stock` is lowered by them). Only when a line of a counting order with refunds
//! carries neither (older WooCommerce deleted `_reduced_stock` once it restocked a line) are
//! the refunds read (`GET /orders/{id}/refunds`), and the units refunded on that line taken as
//! put back.

use super::{WooClient, WooError};
use crate::wire::{LineItem, Order, Refund};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::HashMap;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::{ShopOrder, ShopOrderLine};
use stocksync_pos::lenient::cents;

const ORDERS: &str = "GET /orders";
const ORDER: &str = "GET /orders/{id}";
const REFUNDS: &str = "GET /orders/{id}/refunds";

/// The statuses in which WooCommerce has taken an order's units from stock (shop-apis.md §1.8).
const COUNTING: [&str; 3] = ["processing", "on-hold", "completed"];

/// Whether WooCommerce counts the order's lines as sold: in a counting status; or `refunded`
/// (a full refund) when its lines still show stock taken, for that status gives nothing back by
/// itself: what was not restocked stays sold. Any other status, a plugin's own included, does
/// not count.
fn counts(order: &Order) -> bool {
    let status = order.status.as_str();
    COUNTING.contains(&status)
        || (status == "refunded"
            && order.line_items.iter().any(|line| {
                line.meta_int("_reduced_stock").is_some()
                    || line.meta_int("_restock_refunded_items").is_some()
            }))
}

impl WooClient {
    /// Every order modified at or after `since` (every order when `None`), sorted by id, 100 a
    /// call. WooCommerce's `modified_after` is strict and to the second, so the filter starts a
    /// second earlier.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn orders_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ShopOrder>, WooError> {
        let mut params = vec![
            ("orderby".to_owned(), "id".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
        ];
        if let Some(since) = since {
            let after = DateTime::from_timestamp(since.timestamp() - 1, 0).unwrap_or_default();
            params.push(("modified_after".to_owned(), gmt(after)));
            params.push(("dates_are_gmt".to_owned(), "true".to_owned()));
        }
        let orders: Vec<Order> = self.get_pages(ORDERS, &["orders"], params).await?;
        let mut read = Vec::with_capacity(orders.len());
        for order in orders {
            read.push(self.shop_order(order).await?);
        }
        Ok(read)
    }

    /// One order; `None` when WooCommerce has none by that id (or the id is not one).
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn order_by_id(&self, id: &str) -> Result<Option<ShopOrder>, WooError> {
        let Some(id) = id.trim().parse::<i64>().ok().filter(|id| *id > 0) else {
            return Ok(None);
        };
        match self
            .get::<Order>(ORDER, &["orders", &id.to_string()], Vec::new())
            .await
        {
            Ok(order) => self.shop_order(order).await.map(Some),
            // `woocommerce_rest_shop_order_invalid_id` (WooCommerce's error JSON, not a
            // missing route: that is `Rejected`).
            Err(WooError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The refunds of an order, with their lines (quantities negative).
    async fn refunds(&self, order_id: i64) -> Result<Vec<Refund>, WooError> {
        self.get_pages(
            REFUNDS,
            &["orders", &order_id.to_string(), "refunds"],
            Vec::new(),
        )
        .await
    }

    async fn shop_order(&self, order: Order) -> Result<ShopOrder, WooError> {
        let counts = counts(&order);
        let from_meta: Vec<Option<i64>> = order.line_items.iter().map(restocked_by_meta).collect();
        let refunded = if counts && !order.refunds.is_empty() && from_meta.contains(&None) {
            refunded_units(&order.line_items, &self.refunds(order.id).await?)
        } else {
            HashMap::new()
        };
        let lines = order
            .line_items
            .iter()
            .zip(from_meta)
            .map(|(line, restocked)| {
                let restocked = restocked
                    .unwrap_or_else(|| refunded.get(&line.id).copied().unwrap_or(0))
                    .clamp(0, line.quantity.max(0));
                ShopOrderLine {
                    id: line.id.to_string(),
                    item: EcommerceId::new(line_item_id(line).to_string()),
                    quantity: line.quantity,
                    restocked,
                    total_cents: cents(&line.total).unwrap_or_else(|| {
                        tracing::warn!(
                            account = self.http.account(),
                            order = order.id,
                            line = line.id,
                            "a WooCommerce order line's total is not a decimal; read as 0"
                        );
                        0
                    }),
                }
            })
            .collect();
        Ok(ShopOrder {
            id: order.id.to_string(),
            counts,
            created_at: parse_gmt(&order.date_created_gmt).unwrap_or(DateTime::UNIX_EPOCH),
            modified_at: parse_gmt(&order.date_modified_gmt)
                .or_else(|| parse_gmt(&order.date_created_gmt))
                .unwrap_or(DateTime::UNIX_EPOCH),
            status: order.status,
            lines,
        })
    }
}

/// The shop item a line sold: its variation, or its product when it has none.
fn line_item_id(line: &LineItem) -> i64 {
    line.variation_id
        .filter(|id| *id > 0)
        .or(line.product_id)
        .unwrap_or(0)
}

/// What the line's meta says refunds put back in stock, when it says: `_restock_refunded_items`
/// (WooCommerce ≥ 5.5), else what `_reduced_stock` no longer holds (it is lowered by each
/// restock, and kept at the line's quantity otherwise). `None` when the line has neither: it
/// was never taken from stock, or an older WooCommerce deleted the meta when it restocked.
fn restocked_by_meta(line: &LineItem) -> Option<i64> {
    line.meta_int("_restock_refunded_items").or_else(|| {
        line.meta_int("_reduced_stock")
            .map(|reduced| line.quantity - reduced)
    })
}

/// Units refunded per order line, over every refund: each refund line names its order line in
/// `_refunded_item_id` (or, failing that, is matched by product and variation).
fn refunded_units(lines: &[LineItem], refunds: &[Refund]) -> HashMap<i64, i64> {
    let mut units = HashMap::new();
    for refund_line in refunds.iter().flat_map(|refund| &refund.line_items) {
        let line = refund_line.meta_int("_refunded_item_id").or_else(|| {
            lines
                .iter()
                .find(|line| line_item_id(line) == line_item_id(refund_line))
                .map(|line| line.id)
        });
        if let Some(line) = line {
            *units.entry(line).or_insert(0) += refund_line.quantity.abs();
        }
    }
    units
}

/// WooCommerce's `_gmt` dates: ISO-8601 without an offset (an offset or `Z` is taken too).
fn parse_gmt(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|at| at.and_utc())
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|at| at.with_timezone(&Utc))
        })
}

fn gmt(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Meta;
    use serde_json::json;

    fn line(id: i64, quantity: i64, meta: &[(&str, serde_json::Value)]) -> LineItem {
        LineItem {
            id,
            product_id: Some(10),
            variation_id: Some(0),
            quantity,
            sku: String::new(),
            total: "10.00".into(),
            meta_data: meta
                .iter()
                .map(|(key, value)| Meta {
                    key: (*key).to_owned(),
                    value: value.clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn restocked_units_come_from_the_lines_meta_when_it_has_them() {
        // WooCommerce ≥ 5.5 after restocking 2 of 3: both metas.
        let restocked = line(
            1,
            3,
            &[
                ("_reduced_stock", json!("1")),
                ("_restock_refunded_items", json!("2")),
            ],
        );
        assert_eq!(restocked_by_meta(&restocked), Some(2));
        // Taken from stock, nothing put back (a refund without restock changes neither).
        let kept = line(2, 3, &[("_reduced_stock", json!("3"))]);
        assert_eq!(restocked_by_meta(&kept), Some(0));
        // Fully restocked: `_reduced_stock` kept at 0.
        let all_back = line(3, 3, &[("_reduced_stock", json!(0))]);
        assert_eq!(restocked_by_meta(&all_back), Some(3));
        // Neither: never taken, or an older WooCommerce deleted the meta when restocking.
        assert_eq!(restocked_by_meta(&line(4, 3, &[])), None);
    }

    #[test]
    fn refunded_units_are_summed_per_order_line() {
        let lines = [line(1, 3, &[]), {
            let mut other = line(2, 1, &[]);
            other.variation_id = Some(44);
            other
        }];
        let refund = |quantity: i64, meta: &[(&str, serde_json::Value)], variation: i64| Refund {
            id: 90,
            line_items: vec![LineItem {
                id: 500,
                variation_id: Some(variation),
                ..line(500, quantity, meta)
            }],
        };
        let refunds = [
            refund(-1, &[("_refunded_item_id", json!("1"))], 0),
            refund(-2, &[("_refunded_item_id", json!("1"))], 0),
            refund(-1, &[], 44),
        ];
        let units = refunded_units(&lines, &refunds);
        assert_eq!(units.get(&1), Some(&3));
        assert_eq!(
            units.get(&2),
            Some(&1),
            "matched by variation without the meta"
        );
    }

    #[test]
    fn gmt_dates_are_read_with_or_without_an_offset() {
        let at = parse_gmt("2026-03-01T10:04:11").unwrap();
        assert_eq!(gmt(at), "2026-03-01T10:04:11");
        assert_eq!(parse_gmt("2026-03-01T10:04:11Z"), Some(at));
        assert_eq!(parse_gmt("2026-03-01T10:04:11.000"), Some(at));
        assert_eq!(parse_gmt(""), None);
    }

    #[test]
    fn what_woocommerce_counts_as_sold() {
        let order = |status: &str, meta: serde_json::Value| -> Order {
            serde_json::from_value(json!({
                "id": 1, "status": status,
                "line_items": [{"id": 2, "product_id": 10, "quantity": 1, "meta_data": meta}],
            }))
            .unwrap()
        };
        let taken = json!([{"key": "_reduced_stock", "value": "1"}]);
        for status in ["processing", "on-hold", "completed"] {
            assert!(counts(&order(status, json!([]))), "{status}");
        }
        for status in [
            "pending",
            "cancelled",
            "failed",
            "checkout-draft",
            "awaiting-pickup",
        ] {
            assert!(!counts(&order(status, taken.clone())), "{status}");
        }
        assert!(
            counts(&order("refunded", taken)),
            "a full refund keeps what it did not restock"
        );
        let restocked = json!([{"key": "_reduced_stock", "value": "0"},
                               {"key": "_restock_refunded_items", "value": "1"}]);
        assert!(counts(&order("refunded", restocked)));
        assert!(
            !counts(&order("refunded", json!([]))),
            "refunded without ever taking stock"
        );
    }

    #[test]
    fn a_line_sells_its_variation_or_else_its_product() {
        let mut sold = line(1, 1, &[]);
        assert_eq!(line_item_id(&sold), 10);
        sold.variation_id = Some(44);
        assert_eq!(line_item_id(&sold), 44);
        sold.variation_id = None;
        assert_eq!(line_item_id(&sold), 10);
    }
}
