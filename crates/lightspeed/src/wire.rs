//! The Lightspeed Retail V3 JSON the client reads and writes, kept apart from the domain types.
//!
//! Lightspeed sends every scalar as a string, a one-element list as a bare object, an empty
//! relation as `""`, and may leave the list key out of an empty page: every reader here goes
//! through `stocksync_pos::lenient` so both the quirky and the plain forms are accepted.

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stocksync_pos::lenient::{boolean, int, one_or_many, text};

/// One page of a list (`ItemShop.json`, `Item.json`, `Sale.json`, `Shop.json`), or the answer to
/// a single-record GET (`Item/{id}.json`), which has the same shape with one row.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct Page<T> {
    #[serde(rename = "@attributes", default)]
    pub attributes: Attributes,
    /// The resource's key (`"ItemShop"`, …): absent on an empty page, an object for one row.
    #[serde(
        alias = "ItemShop",
        alias = "Item",
        alias = "Sale",
        alias = "Shop",
        default,
        deserialize_with = "one_or_many"
    )]
    pub rows: Vec<T>,
}

/// Paging links: full URLs to follow verbatim, `""` at the ends.
#[derive(Debug, Default, Deserialize)]
pub struct Attributes {
    #[serde(default)]
    pub next: String,
}

/// Stock of one item in one shop (`shopID` 0 is the account-wide summary row).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ItemShop {
    #[serde(rename = "itemShopID", deserialize_with = "text")]
    pub item_shop_id: String,
    #[serde(rename = "itemID", deserialize_with = "text")]
    pub item_id: String,
    #[serde(rename = "shopID", deserialize_with = "int")]
    pub shop_id: i64,
    #[serde(deserialize_with = "int")]
    pub qoh: i64,
    #[serde(rename = "timeStamp", default, deserialize_with = "time")]
    pub time_stamp: Option<DateTime<Utc>>,
}

/// An item, with its `ItemShops` relation when asked for.
#[derive(Debug, Deserialize)]
pub struct Item {
    #[serde(rename = "itemID", deserialize_with = "text")]
    pub item_id: String,
    #[serde(default, deserialize_with = "text_or_empty")]
    pub description: String,
    #[serde(rename = "customSku", default, deserialize_with = "text_or_empty")]
    pub custom_sku: String,
    #[serde(rename = "systemSku", default, deserialize_with = "text_or_empty")]
    pub system_sku: String,
    #[serde(default, deserialize_with = "text_or_empty")]
    pub upc: String,
    #[serde(default, deserialize_with = "text_or_empty")]
    pub ean: String,
    #[serde(rename = "ItemShops", default, deserialize_with = "relation")]
    pub item_shops: ItemShops,
}

#[derive(Debug, Default, Deserialize)]
pub struct ItemShops {
    #[serde(rename = "ItemShop", default, deserialize_with = "one_or_many")]
    pub rows: Vec<ItemShop>,
}

#[derive(Debug, Deserialize)]
pub struct Shop {
    #[serde(rename = "shopID", deserialize_with = "int")]
    pub shop_id: i64,
    #[serde(default, deserialize_with = "boolean")]
    pub archived: bool,
}

/// A sale as read back (after creating it, or when looking it up by reference).
#[derive(Debug, Deserialize)]
pub struct Sale {
    #[serde(rename = "saleID", deserialize_with = "text")]
    pub sale_id: String,
    #[serde(rename = "completeTime", default, deserialize_with = "time")]
    pub complete_time: Option<DateTime<Utc>>,
    #[serde(rename = "timeStamp", default, deserialize_with = "time")]
    pub time_stamp: Option<DateTime<Utc>>,
}

/// The body of `POST Sale.json`: a completed sale with one line and the payment that balances it.
#[derive(Debug, Serialize)]
pub struct NewSale {
    #[serde(rename = "employeeID")]
    pub employee_id: i64,
    #[serde(rename = "registerID")]
    pub register_id: i64,
    #[serde(rename = "shopID")]
    pub shop_id: i64,
    #[serde(rename = "customerID")]
    pub customer_id: i64,
    pub completed: bool,
    #[serde(rename = "referenceNumber")]
    pub reference_number: String,
    #[serde(rename = "referenceNumberSource")]
    pub reference_number_source: &'static str,
    #[serde(rename = "SaleLines")]
    pub sale_lines: NewSaleLines,
    #[serde(rename = "SalePayments")]
    pub sale_payments: NewSalePayments,
}

