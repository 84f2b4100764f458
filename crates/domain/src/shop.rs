//! The port every shop platform implements (WooCommerce now; Shopify and PrestaShop next), the
//! platform-neutral shapes it speaks, and the pure rules of the shop side: what an order line
//! owes the POS (`line_moves`), and the idempotency key of each move.
//!
//! Platform JSON never crosses this boundary. A shop *item* is the platform's sellable unit (a
//! simple product or a variation, a variant, a combination); its id is the links'
//! `item_ecommerce_id`.

use crate::EcommerceId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The shop platforms stocksync reaches through their API (`Shop.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShopKind {
    WooCommerce,
    PrestaShop,
    Shopify,
}

named_enum!(ShopKind {
    WooCommerce => "woocommerce",
    PrestaShop => "prestashop",
    Shopify => "shopify",
});

impl ShopKind {
    /// The platform's name as its merchants write it.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::WooCommerce => "WooCommerce",
            Self::PrestaShop => "PrestaShop",
            Self::Shopify => "Shopify",
        }
    }

    /// What makes the platform not track an item's stock ([`ShopItem::quantity`] `None`), as
    /// the merchant would fix it.
    pub fn untracked_because(self) -> &'static str {
        match self {
            Self::WooCommerce => "manage stock is off",
            Self::PrestaShop => {
                "it has no stock row in this shop, or its stock follows advanced stock management"
            }
            Self::Shopify => "inventory is not tracked, or the item is not stocked at the location",
        }
    }
}

/// Where an item is on the shop: its id, and what the platform needs besides the id to read or
/// write it, opaque to everyone but the connector (WooCommerce: the parent product of a
/// variation). Stocksync stores the locator with the item's push.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemRef {
    pub id: EcommerceId,
    pub locator: Option<String>,
}

/// A sellable unit as the shop describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopItem {
    pub item: ItemRef,
    pub name: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    /// The shop's sellable quantity; `None` when the shop does not track this item's stock
    /// (WooCommerce `manage_stock` false): stocksync cannot set it and says so.
    pub quantity: Option<i64>,
}

/// One quantity to set on the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelWrite {
    pub item: ItemRef,
    pub quantity: i64,
    /// What stocksync last knew the shop to have: a platform with compare-and-set (Shopify)
    /// refuses the write when the shop has something else; the others ignore it.
    pub expected: Option<i64>,
}

/// What became of one [`LevelWrite`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written; the shop's quantity as it answered.
    Written { quantity: i64 },
    /// The shop does not track this item's stock; nothing was written.
    Unmanaged,
    /// The shop had another quantity than `expected` (compare-and-set); nothing was written.
    Changed { actual: i64 },
    /// The shop refused this write for good (item gone, bad value): retrying will not help.
    Refused(String),
    /// Worth trying again later.
    Failed(ShopError),
}

/// An order as the shop describes it, with what stocksync needs to count its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopOrder {
    pub id: String,
    /// Whether the platform counts this order's lines as sold now (WooCommerce: processing,
    /// on-hold, completed; a cancelled or pending order does not).
    pub counts: bool,
    /// The platform's own status, as shown to the merchant.
    pub status: String,
    /// When it was placed: an order placed before stocksync was connected to the shop is not
    /// stocksync's to send to the POS.
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub lines: Vec<ShopOrderLine>,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopOrderLine {
    pub id: String,
    pub item: EcommerceId,
    /// Units ordered.
    pub quantity: i64,
    /// Units refunded back into the shop's stock (a refund with restock).
    pub restocked: i64,
    /// What the customer paid for the line, in cents.
    pub total_cents: i64,
}

/// Why a shop call failed. Messages name the call, never a credential.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShopError {
    #[error("the shop refused our credentials: {0}")]
    Unauthorized(String),
    #[error("rate limited by the shop{}", retry_hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("not found on the shop: {0}")]
    NotFound(String),
    /// The shop refused the request for good: retrying will not help.
    #[error("rejected by the shop: {0}")]
    Rejected(String),
    /// Network trouble, timeouts, 5xx, a host's or proxy's page: worth retrying later.
    #[error("shop unavailable: {0}")]
    Unavailable(String),
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(" (retry after {}s)", wait.as_secs()))
        .unwrap_or_default()
}

impl ShopError {
    /// Whether the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable(_))
    }
}

/// One shop, seen through the operations stocksync needs. Every read is bulk: never one call
/// per item where the platform has a list.
#[async_trait]
pub trait ShopConnector: Send + Sync {
    fn kind(&self) -> ShopKind;

    /// Every sellable item (matching, adoption, reconciliation).
    async fn items(&self) -> Result<Vec<ShopItem>, ShopError>;

    /// These items, in as few calls as the platform allows; unknown ones are absent. Read
    /// right before a push (what the shop has now) and after it.
    async fn items_by_ref(&self, items: &[ItemRef]) -> Result<Vec<ShopItem>, ShopError>;

    /// The items whose SKU is one of these, exactly.
    async fn items_by_sku(&self, skus: &[String]) -> Result<Vec<ShopItem>, ShopError>;

    /// Sets quantities, batched to the platform's limits; one outcome per write, in order.
    async fn set_quantities(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome>;

    /// Orders modified at or after `since` (every order when `None`), following every page.
    /// With nothing new, one call.
    async fn orders_since(&self, since: Option<DateTime<Utc>>)
    -> Result<Vec<ShopOrder>, ShopError>;

    /// One order, for a webhook that names it; `None` when the shop has no such order.
    async fn order(&self, id: &str) -> Result<Option<ShopOrder>, ShopError>;
}

/// Units a line owes the POS now: what was ordered less what a refund put back on the shelf,
/// while the order counts as sold; nothing otherwise.
pub fn line_target(order: &ShopOrder, line: &ShopOrderLine) -> i64 {
    if order.counts {
        (line.quantity - line.restocked).max(0)
    } else {
        0
    }
}

/// The web sale (positive) or return (negative) that brings a line from the units it has
/// already taken (`applied`) to what it owes now, if any.
pub fn line_move(target: i64, applied: i64) -> Option<i64> {
    (target != applied).then_some(target - applied)
}

/// The idempotency key of a line's `n`th move (0 first): the same line seen again, by a
/// webhook or a poll, in this process or another, makes the same key, so the sale it makes is
/// accepted once.
pub fn line_move_key(kind: ShopKind, order: &str, line: &str, n: i64) -> String {
    format!("shop:{}:{order}:{line}:{n}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(counts: bool, quantity: i64, restocked: i64) -> (ShopOrder, ShopOrderLine) {
        let line = ShopOrderLine {
            id: "7".into(),
            item: EcommerceId::new("42"),
            quantity,
            restocked,
            total_cents: 1000,
        };
        let order = ShopOrder {
            id: "100".into(),
            counts,
            status: if counts { "processing" } else { "cancelled" }.into(),
            created_at: DateTime::UNIX_EPOCH,
            modified_at: DateTime::UNIX_EPOCH,
            lines: vec![line.clone()],
        };
        (order, line)
    }

    #[test]
    fn a_line_owes_what_was_ordered_less_what_came_back() {
        let (o, l) = order(true, 3, 0);
        assert_eq!(line_target(&o, &l), 3);
        let (o, l) = order(true, 3, 1);
        assert_eq!(line_target(&o, &l), 2);
        let (o, l) = order(true, 3, 5);
        assert_eq!(line_target(&o, &l), 0, "never a negative debt");
        let (o, l) = order(false, 3, 0);
        assert_eq!(
            line_target(&o, &l),
            0,
            "an order that does not count owes nothing"
        );
    }

    #[test]
    fn a_move_brings_a_line_from_what_it_took_to_what_it_owes() {
        assert_eq!(line_move(3, 0), Some(3));
        assert_eq!(
            line_move(0, 3),
            Some(-3),
            "a cancellation returns what was taken"
        );
        assert_eq!(
            line_move(2, 3),
            Some(-1),
            "a restocking refund returns its units"
        );
        assert_eq!(line_move(3, 3), None, "seen again: nothing to do");
    }

    #[test]
    fn the_same_move_of_a_line_has_the_same_key() {
        let key = line_move_key(ShopKind::WooCommerce, "100", "7", 0);
        assert_eq!(key, "shop:woocommerce:100:7:0");
        assert_eq!(key, line_move_key(ShopKind::WooCommerce, "100", "7", 0));
        assert_ne!(key, line_move_key(ShopKind::WooCommerce, "100", "7", 1));
    }
}
