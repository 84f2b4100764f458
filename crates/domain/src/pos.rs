//! The port every POS connector implements (Square, Hiboutik, Lightspeed Retail), and the
//! vendor-neutral shapes it speaks.
//!
//! A connector covers one configured account and the locations (Square locations, Lightspeed
//! shops, Hiboutik warehouses) its configuration names; the quantities it reports are already
//! summed over those locations. Vendor JSON never crosses this boundary.

use crate::PosRef;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The POS families of the original program's `Type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PosKind {
    Square,
    Hiboutik,
    Lightspeed,
}

named_enum!(PosKind {
    Square => "square",
    Hiboutik => "hiboutik",
    Lightspeed => "lightspeed",
});

impl PosKind {
    /// The original `Type` codes: `1` Square, `2` Hiboutik, `3` Lightspeed.
    pub fn from_type_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Square),
            2 => Some(Self::Hiboutik),
            3 => Some(Self::Lightspeed),
            _ => None,
        }
    }
}

/// How a product is looked up when a link is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductQuery {
    /// The POS's own product reference.
    Id(PosRef),
    /// A SKU or barcode, matched exactly.
    Sku(String),
    /// A name. Connectors return every product whose name contains the text, ignoring case;
    /// the caller keeps the exact matches and shows the rest as candidates.
    Name(String),
}

/// A product as a POS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosProduct {
    pub pos_ref: PosRef,
    pub name: String,
    /// The merchant's code for it (Square: the variation's `sku`; Hiboutik: its barcode, which
    /// Hiboutik's own shop plugins match SKUs against; Lightspeed: `customSku`, else the
    /// `systemSku` it prints on labels). `None` when it has none.
    pub sku: Option<String>,
    /// Its barcode (Square: `upc`; Hiboutik: `product_barcode`, or the size's `barcode`;
    /// Lightspeed: `upc`, else `ean`). `None` when it has none.
    pub barcode: Option<String>,
    /// Units in stock over the account's configured locations.
    pub quantity: i64,
}

/// One product's count, as read from the POS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockCount {
    pub pos_ref: PosRef,
    pub quantity: i64,
    /// The POS's own clock for this count (Square `calculated_at`, Lightspeed `timeStamp`),
    /// when it has one.
    pub counted_at: Option<DateTime<Utc>>,
}

/// The result of a stock read that followed every page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockRead {
    pub counts: Vec<StockCount>,
    /// Where the next incremental read starts; opaque to everyone but the connector.
    pub cursor: Option<String>,
}

/// A web sale to record on the POS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosSale {
    /// Stable across retries: the connector derives its idempotency key or external reference
    /// from it, so the POS records the sale once.
    pub sale_key: String,
    pub pos_ref: PosRef,
    /// Units sold (positive), or units returned to stock (negative: a web return).
    pub quantity: i64,
    /// Paid by the customer, or refunded for a return, in cents (never negative).
    pub balance_cents: i64,
    /// An earlier attempt may have reached the POS (its answer was lost, or its process
    /// stopped mid-call): a connector without an idempotency key must look the sale up before
    /// writing it. `false` on the first attempt, which writes directly.
    pub sent_before: bool,
}

/// What the POS answered for a recorded sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosSaleReceipt {
    /// The POS's id for the sale (or the inventory adjustment).
    pub pos_reference: String,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Why a POS call failed. Messages name the account and the call, never a credential.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PosError {
    #[error("the POS refused our credentials: {0}")]
    Unauthorized(String),
    #[error("rate limited by the POS{}", retry_hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("the POS call budget is spent: {0}")]
    BudgetExhausted(String),
    #[error("not found on the POS: {0}")]
    NotFound(String),
    /// The POS refused the request for good (bad data, item gone): retrying will not help.
    #[error("rejected by the POS: {0}")]
    Rejected(String),
    /// Network trouble, timeouts, 5xx, unparseable answers: worth retrying later.
    #[error("POS unavailable: {0}")]
    Unavailable(String),
    /// This build has no working client for the account's POS.
    #[error("{0}")]
    Unsupported(String),
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(" (retry after {}s)", wait.as_secs()))
        .unwrap_or_default()
}

