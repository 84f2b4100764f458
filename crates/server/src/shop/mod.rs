//! The shop platform reached through its API (`Shop` in the configuration): its connector,
//! and what the rest of the service needs to reach it.

use crate::config::ShopConfig;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopItem, ShopOrder, WriteOutcome};
use stocksync_domain::{ShopConnector, ShopError, ShopKind};
use tokio::sync::Notify;

/// The configured shop, shared by the API and the shop's background work.
#[derive(Clone)]
pub struct ShopHandle {
    pub config: ShopConfig,
    pub connector: Arc<dyn ShopConnector>,
    /// Rung when the shop has something to do at once (a webhook's order, a change to push).
    pub wake: Arc<Notify>,
}

/// The name the shop's read state is kept under (`Store::shop_read_state`, `shop_polled`).
pub const SHOP_STATE: &str = "shop";

impl ShopHandle {
    /// The configured shop before the shop engine connects its platform: every call fails as
    /// unavailable. A stand-in so that the shop's status can be read; the engine replaces it.
    pub fn unconnected(config: ShopConfig) -> Self {
        Self {
            connector: Arc::new(Unconnected(config.kind)),
            config,
            wake: Arc::new(Notify::new()),
        }
    }
}

struct Unconnected(ShopKind);

fn not_connected() -> ShopError {
    ShopError::Unavailable("the shop is not connected yet".to_owned())
}

#[async_trait::async_trait]
impl ShopConnector for Unconnected {
    fn kind(&self) -> ShopKind {
        self.0
    }

    async fn items(&self) -> Result<Vec<ShopItem>, ShopError> {
        Err(not_connected())
    }

    async fn items_by_ref(&self, _: &[ItemRef]) -> Result<Vec<ShopItem>, ShopError> {
        Err(not_connected())
    }

    async fn items_by_sku(&self, _: &[String]) -> Result<Vec<ShopItem>, ShopError> {
        Err(not_connected())
    }

    async fn set_quantities(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        writes
            .iter()
            .map(|_| WriteOutcome::Failed(not_connected()))
            .collect()
    }

    async fn orders_since(&self, _: Option<DateTime<Utc>>) -> Result<Vec<ShopOrder>, ShopError> {
        Err(not_connected())
    }

    async fn order(&self, _: &str) -> Result<Option<ShopOrder>, ShopError> {
        Err(not_connected())
    }
}
