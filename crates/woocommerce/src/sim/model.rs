//! The shop the simulator keeps: products and variations with WooCommerce's stock rules
//! (shop-apis.md §1.5, §1.6, §1.8), orders that lower stock once when they reach processing,
//! on-hold or completed and give it back when cancelled or back to pending, and refunds that
//! restock. Written from the documentation, sharing nothing with the client.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Simple,
    Variable,
    Variation,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Simple => "simple",
            Kind::Variable => "variable",
            Kind::Variation => "variation",
        }
    }
}

/// A product or a variation (WordPress posts share one id space).
#[derive(Clone, Debug)]
pub struct Item {
    pub id: i64,
    pub parent_id: i64,
    pub kind: Kind,
    pub name: String,
    pub sku: String,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    pub variations: Vec<i64>,
    pub modified: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub id: i64,
    pub product_id: i64,
    pub variation_id: i64,
    pub quantity: i64,
    pub sku: String,
    /// The line meta `_reduced_stock`: what this line took from stock.
    pub reduced: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Refund {
    pub id: i64,
    /// (order line, units refunded)
    pub lines: Vec<(i64, i64)>,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub id: i64,
    pub status: String,
    pub lines: Vec<Line>,
    /// The order flag "stock reduced".
    pub stock_reduced: bool,
    pub refunds: Vec<Refund>,
    pub modified: DateTime<Utc>,
}

/// A refusal in WooCommerce's error shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn json(&self) -> Value {
        json!({"code": self.code, "message": self.message, "data": {"status": self.status}})
    }
}

/// The statuses in which WooCommerce has taken an order's units from stock.
const REDUCING: [&str; 3] = ["processing", "on-hold", "completed"];
/// The statuses that give them back.
const RESTORING: [&str; 2] = ["cancelled", "pending"];

#[derive(Debug)]
pub struct Shop {
    pub items: BTreeMap<i64, Item>,
    pub orders: BTreeMap<i64, Order>,
    next_id: i64,
}

impl Shop {
    pub fn new() -> Self {
        Self {
            items: BTreeMap::new(),
            orders: BTreeMap::new(),
            next_id: 10,
        }
    }

    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// A simple product; `quantity` `None` means stock not managed.
    pub fn add_simple(&mut self, name: &str, sku: &str, quantity: Option<i64>) -> i64 {
        let id = self.id();
        self.items
            .insert(id, item(id, 0, Kind::Simple, name, sku, quantity));
        id
    }

    /// A variable product and its variations `(sku, quantity)`; returns (parent, variations).
    pub fn add_variable(
        &mut self,
        name: &str,
        variations: &[(&str, Option<i64>)],
    ) -> (i64, Vec<i64>) {
        let parent = self.id();
        let mut product = item(parent, 0, Kind::Variable, name, "", None);
        for (sku, quantity) in variations {
            let id = self.id();
            let name = format!("{name} - {sku}");
            self.items
                .insert(id, item(id, parent, Kind::Variation, &name, sku, *quantity));
            product.variations.push(id);
        }
        let ids = product.variations.clone();
        self.items.insert(parent, product);
        (parent, ids)
    }

