//! The stocksync service: configuration, the HTTP API, the synchronizer and its task runner.
//! `main.rs` only calls [`cli::main`]; tests start the real service with [`app::run`].

pub mod accounts;
pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod lease;
pub mod link_csv;
pub mod logging;
pub mod metrics;
pub mod outbox;
pub mod remote;
pub mod runner;
pub mod scheduler;
pub mod schedules;
pub mod shop;
pub mod simulate;
pub mod sync;
pub mod synchronizer;
