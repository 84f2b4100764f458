//! WooCommerce (REST API `wc/v3`, `{site}/wp-json/wc/v3`) for stocksync's shop side: a client
//! ([`WooClient`], in `client/`, reading the JSON of `wire.rs`) that implements the domain's
//! `ShopConnector`, webhook deliveries read and checked (`webhook.rs`), and a simulator of the
//! API ([`WooSim`], in `sim/`, which writes its JSON and signs its deliveries on its own so that
//! the contract tests check one against the other).

mod client;
pub mod sim;
pub mod webhook;
pub mod wire;

pub use client::{AuthScheme, BATCH_LIMIT, DEFAULT_BACKOFF, MAX_IN_FLIGHT, WooClient};
pub use sim::{WooSim, WooSimOptions};
pub use webhook::{Delivery, DeliveryError, read_delivery, verify_signature};
