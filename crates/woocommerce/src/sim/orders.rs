//! Orders in the simulated shop, moving stock as WooCommerce does (shop-apis.md §1.8,
//! `wc-stock-functions.php`, `wc_restock_refunded_items`):
//! - a checkout refuses more units than an item has, unless the "concurrent checkout" switch is
//!   on (two shoppers pass the check at once, and stock goes negative);
//! - stock is lowered once per order when it reaches processing, on-hold or completed (each
//!   line remembers it in `_reduced_stock`), and given back when it goes to cancelled or back
//!   to pending; any other status, a plugin's own included, moves nothing;
//! - a refund with restock puts the refunded units of lines that took stock back, lowers
//!   `_reduced_stock` and counts them in `_restock_refunded_items` (WooCommerce ≥ 5.5; before,
//!   `_reduced_stock` was deleted and nothing counted, as `legacy_restock_meta` simulates); a
//!   refund of every unit turns the order `refunded` (which gives nothing back by itself).

use super::model::{PRICE_CENTS, Refusal, Shop, format_cents, gmt};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The statuses in which WooCommerce has taken an order's units from stock.
const REDUCING: [&str; 3] = ["processing", "on-hold", "completed"];
/// The statuses that give them back.
const RESTORING: [&str; 2] = ["cancelled", "pending"];

#[derive(Clone, Debug)]
pub struct Line {
    pub id: i64,
    pub product_id: i64,
    pub variation_id: i64,
    pub quantity: i64,
    pub sku: String,
    /// The line meta `_reduced_stock`: what this line holds taken from stock.
    pub reduced: Option<i64>,
    /// The line meta `_restock_refunded_items`: units refunds put back.
    pub restocked: Option<i64>,
}

impl Line {
    /// The item the line sold: its variation, or its product.
    pub fn item(&self) -> i64 {
        if self.variation_id > 0 {
            self.variation_id
        } else {
            self.product_id
        }
    }
}

#[derive(Clone, Debug)]
pub struct RefundLine {
    pub id: i64,
    pub order_line: i64,
    pub units: i64,
}

