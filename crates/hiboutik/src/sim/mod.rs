//! `HiboutikSim`: a fake Hiboutik (API v2 under `/api`, pos-apis.md §5.1) serving an in-memory
//! shop on `127.0.0.1`, for the contract tests, the demo and the benchmarks.
//!
//! It emits Hiboutik's quirks (one-element arrays for single objects, pages of 250 rows with
//! `Link` and `Content-Range`, `[]` past the end, ids as numbers or strings, JSON or
//! form-urlencoded bodies, paths with or without a trailing `/`) and its limits (Basic auth, a
//! monthly call quota and 30 concurrent calls, both answered 429), takes stock at
//! `add_product` with `stock_withdrawal=1`, sends sale webhooks, and fails on demand (`Faults`,
//! and [`SaleStep`] crashes in the middle of a sale).
//!
//! Modules: `model` (the shop and its rules), `json` (how it is written), `routes` (the router,
//! the gate every call passes, the shapes of answers), `reads` and `writes` (the endpoints),
//! `webhook` (sale notifications).

mod json;
mod model;
mod reads;
mod routes;
mod webhook;
mod writes;

use crate::ItemRef;
use json::Render;
use model::{MAIN_WAREHOUSE, STORE_ID, Shop, WEB_CUSTOMER};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use stocksync_pos::simkit::{Faults, SimProduct, SimServer};
use webhook::Webhooks;

pub use model::{Line, OTHER_WAREHOUSE, Sale};

/// How ids and quantities are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypeMode {
    /// JSON numbers, as API v2 does.
    #[default]
    Numbers,
    /// Numeric strings (`"123"`), as v1 did and some endpoints still may.
    Strings,
}

/// A step of a web sale after which the simulator can "crash": the step is carried out, then
/// the connection is closed before the answer, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaleStep {
    /// `POST /sales/`
    Create,
    /// `PUT /sale/{id}` setting `ext_ref`
    ExtRef,
    /// `POST /sales/add_product/`
    AddProduct,
    /// `POST /sales/close/`
    Close,
}

/// How the simulated account is set up.
#[derive(Clone, Debug)]
pub struct HiboutikSimOptions {
    /// 0 for any free port.
    pub port: u16,
    /// Product `i` of the catalog is Hiboutik product `i + 1`, its SKU the barcode (an empty
    /// SKU: no barcode, `""` as Hiboutik writes it).
    pub products: Vec<SimProduct>,
    /// The size names of sized products (size ids 1, 2, …).
    pub sizes: Vec<String>,
    /// Every n-th product (the 1st, the n+1-th, …) is sold in `sizes`, each size with its own
    /// barcode (`SKU-size`, none without a SKU) and stock (the catalog quantity, + 1 for each
    /// later size); 0: none.
    pub sized_every: usize,
    /// Catalog indexes of package products (bundles), which `add_product` refuses.
    pub package_products: Vec<usize>,
    /// A second warehouse (id 2) with its own stock (1 000 more of everything).
    pub other_warehouse: bool,
    pub type_mode: TypeMode,
    /// Unknown ids answered 404 rather than `[]` (Hiboutik's choice is not documented).
    pub unknown_id_404: bool,
    /// Calls allowed for the "month"; every call after them is answered 429.
    pub quota: Option<u64>,
    /// Calls in flight at once; one more is answered 429 (Hiboutik: 30).
    pub max_concurrent: usize,
    /// Crash once after this step of a web sale (see [`SaleStep`]).
    pub crash_after_step: Option<SaleStep>,
    /// Where sale webhooks go (put the secret in the URL: they are not signed).
    pub webhook_url: Option<String>,
    pub account_name: String,
    pub email: String,
    pub api_key: String,
    /// Seed of the fault plan's random error rate.
    pub seed: u64,
}

impl Default for HiboutikSimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            products: Vec::new(),
            sizes: ["S", "M", "L"].map(str::to_owned).to_vec(),
            sized_every: 0,
            package_products: Vec::new(),
            other_warehouse: false,
            type_mode: TypeMode::Numbers,
            unknown_id_404: false,
            quota: None,
            max_concurrent: 30,
            crash_after_step: None,
            webhook_url: None,
            account_name: "hiboutik-sim".to_owned(),
            email: "api@hiboutik-sim.test".to_owned(),
            api_key: "sim-hiboutik-api-key".to_owned(),
            seed: 1,
        }
    }
}

