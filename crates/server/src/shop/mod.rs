//! The shop platform reached through its API (`Shop` in the configuration): its connector,
//! and what the rest of the service needs to reach it.

use crate::config::ShopConfig;
use std::sync::Arc;
use stocksync_domain::ShopConnector;
use tokio::sync::Notify;

/// The configured shop, shared by the API and the shop's background work.
#[derive(Clone)]
pub struct ShopHandle {
    pub config: ShopConfig,
    pub connector: Arc<dyn ShopConnector>,
    /// Rung when the shop has something to do at once (a webhook's order, a change to push).
    pub wake: Arc<Notify>,
}
