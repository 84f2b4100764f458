//! The WooCommerce JSON the client reads (shop-apis.md §1.3–§1.7): products and variations,
//! orders with their line items and line meta, refunds, batch answers and error bodies.
//! Lenient where WooCommerce and its plugins vary: ids and counts may come as strings,
//! `stock_quantity` is `null` when stock is not managed, `manage_stock` of a variation may be
//! `"parent"`, empty values are `null` or `""` rather than absent.

use serde::Deserialize;
use serde_json::Value;
use stocksync_pos::lenient;

/// A product or a variation (`type` is `"variation"` for the latter, as `/products?sku=` can
/// return both).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Product {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub parent_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub sku: String,
    /// GTIN, UPC, EAN or ISBN (WooCommerce ≥ 9.2; absent before).
    #[serde(default, deserialize_with = "opt_text")]
    pub global_unique_id: String,
    #[serde(default, rename = "type", deserialize_with = "opt_text")]
    pub kind: String,
    #[serde(default)]
    pub manage_stock: ManageStock,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub stock_quantity: Option<i64>,
}

/// Where an item's stock is counted: `manage_stock` is `true`, `false`, or for a variation
/// `"parent"` (the variation sells from its parent's count, and `stock_quantity` is the
/// parent's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ManageStock {
    Yes,
    #[default]
    No,
    Parent,
}

impl<'de> Deserialize<'de> for ManageStock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<Value>::deserialize(deserializer)? {
            None | Some(Value::Null) => Ok(Self::No),
            Some(Value::String(s)) if s.trim() == "parent" => Ok(Self::Parent),
            Some(Value::String(s)) if s.trim() == "yes" => Ok(Self::Yes),
            Some(Value::String(s)) if s.trim() == "no" => Ok(Self::No),
            Some(value) => lenient::boolean(value)
                .map(|managed| if managed { Self::Yes } else { Self::No })
                .map_err(serde::de::Error::custom),
        }
    }
}

/// An order, with what stocksync needs of it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Order {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::text")]
    pub status: String,
    /// ISO-8601 without offset, in GMT.
    #[serde(default, deserialize_with = "opt_text")]
    pub date_modified_gmt: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub date_created_gmt: String,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// Summaries only; the detail is `GET /orders/{id}/refunds`.
    #[serde(default)]
    pub refunds: Vec<RefundSummary>,
}

/// One line of an order (or of a refund, where `quantity` is negative).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct LineItem {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub product_id: Option<i64>,
    /// 0 (or absent, or `null`) for a simple product.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub variation_id: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub quantity: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub sku: String,
    /// The line's total after discounts, before tax: a decimal string.
    #[serde(default, deserialize_with = "opt_text")]
    pub total: String,
    /// `_reduced_stock`, `_restock_refunded_items` (order lines), `_refunded_item_id` (refund
    /// lines), and whatever plugins add.
    #[serde(default)]
    pub meta_data: Vec<Meta>,
}

impl LineItem {
    /// The integer value of the meta entry `key`, when there is one and it is a number.
    pub fn meta_int(&self, key: &str) -> Option<i64> {
        let value = &self.meta_data.iter().find(|meta| meta.key == key)?.value;
        match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A meta entry: `{"id", "key", "value", "display_key", "display_value"}`; values are usually
/// strings, but plugins store anything.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Meta {
    #[serde(default, deserialize_with = "opt_text")]
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RefundSummary {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
}

/// A refund's detail.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Refund {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
}

/// The answer of a `…/batch` call: one entry per update, in request order.
#[derive(Debug, Deserialize)]
pub struct BatchAnswer {
    #[serde(default)]
    pub update: Vec<BatchItem>,
}

/// One entry of a batch answer: the written object, or `{id, error}`.
#[derive(Debug, Deserialize)]
pub struct BatchItem {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub id: Option<i64>,
    /// `None` when the entry leaves the field out (an error entry does).
    #[serde(default)]
    pub manage_stock: Option<ManageStock>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub stock_quantity: Option<i64>,
    pub error: Option<ErrorBody>,
}

/// `{"code", "message", "data": {"status"}}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: Option<ErrorData>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ErrorData {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub status: Option<i64>,
}

