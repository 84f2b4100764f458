//! Shopify's GraphQL answers as the client reads them (shop-apis.md §2): the envelope
//! (`data`, `errors`, `extensions.cost`), variants with their inventory level, orders with
//! their lines and refunds, and the set mutation's payload. Only what stocksync reads; ids
//! are Shopify's global ids (`gid://shopify/ProductVariant/42`).

use serde::Deserialize;

/// Every answer: `data` (absent when throttled), top-level `errors`, and the cost.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Vec<GraphQlError>,
    pub extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
pub struct GraphQlError {
    #[serde(default)]
    pub message: String,
    pub extensions: Option<ErrorExtensions>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorExtensions {
    pub code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Extensions {
    pub cost: Option<Cost>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub requested_query_cost: f64,
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A connection read with `nodes`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    pub page_info: Option<PageInfo>,
    pub nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantsData {
    pub product_variants: Connection<Variant>,
}

/// `nodes(ids:)`: `null` for an unknown id.
#[derive(Debug, Deserialize)]
pub struct NodesData {
    pub nodes: Vec<Option<Variant>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub id: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    #[serde(default)]
    pub display_name: String,
    pub inventory_item: InventoryItem,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItem {
    pub id: String,
    pub tracked: bool,
    /// The level at the location asked for; `null` when the item is not stocked there.
    pub inventory_level: Option<InventoryLevel>,
}

#[derive(Debug, Deserialize)]
pub struct InventoryLevel {
    pub quantities: Vec<Quantity>,
}

#[derive(Debug, Deserialize)]
pub struct Quantity {
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
pub struct LocationData {
    pub location: Option<Node>,
}

#[derive(Debug, Deserialize)]
pub struct Node {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct OrdersData {
    pub orders: Connection<Order>,
}

#[derive(Debug, Deserialize)]
pub struct OrderData {
    pub order: Option<Order>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub display_financial_status: Option<String>,
    pub line_items: Connection<LineItem>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub id: String,
    pub quantity: i64,
    /// `null` when the variant was deleted since.
    pub variant: Option<Node>,
    pub original_total_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: Money,
}

#[derive(Debug, Deserialize)]
pub struct Money {
    /// A decimal string.
    pub amount: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub refund_line_items: Connection<RefundLineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLineItem {
    pub quantity: i64,
    pub restock_type: String,
    pub line_item: Node,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetData {
    pub inventory_set_quantities: Option<SetPayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPayload {
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateData {
    pub inventory_activate: Option<SetPayload>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UserError {
    pub code: Option<String>,
    /// The path of the input field at fault: `["input", "quantities", "3", "quantity"]`.
    pub field: Option<Vec<String>>,
    #[serde(default)]
    pub message: String,
}

impl UserError {
    /// The index of the quantity at fault, when the error names one.
    pub fn quantity_index(&self) -> Option<usize> {
        let field = self.field.as_ref()?;
        let at = field.iter().position(|part| part == "quantities")?;
        field.get(at + 1)?.parse().ok()
    }
}

/// The number at the end of a global id: `gid://shopify/ProductVariant/42` → `42`.
pub fn numeric_id(gid: &str) -> Option<&str> {
    let tail = gid.rsplit('/').next()?;
    let tail = tail.split('?').next()?;
    (!tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit())).then_some(tail)
}

/// The global id of a `kind` (`ProductVariant`, `Order`…) with this number.
pub fn gid(kind: &str, id: &str) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// A decimal amount ("12.30") in cents; `None` when it is not one.
pub fn cents(amount: &str) -> Option<i64> {
    let amount = amount.trim();
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    Some(units * 100 + if units < 0 { -fraction } else { fraction })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_amounts() {
        assert_eq!(numeric_id("gid://shopify/ProductVariant/42"), Some("42"));
        assert_eq!(numeric_id("gid://shopify/ProductVariant/"), None);
        assert_eq!(gid("Order", "7"), "gid://shopify/Order/7");
        assert_eq!(cents("12.3"), Some(1230));
        assert_eq!(cents("4"), Some(400));
        assert_eq!(cents("1.234"), None);
    }

    #[test]
    fn a_user_error_names_its_quantity() {
        let error = UserError {
            code: Some("CHANGE_FROM_QUANTITY_STALE".into()),
            field: Some(vec!["input".into(), "quantities".into(), "3".into()]),
            message: String::new(),
        };
        assert_eq!(error.quantity_index(), Some(3));
    }
}