impl PosError {
    /// Whether the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable(_))
    }

    /// The error of a step after which the sale may already be on the POS (or of a step that
    /// cannot refuse it): a refusal or a "not found" there is no final answer about the sale,
    /// so it becomes [`PosError::Unavailable`] and the sale is tried again, looked up first.
    /// Its units are never given back on such an error.
    pub fn not_final(self) -> Self {
        match self {
            Self::Rejected(message) | Self::NotFound(message) => Self::Unavailable(message),
            other => other,
        }
    }

    /// [`PosError::not_final`] for a "not found" only: a refusal stays final.
    pub fn not_found_not_final(self) -> Self {
        match self {
            Self::NotFound(message) => Self::Unavailable(message),
            other => other,
        }
    }
}

/// One POS account, seen through the operations stocksync needs.
#[async_trait]
pub trait PosConnector: Send + Sync {
    /// Products matching a lookup (see [`ProductQuery`] for how names match).
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError>;

    /// Every product of the account with its name, SKU, barcode and quantity over the
    /// configured locations (as [`PosConnector::find_products`] describes one), following every
    /// page, with bulk calls only: never one call per product. For matching a shop's items by
    /// SKU or barcode. No default: each connector says what it costs in calls.
    async fn products(&self) -> Result<Vec<PosProduct>, PosError>;

    /// Counts changed since `cursor` (every count when `None`), following every page, with bulk
    /// calls only: never one call per product.
    async fn read_stock(&self, cursor: Option<&str>) -> Result<StockRead, PosError>;

    /// The counts of just these products, for a webhook that names them. By default a read of
    /// every count, kept to these products; connectors with a cheaper targeted read override it.
    async fn read_items(&self, refs: &[PosRef]) -> Result<StockRead, PosError> {
        let mut read = self.read_stock(None).await?;
        read.counts.retain(|count| refs.contains(&count.pos_ref));
        read.cursor = None;
        Ok(read)
    }

    /// Records a web sale (or, with a negative quantity, a return), idempotently: calling it again with the same `sale_key` (after a
    /// timeout, a crash, a retry) never makes a second sale on the POS.
    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_that_may_hide_a_write_is_never_final() {
        let unavailable = |m: &str| PosError::Unavailable(m.into());
        assert_eq!(PosError::Rejected("r".into()).not_final(), unavailable("r"));
        assert_eq!(PosError::NotFound("n".into()).not_final(), unavailable("n"));
        assert_eq!(
            PosError::NotFound("n".into()).not_found_not_final(),
            unavailable("n")
        );
        assert_eq!(
            PosError::Rejected("r".into()).not_found_not_final(),
            PosError::Rejected("r".into()),
            "a refusal before anything was written stays final"
        );
        let auth = PosError::Unauthorized("a".into());
        assert_eq!(auth.clone().not_final(), auth);
    }

    use super::*;

    #[test]
    fn type_codes_follow_the_original_enumeration() {
        assert_eq!(PosKind::from_type_code(1), Some(PosKind::Square));
        assert_eq!(PosKind::from_type_code(2), Some(PosKind::Hiboutik));
        assert_eq!(PosKind::from_type_code(3), Some(PosKind::Lightspeed));
        assert_eq!(PosKind::from_type_code(4), None);
    }

    #[test]
    fn only_rate_limits_and_outages_are_transient() {
        assert!(PosError::Unavailable("timeout".into()).is_transient());
        assert!(PosError::RateLimited { retry_after: None }.is_transient());
        assert!(!PosError::Rejected("item archived".into()).is_transient());
        assert!(!PosError::Unauthorized("401".into()).is_transient());
    }

    #[test]
    fn rate_limit_message_tells_the_wait() {
        let err = PosError::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(err.to_string(), "rate limited by the POS (retry after 3s)");
    }
}
