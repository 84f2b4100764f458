//! Integration tests of the stocksync service: the real app on a real database (SQLite, and
//! MariaDB when `STOCKSYNC_TEST_MARIADB_URL` is set), spoken to over HTTP.

mod auth;
mod bounds;
mod chaos;
mod cli;
mod config;
mod contention;
mod dashboard;
mod history;
mod items;
mod items_match;
mod jobs;
mod metrics;
mod migrations;
mod openapi;
mod outbox;
mod pos_state;
mod process;
mod processes;
mod races;
mod readme;
mod reconcile;
mod remote;
mod row_lock;
mod sale_states;
mod sales;
mod scheduler;
mod shop;
mod shop_race;
mod shop_reconcile;
mod shop_status;
mod shop_table;
mod simulators;
mod synchronizer;
mod token_rotation;
mod webhooks;
