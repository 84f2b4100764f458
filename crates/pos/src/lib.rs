//! What every POS client and every POS simulator shares: the HTTP plumbing with timeouts and a
//! count of calls, lenient JSON readers for vendors' loose typing, backoff with jitter, the one
//! retry loop the clients' calls go through (`retry`), webhook signatures (`signature`), and
//! (in `simkit`) the pieces the simulators are built from.
//!
//! Vendor specifics live in the vendor crates (`stocksync-square`, `stocksync-hiboutik`,
//! `stocksync-lightspeed`), each with its client and its simulator kept apart.

pub mod backoff;
pub mod calls;
pub mod http;
pub mod lenient;
pub mod retry;
pub mod signature;
pub mod simkit;

pub use calls::CallLog;
pub use http::PosHttp;