/// What the handlers share.
struct Shared {
    shop: Mutex<Shop>,
    render: Render,
    faults: Faults,
    /// The whole `Authorization` header a client must send.
    authorization: String,
    quota: Option<u64>,
    max_concurrent: usize,
    unknown_id_404: bool,
    crash_after: Mutex<Option<SaleStep>>,
    webhooks: Option<Webhooks>,
    /// Every request that reached `/api`, answered or not.
    requests: AtomicU64,
    /// Calls counted against the quota.
    counted: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

impl Shared {
    /// The shop (a handler that dropped its connection on purpose never poisons it for good).
    fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether to crash after `step` (disarms it).
    fn crash_after(&self, step: SaleStep) -> bool {
        let mut armed = self
            .crash_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *armed == Some(step) {
            *armed = None;
            true
        } else {
            false
        }
    }

    /// A cashier's sale, as `till_sale` and `POST /_sim/sale` make it.
    fn till_sale(&self, pos_ref: &str, quantity: i64) -> Result<i64, String> {
        let item =
            ItemRef::parse(pos_ref).ok_or_else(|| format!("'{pos_ref}' is not a pos_ref"))?;
        let mut shop = self.shop();
        let sale_id = shop
            .till_sale(item, quantity)
            .map_err(|refusal| refusal.message)?;
        if let Some(webhooks) = &self.webhooks {
            webhooks.sale_closed(&shop, sale_id);
        }
        Ok(sale_id)
    }
}

/// A running simulator; stopped when dropped.
pub struct HiboutikSim {
    server: SimServer,
    shared: Arc<Shared>,
    account_name: String,
    email: String,
    api_key: String,
    quota: Option<u64>,
}

impl HiboutikSim {
    pub async fn start(options: HiboutikSimOptions) -> std::io::Result<Self> {
        use base64::Engine;
        let credentials = format!("{}:{}", options.email, options.api_key);
        let shared = Arc::new(Shared {
            shop: Mutex::new(Shop::new(&options)),
            render: Render {
                mode: options.type_mode,
            },
            faults: Faults::seeded(options.seed),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            quota: options.quota,
            max_concurrent: options.max_concurrent,
            unknown_id_404: options.unknown_id_404,
            crash_after: Mutex::new(options.crash_after_step),
            webhooks: options.webhook_url.clone().map(Webhooks::new),
            requests: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
        });
        let server = SimServer::start(routes::router(shared.clone()), options.port).await?;
        Ok(Self {
            server,
            shared,
            account_name: options.account_name,
            email: options.email,
            api_key: options.api_key,
            quota: options.quota,
        })
    }

    /// `http://127.0.0.1:PORT/api`: the account's `BaseUrl`.
    pub fn base_url(&self) -> String {
        format!("{}/api", self.server.url())
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// One `PosAccess.PosConfigurations[]` entry for this simulator, with working credentials.
    pub fn account_settings(&self) -> Value {
        json!({
            "Type": 2,
            "AccountName": self.account_name,
            "EmailAddress": self.email,
            "AccessToken": self.api_key,
            "MaximumRequests": self.quota.unwrap_or(10_000),
            "StoreID": STORE_ID,
            "HiboutikCustomerID": WEB_CUSTOMER,
            "BaseUrl": self.base_url(),
        })
    }

    /// The pos_ref of every sellable item (`"12"`, or `"12/3"` per size), in catalog order.
    pub fn product_refs(&self) -> Vec<String> {
        self.shared
            .shop()
            .items
            .iter()
            .map(ItemRef::to_string)
            .collect()
    }

    /// The stock a connector should report for `pos_ref` (the main warehouse's).
    pub fn quantity(&self, pos_ref: &str) -> Option<i64> {
        self.quantity_in(pos_ref, MAIN_WAREHOUSE)
    }

    /// The stock of `pos_ref` in one warehouse.
    pub fn quantity_in(&self, pos_ref: &str, warehouse: i64) -> Option<i64> {
        let item = ItemRef::parse(pos_ref)?;
        self.shared.shop().stock(item, warehouse)
    }

    /// A cashier sells `quantity` of `pos_ref` at the till: the sale is made and closed, stock
    /// is taken, the sale webhook goes out. Its `sale_id`, or `None` for an unknown item.
    pub fn till_sale(&self, pos_ref: &str, quantity: i64) -> Option<i64> {
        self.shared.till_sale(pos_ref, quantity).ok()
    }

    /// Sales made through the API that carry at least one line (those that moved stock).
    pub fn recorded_web_sales(&self) -> usize {
        let shop = self.shared.shop();
        shop.sales
            .iter()
            .filter(|sale| sale.via_api && !sale.lines.is_empty())
            .count()
    }

    /// Every sale so far, till and web, oldest first.
    pub fn sales(&self) -> Vec<Sale> {
        self.shared.shop().sales.clone()
    }

    /// Requests that reached `/api`, whatever their answer.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The most calls that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Crash once after `step` of the next web sale (see [`SaleStep`]).
    pub fn crash_after(&self, step: SaleStep) {
        *self
            .shared
            .crash_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(step);
    }
}
