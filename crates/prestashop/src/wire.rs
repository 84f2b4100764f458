//! The Webservice's JSON as the client reads it (`output_format=JSON`, shop-apis.md §3.2):
//! lists are `{"products":[…]}` (or, reportedly, `[]` when empty), one object is
//! `{"order":{…}}`, errors `{"errors":[{"code":…,"message":…}]}`. Values are mostly strings:
//! numbers are read leniently. Nothing here crosses the `ShopConnector` port.

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::Value;
use stocksync_pos::lenient;

/// A translated field: a plain string, or (several languages) `[{"id":"1","value":"…"}]`.
fn i18n<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Array(values) => values
            .iter()
            .find_map(|v| v.get("value").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned(),
        Value::Null => String::new(),
        other => return Err(D::Error::custom(format!("expected a name, got {other}"))),
    })
}

/// A text field that may be absent, null or a number.
fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s).filter(|s| !s.trim().is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(D::Error::custom(format!("expected text, got {other}"))),
    })
}

#[derive(Clone, Debug, Deserialize)]
pub struct Product {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "i18n")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub ean13: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Combination {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub id_product: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub ean13: Option<String>,
}

/// A `stock_availables` row (`display=full`).
#[derive(Clone, Debug, Deserialize)]
pub struct StockAvailable {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub id_product: i64,
    /// 0: the product-level row.
    #[serde(deserialize_with = "lenient::int")]
    pub id_product_attribute: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub id_shop: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub quantity: i64,
    /// Set by advanced stock management: its next sync overrides what we write.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub depends_on_stock: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Order {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub current_state: i64,
    pub date_add: String,
    pub date_upd: String,
    #[serde(default)]
    pub associations: OrderAssociations,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct OrderAssociations {
    #[serde(default)]
    pub order_rows: Vec<OrderRow>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OrderRow {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub product_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub product_attribute_id: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub product_quantity: i64,
    /// Tax included, a decimal string (`"12.500000"`).
    #[serde(default, deserialize_with = "opt_text")]
    pub unit_price_tax_incl: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ErrorItem {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: String,
}

/// The rows of a list answer under `key`: `{"key":[…]}`, or `[]`/`{}` for none.
pub fn list<T: serde::de::DeserializeOwned>(
    answer: Value,
    key: &str,
) -> Result<Vec<T>, serde_json::Error> {
    match answer {
        Value::Object(mut map) => match map.remove(key) {
            Some(rows) => serde_json::from_value(rows),
            None if map.is_empty() => Ok(Vec::new()),
            None => Err(serde_json::Error::custom(format!(
                "no '{key}' in the answer"
            ))),
        },
        Value::Array(rows) if rows.is_empty() => Ok(Vec::new()),
        other => serde_json::from_value(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_are_read_however_empty_they_come() {
        let rows: Vec<Product> = list(json!([]), "products").unwrap();
        assert!(rows.is_empty());
        let rows: Vec<Product> = list(json!({}), "products").unwrap();
        assert!(rows.is_empty());
        let rows: Vec<Product> = list(
            json!({"products":[{"id":"3","name":[{"id":"1","value":"Mug"}],"reference":"","ean13":1234}]}),
            "products",
        )
        .unwrap();
        assert_eq!(rows[0].id, 3);
        assert_eq!(rows[0].name, "Mug");
        assert_eq!(rows[0].reference, None);
        assert_eq!(rows[0].ean13.as_deref(), Some("1234"));
        assert!(list::<Product>(json!({"orders":[]}), "products").is_err());
    }
}
