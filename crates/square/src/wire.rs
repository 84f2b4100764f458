//! The Square JSON the client sends and reads (Catalog and Inventory v2, release 2025-08-20),
//! kept apart from the domain types. Readers are tolerant: unknown fields are ignored and
//! optional ones may be absent. The simulator has its own JSON and must not use these.

use crate::quantity::Quantity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, de};

/// The failure shape of every Square endpoint; batch endpoints may also send it inside a 200.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<SquareError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SquareError {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

/// `GET /v2/locations`
#[derive(Debug, Deserialize)]
pub struct Locations {
    #[serde(default)]
    pub locations: Vec<Location>,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// A catalog object: only ITEMs and ITEM_VARIATIONs matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub item_data: Option<ItemData>,
    #[serde(default)]
    pub item_variation_data: Option<VariationData>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ItemData {
    #[serde(default)]
    pub name: Option<String>,
    /// The item's variations, nested as full catalog objects.
    #[serde(default)]
    pub variations: Vec<CatalogObject>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VariationData {
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    /// The barcode (UPC, EAN or any GTIN the merchant typed).
    #[serde(default)]
    pub upc: Option<String>,
}

/// `POST /v2/catalog/batch-retrieve`
#[derive(Debug, Serialize)]
pub struct BatchRetrieveObjects<'a> {
    pub object_ids: &'a [&'a str],
    pub include_related_objects: bool,
}

/// The answer of `batch-retrieve` and of `search`.
#[derive(Debug, Deserialize)]
pub struct Objects {
    #[serde(default)]
    pub objects: Vec<CatalogObject>,
    #[serde(default)]
    pub related_objects: Vec<CatalogObject>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /v2/catalog/search`: every object of the type, or those an exact query on one
/// attribute matches.
#[derive(Debug, Serialize)]
pub struct SearchObjects<'a> {
    pub object_types: [&'static str; 1],
    pub include_related_objects: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<ExactQueryWrapper<'a>>,
    pub limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct ExactQueryWrapper<'a> {
    pub exact_query: ExactQuery<'a>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct ExactQuery<'a> {
    pub attribute_name: &'static str,
    pub attribute_value: &'a str,
}

/// `POST /v2/catalog/search-catalog-items`
#[derive(Debug, Serialize)]
pub struct SearchItems<'a> {
    pub text_filter: &'a str,
    pub limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Items {
    #[serde(default)]
    pub items: Vec<CatalogObject>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /v2/inventory/counts/batch-retrieve`
#[derive(Debug, Serialize)]
pub struct RetrieveCounts<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_object_ids: Option<&'a [String]>,
    pub location_ids: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_after: Option<String>,
    pub states: [&'static str; 1],
    pub limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Counts {
    #[serde(default)]
    pub counts: Vec<Count>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One `(variation, location, state)` count.
#[derive(Debug, Clone, Deserialize)]
pub struct Count {
    pub catalog_object_id: String,
    #[serde(default)]
    pub catalog_object_type: Option<String>,
    pub state: String,
    pub location_id: String,
    #[serde(deserialize_with = "quantity")]
    pub quantity: Quantity,
    #[serde(default)]
    pub calculated_at: Option<DateTime<Utc>>,
}

/// `POST /v2/inventory/changes/batch-create`
#[derive(Debug, Serialize)]
pub struct BatchChange<'a> {
    pub idempotency_key: &'a str,
    pub ignore_unchanged_counts: bool,
    pub changes: [ChangeRequest<'a>; 1],
}

#[derive(Debug, Serialize)]
pub struct ChangeRequest<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub adjustment: AdjustmentRequest<'a>,
}

#[derive(Debug, Serialize)]
pub struct AdjustmentRequest<'a> {
    pub catalog_object_id: &'a str,
    pub location_id: &'a str,
    pub from_state: &'static str,
    pub to_state: &'static str,
    pub quantity: String,
    pub occurred_at: String,
    pub reference_id: &'a str,
}

/// The answer of `changes/batch-create`.
#[derive(Debug, Deserialize)]
pub struct Changed {
    #[serde(default)]
    pub counts: Vec<Count>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// `POST /v2/inventory/changes/batch-retrieve`
#[derive(Debug, Serialize)]
pub struct RetrieveChanges<'a> {
    pub catalog_object_ids: [&'a str; 1],
    pub location_ids: [&'a str; 1],
    pub types: [&'static str; 1],
    pub updated_after: String,
    pub limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChangesPage {
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub adjustment: Option<Adjustment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Adjustment {
    pub id: String,
    #[serde(default)]
    pub reference_id: Option<String>,
    #[serde(default)]
    pub catalog_object_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A quantity as Square writes it (a decimal string); a bare JSON number is tolerated.
fn quantity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Quantity, D::Error> {
    let text = match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        other => {
            return Err(de::Error::custom(format!(
                "expected a quantity, got {other}"
            )));
        }
    };
    text.parse().map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_decimal_strings_and_ignore_the_unknown() {
        let page: Counts = serde_json::from_str(
            r#"{"counts":[{"catalog_object_id":"W62U","catalog_object_type":"ITEM_VARIATION",
                 "state":"IN_STOCK","location_id":"C6W5","quantity":"2.50000",
                 "calculated_at":"2016-11-16T22:28:01.223Z","is_estimated":false}],
                "cursor":"abc"}"#,
        )
        .unwrap();
        assert_eq!(page.counts[0].quantity, "2.5".parse().unwrap());
        assert_eq!(page.cursor.as_deref(), Some("abc"));
        let empty: Counts = serde_json::from_str("{}").unwrap();
        assert!(empty.counts.is_empty() && empty.cursor.is_none());
    }

    #[test]
    fn a_malformed_quantity_is_an_error() {
        let err = serde_json::from_str::<Count>(
            r#"{"catalog_object_id":"W","state":"IN_STOCK","location_id":"L","quantity":"1e3"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("'1e3'"), "{err}");
    }
}
