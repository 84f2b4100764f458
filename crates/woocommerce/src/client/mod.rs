//! `WooClient`: the calls stocksync makes to one WooCommerce shop (REST API `wc/v3`,
//! shop-apis.md §1). Not wired into the engine yet.
//!
//! The modules: `auth` (Basic over https, OAuth 1.0a over http), `call` (one call: auth,
//! status → `WooError`, every page of a list), `stock` (sellable items, SKU look-ups, batched
//! stock writes), `orders` (orders modified since a watermark, one order, its refunds), and
//! `error`.

mod auth;
mod call;
mod error;
mod orders;
mod stock;

pub use error::WooError;
pub use orders::DEFAULT_OVERLAP;
pub use stock::{BATCH_LIMIT, ShopItem, StockWrite, WriteResult};

use reqwest::Url;
use secrecy::SecretString;
use stocksync_pos::PosHttp;

/// How requests are authenticated: WooCommerce picks by transport (§1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// HTTP Basic with the consumer key and secret: only over https.
    Basic,
    /// OAuth 1.0a one-legged, HMAC-SHA256, in the query: what WooCommerce accepts over http.
    OAuth,
}

/// One shop. `Debug` shows the consumer secret as `[REDACTED]`.
#[derive(Clone, Debug)]
pub struct WooClient {
    http: PosHttp,
    /// `{BaseUrl}/wp-json/wc/v3`
    api: Url,
    consumer_key: String,
    consumer_secret: SecretString,
    scheme: AuthScheme,
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
        })
    }

    /// Uses Basic auth even over http: for a site that takes itself for https behind a
    /// TLS-terminating proxy, and for tests against a simulator in that mode.
    pub fn basic_auth_over_http(mut self) -> Self {
        self.scheme = AuthScheme::Basic;
        self
    }

    pub fn scheme(&self) -> AuthScheme {
        self.scheme
    }
}
