//! `SquareConnector`: the `PosConnector` of one Square account (Catalog + Inventory v2), built
//! from its `AccountConfig`. This module owns the account's locations; `catalog` finds
//! products, `stock` reads counts, `sale` records web sales, and `api` makes the calls.
//!
//! Conventions (what the rest of stocksync sees):
//! - a product is an ITEM_VARIATION; its `pos_ref` is the variation id, its SKU the
//!   variation's SKU, and its name the item's name, followed by ` (variation name)` unless
//!   the item has a single variation called `Regular` (Square's default);
//! - a quantity is the sum of the `IN_STOCK` counts over the account's locations (the
//!   configured `Locations`, or every ACTIVE location), summed exactly and then rounded down
//!   to whole units. A variation without any count row (never counted) has 0 when found,
//!   and is absent from stock reads, which only see count rows.

mod api;
mod catalog;
mod sale;
mod stock;

use api::{Api, LOCATIONS};
use async_trait::async_trait;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::pos::{PosProduct, PosSale, PosSaleReceipt, ProductQuery, StockRead};
use stocksync_domain::{PosConnector, PosError, PosKind};
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use tokio::sync::OnceCell;

pub use api::SQUARE_VERSION;

/// The connector of one Square account. `Debug` never shows the access token.
#[derive(Debug)]
pub struct SquareConnector {
    api: Api,
    /// The configured location ids; empty means every ACTIVE location.
    configured_locations: Vec<String>,
    /// The locations in use, asked of Square once when none are configured.
    locations: OnceCell<Vec<String>>,
}

impl SquareConnector {
    /// A connector for `config`, which must be a Square account; calls go through `http`.
    /// Transient failures are retried with [`Backoff::default`] (about 1 s, doubling, 4 retries).
    pub fn new(config: &AccountConfig, http: PosHttp) -> Result<Self, String> {
        let VendorConfig::Square {
            access_token,
            locations,
        } = &config.vendor
        else {
            return Err(format!("account {}: not a Square account", config.id));
        };
        if config.kind != PosKind::Square {
            return Err(format!("account {}: not a Square account", config.id));
        }
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(format!(
                "account {}: the Square base URL must start with http:// or https://",
                config.id
            ));
        }
        let configured_locations: Vec<String> = locations
            .iter()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        Ok(Self {
            api: Api {
                http,
                base_url,
                token: access_token.clone(),
                backoff: Backoff::default(),
            },
            configured_locations,
            locations: OnceCell::new(),
        })
    }

    /// Spaces retries with `backoff` instead of the default (tests use milliseconds).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.api.backoff = backoff;
        self
    }

    /// The locations whose counts are summed: the configured ones, or every ACTIVE one
    /// (asked once, then kept). Sales are recorded at the first.
    async fn locations(&self) -> Result<&[String], PosError> {
        self.locations
            .get_or_try_init(|| self.resolve_locations())
            .await
            .map(Vec::as_slice)
    }

    #[tracing::instrument(skip_all, fields(account = self.api.http.account()), err)]
    async fn resolve_locations(&self) -> Result<Vec<String>, PosError> {
        if !self.configured_locations.is_empty() {
            return Ok(self.configured_locations.clone());
        }
        let answer = self
            .api
            .call::<crate::wire::Locations>(&LOCATIONS, None::<&()>)
            .await?;
        let active: Vec<String> = answer
            .body
            .locations
            .into_iter()
            .filter(|l| l.status.as_deref().is_none_or(|s| s == "ACTIVE"))
            .map(|l| l.id)
            .collect();
        if active.is_empty() {
            return Err(PosError::Rejected(
                self.api
                    .http
                    .describe(LOCATIONS.name, "the account has no ACTIVE location"),
            ));
        }
        Ok(active)
    }
}

#[async_trait]
impl PosConnector for SquareConnector {
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        self.find(query).await
    }

    async fn read_stock(&self, cursor: Option<&str>) -> Result<StockRead, PosError> {
        self.read(cursor).await
    }

    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.record(sale).await
    }
}
