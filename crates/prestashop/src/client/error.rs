//! `PrestaError`: what a Webservice call can end in, sorted into transient (try again later)
//! and permanent (shop-apis.md §3.6). Messages name the shop and the call, never the key and
//! never a URL. Crosses the port as a `ShopError` (`shop.rs`).

use stocksync_pos::retry::Retryable;
use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PrestaError {
    /// Transport trouble, timeouts, 5xx (an HTML page from PHP or a proxy), an unreadable answer.
    #[error("PrestaShop unavailable: {0}")]
    Unavailable(String),
    /// 401 (codes 16–21, 26) or 403 (132): the key is wrong, inactive, or lacks permission.
    #[error("PrestaShop refused our key: {0}")]
    Auth(String),
    /// 404 with the Webservice's error body (87, 92, 999).
    #[error("not found on PrestaShop: {0}")]
    NotFound(String),
    /// 405 with the Webservice's error body: the method is not valid on this version (23),
    /// not allowed for the key (25) or forbidden for the resource (101).
    #[error("PrestaShop does not take this method: {0}")]
    MethodNotAllowed(String),
    /// Any other refusal in the Webservice's error shape (400…): sending it again will not help.
    #[error("rejected by PrestaShop: {0}")]
    Rejected(String),
}

impl PrestaError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The Webservice sends no `Retry-After`: every retry waits the backoff's delay.
impl Retryable for PrestaError {
    fn is_transient(&self) -> bool {
        PrestaError::is_transient(self)
    }
}
