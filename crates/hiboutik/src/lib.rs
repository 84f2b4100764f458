//! Hiboutik (API v2, `https://{account}.hiboutik.com/api`) for stocksync: the connector
//! ([`HiboutikConnector`], in `client/`, reading the vendor JSON of `wire.rs`) and a simulator
//! of the API ([`HiboutikSim`], in `sim/`, which writes its JSON on its own so that the contract
//! tests check one against the other).

mod client;
mod item_ref;
pub mod sim;
mod wire;

pub use client::{EXT_REF_PREFIX, HiboutikConnector, MAX_IN_FLIGHT};
pub use item_ref::ItemRef;
pub use sim::{HiboutikSim, HiboutikSimOptions, SaleStep, TypeMode};
