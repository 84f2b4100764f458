//! `HiboutikConnector`: stocksync's `PosConnector` for one Hiboutik shop (API v2, `/api`).
//!
//! What it assumes about the account (pos-apis.md §1.7): sales belong to the *store*
//! `StoreID` and stock to a *warehouse*; like Hiboutik's own WooCommerce and PrestaShop plugins,
//! the connector reads and sells against the warehouse whose id equals `StoreID` (store N ↔
//! warehouse N), which holds for the usual one-store-one-warehouse account but is not
//! guaranteed by Hiboutik. Web sales are made for the customer `HiboutikCustomerID`.
//!
//! The modules: `call` (every HTTP call: budget, concurrency, auth, status → `PosError`, pages),
//! `stock` (bulk and targeted stock reads), `find` (registration look-ups and the listing of
//! every product), `sale` (the resumable sale: look-up by `ext_ref`, create, set `ext_ref`, add
//! the line, close).

mod call;
mod find;
mod sale;
mod stock;

pub use sale::EXT_REF_PREFIX;

use async_trait::async_trait;
use reqwest::Url;
use secrecy::SecretString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::ports::CallBudget;
use stocksync_domain::pos::{PosProduct, PosSale, PosSaleReceipt, ProductQuery, StockRead};
use stocksync_domain::{AccountId, PosConnector, PosError, PosRef};
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use tokio::sync::{Mutex, Semaphore};

/// Calls in flight at once per connector: well under Hiboutik's 30 concurrent calls per shop,
/// which every app of the account shares.
pub const MAX_IN_FLIGHT: usize = 10;

/// One Hiboutik shop. Every call first takes one unit of the account's monthly budget
/// (`MaximumRequests`, counted in the database through [`CallBudget`]).
pub struct HiboutikConnector {
    http: PosHttp,
    account: AccountId,
    base: Url,
    email: String,
    api_key: SecretString,
    maximum_requests: i64,
    store_id: i64,
    customer_id: i64,
    budget: Arc<dyn CallBudget>,
    in_flight: Semaphore,
    /// How idempotent reads are retried after a transport error or a 5xx.
    backoff: Backoff,
    /// Sales are recorded one at a time, so that two deliveries of the same sale never race
    /// between the `ext_ref` look-up and the creation.
    selling: Mutex<()>,
}

impl HiboutikConnector {
    /// A connector for a Hiboutik account; `Err` when `config` is another vendor's or its
    /// `BaseUrl` cannot be used.
    pub fn new(
        config: &AccountConfig,
        http: PosHttp,
        budget: Arc<dyn CallBudget>,
    ) -> Result<Self, String> {
        let VendorConfig::Hiboutik {
            access_token,
            email,
            maximum_requests,
            store_id,
            customer_id,
            ..
        } = &config.vendor
        else {
            return Err(format!("account {} is not a Hiboutik account", config.id));
        };
        let base = Url::parse(&config.base_url)
            .ok()
            .filter(|url| !url.cannot_be_a_base() && url.query().is_none())
            .ok_or_else(|| {
                format!(
                    "account {}: BaseUrl '{}' is not an http(s) address",
                    config.id, config.base_url
                )
            })?;
        if *maximum_requests <= 0 {
            return Err(format!(
                "account {}: MaximumRequests must be more than 0",
                config.id
            ));
        }
        Ok(Self {
            http,
            account: config.id.clone(),
            base,
            email: email.clone(),
            api_key: access_token.clone(),
            maximum_requests: *maximum_requests,
            store_id: *store_id,
            customer_id: *customer_id,
            budget,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            backoff: Backoff {
                initial: Duration::from_millis(500),
                max: Duration::from_secs(5),
                retries: 2,
            },
            selling: Mutex::new(()),
        })
    }

    /// Replaces how reads are retried (tests use short waits).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The warehouse whose stock this connector reads and sells from (see the module doc).
    pub fn warehouse_id(&self) -> i64 {
        self.store_id
    }
}

impl fmt::Debug for HiboutikConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HiboutikConnector")
            .field("account", &self.account)
            .field("base", &self.base.as_str())
            .field("email", &self.email)
            .field("api_key", &"[REDACTED]")
            .field("store_id", &self.store_id)
            .field("customer_id", &self.customer_id)
            .field("maximum_requests", &self.maximum_requests)
            .finish()
    }
}

#[async_trait]
impl PosConnector for HiboutikConnector {
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        self.find(query).await
    }

    async fn products(&self) -> Result<Vec<PosProduct>, PosError> {
        self.list_products().await
    }

    /// Hiboutik has no "changed since" filter: every read, with or without a cursor, is the
    /// bulk read of the warehouse (250 rows a call), which is also the cheapest way to see the
    /// changes. The cursor returned is the time of the read; a webhook-driven caller reads
    /// only the lines it was told about with `read_items`.
    async fn read_stock(&self, _cursor: Option<&str>) -> Result<StockRead, PosError> {
        self.read_warehouse().await
    }

    async fn read_items(&self, refs: &[PosRef]) -> Result<StockRead, PosError> {
        self.read_lines(refs).await
    }

    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.sell(sale).await
    }
}

/// The `pos_ref`s a caller passes in, checked.
fn item_ref(pos_ref: &PosRef) -> Result<crate::ItemRef, PosError> {
    crate::ItemRef::parse(pos_ref.as_str()).ok_or_else(|| {
        PosError::Rejected(format!(
            "'{pos_ref}' is not a Hiboutik product reference (product_id or product_id/size_id)"
        ))
    })
}