#[derive(Clone, Debug)]
pub struct Refund {
    pub id: i64,
    pub lines: Vec<RefundLine>,
    pub created: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub id: i64,
    pub status: String,
    pub lines: Vec<Line>,
    /// The order flag "stock reduced".
    pub stock_reduced: bool,
    pub refunds: Vec<Refund>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

impl Order {
    fn refunded(&self, line: i64) -> i64 {
        self.refunds
            .iter()
            .flat_map(|refund| &refund.lines)
            .filter(|refund_line| refund_line.order_line == line)
            .map(|refund_line| refund_line.units)
            .sum()
    }
}

fn invalid_order() -> Refusal {
    Refusal::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

impl Shop {
    /// A shopper's checkout of `lines` (product or variation id, quantity), then put in
    /// `status`. Refused when an item has fewer units than asked (summed over the lines),
    /// unless checkouts are concurrent.
    pub fn place_order(&mut self, lines: &[(i64, i64)], status: &str) -> Result<i64, Refusal> {
        let mut wanted: HashMap<i64, i64> = HashMap::new();
        let mut order_lines = Vec::new();
        for &(item_id, quantity) in lines {
            let item = self
                .items
                .get(&item_id)
                .filter(|item| item.kind != super::model::Kind::Variable && quantity > 0)
                .ok_or_else(|| {
                    Refusal::new(
                        400,
                        "woocommerce_rest_invalid_product_id",
                        "Invalid product ID or quantity.",
                    )
                })?;
            let (product_id, variation_id) = match item.kind {
                super::model::Kind::Variation => (item.parent_id, item.id),
                _ => (item.id, 0),
            };
            if let Some(holder) = self.stock_holder(item_id) {
                *wanted.entry(holder).or_insert(0) += quantity;
            }
            order_lines.push(Line {
                id: 0,
                product_id,
                variation_id,
                quantity,
                sku: item.sku.clone(),
                reduced: None,
                restocked: None,
            });
        }
        if !self.concurrent_checkout {
            for (holder, units) in &wanted {
                let available = self.available(*holder).unwrap_or(i64::MAX);
                if available < *units {
                    return Err(Refusal::new(
                        400,
                        "woocommerce_not_enough_stock",
                        format!("Not enough units of item {holder} in stock ({available})."),
                    ));
                }
            }
        }
        for line in &mut order_lines {
            line.id = self.id();
        }
        let id = self.id();
        let now = Utc::now();
        self.orders.insert(
            id,
            Order {
                id,
                status: "pending".into(),
                lines: order_lines,
                stock_reduced: false,
                refunds: Vec::new(),
                created: now,
                modified: now,
            },
        );
        self.set_status(id, status)?;
        Ok(id)
    }

    /// Moves an order to `status`, taking or giving back stock as WooCommerce does. A line
    /// is marked `_reduced_stock` only when it took stock (items without a count are skipped);
    /// a line whose mark is 0 (every unit restocked) gives nothing back.
    pub fn set_status(&mut self, order_id: i64, status: &str) -> Result<(), Refusal> {
        let order = self.orders.get(&order_id).ok_or_else(invalid_order)?;
        let counted: Vec<bool> = order
            .lines
            .iter()
            .map(|line| self.stock_holder(line.item()).is_some())
            .collect();
        let order = self.orders.get_mut(&order_id).expect("checked above");
        order.status = status.to_owned();
        order.modified = Utc::now();
        let mut moves = Vec::new();
        if REDUCING.contains(&status) && !order.stock_reduced {
            order.stock_reduced = true;
            for (line, counted) in order.lines.iter_mut().zip(counted) {
                if counted && line.reduced.is_none() {
                    line.reduced = Some(line.quantity);
                    moves.push((line.item(), -line.quantity));
                }
            }
        } else if RESTORING.contains(&status) && order.stock_reduced {
            order.stock_reduced = false;
            for line in &mut order.lines {
                if let Some(reduced) = line.reduced.filter(|reduced| *reduced != 0) {
                    line.reduced = None;
                    moves.push((line.item(), reduced));
                }
            }
        }
        for (item, delta) in moves {
            self.move_stock(item, delta);
        }
        Ok(())
    }

    /// A refund of `lines` (order line id, units); `restock` puts them back in stock.
    pub fn refund(
        &mut self,
        order_id: i64,
        lines: &[(i64, i64)],
        restock: bool,
    ) -> Result<i64, Refusal> {
        let order = self.orders.get(&order_id).ok_or_else(invalid_order)?;
        for &(line_id, units) in lines {
            let line = order.lines.iter().find(|line| line.id == line_id);
            if line.is_none_or(|line| units <= 0 || order.refunded(line_id) + units > line.quantity)
            {
                return Err(Refusal::new(
                    400,
                    "woocommerce_rest_cannot_create_order_refund",
                    "Invalid refund line or quantity.",
                ));
            }
        }
        let refund_id = self.id();
        let refund_lines: Vec<RefundLine> = lines
            .iter()
            .map(|&(order_line, units)| RefundLine {
                id: self.id(),
                order_line,
                units,
            })
            .collect();
        let legacy = self.legacy_restock_meta;
        let order = self.orders.get_mut(&order_id).expect("checked above");
        let mut moves = Vec::new();
        if restock {
            for &(line_id, units) in lines {
                let line = order
                    .lines
                    .iter_mut()
                    .find(|line| line.id == line_id)
                    .expect("checked above");
                let Some(reduced) = line.reduced.filter(|reduced| *reduced != 0) else {
                    continue; // holds no stock taken: nothing to put back
                };
                moves.push((line.item(), units));
                if legacy {
                    line.reduced = None;
                } else {
                    line.reduced = Some(reduced - units);
                    line.restocked = Some(line.restocked.unwrap_or(0) + units);
                }
            }
        }
        let now = Utc::now();
        order.refunds.push(Refund {
            id: refund_id,
            lines: refund_lines,
            created: now,
        });
        order.modified = now;
        let fully = order
            .lines
            .iter()
            .all(|line| order.refunded(line.id) >= line.quantity);
        for (item, units) in moves {
            self.move_stock(item, units);
        }
        if fully {
            self.set_status(order_id, "refunded")?;
        }
        Ok(refund_id)
    }
}

fn meta(id: i64, key: &str, value: String) -> Value {
    json!({"id": id, "key": key, "value": value, "display_key": key, "display_value": value})
}

pub fn order_json(order: &Order) -> Value {
    let refunded_cents = |refund: &Refund| -> i64 {
        refund
            .lines
            .iter()
            .map(|line| line.units * PRICE_CENTS)
            .sum()
    };
    json!({
        "id": order.id,
        "parent_id": 0,
        "number": order.id.to_string(),
        "status": order.status,
        "currency": "EUR",
        "date_created": gmt(order.created),
        "date_created_gmt": gmt(order.created),
        "date_modified": gmt(order.modified),
        "date_modified_gmt": gmt(order.modified),
        "total": format_cents(order.lines.iter().map(|line| line.quantity * PRICE_CENTS).sum()),
        "line_items": order.lines.iter().map(|line| {
            let mut meta_data = Vec::new();
            if let Some(reduced) = line.reduced {
                meta_data.push(meta(line.id * 10 + 1, "_reduced_stock", reduced.to_string()));
            }
            if let Some(restocked) = line.restocked {
                meta_data.push(meta(line.id * 10 + 2, "_restock_refunded_items", restocked.to_string()));
            }
            json!({
                "id": line.id,
                "name": format!("Item {}", line.item()),
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": format_cents(line.quantity * PRICE_CENTS),
                "subtotal_tax": "0.00",
                "total": format_cents(line.quantity * PRICE_CENTS),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": meta_data,
                "sku": line.sku,
                "price": PRICE_CENTS as f64 / 100.0,
            })
        }).collect::<Vec<_>>(),
        "refunds": order.refunds.iter().map(|refund| json!({
            "id": refund.id,
            "reason": "",
            "total": format_cents(-refunded_cents(refund)),
        })).collect::<Vec<_>>(),
    })
}

pub fn refund_json(order: &Order, refund: &Refund) -> Value {
    let amount: i64 = refund
        .lines
        .iter()
        .map(|line| line.units * PRICE_CENTS)
        .sum();
    json!({
        "id": refund.id,
        "date_created": gmt(refund.created),
        "date_created_gmt": gmt(refund.created),
        "amount": format_cents(amount),
        "reason": "",
        "refunded_by": 1,
        "refunded_payment": false,
        "meta_data": [],
        "line_items": refund.lines.iter().filter_map(|refund_line| {
            let line = order.lines.iter().find(|line| line.id == refund_line.order_line)?;
            Some(json!({
                "id": refund_line.id,
                "name": format!("Item {}", line.item()),
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": -refund_line.units,
                "subtotal": format_cents(-refund_line.units * PRICE_CENTS),
                "total": format_cents(-refund_line.units * PRICE_CENTS),
                "meta_data": [meta(refund_line.id * 10 + 1, "_refunded_item_id", line.id.to_string())],
                "sku": line.sku,
                "price": -(PRICE_CENTS as f64) / 100.0,
            }))
        }).collect::<Vec<_>>(),
    })
}
