//! The vocabulary of stocksync: ids, quantities, links, sales, tasks, and the POS and shop
//! connector ports.
//!
//! Pure types and rules only. Nothing here touches the network, the database or a runtime;
//! the `store`, `server` and (later) `pos` crates depend on this one, never the reverse.

/// Gives a fieldless enum `as_str` and `parse` over fixed names (as stored in the database).
macro_rules! named_enum {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($name => Some(Self::$variant),)* _ => None }
            }
            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

pub mod account;
pub mod bounds;
pub mod budget;
pub mod ids;
pub mod ledger;
pub mod link;
pub mod matching;
pub mod ports;
pub mod pos;
pub mod sale;
pub mod shop;
pub mod task;

pub use ids::{AccountId, EcommerceId, LinkId, PosRef, SaleId, TaskId};
pub use pos::{PosConnector, PosError, PosKind};
pub use shop::{ShopConnector, ShopError, ShopKind};
