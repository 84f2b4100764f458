//! Square for stocksync: `SquareConnector`, the `PosConnector` over Square's Catalog and
//! Inventory v2 APIs, `verify_signature` for its webhooks, and `SquareSim`, a simulator of
//! those APIs for tests, the demo and the benchmarks. The client (`client`, `wire`) and the
//! simulator (`sim`) share no JSON types, so the contract tests check one against the other.

mod client;
mod quantity;
pub mod sim;
pub mod webhook;
mod wire;

pub use client::{SQUARE_VERSION, SquareConnector};
pub use sim::{SquareSim, SquareSimOptions};
pub use webhook::verify_signature;
