//! `WooSim`: a WooCommerce shop (REST API `wc/v3`) on a loopback port, written from the
//! documentation (shop-apis.md §1) and sharing no code with the client: `model` (products and
//! variations with WooCommerce's stock rules, every stock write counted), `orders` (orders and
//! refunds moving stock as WooCommerce does), `routes` (the API, paging, filters, batches,
//! error shapes, faults), `auth` (Basic behind https, OAuth 1.0a over http), `webhook` (the
//! ping, signed deliveries, merged, never retried, disabled after repeated failures).
//!
//! Tests drive it as a merchant and shoppers would (`add_*`, `place_order`,
//! `set_order_status`, `refund`, `create_webhook`) and read what it saw (`stock`,
//! `stock_writes`, `writes_per_item`, `requests_to`, `deliveries`).

mod auth;
mod model;
mod orders;
mod routes;
mod webhook;

pub use model::{Refusal, WriteSeen};
pub use routes::BATCH_LIMIT;
pub use webhook::{WebhookStatus, WebhookTarget};

use model::Shop;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;
use stocksync_pos::simkit::{Faults, SimProduct, SimServer};

/// How a simulated shop starts.
#[derive(Clone, Debug)]
pub struct WooSimOptions {
    /// 0 for any free port.
    pub port: u16,
    /// Simple products with managed stock, created in this order (ids ascending).
    pub products: Vec<SimProduct>,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The site takes itself for https (as behind a TLS-terminating proxy that says so): Basic
    /// auth is accepted. Otherwise only OAuth 1.0a is.
    pub behind_https: bool,
    /// A webhook that already exists when the shop starts (id 1, active, every order event;
    /// no ping: see [`WooSim::create_webhook`]).
    pub webhook: Option<WebhookTarget>,
    /// Refunds restock as WooCommerce before 5.5 did: the line's `_reduced_stock` is deleted
    /// and no `_restock_refunded_items` is kept.
    pub legacy_restock_meta: bool,
    pub seed: u64,
}

impl Default for WooSimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            products: Vec::new(),
            consumer_key: "ck_simulated0000000000000000000000000000".into(),
            consumer_secret: "cs_simulated0000000000000000000000000000".into(),
            behind_https: false,
            webhook: None,
            legacy_restock_meta: false,
            seed: 1,
        }
    }
}

/// What a rate-limited answer (the fault plan's 429) says in `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`
    Seconds(u64),
    /// `Retry-After: <HTTP date>`, this long after the answer.
    Date(Duration),
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    shop: Mutex<Shop>,
    keys: auth::Keys,
    nonces: Mutex<HashSet<String>>,
    faults: Faults,
    retry_after: Mutex<Option<RetryAfter>>,
    /// `http://127.0.0.1:PORT`, the site's home URL (known once the port is bound).
    home: OnceLock<String>,
    hooks: webhook::Hooks,
    next_hook: AtomicI64,
    http: reqwest::Client,
    requests: AtomicU64,
    /// Requests per `METHOD /route` (the route under `/wp-json/wc/v3`).
    routes: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    deliveries: AtomicU64,
    merged_deliveries: AtomicU64,
}

impl Shared {
    fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn home(&self) -> &str {
        self.home.get().map(String::as_str).unwrap_or_default()
    }
}

impl std::fmt::Debug for auth::Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .field("behind_https", &self.behind_https)
            .finish()
    }
}

/// A running simulated shop; stopped when dropped.
pub struct WooSim {
    server: SimServer,
    shared: Arc<Shared>,
}

