//! `PrestaSim`: a PrestaShop Webservice on a loopback port, written from the documentation
//! (shop-apis.md §3) and sharing no code with the client: `model` (products, combinations,
//! `stock_availables` with the product-level sum, orders and their states, every row write
//! counted), `routes` (the API: auth, list parameters, formats, error codes, faults, the
//! version in `PSWS-Version` and PATCH from 8.0), `xml` (its own XML out and in).
//!
//! Tests drive it as a merchant and shoppers would (`add_product`, `add_combinations`,
//! `place_order`, `set_order_state`, `advance`) and read what it saw (`stock`, `row`,
//! `writes_per_row`, `requests_to`).

mod model;
mod routes;
mod xml;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use model::Shop;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use stocksync_pos::simkit::{FaultPlan, Faults, SimProduct, SimServer};

/// How a simulated shop starts.
#[derive(Clone, Debug)]
pub struct PrestaSimOptions {
    /// 0 for any free port.
    pub port: u16,
    /// Products without combinations, created in this order (ids ascending).
    pub products: Vec<SimProduct>,
    /// The Webservice key: 32 characters.
    pub key: String,
    /// The shop's id (multistore): `id_shop` of its rows; another `id_shop` asked is a 404.
    pub shop_id: i64,
    /// The shop's timezone: dates are shown in it, without an offset.
    pub utc_offset: FixedOffset,
    pub seed: u64,
    /// The PrestaShop version, sent in every authenticated answer's `PSWS-Version` header
    /// (none when empty, as behind a proxy that strips it). From "8.0", `stock_availables`
    /// takes PATCH; before, PATCH is 405 code 23.
    pub version: String,
    /// Whether the key has the PATCH permission (8.0+); without it PATCH is 405 code 25.
    pub patch_permission: bool,
}

impl Default for PrestaSimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            products: Vec::new(),
            key: "SIMULATEDPRESTASHOPKEY0123456789".into(),
            shop_id: 1,
            utc_offset: FixedOffset::east_opt(0).expect("UTC"),
            seed: 1,
            version: "8.1.2".into(),
            patch_permission: true,
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    shop: Mutex<Shop>,
    key: String,
    version: String,
    patch_permission: bool,
    enabled: AtomicBool,
    faults: Faults,
    requests: AtomicU64,
    /// Requests per `METHOD /resource[/{id}]`.
    routes: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn routes(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running simulated shop; stopped when dropped.
pub struct PrestaSim {
    server: SimServer,
    shared: Arc<Shared>,
}

impl PrestaSim {
    /// Every sellable item's `item_ecommerce_id` (`"7"`, `"7-13"`).
    pub fn item_ids(&self) -> Vec<String> {
        self.shared.shop().item_ids()
    }

    /// The merchant types a new quantity for a product's (or a combination's) row in the back
    /// office: not a Webservice write, not counted.
    pub fn set_stock(&self, product: i64, combination: i64, quantity: i64) {
        self.shared.shop().set_stock(product, combination, quantity);
    }

    pub async fn start(options: PrestaSimOptions) -> std::io::Result<Self> {
        // The shop's clock starts at the real time (to the second, as PrestaShop stores it):
        // an engine polling it compares its orders' dates with its own.
        let clock = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
        let mut shop = Shop::new(options.shop_id, options.utc_offset, clock);
        for product in &options.products {
            shop.add_product(&product.name, &product.sku, "", product.quantity);
        }
        let shared = Arc::new(Shared {
            shop: Mutex::new(shop),
            key: options.key,
            version: options.version,
            patch_permission: options.patch_permission,
            enabled: AtomicBool::new(true),
            faults: Faults::seeded(options.seed),
            requests: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
        });
        let server = SimServer::start(routes::router(shared.clone()), options.port).await?;
        Ok(Self { server, shared })
    }

    /// `http://127.0.0.1:PORT`: the shop's address; the Webservice is under `/api`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn key(&self) -> &str {
        &self.shared.key
    }

    /// A product without combinations, with its stock row; its id.
    pub fn add_product(&self, name: &str, reference: &str, ean13: &str, quantity: i64) -> i64 {
        self.shared
            .shop()
            .add_product(name, reference, ean13, quantity)
    }

    /// A product with combinations `(reference, ean13, quantity)`: its id and theirs.
    pub fn add_combinations(&self, name: &str, variants: &[(&str, &str, i64)]) -> (i64, Vec<i64>) {
        self.shared.shop().add_combinations(name, variants)
    }

    /// The quantity of a product's row (`combination` 0: the product-level row).
    pub fn stock(&self, product: i64, combination: i64) -> Option<i64> {
        let shop = self.shared.shop();
        let id = shop.row_id(product, combination)?;
        Some(shop.rows[&id].quantity)
    }

    /// The id of a product's (or a combination's) stock row.
    pub fn row_id(&self, product: i64, combination: i64) -> Option<i64> {
        self.shared.shop().row_id(product, combination)
    }

    /// Every field of stock row `id`, as the Webservice shows it.
    pub fn row(&self, id: i64) -> Option<BTreeMap<String, String>> {
        let shop = self.shared.shop();
        let row = shop.rows.get(&id)?;
        Some(
            model::row_record(id, row)
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect(),
        )
    }

    /// Puts row `id` under advanced stock management (`depends_on_stock`).
    pub fn set_depends_on_stock(&self, id: i64, depends: bool) {
        if let Some(row) = self.shared.shop().rows.get_mut(&id) {
            row.depends_on_stock = i64::from(depends);
        }
    }

    /// A shopper's order of `(product, combination or 0, quantity)` lines in `state`: units
    /// are taken unless the state is a cancel or error state. Its id.
    pub fn place_order(&self, lines: &[(i64, i64, i64)], state: i64) -> i64 {
        self.shared.shop().place_order(lines, state)
    }

    /// The merchant moves an order to `state`; `false` for an unknown order.
    pub fn set_order_state(&self, order: i64, state: i64) -> bool {
        self.shared.shop().set_order_state(order, state)
    }

    /// The ids of an order's rows (`order_detail`), in order (empty for an unknown order).
    pub fn order_rows(&self, order: i64) -> Vec<i64> {
        self.shared.shop().order_rows(order)
    }

    /// The shop's clock (each save moves it a second).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.shop().now()
    }

    pub fn advance(&self, by: Duration) {
        self.shared.shop().advance(by);
    }

    /// Turns the Webservice off (every call 503, code 22) or on.
    pub fn set_enabled(&self, enabled: bool) {
        self.shared.enabled.store(enabled, Ordering::Relaxed);
    }

    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.faults.set(plan);
    }

    /// PUTs and PATCHes per stock row id (every write counted, none merged).
    pub fn writes_per_row(&self) -> BTreeMap<i64, u64> {
        self.shared.shop().writes.clone()
    }

    /// Requests to `METHOD /resource` or `METHOD /resource/{id}`.
    pub fn requests_to(&self, route: &str) -> u64 {
        self.shared.routes().get(route).copied().unwrap_or_default()
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}
