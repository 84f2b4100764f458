//! The simulated shop's state, as Shopify keeps it (shop-apis.md §2.2, §2.4–2.6): variants
//! each with one inventory item, levels per item × location with `available` and `committed`,
//! orders (placing one moves its units from available to committed; cancelling moves them
//! back; refund lines restocked `CANCEL` do the same, `RETURN` adds to available), and
//! `inventorySetQuantities` with its all-or-nothing validation, compare-and-set
//! (`changeFromQuantity`) and every write counted per item. No HTTP here.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The shop's one location (its primary).
pub(super) const PRIMARY_LOCATION: u64 = 1;
/// A second location, stocked only when a test says so.
pub(super) const OTHER_LOCATION: u64 = 2;

#[derive(Clone, Debug)]
pub(super) struct Variant {
    pub id: u64,
    pub name: String,
    pub sku: String,
    pub barcode: Option<String>,
    pub item: u64,
    pub tracked: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Level {
    pub available: i64,
    pub committed: i64,
}

/// A refund line's restock type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestockType {
    NoRestock,
    Cancel,
    Return,
}

impl RestockType {
    fn as_str(self) -> &'static str {
        match self {
            Self::NoRestock => "NO_RESTOCK",
            Self::Cancel => "CANCEL",
            Self::Return => "RETURN",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Line {
    pub id: u64,
    pub variant: u64,
    pub quantity: i64,
    pub price_cents: i64,
}

#[derive(Clone, Debug)]
pub(super) struct Refund {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    /// (line id, quantity, restock type)
    pub lines: Vec<(u64, i64, RestockType)>,
}

#[derive(Clone, Debug)]
pub(super) struct Order {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub lines: Vec<Line>,
    pub refunds: Vec<Refund>,
}

/// One write `inventorySetQuantities` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSeen {
    pub item: u64,
    pub location: u64,
    pub quantity: i64,
}

#[derive(Debug, Default)]
pub(super) struct Shop {
    pub variants: Vec<Variant>,
    pub levels: BTreeMap<(u64, u64), Level>,
    pub orders: Vec<Order>,
    pub writes: Vec<WriteSeen>,
    next_id: u64,
}

impl Shop {
    fn next(&mut self) -> u64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    /// A variant stocked at the primary location (`None`: stock not tracked, no level).
    pub fn add_variant(
        &mut self,
        name: &str,
        sku: &str,
        barcode: Option<&str>,
        quantity: Option<i64>,
    ) -> u64 {
        let id = self.next();
        let item = self.next();
        self.variants.push(Variant {
            id,
            name: name.to_owned(),
            sku: sku.to_owned(),
            barcode: barcode.map(str::to_owned),
            item,
            tracked: quantity.is_some(),
        });
        if let Some(available) = quantity {
            self.levels.insert(
                (item, PRIMARY_LOCATION),
                Level {
                    available,
                    committed: 0,
                },
            );
        }
        id
    }

    /// `inventoryActivate`: the item stocked at `location` with `available` units (an item
    /// already stocked there keeps its level). Its `userErrors`.
    pub fn activate(
        &mut self,
        item: Option<u64>,
        location: Option<u64>,
        available: i64,
    ) -> Vec<Value> {
        let Some(item) = item.filter(|item| self.variants.iter().any(|v| v.item == *item)) else {
            return vec![user_error(
                "NOT_FOUND",
                &["inventoryItemId"],
                "The specified inventory item could not be found.",
            )];
        };
        let Some(location) = location.filter(|l| [PRIMARY_LOCATION, OTHER_LOCATION].contains(l))
        else {
            return vec![user_error(
                "NOT_FOUND",
                &["locationId"],
                "The specified location could not be found.",
            )];
        };
        self.levels.entry((item, location)).or_insert(Level {
            available,
            committed: 0,
        });
        Vec::new()
    }

    /// The merchant stops stocking a variant at the primary location (its level removed).
    pub fn unstock(&mut self, variant: u64) {
        if let Some(item) = self.variant(variant).map(|v| v.item) {
            self.levels.remove(&(item, PRIMARY_LOCATION));
        }
    }

    pub fn variant(&self, id: u64) -> Option<&Variant> {
        self.variants.iter().find(|variant| variant.id == id)
    }

    pub fn level(&self, variant: u64) -> Option<Level> {
        let item = self.variant(variant)?.item;
        self.levels.get(&(item, PRIMARY_LOCATION)).copied()
    }

    fn level_mut(&mut self, variant: u64) -> Option<&mut Level> {
        let item = self.variant(variant)?.item;
        self.levels.get_mut(&(item, PRIMARY_LOCATION))
    }