impl WooSim {
    pub async fn start(options: WooSimOptions) -> std::io::Result<Self> {
        stocksync_pos::http::install_crypto();
        let mut shop = Shop::new(options.legacy_restock_meta);
        for product in &options.products {
            shop.add_simple(&product.name, &product.sku, Some(product.quantity));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let shared = Arc::new(Shared {
            shop: Mutex::new(shop),
            keys: auth::Keys {
                key: options.consumer_key,
                secret: options.consumer_secret,
                behind_https: options.behind_https,
            },
            nonces: Mutex::new(HashSet::new()),
            faults: Faults::seeded(options.seed),
            retry_after: Mutex::new(None),
            home: OnceLock::new(),
            hooks: webhook::Hooks::default(),
            next_hook: AtomicI64::new(1),
            http,
            requests: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            merged_deliveries: AtomicU64::new(0),
        });
        if let Some(target) = options.webhook {
            let id = shared.next_hook.fetch_add(1, Ordering::SeqCst);
            shared.hooks.add(id, target);
        }
        let server = SimServer::start(routes::router(shared.clone()), options.port).await?;
        let _ = shared.home.set(server.url());
        Ok(Self { server, shared })
    }

    /// The site's address (`BaseUrl`); the API is under `/wp-json/wc/v3`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn consumer_key(&self) -> &str {
        &self.shared.keys.key
    }

