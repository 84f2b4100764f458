//! The shop the simulator keeps: products and variations with WooCommerce's stock rules
//! (shop-apis.md §1.5, §1.6): a quantity is applied only to an item that manages its stock, a
//! variation that does not may sell from its parent's count (`"manage_stock": "parent"`),
//! negatives are allowed; and every stock write received, counted per item. Orders are in
//! `orders.rs`. Written from the documentation, sharing nothing with the client.

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
    /// `global_unique_id` (GTIN, EAN…).
    pub barcode: String,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    pub variations: Vec<i64>,
    pub modified: DateTime<Utc>,
}

/// One stock write the API received: the item named, and the `stock_quantity` sent (`None`
/// when the entry had none), whatever became of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteSeen {
    pub id: i64,
    pub quantity: Option<i64>,
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

/// Every line's price, in cents (the simulator sells everything at 12.50).
pub const PRICE_CENTS: i64 = 1250;

#[derive(Debug)]
pub struct Shop {
    pub items: BTreeMap<i64, Item>,
    pub orders: BTreeMap<i64, super::orders::Order>,
    /// Every stock write received, in order.
    pub writes: Vec<WriteSeen>,
    /// Checkouts skip the availability check (two shoppers passing it at once).
    pub concurrent_checkout: bool,
    /// Refunds restock as WooCommerce before 5.5 did (see `orders.rs`).
    pub legacy_restock_meta: bool,
    next_id: i64,
}

impl Shop {
    pub fn new(legacy_restock_meta: bool) -> Self {
        Self {
            items: BTreeMap::new(),
            orders: BTreeMap::new(),
            writes: Vec::new(),
            concurrent_checkout: false,
            legacy_restock_meta,
            next_id: 10,
        }
    }

    /// The next post id (products, variations, orders, refunds and order items share it here).
    pub fn id(&mut self) -> i64 {
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

    /// The item whose count an order of `id` moves: itself when it manages its stock, its
    /// parent when it is a variation selling from the parent's count, none otherwise.
    pub fn stock_holder(&self, id: i64) -> Option<i64> {
        let item = self.items.get(&id)?;
        if item.manage_stock {
            return Some(id);
        }
        let parent = self.items.get(&item.parent_id)?;
        (item.kind == Kind::Variation && parent.manage_stock).then_some(parent.id)
    }

    /// `PUT`-like update of one item's stock fields, as one entry of a batch: `manage_stock`
    /// when sent, then `stock_quantity`, applied only if the item manages its own stock (a
    /// variation selling from its parent's count is left alone).
    pub fn update_stock(
        &mut self,
        id: i64,
        parent: Option<i64>,
        update: &Value,
    ) -> Result<Value, Refusal> {
        self.writes.push(WriteSeen {
            id,
            quantity: update.get("stock_quantity").and_then(Value::as_i64),
        });
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
        Ok(self.product_json(&self.items[&id]))
    }

    /// An order's effect on an item's stock (negative allowed: no floor at 0).
    pub fn move_stock(&mut self, id: i64, delta: i64) {
        let Some(holder) = self.stock_holder(id) else {
            return;
        };
        if let Some(item) = self.items.get_mut(&holder) {
            item.stock_quantity = Some(item.stock_quantity.unwrap_or(0) + delta);
            item.modified = Utc::now();
        }
    }

    /// The units an item has for sale (`None`: not counted, as many as wanted).
    pub fn available(&self, id: i64) -> Option<i64> {
        let holder = self.stock_holder(id)?;
        Some(self.items[&holder].stock_quantity.unwrap_or(0))
    }

    /// A product or variation as the API shows it; a variation selling from its parent's count
    /// says `"manage_stock": "parent"` and shows the parent's quantity.
    pub fn product_json(&self, item: &Item) -> Value {
        let from_parent = !item.manage_stock
            && item.kind == Kind::Variation
            && self.stock_holder(item.id).is_some();
        let (manage_stock, quantity) = if from_parent {
            (json!("parent"), self.available(item.id))
        } else {
            (json!(item.manage_stock), item.stock_quantity)
        };
        let stock_status = match quantity {
            Some(quantity) if quantity <= 0 => "outofstock",
            _ => "instock",
        };
        json!({
            "id": item.id,
            "name": item.name,
            "type": item.kind.name(),
            "parent_id": item.parent_id,
            "sku": item.sku,
            "global_unique_id": item.barcode,
            "price": format_cents(PRICE_CENTS),
            "manage_stock": manage_stock,
            "stock_quantity": quantity,
            "stock_status": stock_status,
            "backorders": "no",
            "variations": item.variations,
            "date_modified": gmt(item.modified),
            "date_modified_gmt": gmt(item.modified),
        })
    }
}

fn item(id: i64, parent_id: i64, kind: Kind, name: &str, sku: &str, quantity: Option<i64>) -> Item {
    Item {
        id,
        parent_id,
        kind,
        name: name.to_owned(),
        sku: sku.to_owned(),
        barcode: String::new(),
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

/// Cents as WooCommerce writes money: a decimal string with 2 decimals.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}
