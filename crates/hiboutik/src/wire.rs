//! The Hiboutik JSON the client reads (API v2 under `/api`). Ids and quantities may come as
//! numbers or numeric strings (§1.9 of pos-apis.md), so every one goes through
//! `stocksync_pos::lenient`; prices are decimal strings and are only ever written. These types
//! never leave the client: it turns them into the domain's `PosProduct`/`StockCount`.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;
use stocksync_pos::lenient;

/// One `stock_available` row: a product × size × warehouse count.
#[derive(Debug, Deserialize)]
pub struct StockRow {
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    /// `0` (or absent) for a product without sizes.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub product_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub warehouse_id: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub stock_available: i64,
}

/// A product, as `GET /products/{id}` and the name search give it.
#[derive(Debug, Deserialize)]
pub struct Product {
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub product_model: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub product_barcode: Option<String>,
    /// Empty (or absent, or `""`) for a product without sizes.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub product_size_details: Vec<SizeDetail>,
}

#[derive(Debug, Deserialize)]
pub struct SizeDetail {
    #[serde(deserialize_with = "lenient::int")]
    pub size_id: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub size_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub barcode: Option<String>,
}

/// A match of `GET /products/search/barcode/{code}/`: the product, and the size whose barcode
/// matched (`0` for the product's own barcode).
#[derive(Debug, Deserialize)]
pub struct BarcodeMatch {
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub product_size: Option<i64>,
}

/// A sale id, as `POST /sales/` answers it and `GET /sales/search/ext_ref/{ref}` lists them.
#[derive(Debug, Deserialize)]
pub struct SaleId {
    #[serde(deserialize_with = "lenient::int")]
    pub sale_id: i64,
}

/// A sale as `GET /sales/{id}` gives it.
#[derive(Debug, Deserialize)]
pub struct Sale {
    #[serde(deserialize_with = "lenient::int")]
    pub sale_id: i64,
    /// `"0000-00-00 00:00:00"` (or empty) while the sale is open.
    #[serde(default, deserialize_with = "opt_text")]
    pub completed_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub line_items: Vec<LineItem>,
}

impl Sale {
    pub fn is_closed(&self) -> bool {
        self.completed_at
            .as_deref()
            .is_some_and(|at| !at.starts_with("0000-00-00"))
    }
}

#[derive(Debug, Deserialize)]
pub struct LineItem {
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub product_size: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub quantity: i64,
}

/// The error body: `{"error", "code", "error_description", "details"}`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "opt_text")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub error_description: Option<String>,
    #[serde(default)]
    pub details: Value,
}

impl ErrorBody {
    /// "description (field: message, …)", preferring `details.error_description` as the
    /// official PHP client does.
    pub fn summary(&self) -> String {
        let mut fields = Vec::new();
        let mut nested = None;
        if let Value::Object(details) = &self.details {
            for (field, message) in details {
                let message = match message {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if field == "error_description" {
                    nested = Some(message);
                } else {
                    fields.push(format!("{field}: {message}"));
                }
            }
        }
        let mut text = nested
            .or_else(|| self.error_description.clone())
            .or_else(|| self.error.clone())
            .unwrap_or_else(|| "no error description".to_owned());
        if !fields.is_empty() {
            text = format!("{text} ({})", fields.join(", "));
        }
        text
    }
}

/// A list answer. Hiboutik answers single-object GETs with a one-element array; a bare object
/// is read as a one-element list too.
pub fn rows<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    match serde_json::from_slice::<Value>(body)? {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        single => Ok(vec![serde_json::from_value(single)?]),
    }
}

/// Text written as a string or a number; `null` and `""` are `None`.
fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_quantities_may_be_strings() {
        let numbers: Vec<StockRow> = rows(
            br#"[{"product_id": 4, "product_size": 0, "warehouse_id": 1, "stock_available": -2}]"#,
        )
        .unwrap();
        let strings: Vec<StockRow> = rows(
            br#"[{"product_id": "4", "product_size": "0", "warehouse_id": "1", "stock_available": "-2"}]"#,
        )
        .unwrap();
        for row in [&numbers[0], &strings[0]] {
            assert_eq!(
                (row.product_id, row.product_size, row.stock_available),
                (4, Some(0), -2)
            );
        }
    }

    #[test]
    fn a_single_object_reads_as_one_row() {
        let sale: Vec<Sale> =
            rows(br#"{"sale_id": "9", "completed_at": "0000-00-00 00:00:00"}"#).unwrap();
        assert_eq!(sale[0].sale_id, 9);
        assert!(!sale[0].is_closed());
        assert!(sale[0].line_items.is_empty());
    }

    #[test]
    fn error_details_are_spelled_out() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"error": "invalid_request", "code": 12, "error_description": "Bad product",
                "details": {"product_id": "This function does not handle packages"}}"#,
        )
        .unwrap();
        assert_eq!(
            body.summary(),
            "Bad product (product_id: This function does not handle packages)"
        );
        let nested: ErrorBody =
            serde_json::from_str(r#"{"error": "x", "details": {"error_description": "Inner"}}"#)
                .unwrap();
        assert_eq!(nested.summary(), "Inner");
    }
}