    pub fn consumer_secret(&self) -> &str {
        &self.shared.keys.secret
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// What the fault plan's 429 answers say in `Retry-After` (`None`: no header, as most
    /// hosts send).
    pub fn set_retry_after(&self, retry_after: Option<RetryAfter>) {
        *self
            .shared
            .retry_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = retry_after;
    }

    // The merchant's catalog.

    /// Ids of the simple products and variations, ascending.
    pub fn item_ids(&self) -> Vec<i64> {
        self.shared
            .shop()
            .items
            .values()
            .filter(|item| item.kind != model::Kind::Variable)
            .map(|item| item.id)
            .collect()
    }

    /// A simple product; `quantity` `None` leaves its stock unmanaged. Its id.
    pub fn add_simple(&self, sku: &str, quantity: Option<i64>) -> i64 {
        self.shared
            .shop()
            .add_simple(&format!("Product {sku}"), sku, quantity)
    }

    /// A variable product with variations `(sku, quantity)` (`None`: the variation does not
    /// count its own stock): (its id, the variations' ids).
    pub fn add_variable(&self, name: &str, variations: &[(&str, Option<i64>)]) -> (i64, Vec<i64>) {
        self.shared.shop().add_variable(name, variations)
    }

    /// The variable product `parent` counts `quantity` units for its variations that do not
    /// count their own (they then say `"manage_stock": "parent"`).
    pub fn share_parent_stock(&self, parent: i64, quantity: i64) {
        if let Some(item) = self.shared.shop().items.get_mut(&parent) {
            item.manage_stock = true;
            item.stock_quantity = Some(quantity);
        }
    }

    /// The merchant types a new stock count for an item that manages its stock, in WordPress's
    /// admin (not a REST write: not in `stock_writes`).
    pub fn set_stock(&self, id: i64, quantity: i64) {
        let mut shop = self.shared.shop();
        if let Some(item) = shop.items.get_mut(&id).filter(|item| item.manage_stock) {
            item.stock_quantity = Some(quantity);
            item.modified = chrono::Utc::now();
        }
    }

    /// Sets an item's `global_unique_id` (GTIN, EAN…).
    pub fn set_barcode(&self, id: i64, barcode: &str) {
        if let Some(item) = self.shared.shop().items.get_mut(&id) {
            item.barcode = barcode.to_owned();
        }
    }

    /// A product's or variation's `stock_quantity` (`None`: unknown or unmanaged).
    pub fn stock(&self, id: i64) -> Option<i64> {
        self.shared
            .shop()
            .items
            .get(&id)
            .and_then(|item| item.stock_quantity)
    }

    // Shoppers and the merchant's orders.

    /// A shopper's checkout of `lines` (product or variation id, quantity), put in `status`
    /// (processing, on-hold and completed take stock); announced as `order.created`. Refused
    /// when an item has fewer units than asked, unless checkouts are concurrent.
    pub fn place_order(&self, lines: &[(i64, i64)], status: &str) -> Result<i64, Refusal> {
        let id = self.shared.shop().place_order(lines, status)?;
        webhook::queue(&self.shared, id, "order.created");
        Ok(id)
    }

    /// While on, checkouts skip the availability check, as two shoppers checking out the last
    /// unit at the same moment both pass it: stock goes negative.
    pub fn set_concurrent_checkout(&self, on: bool) {
        self.shared.shop().concurrent_checkout = on;
    }

    /// The merchant moves an order to `status` (cancelled, a plugin's own…); announced as
    /// `order.updated`.
    pub fn set_order_status(&self, order_id: i64, status: &str) -> Result<(), Refusal> {
        self.shared.shop().set_status(order_id, status)?;
        webhook::queue(&self.shared, order_id, "order.updated");
        Ok(())
    }

    /// A refund of `lines` (order line id, units), restocking them when `restock`; announced
    /// as `order.updated`. Its id.
    pub fn refund(
        &self,
        order_id: i64,
        lines: &[(i64, i64)],
        restock: bool,
    ) -> Result<i64, Refusal> {
        let id = self.shared.shop().refund(order_id, lines, restock)?;
        webhook::queue(&self.shared, order_id, "order.updated");
        Ok(id)
    }

    /// The ids of an order's lines.
    pub fn order_lines(&self, order_id: i64) -> Vec<i64> {
        self.shared
            .shop()
            .orders
            .get(&order_id)
            .map(|order| order.lines.iter().map(|line| line.id).collect())
            .unwrap_or_default()
    }

    /// An order's lines: (line id, units ordered).
    pub fn order_line_quantities(&self, order_id: i64) -> Vec<(i64, i64)> {
        self.shared
            .shop()
            .orders
            .get(&order_id)
            .map(|order| {
                order
                    .lines
                    .iter()
                    .map(|line| (line.id, line.quantity))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Makes an order look placed and last modified at `at` (an order from before stocksync
    /// was connected), announcing nothing.
    pub fn backdate_order(&self, order_id: i64, at: chrono::DateTime<chrono::Utc>) {
        if let Some(order) = self.shared.shop().orders.get_mut(&order_id) {
            order.created = at;
            order.modified = at;
        }
    }

    /// An order's status.
    pub fn order_status(&self, order_id: i64) -> Option<String> {
        self.shared
            .shop()
            .orders
            .get(&order_id)
            .map(|order| order.status.clone())
    }

    // Webhooks.

    /// The merchant saves a new active webhook for every order event: WooCommerce pings its
    /// address first. Its id, and the status the ping was answered (`None`: no answer).
    pub async fn create_webhook(&self, target: WebhookTarget) -> (i64, Option<u16>) {
        let id = self.shared.next_hook.fetch_add(1, Ordering::SeqCst);
        self.shared.hooks.add(id, target.clone());
        (id, webhook::ping(&self.shared, &target, id).await)
    }

    pub fn webhook_status(&self, id: i64) -> Option<WebhookStatus> {
        self.shared.hooks.status(id)
    }

    /// The merchant sets a webhook's status (active again clears its failures). False when
    /// there is no such webhook.
    pub fn set_webhook_status(&self, id: i64, status: WebhookStatus) -> bool {
        self.shared.hooks.set_status(id, status)
    }

    // What the shop saw.

    /// Every stock write the API received (one per batch entry), in order, whatever became of
    /// it.
    pub fn stock_writes(&self) -> Vec<WriteSeen> {
        self.shared.shop().writes.clone()
    }

    /// Stock writes received per item id.
    pub fn writes_per_item(&self) -> BTreeMap<i64, u64> {
        let mut counts = BTreeMap::new();
        for write in &self.shared.shop().writes {
            *counts.entry(write.id).or_insert(0) += 1;
        }
        counts
    }

    /// Requests that reached the API, whatever their answer.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests to one route, named `METHOD /route` under `/wp-json/wc/v3`
    /// (`"GET /orders"`, `"POST /products/{id}/variations/batch"`), whatever their answer.
    pub fn requests_to(&self, route: &str) -> u64 {
        self.shared
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
            .copied()
            .unwrap_or(0)
    }

    /// The most requests the API was answering at once.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Webhook deliveries attempted (pings aside), and events merged into a pending delivery.
    pub fn deliveries(&self) -> (u64, u64) {
        (
            self.shared.deliveries.load(Ordering::SeqCst),
            self.shared.merged_deliveries.load(Ordering::SeqCst),
        )
    }
}
