//! The WooCommerce JSON the client reads (shop-apis.md §1.3–§1.7): products and variations,
//! orders with their line items, refunds, batch answers and error bodies. Lenient where
//! WooCommerce and its plugins vary: ids and counts may come as strings, `stock_quantity` is
//! `null` when stock is not managed, empty values are `null` or `""` rather than absent.

use serde::Deserialize;
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
    #[serde(default, rename = "type", deserialize_with = "opt_text")]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_boolean")]
    pub manage_stock: bool,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub stock_quantity: Option<i64>,
}

/// An order, with what stocksync needs of it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Order {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    pub status: String,
    /// ISO-8601 without offset, in GMT.
    #[serde(default, deserialize_with = "opt_text")]
    pub date_modified_gmt: String,
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
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    /// 0 (or absent, or `null`) for a simple product.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub variation_id: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub quantity: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub sku: String,
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
}

/// Text that may be `null` (read as empty) or a number.
fn opt_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Option::<serde_json::Value>::deserialize(deserializer).map(|value| match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
    })
}

/// A boolean that may be `null` (read as false).
fn opt_boolean<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(value) => lenient::boolean(value).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmanaged_stock_is_null_and_numbers_may_be_strings() {
        let products: Vec<Product> = serde_json::from_str(
            r#"[{"id": 10, "name": "Mug", "sku": "MUG", "type": "simple", "manage_stock": true,
                 "stock_quantity": "7", "parent_id": 0, "price": "9.50"},
                {"id": "812", "sku": null, "type": "variation", "manage_stock": false,
                 "stock_quantity": null, "parent_id": "800"}]"#,
        )
        .unwrap();
        assert_eq!(products[0].stock_quantity, Some(7));
        assert!(products[0].manage_stock);
        assert_eq!(products[1].id, 812);
        assert_eq!(products[1].parent_id, Some(800));
        assert_eq!(products[1].sku, "");
        assert_eq!(products[1].stock_quantity, None);
    }

    #[test]
    fn orders_and_batch_answers() {
        let order: Order = serde_json::from_str(
            r#"{"id": 5, "status": "processing", "date_modified_gmt": "2026-03-01T10:04:11",
                "line_items": [{"id": 1, "product_id": 10, "variation_id": 0, "quantity": 2,
                                "sku": "MUG", "total": "19.00"}],
                "refunds": [{"id": 9, "reason": "", "total": "-9.50"}]}"#,
        )
        .unwrap();
        assert_eq!(order.line_items[0].variation_id, Some(0));
        assert_eq!(order.refunds[0].id, 9);
        let answer: BatchAnswer = serde_json::from_str(
            r#"{"update": [{"id": 10, "stock_quantity": 4},
                           {"id": 999, "error": {"code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.", "data": {"status": 404}}}]}"#,
        )
        .unwrap();
        assert_eq!(answer.update[0].stock_quantity, Some(4));
        assert_eq!(
            answer.update[1].error.as_ref().unwrap().code,
            "woocommerce_rest_product_invalid_id"
        );
    }
}
