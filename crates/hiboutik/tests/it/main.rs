//! Contract tests: the real `HiboutikConnector` against the real `HiboutikSim` over HTTP on
//! 127.0.0.1, with the call budget kept in a real SQLite `Store`. No mocks.

mod budget;
mod catalog;
mod errors;
mod find;
mod sale;
mod sim;
mod stock;
mod webhook;

use chrono::Utc;
use secrecy::SecretString;
use std::sync::{Arc, Once};
use std::time::Duration;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::ports::CallBudget;
use stocksync_domain::{AccountId, PosKind};
use stocksync_hiboutik::{HiboutikConnector, HiboutikSim, HiboutikSimOptions};
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::{DroppedConnection, SimProduct};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_store::{DatabaseUrl, Store};
use tempfile::TempDir;

/// The endpoint names the connector counts its calls under.
pub mod endpoint {
    pub const WAREHOUSE_STOCK: &str = "GET /stock_available/warehouse_id/{id}";
    pub const ITEM_STOCK: &str = "GET /stock_available/product_id_size/{id}/{size}";
    pub const PRODUCT_STOCK: &str = "GET /stock_available/product_id/{id}";
    pub const PRODUCT: &str = "GET /products/{id}";
    pub const SEARCH_EXT_REF: &str = "GET /sales/search/ext_ref/{ref}";
    pub const SALE: &str = "GET /sales/{id}";
    pub const CREATE_SALE: &str = "POST /sales";
    pub const SET_SALE: &str = "PUT /sale/{id}";
    pub const ADD_PRODUCT: &str = "POST /sales/add_product";
    pub const CLOSE_SALE: &str = "POST /sales/close";
}

/// A simulator, a connector to it, and the database its budget is counted in.
pub struct Setup {
    pub sim: HiboutikSim,
    pub connector: HiboutikConnector,
    pub calls: CallLog,
    pub store: Arc<Store>,
    pub config: AccountConfig,
    _database: TempDir,
}

impl Setup {
    pub async fn new(options: HiboutikSimOptions) -> Self {
        Self::with_budget(options, 10_000).await
    }

    /// With `MaximumRequests = maximum_requests`.
    pub async fn with_budget(options: HiboutikSimOptions, maximum_requests: i64) -> Self {
        quiet_dropped_connections();
        let sim = HiboutikSim::start(options)
            .await
            .expect("the simulator starts");
        let mut config = config_of(&sim);
        let VendorConfig::Hiboutik {
            maximum_requests: max,
            ..
        } = &mut config.vendor
        else {
            unreachable!()
        };
        *max = maximum_requests;
        let database = TempDir::new().expect("a temp dir");
        let url = format!("sqlite://{}/stocksync.db", database.path().display());
        let store = Store::connect(&DatabaseUrl::parse(&url).expect("a database URL"))
            .await
            .expect("the database opens");
        store.migrate().await.expect("the database migrates");
        let store = Arc::new(store);
        let calls = CallLog::default();
        let connector = connect(&config, &calls, store.clone());
        Self {
            sim,
            connector,
            calls,
            store,
            config,
            _database: database,
        }
    }

    /// Another connector for the same account, database and call log (as after a restart).
    pub fn connector_again(&self) -> HiboutikConnector {
        connect(&self.config, &self.calls, self.store.clone())
    }

    /// Calls made to `endpoint`.
    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.calls.count(self.config.id.as_str(), endpoint)
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.total(self.config.id.as_str())
    }

    /// Calls counted in the database for this month.
    pub async fn budget_used(&self) -> i64 {
        let month = Utc::now().format("%Y-%m").to_string();
        self.store
            .used(&self.config.id, &month)
            .await
            .expect("the count")
    }
}

/// The account the simulator describes in its `account_settings()`.
pub fn config_of(sim: &HiboutikSim) -> AccountConfig {
    let settings = sim.account_settings();
    let text = |key: &str| settings[key].as_str().expect(key).to_owned();
    let int = |key: &str| settings[key].as_i64().expect(key);
    assert_eq!(int("Type"), 2, "Hiboutik's Type code");
    AccountConfig {
        id: AccountId::new(text("AccountName")),
        kind: PosKind::Hiboutik,
        base_url: text("BaseUrl"),
        vendor: VendorConfig::Hiboutik {
            access_token: SecretString::from(text("AccessToken")),
            email: text("EmailAddress"),
            account_name: text("AccountName"),
            maximum_requests: int("MaximumRequests"),
            store_id: int("StoreID"),
            customer_id: int("HiboutikCustomerID"),
        },
    }
}

/// A connector with short timeouts and retries.
pub fn connect(config: &AccountConfig, calls: &CallLog, budget: Arc<Store>) -> HiboutikConnector {
    let http = PosHttp::with_timeout(config.id.as_str(), calls.clone(), Duration::from_secs(3));
    HiboutikConnector::new(config, http, budget)
        .expect("a Hiboutik account")
        .with_backoff(Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(40),
            retries: 2,
        })
}

/// `count` generated products.
pub fn catalog(count: usize) -> Vec<SimProduct> {
    stocksync_pos::simkit::catalog(count, 7)
}

/// Options with `count` products, every other one (the 1st, 3rd, …) in sizes S, M, L.
pub fn sized(count: usize) -> HiboutikSimOptions {
    HiboutikSimOptions {
        products: catalog(count),
        sized_every: 2,
        ..HiboutikSimOptions::default()
    }
}

/// The simulator drops connections by panicking its handler: keep those out of the output.
fn quiet_dropped_connections() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<DroppedConnection>().is_none() {
                default(info);
            }
        }));
    });
}
