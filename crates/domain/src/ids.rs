//! Identifier newtypes, so that a shop id is never passed where a POS id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value that has already been trimmed and checked to be non-empty.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A configured POS account (`AccountID`, or `AccountName` for Hiboutik).
    AccountId
);
string_id!(
    /// The web shop's item id (`idProductEcommerce`).
    EcommerceId
);
string_id!(
    /// A product reference on a POS (`idProductPOS`): Square variation id, Lightspeed itemID,
    /// Hiboutik `product_id` or `product_id/size_id`. Its format belongs to the connector.
    PosRef
);
string_id!(
    /// A web sale, as stored in the outbox (a UUID).
    SaleId
);
string_id!(
    /// An asynchronous task, as reported by `GET /api/itemstask/{id}` (a UUID).
    TaskId
);

/// The primary key of a `stock` row, i.e. of a link.
pub type LinkId = i64;
