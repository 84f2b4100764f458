//! `ShopifyClient`: the calls stocksync makes to one Shopify shop (Admin GraphQL API,
//! shop-apis.md §2), offered to the engine as a `ShopConnector` (`shop.rs`).
//!
//! The modules: `pace` (the cost bucket as Shopify last reported it, and how long to wait
//! before a query: pure), `call` (one GraphQL call: pacing, the token, errors → `ShopError`,
//! retries), `stock` (variants and their level at the location, by id and by SKU, sets with
//! compare-and-set and an idempotency key), `orders` (orders updated since a time, one order),
//! `shop` (the port).

mod call;
mod orders;
mod pace;
mod shop;
mod stock;

pub use orders::ORDER_PAGE;
pub use stock::{VARIANT_PAGE, WRITE_LIMIT};

use reqwest::Url;
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use tokio::sync::OnceCell;

/// How transient failures are retried by default: about half a second, doubling, 4 retries.
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(500),
    max: Duration::from_secs(30),
    retries: 4,
};

/// Whether `version` names an Admin API version: `YYYY-MM`, or `unstable`.
pub fn is_api_version(version: &str) -> bool {
    version == "unstable"
        || (version.len() == 7
            && version.as_bytes()[4] == b'-'
            && version
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit()))
}

/// A location's GraphQL id from `gid://shopify/Location/123` or the bare `123`; `None` for
/// anything else.
pub fn location_gid(id: &str) -> Option<String> {
    let number = id.strip_prefix("gid://shopify/Location/").unwrap_or(id);
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("gid://shopify/Location/{number}"))
}

/// One shop at one location. `Debug` shows the token as `[REDACTED]`. Clones share the cost
/// bucket and the location.
#[derive(Clone, Debug)]
pub struct ShopifyClient {
    http: PosHttp,
    /// `{base}/admin/api/{version}/graphql.json`
    endpoint: Url,
    token: SecretString,
    backoff: Backoff,
    /// The location whose `available` quantity is read and written: configured, or the
    /// shop's primary location, asked once.
    location: Arc<OnceCell<String>>,
    bucket: Arc<Mutex<pace::Bucket>>,
    /// Stock tracked variants not stocked at the location on their first write
    /// (`inventoryActivate`) instead of reporting them.
    activate: bool,
}

impl ShopifyClient {
    /// A client of the shop at `base_url` (`https://{shop}.myshopify.com`, or a simulator),
    /// API version `api_version` (`2026-04`), stock at `location_id` (a `gid://shopify/Location/…`;
    /// `None`: the shop's primary location). `Err` says why an argument cannot be used.
    pub fn new(
        base_url: &str,
        access_token: SecretString,
        api_version: &str,
        location_id: Option<String>,
        http: PosHttp,
    ) -> Result<Self, String> {
        let mut endpoint = Url::parse(base_url)
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && !url.cannot_be_a_base()
                    && url.query().is_none()
            })
            .ok_or_else(|| format!("'{base_url}' is not an http(s) address"))?;
        if !is_api_version(api_version) {
            return Err(format!(
                "ApiVersion '{api_version}' is not a Shopify API version (YYYY-MM)"
            ));
        }
        endpoint
            .path_segments_mut()
            .expect("checked to be a base")
            .pop_if_empty()
            .extend(["admin", "api", api_version, "graphql.json"]);
        let location = match location_id {
            Some(id) => OnceCell::new_with(Some(location_gid(&id).ok_or_else(|| {
                format!("LocationID '{id}' is not a gid://shopify/Location/… id")
            })?)),
            None => OnceCell::new(),
        };
        Ok(Self {
            http,
            endpoint,
            token: access_token,
            backoff: DEFAULT_BACKOFF,
            location: Arc::new(location),
            bucket: Arc::new(Mutex::new(pace::Bucket::default())),
            activate: false,
        })
    }

    /// Whether a tracked variant the merchant has not stocked at the location is stocked there
    /// by stocksync's first write (`inventoryActivate`); by default it is reported, never
    /// activated behind the merchant's back.
    pub fn with_activation(mut self, activate: bool) -> Self {
        self.activate = activate;
        self
    }

    /// Retries transient failures with `backoff` instead of [`DEFAULT_BACKOFF`].
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}
