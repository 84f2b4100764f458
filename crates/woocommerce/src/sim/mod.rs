//! `WooSim`: a WooCommerce shop (REST API `wc/v3`) on a loopback port, written from the
//! documentation (shop-apis.md §1) and sharing no code with the client: `model` (products,
//! variations, orders and refunds with WooCommerce's stock rules), `routes` (the API, paging,
//! batches, error shapes, faults), `auth` (Basic behind https, OAuth 1.0a over http),
//! `webhook` (signed deliveries, merged, never retried).

mod auth;
mod model;
mod routes;
mod webhook;

pub use model::Refusal;
pub use routes::BATCH_LIMIT;
pub use webhook::WebhookTarget;

use model::Shop;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
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
    pub webhook: Option<WebhookTarget>,
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
            seed: 1,
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    shop: Mutex<Shop>,
    keys: auth::Keys,
    nonces: Mutex<HashSet<String>>,
    faults: Faults,
    /// `http://127.0.0.1:PORT`, the site's home URL (known once the port is bound).
    home: OnceLock<String>,
    webhook: Option<WebhookTarget>,
    pending: webhook::Pending,
    http: reqwest::Client,
    requests: AtomicU64,
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
        let mut shop = Shop::new();
        for product in &options.products {
            shop.add_simple(&product.name, &product.sku, Some(product.quantity));
        }
        let shared = Arc::new(Shared {
            shop: Mutex::new(shop),
            keys: auth::Keys {
                key: options.consumer_key,
                secret: options.consumer_secret,
                behind_https: options.behind_https,
            },
            nonces: Mutex::new(HashSet::new()),
            faults: Faults::seeded(options.seed),
            home: OnceLock::new(),
            webhook: options.webhook,
            pending: webhook::Pending::default(),
            http: reqwest::Client::new(),
            requests: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            merged_deliveries: AtomicU64::new(0),
        });
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

    /// A variable product with variations `(sku, quantity)`: (its id, the variations' ids).
    pub fn add_variable(&self, name: &str, variations: &[(&str, Option<i64>)]) -> (i64, Vec<i64>) {
        self.shared.shop().add_variable(name, variations)
    }

    /// A product's or variation's `stock_quantity` (`None`: unknown or unmanaged).
    pub fn stock(&self, id: i64) -> Option<i64> {
        self.shared
            .shop()
            .items
            .get(&id)
            .and_then(|item| item.stock_quantity)
    }

    /// A shopper's order of `lines` (product or variation id, quantity), put in `status`
    /// (processing, on-hold and completed take stock); announced as `order.created`.
    pub fn place_order(&self, lines: &[(i64, i64)], status: &str) -> Result<i64, Refusal> {
        let id = self.shared.shop().place_order(lines, status)?;
        webhook::queue(&self.shared, id, "order.created");
        Ok(id)
    }

    /// The merchant moves an order to `status`; announced as `order.updated`.
    pub fn set_order_status(&self, order_id: i64, status: &str) -> Result<(), Refusal> {
        self.shared.shop().set_status(order_id, status)?;
        webhook::queue(&self.shared, order_id, "order.updated");
        Ok(())
    }

    /// A refund of `lines` (order line id, units), restocking them when `restock`.
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

    /// Requests that reached the API, whatever their answer.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Webhook deliveries attempted, and events merged into a pending delivery.
    pub fn deliveries(&self) -> (u64, u64) {
        (
            self.shared.deliveries.load(Ordering::SeqCst),
            self.shared.merged_deliveries.load(Ordering::SeqCst),
        )
    }
}
