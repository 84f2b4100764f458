//! Lightspeed Retail (R-Series) for stocksync: the V3 API client behind `PosConnector`
//! (`client`, with its `auth` tokens, `pacing` and `wire` JSON), and a simulator of the API
//! for tests, benchmarks and `stocksync simulate` (`sim`, which shares nothing with the client).

mod auth;
mod client;
mod pacing;
pub mod sim;
mod wire;

pub use client::LightspeedConnector;
pub use sim::{LightspeedSim, LightspeedSimOptions, RateLimit};
