//! Contract tests: the real `LightspeedConnector` against the real `LightspeedSim`, over HTTP
//! on 127.0.0.1, with tokens kept in a real SQLite `Store`. No mocks.

mod auth;
mod catalog;
mod pacing;
mod products;
mod sales;
mod stock;
mod support;