#[derive(Debug, Serialize)]
pub struct NewSaleLines {
    #[serde(rename = "SaleLine")]
    pub rows: Vec<NewSaleLine>,
}

#[derive(Debug, Serialize)]
pub struct NewSaleLine {
    #[serde(rename = "itemID")]
    pub item_id: i64,
    #[serde(rename = "unitQuantity")]
    pub unit_quantity: i64,
    /// Currency units (`12.5`), not cents.
    #[serde(rename = "unitPrice")]
    pub unit_price: f64,
}

#[derive(Debug, Serialize)]
pub struct NewSalePayments {
    #[serde(rename = "SalePayment")]
    pub rows: Vec<NewSalePayment>,
}

#[derive(Debug, Serialize)]
pub struct NewSalePayment {
    /// Currency units.
    pub amount: f64,
    #[serde(rename = "paymentTypeID")]
    pub payment_type_id: i64,
}

/// The answer of `POST /auth/oauth/token`. Holds secrets: never logged, never in `Debug`.
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    /// Lightspeed always rotates it; kept as it was if an answer ever lacks one.
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default, deserialize_with = "stocksync_pos::lenient::opt_int")]
    pub expires_in: Option<i64>,
}

/// An OAuth error (`{"error":"invalid_grant","error_description":…}`) or an API error
/// (`{"message":…}`); every field optional, since the shapes are loosely documented.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub hint: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorBody {
    /// Whatever the body says, shortened, or `""`.
    pub fn summary(&self) -> String {
        let parts: Vec<&str> = [
            &self.message,
            &self.error,
            &self.error_description,
            &self.hint,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
        let joined = parts.join(": ");
        match joined.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &joined[..cut]),
            None => joined,
        }
    }
}

/// An RFC 3339 time as a string; `""`, `null` or absent is `None`.
fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|err| {
                de::Error::custom(format!("expected an RFC 3339 time, got '{s}': {err}"))
            }),
    }
}

/// Text that may be a number, `null` or absent (read as `""`).
fn text_or_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(de::Error::custom(format!("expected text, got {other}"))),
    }
}

/// A relation (`"ItemShops": {"ItemShop": …}`), which is `""` when empty.
fn relation<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(T::default()),
        Some(Value::String(s)) if s.is_empty() => Ok(T::default()),
        Some(value) => serde_json::from_value(value).map_err(de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quirky_page_with_one_row_reads_like_a_plain_one() {
        let quirky: Page<ItemShop> = serde_json::from_str(
            r#"{"@attributes":{"next":"","previous":""},
                "ItemShop":{"itemShopID":"897","itemID":"141","shopID":"1","qoh":"-3",
                            "timeStamp":"2025-06-18T18:30:09+00:00"}}"#,
        )
        .unwrap();
        let plain: Page<ItemShop> = serde_json::from_str(
            r#"{"@attributes":{"next":"","previous":""},
                "ItemShop":[{"itemShopID":897,"itemID":141,"shopID":1,"qoh":-3,
                             "timeStamp":"2025-06-18T18:30:09+00:00"}]}"#,
        )
        .unwrap();
        assert_eq!(quirky.rows, plain.rows);
        assert_eq!(quirky.rows[0].qoh, -3);
        assert_eq!(quirky.rows[0].item_id, "141");
    }

    #[test]
    fn an_empty_page_may_leave_out_its_key_and_a_relation_may_be_empty_text() {
        let empty: Page<ItemShop> =
            serde_json::from_str(r#"{"@attributes":{"next":"","previous":""}}"#).unwrap();
        assert!(empty.rows.is_empty());
        let item: Page<Item> = serde_json::from_str(
            r#"{"@attributes":{"count":"1"},"Item":{"itemID":"7","description":"Mug","ItemShops":""}}"#,
        )
        .unwrap();
        assert!(item.rows[0].item_shops.rows.is_empty());
        assert_eq!(item.rows[0].custom_sku, "");
    }

    #[test]
    fn error_summaries_are_short() {
        let body = ErrorBody {
            message: Some("x".repeat(500)),
            ..ErrorBody::default()
        };
        assert_eq!(body.summary().chars().count(), 201);
    }
}
