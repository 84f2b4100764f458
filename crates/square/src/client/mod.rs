//! `SquareConnector`: the `PosConnector` of one Square account (Catalog + Inventory v2), built
//! from its `AccountConfig`. This module owns the account's locations; `catalog` finds and
//! lists products, `stock` reads counts, `sale` records web sales, and `api` makes the calls.
//!
//! Conventions (what the rest of stocksync sees):
//! - a product is an ITEM_VARIATION; its `pos_ref` is the variation id, its SKU the
//!   variation's `sku`, its barcode the variation's `upc`, and its name the item's name,
//!   followed by ` (variation name)` unless the item has a single variation called `Regular`
//!   (Square's default);
//! - a quantity is the sum of the `IN_STOCK` counts over the account's locations (the
//!   configured `Locations`; without them, the location whose id is the `AccountID`, as the
//!   original program used it, when the merchant has one; else every ACTIVE location), summed
//!   exactly and then rounded down to whole units. A variation without any count row (never
//!   counted) has 0 when found or listed, and is absent from stock reads, which only see count
//!   rows.

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
    /// The configured location ids; when empty, see [`in_use`].
    configured_locations: Vec<String>,
    /// The `AccountID`: the original program's location id.
    account_id: String,
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
            account_id: config.id.to_string(),
            locations: OnceCell::new(),
        })
    }

    /// Spaces retries with `backoff` instead of the default (tests use milliseconds).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.api.backoff = backoff;
        self
    }

    /// The locations whose counts are summed: the configured ones, or those [`in_use`] picks
    /// from the merchant's (asked once, then kept). Sales are recorded at the first.
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
        let listed: Vec<(String, bool)> = answer
            .body
            .locations
            .into_iter()
            .map(|l| {
                let active = l.status.as_deref().is_none_or(|s| s == "ACTIVE");
                (l.id, active)
            })
            .collect();
        let locations = in_use(&self.account_id, listed);
        if locations.is_empty() {
            return Err(PosError::Rejected(
                self.api
                    .http
                    .describe(LOCATIONS.name, "the account has no ACTIVE location"),
            ));
        }
        Ok(locations)
    }
}

/// The locations an account without `Locations` uses, among the merchant's `(id, active)`:
/// the one whose id is the `AccountID` (the original program's Connect v1 calls took the
/// `AccountID` as their location), else every ACTIVE one.
fn in_use(account_id: &str, listed: Vec<(String, bool)>) -> Vec<String> {
    if listed.iter().any(|(id, _)| id == account_id) {
        return vec![account_id.to_owned()];
    }
    listed
        .into_iter()
        .filter_map(|(id, active)| active.then_some(id))
        .collect()
}

#[async_trait]
impl PosConnector for SquareConnector {
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        self.find(query).await
    }

    async fn products(&self) -> Result<Vec<PosProduct>, PosError> {
        self.list_products().await
    }

    async fn read_stock(&self, cursor: Option<&str>) -> Result<StockRead, PosError> {
        self.read(cursor).await
    }

    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.record(sale).await
    }
}

#[cfg(test)]
mod tests {
    use super::in_use;

    fn listed() -> Vec<(String, bool)> {
        vec![
            ("L1".into(), true),
            ("L2".into(), true),
            ("L9".into(), false),
        ]
    }

    #[test]
    fn an_account_id_naming_a_location_is_that_location_alone() {
        assert_eq!(in_use("L2", listed()), ["L2"]);
        assert_eq!(
            in_use("L9", listed()),
            ["L9"],
            "as the original, even inactive"
        );
    }

    #[test]
    fn otherwise_every_active_location() {
        assert_eq!(in_use("my-shop", listed()), ["L1", "L2"]);
        assert_eq!(in_use("l2", listed()), ["L1", "L2"], "ids are exact");
    }
}