    /// A shopper's order: each line's units move from available to committed.
    pub fn place_order(&mut self, lines: &[(u64, i64)], now: DateTime<Utc>) -> u64 {
        let id = self.next();
        let lines: Vec<Line> = lines
            .iter()
            .map(|&(variant, quantity)| Line {
                id: self.next(),
                variant,
                quantity,
                price_cents: 1250 * quantity,
            })
            .collect();
        for line in &lines {
            if let Some(level) = self.level_mut(line.variant) {
                level.available -= line.quantity;
                level.committed += line.quantity;
            }
        }
        self.orders.push(Order {
            id,
            created_at: now,
            updated_at: now,
            cancelled_at: None,
            lines,
            refunds: Vec::new(),
        });
        id
    }

    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.iter().find(|order| order.id == id)
    }

    /// Cancels with restock: what is still committed goes back to available. `false` when
    /// there is no such order or it is already cancelled.
    pub fn cancel_order(&mut self, id: u64, now: DateTime<Utc>) -> bool {
        let Some(at) = self.orders.iter().position(|order| order.id == id) else {
            return false;
        };
        if self.orders[at].cancelled_at.is_some() {
            return false;
        }
        let order = self.orders[at].clone();
        for line in &order.lines {
            let restocked: i64 = order
                .refunds
                .iter()
                .flat_map(|refund| &refund.lines)
                .filter(|(of, _, kind)| *of == line.id && *kind == RestockType::Cancel)
                .map(|(_, quantity, _)| quantity)
                .sum();
            if let Some(level) = self.level_mut(line.variant) {
                let back = line.quantity - restocked;
                level.available += back;
                level.committed -= back;
            }
        }
        let order = &mut self.orders[at];
        order.cancelled_at = Some(now);
        order.updated_at = now;
        true
    }

    /// A refund of `lines` (index of the line in the order, quantity, restock type).
    pub fn refund(
        &mut self,
        order: u64,
        lines: &[(usize, i64, RestockType)],
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let at = self.orders.iter().position(|o| o.id == order)?;
        let id = self.next();
        let mut refunded = Vec::new();
        for &(index, quantity, restock) in lines {
            let line = self.orders[at].lines.get(index)?.clone();
            refunded.push((line.id, quantity, restock));
            if let Some(level) = self.level_mut(line.variant) {
                match restock {
                    RestockType::Cancel => {
                        level.available += quantity;
                        level.committed -= quantity;
                    }
                    RestockType::Return => level.available += quantity,
                    RestockType::NoRestock => {}
                }
            }
        }
        let order = &mut self.orders[at];
        order.refunds.push(Refund {
            id,
            created_at: now,
            lines: refunded,
        });
        order.updated_at = now;
        Some(id)
    }

    /// `inventorySetQuantities(input:)`: validated as a whole, applied as a whole. Its
    /// payload (`inventoryAdjustmentGroup`, `userErrors`).
    pub fn set_quantities(&mut self, input: &Value, cas_required: bool) -> Value {
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name != "available" && name != "on_hand" {
            return refused(vec![user_error(
                "INVALID_NAME",
                &["input", "name"],
                "The quantity name must be available or on_hand.",
            )]);
        }
        let empty = Vec::new();
        let quantities = input
            .get("quantities")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let mut errors = Vec::new();
        let mut plan = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, entry) in quantities.iter().enumerate() {
            let at = i.to_string();
            let field = |last: &'static str| ["input", "quantities", at.as_str(), last];
            let item = gid_number(entry.get("inventoryItemId"), "InventoryItem");
            let location = gid_number(entry.get("locationId"), "Location");
            let quantity = entry.get("quantity").and_then(Value::as_i64);
            let Some(item) = item.filter(|item| self.variants.iter().any(|v| v.item == *item))
            else {
                errors.push(user_error(
                    "INVALID_INVENTORY_ITEM",
                    &field("inventoryItemId"),
                    "The specified inventory item could not be found.",
                ));
                continue;
            };
            let Some(location) =
                location.filter(|l| [PRIMARY_LOCATION, OTHER_LOCATION].contains(l))
            else {
                errors.push(user_error(
                    "INVALID_LOCATION",
                    &field("locationId"),
                    "The specified location could not be found.",
                ));
                continue;
            };
            let Some(quantity) = quantity.filter(|q| q.abs() <= 1_000_000_000) else {
                errors.push(user_error(
                    "INVALID_QUANTITY_TOO_HIGH",
                    &field("quantity"),
                    "The quantity is out of range.",
                ));
                continue;
            };
            if !seen.insert((item, location)) {
                errors.push(user_error(
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    &field("inventoryItemId"),
                    "The same item and location appear twice.",
                ));
                continue;
            }
            let Some(level) = self.levels.get(&(item, location)) else {
                errors.push(user_error(
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                    &field("locationId"),
                    "The item is not stocked at the location.",
                ));
                continue;
            };
            let current = if name == "available" {
                level.available
            } else {
                level.available + level.committed
            };
            match entry.get("changeFromQuantity") {
                None if cas_required => {
                    errors.push(user_error(
                        "INVALID",
                        &field("changeFromQuantity"),
                        "changeFromQuantity is required (null to skip the check).",
                    ));
                    continue;
                }
                Some(Value::Number(expected)) if expected.as_i64() != Some(current) => {
                    errors.push(user_error(
                        "CHANGE_FROM_QUANTITY_STALE",
                        &field("changeFromQuantity"),
                        "The changeFromQuantity is different from the current quantity.",
                    ));
                    continue;
                }
                _ => {}
            }
            plan.push((item, location, quantity, current));
        }
        if !errors.is_empty() {
            return refused(errors);
        }
        let mut changes = Vec::new();
        for (item, location, quantity, current) in plan {
            let level = self
                .levels
                .get_mut(&(item, location))
                .expect("checked above");
            level.available += quantity - current;
            self.writes.push(WriteSeen {
                item,
                location,
                quantity,
            });
            changes.push(json!({
                "name": name,
                "delta": quantity - current,
                "quantityAfterChange": quantity,
            }));
        }
        let group = self.next();
        json!({
            "inventoryAdjustmentGroup": {
                "id": format!("gid://shopify/InventoryAdjustmentGroup/{group}"),
                "changes": changes,
            },
            "userErrors": [],
        })
    }
}

