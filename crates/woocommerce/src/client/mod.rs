//! `WooClient`: the calls stocksync makes to one WooCommerce shop (REST API `wc/v3`,
//! shop-apis.md §1), offered to the engine as a `ShopConnector` (`shop.rs`).
//!
//! The modules: `auth` (Basic over https, OAuth 1.0a over http), `call` (one call: at most
//! four in flight, auth, status → `WooError`, retries, every page of a list), `stock`
//! (sellable items, reads by id and by SKU, batched stock writes), `orders` (orders modified
//! since a time, one order, what refunds restocked), `shop` (the port, `WooError` →
//! `ShopError`), and `error`.

mod auth;
mod call;
mod error;
mod orders;
mod shop;
mod stock;

pub use call::MAX_IN_FLIGHT;
pub use error::WooError;
pub use stock::BATCH_LIMIT;

use reqwest::Url;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use tokio::sync::Semaphore;

/// How transient failures are retried by default: about half a second, doubling, 4 retries
/// (5 attempts), a `Retry-After` honoured up to 30 s.
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(500),
    max: Duration::from_secs(30),
    retries: 4,
};

/// How requests are authenticated: WooCommerce picks by transport (§1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// HTTP Basic with the consumer key and secret: only over https.
    Basic,
    /// OAuth 1.0a one-legged, HMAC-SHA256, in the query: what WooCommerce accepts over http.
    OAuth,
}

/// One shop. `Debug` shows the consumer secret as `[REDACTED]`. Clones share the limit of
/// [`MAX_IN_FLIGHT`] requests.
#[derive(Clone, Debug)]
pub struct WooClient {
    http: PosHttp,
    /// `{BaseUrl}/wp-json/wc/v3`
    api: Url,
    consumer_key: String,
    consumer_secret: SecretString,
    scheme: AuthScheme,
    backoff: Backoff,
    /// One permit per request in flight.
    gate: Arc<Semaphore>,
}

impl WooClient {
    /// A client for the site at `base_url` (the API is under `/wp-json/wc/v3`): Basic auth when
    /// it is https, OAuth 1.0a when it is http. `Err` says why `base_url` cannot be used.
    pub fn new(
        base_url: &str,
        consumer_key: &str,
        consumer_secret: SecretString,
        http: PosHttp,
    ) -> Result<Self, String> {
        let mut api = Url::parse(base_url)
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && !url.cannot_be_a_base()
                    && url.query().is_none()
            })
            .ok_or_else(|| format!("BaseUrl '{base_url}' is not an http(s) address"))?;
        api.path_segments_mut()
            .expect("checked to be a base")
            .pop_if_empty()
            .extend(["wp-json", "wc", "v3"]);
        let scheme = if api.scheme() == "https" {
            AuthScheme::Basic
        } else {
            AuthScheme::OAuth
        };
        Ok(Self {
            http,
            api,
            consumer_key: consumer_key.to_owned(),
            consumer_secret,
            scheme,
            backoff: DEFAULT_BACKOFF,
            gate: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Uses Basic auth even over http: for a site that takes itself for https behind a
    /// TLS-terminating proxy, and for tests against a simulator in that mode.
    pub fn basic_auth_over_http(mut self) -> Self {
        self.scheme = AuthScheme::Basic;
        self
    }

    /// Retries transient failures with `backoff` instead of [`DEFAULT_BACKOFF`] (`retries: 0`
    /// tries each call once).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn scheme(&self) -> AuthScheme {
        self.scheme
    }
}
