//! `WooError`: what a WooCommerce call can end in, sorted into transient (try again later) and
//! permanent (shop-apis.md §1.3, §1.10). Messages name the shop and the call, never a secret
//! and never a URL (an OAuth query carries a signature). Crosses the port as a `ShopError`
//! (`shop.rs`).

use std::time::Duration;
use stocksync_pos::retry::Retryable;
use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum WooError {
    /// Transport trouble, timeouts, 5xx, a proxy's HTML page, an unreadable answer.
    #[error("WooCommerce unavailable: {0}")]
    Unavailable(String),
    /// 429, from the host or a firewall in front of WordPress (WooCommerce has no limiter).
    #[error("rate limited by WooCommerce's host: {what}")]
    RateLimited {
        what: String,
        retry_after: Option<Duration>,
    },
    /// 401, or 403 with WooCommerce's own error body: the keys are wrong or lack permission.
    #[error("WooCommerce refused our keys: {0}")]
    Auth(String),
    /// An unknown product, variation or order.
    #[error("not found on WooCommerce: {0}")]
    NotFound(String),
    /// Any other refusal in WooCommerce's error shape (400, 413…): sending it again will not help.
    #[error("rejected by WooCommerce: {0}")]
    Rejected(String),
}

impl WooError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::RateLimited { .. })
    }
}

impl Retryable for WooError {
    fn is_transient(&self) -> bool {
        WooError::is_transient(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
