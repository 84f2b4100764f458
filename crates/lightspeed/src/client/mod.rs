//! `LightspeedConnector`: the `PosConnector` of one Lightspeed Retail (R-Series) account, over
//! the V3 API (`/API/V3/Account/{accountID}/…`).
//!
//! This module owns the configuration and the trait; `api` how one call is made (tokens,
//! pacing, retries, errors); `stock`, `products` (look-ups and the listing) and `sales` the
//! operations. Vendor JSON (`crate::wire`) never leaves the client.

mod api;
mod products;
mod sales;
mod stock;

use crate::auth::{Auth, Credentials};
use api::Api;
use async_trait::async_trait;
use std::sync::Arc;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::ports::TokenVault;
use stocksync_domain::pos::{PosProduct, PosSale, PosSaleReceipt, ProductQuery, StockRead};
use stocksync_domain::{PosConnector, PosError, PosKind, PosRef};
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;

/// One Lightspeed account. Quantities are the `qoh` of the configured shop (`ShopID`), or the
/// sum over every real shop when `ShopID` is 0 (the `shopID=0` summary rows are never added).
pub struct LightspeedConnector {
    api: Api,
    shops: Shops,
    sale: sales::SaleSettings,
}

/// The shops whose stock is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shops {
    One(i64),
    /// Every real shop (`ShopID` 0), never the summary row.
    All,
}

impl Shops {
    /// The `shopID` filter of an `ItemShop` query.
    fn filter(self) -> String {
        match self {
            Self::One(shop) => format!("=,{shop}"),
            Self::All => ">,0".to_owned(),
        }
    }

    fn covers(self, shop_id: i64) -> bool {
        shop_id != 0 && (self == Self::All || self == Self::One(shop_id))
    }
}

impl LightspeedConnector {
    /// A connector for `config`, which must be a Lightspeed account. Tokens are read from
    /// `vault` first (a rotated pair survives restarts), else from the configuration.
    pub fn new(
        config: &AccountConfig,
        http: PosHttp,
        vault: Arc<dyn TokenVault>,
    ) -> Result<Self, String> {
        let VendorConfig::Lightspeed {
            access_token,
            refresh_token,
            client_id,
            client_secret,
            auth_url,
            employee_id,
            register_id,
            shop_id,
            customer_id,
        } = &config.vendor
        else {
            return Err(format!("account {} is not a Lightspeed account", config.id));
        };
        if config.kind != PosKind::Lightspeed {
            return Err(format!("account {} is not a Lightspeed account", config.id));
        }
        let account = config.id.as_str();
        // Lightspeed's account numbers are digits; anything else is refused by Lightspeed itself
        // (and shows in the account's sync status), but must at least fit in a URL path.
        if account.is_empty()
            || !account
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "account {account}: AccountID must be the Lightspeed account number"
            ));
        }
        for (key, url) in [("BaseUrl", &config.base_url), ("AuthUrl", auth_url)] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "account {account}: {key} must start with http:// or https://"
                ));
            }
        }
        if *shop_id < 0 {
            return Err(format!(
                "account {account}: ShopID must be 0 (every shop) or a shop's id"
            ));
        }
        let credentials = Credentials {
            token_url: format!("{}/auth/oauth/token", auth_url.trim_end_matches('/')),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            access_token: access_token.clone(),
            refresh_token: refresh_token.clone(),
        };
        let auth = Auth::new(http.clone(), config.id.clone(), credentials, vault);
        Ok(Self {
            api: Api::new(http, config.base_url.trim_end_matches('/'), account, auth),
            shops: if *shop_id == 0 {
                Shops::All
            } else {
                Shops::One(*shop_id)
            },
            sale: sales::SaleSettings::new(*employee_id, *register_id, *shop_id, *customer_id),
        })
    }

    /// How failed reads (and writes, after their lookup) are retried; `Backoff::default()`
    /// unless changed.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.api.set_backoff(backoff);
        self
    }
}

impl std::fmt::Debug for LightspeedConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightspeedConnector")
            .field("api", &self.api)
            .field("shops", &self.shops)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl PosConnector for LightspeedConnector {
    #[tracing::instrument(skip_all, fields(account = self.api.account()), err)]
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        products::find(&self.api, self.shops, query).await
    }

    #[tracing::instrument(skip_all, fields(account = self.api.account()), err)]
    async fn products(&self) -> Result<Vec<PosProduct>, PosError> {
        products::list(&self.api, self.shops).await
    }

    #[tracing::instrument(skip_all, fields(account = self.api.account()), err)]
    async fn read_stock(&self, cursor: Option<&str>) -> Result<StockRead, PosError> {
        stock::read(&self.api, self.shops, cursor).await
    }

    #[tracing::instrument(skip_all, fields(account = self.api.account(), items = refs.len()), err)]
    async fn read_items(&self, refs: &[PosRef]) -> Result<StockRead, PosError> {
        stock::read_items(&self.api, self.shops, refs).await
    }

    #[tracing::instrument(skip_all, fields(account = self.api.account(), sale = %sale.sale_key), err)]
    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        sales::record(&self.api, &self.sale, sale).await
    }
}
