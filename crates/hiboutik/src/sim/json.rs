//! The simulator's JSON, written here by hand in the shapes of pos-apis.md §1.7 (never with
//! the client's `wire` types, so the contract tests check the client against the documented
//! API). Ids and quantities come out as JSON numbers (API v2) or as strings (as v1 did),
//! following the [`TypeMode`]; prices are always decimal strings.

use super::TypeMode;
use super::model::{Product, Sale, Shop};
use crate::ItemRef;
use serde_json::{Value, json};

/// Renders the shop's objects in one type mode.
#[derive(Clone, Copy, Debug)]
pub struct Render {
    pub mode: TypeMode,
}

impl Render {
    /// An id or a quantity.
    pub fn n(&self, value: i64) -> Value {
        match self.mode {
            TypeMode::Numbers => json!(value),
            TypeMode::Strings => json!(value.to_string()),
        }
    }

    pub fn product(&self, product: &Product) -> Value {
        let n = |value| self.n(value);
        let sizes: Vec<Value> = product
            .sizes
            .iter()
            .map(|size| json!({"size_id": n(size.id), "size_name": size.name, "barcode": size.barcode}))
            .collect();
        json!({
            "product_id": n(product.id),
            "product_model": product.model,
            "product_barcode": product.barcode,
            "product_brand": n(1),
            "product_supplier": n(1),
            "product_price": price(product.price_cents),
            "product_discount_price": "0.00",
            "product_supply_price": price(product.price_cents / 2),
            "product_category": n(1),
            "product_size_type": n(i64::from(!product.sizes.is_empty())),
            "product_package": n(i64::from(product.package)),
            "product_stock_management": n(1),
            "product_supplier_reference": "",
            "product_vat": n(1),
            "product_display": n(1),
            "product_display_www": n(0),
            "product_arch": n(0),
            "products_desc": "",
            "products_ref_ext": "",
            "updated_at": "2024-01-02 09:30:00",
            "product_size_details": sizes,
            "product_specific_rules": [],
        })
    }

    pub fn stock_row(&self, shop: &Shop, item: ItemRef, warehouse: i64) -> Value {
        json!({
            "product_id": self.n(item.product_id),
            "product_size": self.n(item.size_id),
            "warehouse_id": self.n(warehouse),
            "stock_available": self.n(shop.stock(item, warehouse).unwrap_or(0)),
            "inventory_alert": self.n(0),
            "product_barcode": shop.barcode(item),
        })
    }

    /// A sale as lists and searches give it (no lines).
    pub fn sale_summary(&self, sale: &Sale) -> Value {
        json!({
            "sale_id": self.n(sale.id),
            "unique_sale_id": format!("SIM-{:06}", sale.id),
            "created_at": sale.created_at,
            "completed_at": completed_at(sale),
            "store_id": self.n(sale.store_id),
            "customer_id": self.n(sale.customer_id),
            "vendor_id": self.n(1),
            "currency": "EUR",
            "total": price(total_cents(sale)),
            "ext_ref": sale.ext_ref,
        })
    }

    /// `GET /sales/{id}`: the summary, the completion date split up, and the lines.
    pub fn sale(&self, shop: &Shop, sale: &Sale) -> Value {
        let mut value = self.sale_summary(sale);
        let completed = completed_at(sale);
        let parts = [
            ("yyyy", 0..4),
            ("mm", 5..7),
            ("dd", 8..10),
            ("hh", 11..13),
            ("min", 14..16),
            ("ss", 17..19),
        ];
        for (name, range) in parts {
            value[format!("completed_at_date_{name}")] = json!(completed[range].to_owned());
        }
        value["payment"] = json!("ESP");
        value["line_items"] = sale
            .lines
            .iter()
            .map(|line| {
                let (model, size) = shop.names(line.item);
                json!({
                    "line_item_id": self.n(line.id),
                    "product_id": self.n(line.item.product_id),
                    "product_size": self.n(line.item.size_id),
                    "product_model": model,
                    "size_name": size,
                    "product_barcode": shop.barcode(line.item),
                    "quantity": self.n(line.quantity),
                    "product_price": price(line.price_cents),
                })
            })
            .collect();
        value
    }

    /// A `products_sold` row: one sold line.
    pub fn sold_line(&self, sale: &Sale, at: usize) -> Value {
        let line = &sale.lines[at];
        json!({
            "sale_id": self.n(sale.id),
            "store_id": self.n(sale.store_id),
            "product_id": self.n(line.item.product_id),
            "product_size": self.n(line.item.size_id),
            "quantity": line.quantity,
            "product_price": price(line.price_cents),
            "discount": "0.00",
            "vat": "0.20",
        })
    }
}

/// Cents as Hiboutik's decimal string: `1990` → `"19.90"`.
pub fn price(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// Hiboutik's error body.
pub fn error(slug: &str, code: i64, description: &str, details: Value) -> Value {
    json!({"error": slug, "code": code, "error_description": description, "details": details})
}

fn completed_at(sale: &Sale) -> String {
    sale.completed_at
        .clone()
        .unwrap_or_else(|| "0000-00-00 00:00:00".to_owned())
}

fn total_cents(sale: &Sale) -> i64 {
    sale.lines
        .iter()
        .map(|line| line.quantity * line.price_cents)
        .sum()
}