impl ErrorBody {
    /// The HTTP status the error names, if it names one.
    pub fn status(&self) -> Option<i64> {
        self.data.as_ref().and_then(|data| data.status)
    }
}

/// Text that may be `null` (read as empty) or a number.
fn opt_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Option::<Value>::deserialize(deserializer).map(|value| match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmanaged_stock_is_null_and_numbers_may_be_strings() {
        let products: Vec<Product> = serde_json::from_str(
            r#"[{"id": 10, "name": "Mug", "sku": "MUG", "type": "simple", "manage_stock": true,
                 "stock_quantity": "7", "parent_id": 0, "price": "9.50",
                 "global_unique_id": "4006381333931"},
                {"id": "812", "sku": null, "type": "variation", "manage_stock": false,
                 "stock_quantity": null, "parent_id": "800"}]"#,
        )
        .unwrap();
        assert_eq!(products[0].stock_quantity, Some(7));
        assert_eq!(products[0].manage_stock, ManageStock::Yes);
        assert_eq!(products[0].global_unique_id, "4006381333931");
        assert_eq!(products[1].id, 812);
        assert_eq!(products[1].parent_id, Some(800));
        assert_eq!(products[1].sku, "");
        assert_eq!(products[1].global_unique_id, "");
        assert_eq!(products[1].stock_quantity, None);
        assert_eq!(products[1].manage_stock, ManageStock::No);
    }

    #[test]
    fn a_variation_selling_from_its_parents_stock_says_parent() {
        // Seen on real shops: the variation carries the parent's count.
        let variation: Product = serde_json::from_str(
            r#"{"id": 22, "sku": "TOTE-BLU", "type": "variation", "manage_stock": "parent",
                "stock_quantity": 9, "parent_id": 20}"#,
        )
        .unwrap();
        assert_eq!(variation.manage_stock, ManageStock::Parent);
        for (text, expected) in [
            ("null", ManageStock::No),
            ("\"yes\"", ManageStock::Yes),
            ("1", ManageStock::Yes),
            ("\"0\"", ManageStock::No),
        ] {
            let json = format!(r#"{{"id": 1, "manage_stock": {text}}}"#);
            let product: Product = serde_json::from_str(&json).unwrap();
            assert_eq!(product.manage_stock, expected, "{text}");
        }
    }

    #[test]
    fn orders_with_line_meta_and_batch_answers() {
        let order: Order = serde_json::from_str(
            r#"{"id": 5, "status": "processing", "date_modified_gmt": "2026-03-01T10:04:11",
                "line_items": [{"id": 1, "product_id": 10, "variation_id": 0, "quantity": 2,
                                "sku": "MUG", "total": "19.00",
                                "meta_data": [{"id": 7, "key": "_reduced_stock", "value": "2",
                                               "display_key": "_reduced_stock",
                                               "display_value": "2"},
                                              {"id": 8, "key": "pa_colour",
                                               "value": {"nested": true}}]}],
                "refunds": [{"id": 9, "reason": "", "total": "-9.50"}]}"#,
        )
        .unwrap();
        let line = &order.line_items[0];
        assert_eq!(line.variation_id, Some(0));
        assert_eq!(line.total, "19.00");
        assert_eq!(line.meta_int("_reduced_stock"), Some(2));
        assert_eq!(line.meta_int("pa_colour"), None);
        assert_eq!(line.meta_int("_restock_refunded_items"), None);
        assert_eq!(order.refunds[0].id, 9);
        let answer: BatchAnswer = serde_json::from_str(
            r#"{"update": [{"id": 10, "manage_stock": true, "stock_quantity": 4},
                           {"id": 999, "error": {"code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.", "data": {"status": 404}}}]}"#,
        )
        .unwrap();
        assert_eq!(answer.update[0].stock_quantity, Some(4));
        assert_eq!(answer.update[0].manage_stock, Some(ManageStock::Yes));
        assert_eq!(answer.update[1].manage_stock, None);
        let error = answer.update[1].error.as_ref().unwrap();
        assert_eq!(error.code, "woocommerce_rest_product_invalid_id");
        assert_eq!(error.status(), Some(404));
    }
}
