//! `ShopifyClient` as the engine sees it: the `ShopConnector` port. The work is in
//! `stock.rs` and `orders.rs`; errors are `ShopError`s from the start (`call.rs`).

use super::ShopifyClient;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopItem, ShopOrder, WriteOutcome};
use stocksync_domain::{ShopConnector, ShopError, ShopKind};

#[async_trait]
impl ShopConnector for ShopifyClient {
    fn kind(&self) -> ShopKind {
        ShopKind::Shopify
    }

    async fn items(&self) -> Result<Vec<ShopItem>, ShopError> {
        self.variants(None).await
    }

    async fn items_by_ref(&self, items: &[ItemRef]) -> Result<Vec<ShopItem>, ShopError> {
        self.variants_by_id(items).await
    }

    async fn items_by_sku(&self, skus: &[String]) -> Result<Vec<ShopItem>, ShopError> {
        self.variants_by_sku(skus).await
    }

    async fn set_quantities(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        self.set_available(writes).await
    }

    async fn orders_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ShopOrder>, ShopError> {
        self.updated_orders(since).await
    }

    async fn order(&self, id: &str) -> Result<Option<ShopOrder>, ShopError> {
        self.order_by_id(id).await
    }
}
