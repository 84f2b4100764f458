//! PrestaShop (Webservice of 1.7, 8.x and 9.x, `{shop}/api/…`) for stocksync's shop side: a
//! client ([`PrestaClient`], in `client/`, reading the JSON of `wire.rs` and writing XML: a
//! PATCH of a row's quantity where the shop is 8.0 or later, a read and a PUT of the whole row
//! on 1.7) that implements the domain's `ShopConnector`, the encoding of item ids (`ids.rs`), and a
//! simulator of the Webservice ([`PrestaSim`], in `sim/`, which reads and writes its own JSON
//! and XML so that the contract tests check one against the other).

mod client;
pub mod ids;
pub mod sim;
pub mod wire;

pub use client::{
    DEFAULT_BACKOFF, MAX_IN_FLIGHT, OrderStates, PAGE_SIZE, PrestaClient, PrestaError,
    PrestaVersion,
};
pub use ids::{item_id, parse_item_id};
pub use sim::{PrestaSim, PrestaSimOptions};
