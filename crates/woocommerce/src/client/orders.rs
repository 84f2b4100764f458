//! Orders: those modified since a watermark (less an overlap, so that an order saved while the
//! previous read ran is seen again rather than missed), one order by id, and an order's refunds.

use super::{WooClient, WooError};
use crate::wire::{Order, Refund};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How far before the watermark a read starts again (shop-apis.md §4.3: at least 2 minutes).
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(5 * 60);

const ORDERS: &str = "GET /orders";
const ORDER: &str = "GET /orders/{id}";
const REFUNDS: &str = "GET /orders/{id}/refunds";

impl WooClient {
    /// Every order modified after `watermark − overlap` (GMT), sorted by id, 100 a call.
    pub async fn orders_modified_since(
        &self,
        watermark: DateTime<Utc>,
        overlap: Duration,
    ) -> Result<Vec<Order>, WooError> {
        let after = watermark - chrono::Duration::from_std(overlap).unwrap_or_default();
        let params = vec![
            (
                "modified_after".to_owned(),
                after.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            ("dates_are_gmt".to_owned(), "true".to_owned()),
            ("orderby".to_owned(), "id".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
        ];
        self.get_pages(ORDERS, &["orders"], params).await
    }

    pub async fn order(&self, id: i64) -> Result<Order, WooError> {
        self.get(ORDER, &["orders", &id.to_string()], Vec::new())
            .await
    }

    /// The refunds of an order, with their lines (quantities negative).
    pub async fn refunds(&self, order_id: i64) -> Result<Vec<Refund>, WooError> {
        self.get_pages(
            REFUNDS,
            &["orders", &order_id.to_string(), "refunds"],
            Vec::new(),
        )
        .await
    }
}
