//! `PrestaClient` as the engine sees it: the `ShopConnector` port, and `PrestaError` turned
//! into the port's `ShopError`. The work is in `items.rs`, `stock.rs` and `orders.rs`.

use super::{PrestaClient, PrestaError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopItem, ShopOrder, WriteOutcome};
use stocksync_domain::{ShopConnector, ShopError, ShopKind};

impl From<PrestaError> for ShopError {
    fn from(err: PrestaError) -> Self {
        match err {
            PrestaError::Unavailable(what) => ShopError::Unavailable(what),
            PrestaError::Auth(what) => ShopError::Unauthorized(what),
            PrestaError::NotFound(what) => ShopError::NotFound(what),
            PrestaError::MethodNotAllowed(what) | PrestaError::Rejected(what) => {
                ShopError::Rejected(what)
            }
        }
    }
}

#[async_trait]
impl ShopConnector for PrestaClient {
    fn kind(&self) -> ShopKind {
        ShopKind::PrestaShop
    }

    async fn items(&self) -> Result<Vec<ShopItem>, ShopError> {
        Ok(self.all_items().await?)
    }

    async fn items_by_ref(&self, items: &[ItemRef]) -> Result<Vec<ShopItem>, ShopError> {
        Ok(self.items_by_id(items).await?)
    }

    async fn items_by_sku(&self, skus: &[String]) -> Result<Vec<ShopItem>, ShopError> {
        Ok(self.find_by_sku(skus).await?)
    }

    async fn set_quantities(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        self.set_stock(writes).await
    }

    async fn orders_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ShopOrder>, ShopError> {
        Ok(PrestaClient::orders_since(self, since).await?)
    }

    async fn order(&self, id: &str) -> Result<Option<ShopOrder>, ShopError> {
        Ok(self.order_by_id(id).await?)
    }
}