    /// `PUT`-like update of one item's stock fields, as one entry of a batch.
    pub fn update_stock(
        &mut self,
        id: i64,
        parent: Option<i64>,
        update: &Value,
    ) -> Result<Value, Refusal> {
        let item = self
            .items
            .get_mut(&id)
            .filter(|item| match parent {
                None => item.kind != Kind::Variation,
                Some(parent) => item.kind == Kind::Variation && item.parent_id == parent,
            })
            .ok_or_else(|| match parent {
                None => Refusal::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID."),
                Some(_) => Refusal::new(
                    404,
                    "woocommerce_rest_product_variation_invalid_id",
                    "Invalid ID.",
                ),
            })?;
        if let Some(manage) = update.get("manage_stock") {
            item.manage_stock = manage.as_bool().ok_or_else(|| {
                Refusal::new(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): manage_stock",
                )
            })?;
        }
        if let Some(quantity) = update.get("stock_quantity") {
            let quantity = quantity.as_i64().ok_or_else(|| {
                Refusal::new(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): stock_quantity",
                )
            })?;
            if item.manage_stock {
                item.stock_quantity = Some(quantity);
            }
        }
        if !item.manage_stock {
            item.stock_quantity = None;
        }
        item.modified = Utc::now();
        Ok(product_json(item))
    }

    /// An order for `lines` of (product or variation id, quantity) in `status`.
    pub fn place_order(&mut self, lines: &[(i64, i64)], status: &str) -> Result<i64, Refusal> {
        let mut order_lines = Vec::new();
        for &(item_id, quantity) in lines {
            let item = self
                .items
                .get(&item_id)
                .filter(|item| item.kind != Kind::Variable)
                .ok_or_else(|| {
                    Refusal::new(
                        400,
                        "woocommerce_rest_invalid_product_id",
                        "Invalid product ID.",
                    )
                })?;
            let (product_id, variation_id) = match item.kind {
                Kind::Variation => (item.parent_id, item.id),
                _ => (item.id, 0),
            };
            let sku = item.sku.clone();
            order_lines.push(Line {
                id: 0,
                product_id,
                variation_id,
                quantity,
                sku,
                reduced: None,
            });
        }
        for line in &mut order_lines {
            line.id = self.next_id + 1;
            self.next_id += 1;
        }
        let id = self.id();
        self.orders.insert(
            id,
            Order {
                id,
                status: "pending".into(),
                lines: order_lines,
                stock_reduced: false,
                refunds: Vec::new(),
                modified: Utc::now(),
            },
        );
        self.set_status(id, status)?;
        Ok(id)
    }

    /// Moves an order to `status`, taking or giving back stock as WooCommerce does.
    pub fn set_status(&mut self, order_id: i64, status: &str) -> Result<(), Refusal> {
        let order = self.orders.get_mut(&order_id).ok_or_else(|| {
            Refusal::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        })?;
        order.status = status.to_owned();
        order.modified = Utc::now();
        let mut moves = Vec::new();
        if REDUCING.contains(&status) && !order.stock_reduced {
            order.stock_reduced = true;
            for line in order.lines.iter_mut().filter(|line| line.reduced.is_none()) {
                line.reduced = Some(line.quantity);
                moves.push((line.variation_id.max(0), line.product_id, -line.quantity));
            }
        } else if RESTORING.contains(&status) && order.stock_reduced {
            order.stock_reduced = false;
            for line in &mut order.lines {
                if let Some(reduced) = line.reduced.take() {
                    moves.push((line.variation_id, line.product_id, reduced));
                }
            }
        }
        for (variation_id, product_id, delta) in moves {
            self.move_stock(
                if variation_id > 0 {
                    variation_id
                } else {
                    product_id
                },
                delta,
            );
        }
        Ok(())
    }

    /// A refund of `lines` (order line id, units); `restock` returns the units to stock.
    pub fn refund(
        &mut self,
        order_id: i64,
        lines: &[(i64, i64)],
        restock: bool,
    ) -> Result<i64, Refusal> {
        let id = self.id();
        let order = self.orders.get_mut(&order_id).ok_or_else(|| {
            Refusal::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        })?;
        let mut moves = Vec::new();
        for &(line_id, units) in lines {
            let line = order
                .lines
                .iter()
                .find(|line| line.id == line_id)
                .ok_or_else(|| {
                    Refusal::new(
                        400,
                        "woocommerce_rest_cannot_create_order_refund",
                        "Invalid line item.",
                    )
                })?;
            let target = if line.variation_id > 0 {
                line.variation_id
            } else {
                line.product_id
            };
            moves.push((target, units));
        }
        order.refunds.push(Refund {
            id,
            lines: lines.to_vec(),
        });
        order.modified = Utc::now();
        if restock {
            for (target, units) in moves {
                self.move_stock(target, units);
            }
        }
        Ok(id)
    }

    /// An order's effect on a managed item's stock (negative allowed: no floor at 0).
    fn move_stock(&mut self, id: i64, delta: i64) {
        if let Some(item) = self.items.get_mut(&id).filter(|item| item.manage_stock) {
            item.stock_quantity = Some(item.stock_quantity.unwrap_or(0) + delta);
            item.modified = Utc::now();
        }
    }
}

fn item(id: i64, parent_id: i64, kind: Kind, name: &str, sku: &str, quantity: Option<i64>) -> Item {
    Item {
        id,
        parent_id,
        kind,
        name: name.to_owned(),
        sku: sku.to_owned(),
        manage_stock: quantity.is_some(),
        stock_quantity: quantity,
        variations: Vec::new(),
        modified: Utc::now(),
    }
}

/// ISO-8601 without offset, as WooCommerce writes its `_gmt` dates.
pub fn gmt(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

pub fn product_json(item: &Item) -> Value {
    let stock_status = match item.stock_quantity {
        Some(quantity) if quantity <= 0 => "outofstock",
        _ => "instock",
    };
    json!({
        "id": item.id,
        "name": item.name,
        "type": item.kind.name(),
        "parent_id": item.parent_id,
        "sku": item.sku,
        "price": "12.50",
        "manage_stock": item.manage_stock,
        "stock_quantity": item.stock_quantity,
        "stock_status": stock_status,
        "backorders": "no",
        "variations": item.variations,
        "date_modified": gmt(item.modified),
        "date_modified_gmt": gmt(item.modified),
    })
}

pub fn order_json(order: &Order) -> Value {
    json!({
        "id": order.id,
        "number": order.id.to_string(),
        "status": order.status,
        "currency": "EUR",
        "date_modified": gmt(order.modified),
        "date_modified_gmt": gmt(order.modified),
        "line_items": order.lines.iter().map(|line| json!({
            "id": line.id,
            "product_id": line.product_id,
            "variation_id": line.variation_id,
            "quantity": line.quantity,
            "sku": line.sku,
            "total": format!("{}.00", line.quantity * 12),
            "meta_data": line.reduced.map(|units| vec![json!({"key": "_reduced_stock", "value": units.to_string()})]).unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "refunds": order.refunds.iter().map(|refund| json!({"id": refund.id, "reason": "", "total": "-0.00"})).collect::<Vec<_>>(),
    })
}

pub fn refund_json(order: &Order, refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "reason": "",
        "line_items": refund.lines.iter().filter_map(|&(line_id, units)| {
            let line = order.lines.iter().find(|line| line.id == line_id)?;
            Some(json!({
                "id": line.id,
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": -units,
                "sku": line.sku,
            }))
        }).collect::<Vec<_>>(),
    })
}
