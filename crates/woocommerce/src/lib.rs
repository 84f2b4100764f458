//! WooCommerce (REST API `wc/v3`, `{site}/wp-json/wc/v3`) for stocksync's shop side: a client
//! ([`WooClient`], in `client/`, reading the JSON of `wire.rs`), webhook signature checks
//! (`webhook.rs`), and a simulator of the API ([`WooSim`], in `sim/`, which writes its JSON and
//! checks signatures on its own so that the contract tests check one against the other).
//! Not wired into the engine yet.

mod client;
pub mod sim;
pub mod webhook;
pub mod wire;

pub use client::{
    AuthScheme, BATCH_LIMIT, DEFAULT_OVERLAP, ShopItem, StockWrite, WooClient, WooError,
    WriteResult,
};
pub use sim::{WooSim, WooSimOptions};
pub use webhook::verify_signature;
