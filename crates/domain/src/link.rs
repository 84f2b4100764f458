//! Links: one row of the `stock` table, tying a web-shop item to a product on one POS account.

use crate::{AccountId, EcommerceId, LinkId, PosRef};

/// A link as stored in the `stock` table (the original program's columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub id: LinkId,
    pub pos_ref: PosRef,
    pub ecommerce_id: EcommerceId,
    /// Units the web shop may sell: the last POS count minus web sales the POS has not yet
    /// reflected.
    pub quantity: i64,
    pub account_id: AccountId,
    /// The product's name on the POS at registration time.
    pub description: String,
    /// A sale is refused when it would bring `quantity` below this.
    pub limit_quantity: i64,
    /// Web sales of the shop item go to this link first when the item has several.
    pub primary: bool,
}

/// What is needed to create a link.
#[derive(Clone, Debug)]
pub struct NewLink {
    pub pos_ref: PosRef,
    pub ecommerce_id: EcommerceId,
    pub quantity: i64,
    pub account_id: AccountId,
    pub description: String,
    pub limit_quantity: i64,
    pub primary: bool,
    /// Where the shop platform keeps the shop item (a variation's parent), when a look-up on
    /// the shop found it: saved with the item's push in the link's own transaction.
    pub shop_locator: Option<String>,
}
