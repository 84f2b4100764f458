//! `PrestaClient`: the calls stocksync makes to one PrestaShop Webservice (shop-apis.md §3),
//! offered to the engine as a `ShopConnector` (`shop.rs`).
//!
//! The modules: `call` (one call: at most two in flight, Basic auth with the key, status and
//! error body → `PrestaError`, retries, every page of a list), `xml` (the write side's XML),
//! `items` (products and combinations as items, with their `stock_availables` quantities),
//! `stock` (a PATCH of the quantity on 8.0+, else read-modify-write of whole rows), `version`
//! (the shop's version from `PSWS-Version`, and which way stock is written), `orders` (orders
//! updated since a time, their states), `shop` (the port, `PrestaError` → `ShopError`), and
//! `error`.

mod call;
mod error;
mod items;
mod orders;
mod shop;
mod stock;
mod version;
mod xml;

pub use call::{MAX_IN_FLIGHT, PAGE_SIZE};
pub use error::PrestaError;
pub use orders::OrderStates;
pub use version::PrestaVersion;

use chrono_tz::Tz;
use reqwest::Url;
use secrecy::SecretString;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use tokio::sync::Semaphore;

/// How transient failures are retried by default: about half a second, doubling, 4 retries.
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(500),
    max: Duration::from_secs(30),
    retries: 4,
};

/// One shop. `Debug` shows the key as `[REDACTED]`. Clones share the limit of
/// [`MAX_IN_FLIGHT`] requests, and what the answers taught of the shop (its version, whether
/// it takes PATCH).
#[derive(Clone, Debug)]
pub struct PrestaClient {
    http: PosHttp,
    /// `{BaseUrl}/api`
    api: Url,
    key: SecretString,
    /// Sent as `id_shop` on every call when set (multistore).
    shop_id: Option<i64>,
    /// The shop's time zone: the Webservice's dates are local times without an offset.
    time_zone: Tz,
    states: OrderStates,
    backoff: Backoff,
    /// One permit per request in flight.
    gate: Arc<Semaphore>,
    /// The shop's version and whether it refused a PATCH, as its answers said.
    learnt: Arc<Mutex<version::Learnt>>,
}

impl PrestaClient {
    /// A client for the shop at `base_url` (the Webservice is under `/api`), authenticated
    /// with `api_key` as the Basic-auth user and an empty password, in the shop `shop_id` of a
    /// multistore (`None`: the shop's default context). Dates are read as UTC until
    /// [`with_time_zone`](Self::with_time_zone) says otherwise. `Err` says why `base_url`
    /// cannot be used.
    pub fn new(
        base_url: &str,
        api_key: SecretString,
        shop_id: Option<i64>,
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
            .push("api");
        Ok(Self {
            http,
            api,
            key: api_key,
            shop_id,
            time_zone: Tz::UTC,
            states: OrderStates::default(),
            backoff: DEFAULT_BACKOFF,
            gate: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            learnt: Arc::default(),
        })
    }

    /// The shop's time zone (PrestaShop's `PS_TIMEZONE`; the Webservice does not say it): how
    /// `date_add`/`date_upd` are read and the order filter is written.
    pub fn with_time_zone(mut self, zone: Tz) -> Self {
        self.time_zone = zone;
        self
    }

    /// Which order states count as sold, cancelled, refunded, instead of PrestaShop's defaults.
    pub fn with_order_states(mut self, states: OrderStates) -> Self {
        self.states = states;
        self
    }

    /// Retries transient failures with `backoff` instead of [`DEFAULT_BACKOFF`].
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The shop's version, as the `PSWS-Version` header of the last answer that had one said
    /// (`None` before any, or when unreadable). From 8.0, stock is written with PATCH.
    pub fn version(&self) -> Option<PrestaVersion> {
        self.learnt().version
    }

    fn learnt(&self) -> MutexGuard<'_, version::Learnt> {
        self.learnt.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