fn refused(errors: Vec<Value>) -> Value {
    json!({ "inventoryAdjustmentGroup": null, "userErrors": errors })
}

pub(super) fn user_error(code: &str, field: &[&str], message: &str) -> Value {
    json!({ "code": code, "field": field, "message": message })
}

/// The number of a `gid://shopify/{kind}/N`.
pub(super) fn gid_number(value: Option<&Value>, kind: &str) -> Option<u64> {
    value?
        .as_str()?
        .strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

/// A variant as GraphQL answers it, with its level at `location`.
pub(super) fn variant_json(shop: &Shop, variant: &Variant, location: Option<u64>) -> Value {
    let level = location.and_then(|location| shop.levels.get(&(variant.item, location)));
    json!({
        "__typename": "ProductVariant",
        "id": format!("gid://shopify/ProductVariant/{}", variant.id),
        "sku": variant.sku,
        "barcode": variant.barcode,
        "displayName": variant.name,
        "inventoryItem": {
            "id": format!("gid://shopify/InventoryItem/{}", variant.item),
            "tracked": variant.tracked,
            "inventoryLevel": level.map(|level| json!({
                "quantities": [{ "name": "available", "quantity": level.available }],
            })),
        },
    })
}

/// An order as GraphQL answers it.
pub(super) fn order_json(order: &Order) -> Value {
    json!({
        "id": format!("gid://shopify/Order/{}", order.id),
        "name": format!("#{}", order.id),
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "cancelledAt": order.cancelled_at,
        "displayFinancialStatus": "PAID",
        "lineItems": {
            "nodes": order.lines.iter().map(|line| json!({
                "id": format!("gid://shopify/LineItem/{}", line.id),
                "quantity": line.quantity,
                "variant": { "id": format!("gid://shopify/ProductVariant/{}", line.variant) },
                "originalTotalSet": { "shopMoney": {
                    "amount": format!("{}.{:02}", line.price_cents / 100, line.price_cents % 100),
                } },
            })).collect::<Vec<_>>(),
        },
        "refunds": order.refunds.iter().map(|refund| json!({
            "refundLineItems": { "nodes": refund.lines.iter().map(|(line, quantity, restock)| json!({
                "quantity": quantity,
                "restockType": restock.as_str(),
                "lineItem": { "id": format!("gid://shopify/LineItem/{line}") },
            })).collect::<Vec<_>>() },
        })).collect::<Vec<_>>(),
    })
}

/// An order as a webhook carries it (REST-shaped, snake_case, numeric ids).
pub(super) fn order_rest_json(shop: &Shop, order: &Order) -> Value {
    json!({
        "id": order.id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", order.id),
        "name": format!("#{}", order.id),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "financial_status": "paid",
        "line_items": order.lines.iter().map(|line| json!({
            "id": line.id,
            "variant_id": line.variant,
            "sku": shop.variant(line.variant).map(|v| v.sku.clone()),
            "quantity": line.quantity,
        })).collect::<Vec<_>>(),
        "refunds": order.refunds.iter().map(|refund| refund_rest_json(order, refund)).collect::<Vec<_>>(),
    })
}

pub(super) fn refund_rest_json(order: &Order, refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "order_id": order.id,
        "created_at": refund.created_at,
        "refund_line_items": refund.lines.iter().map(|(line, quantity, restock)| json!({
            "line_item_id": line,
            "quantity": quantity,
            "restock_type": restock.as_str().to_ascii_lowercase(),
            "location_id": PRIMARY_LOCATION,
        })).collect::<Vec<_>>(),
    })
}
