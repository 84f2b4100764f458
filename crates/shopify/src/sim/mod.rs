//! `ShopifySim`: a Shopify shop (Admin GraphQL API) on a loopback port, written from the
//! documentation (shop-apis.md §2) and sharing no code with the client: `model` (variants,
//! levels with `available` and `committed`, orders and refunds moving stock as Shopify does,
//! `inventorySetQuantities` with compare-and-set, every write counted per item), `graphql`
//! (the endpoint: token, faults, the operations stocksync sends, idempotency keys), `cost`
//! (the leaky bucket and THROTTLED), `webhook` (signed deliveries).
//!
//! Tests drive it as a merchant and shoppers would (`add_variant`, `place_order`,
//! `cancel_order`, `refund`) and read what it saw (`available`, `writes`, `writes_per_item`,
//! `requests_to`, `throttled`, `query_cost`, `replays`, `sent_deliveries`).

mod cost;
mod graphql;
mod model;
mod webhook;

pub use cost::BucketSpec;
pub use model::{RestockType, WriteSeen};
pub use webhook::{SentDelivery, WebhookTarget};

use model::Shop;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use stocksync_pos::simkit::{Faults, SimProduct, SimServer};

/// How a simulated shop starts.
#[derive(Clone, Debug)]
pub struct ShopifySimOptions {
    /// 0 for any free port.
    pub port: u16,
    /// Variants with tracked stock at the primary location, in this order (ids ascending).
    pub products: Vec<SimProduct>,
    pub access_token: String,
    pub bucket: BucketSpec,
    /// THROTTLED answers come with status 429 instead of 200 (both are reported).
    pub throttle_with_429: bool,
    pub webhook: Option<WebhookTarget>,
    pub seed: u64,
}

impl Default for ShopifySimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            products: Vec::new(),
            access_token: "shpat_simulated00000000000000000000".into(),
            bucket: BucketSpec::default(),
            throttle_with_429: false,
            webhook: None,
            seed: 1,
        }
    }
}

/// What the handlers share.
pub(crate) struct Shared {
    shop: Mutex<Shop>,
    token: String,
    faults: Faults,
    bucket: Mutex<cost::Bucket>,
    throttle_with_429: bool,
    /// Idempotency key → (the mutation's input, its answer).
    keys: Mutex<HashMap<String, (Value, Value)>>,
    target: Mutex<Option<WebhookTarget>>,
    sent: Mutex<Vec<SentDelivery>>,
    http: reqwest::Client,
    requests: AtomicU64,
    /// Requests per root field.
    roots: Mutex<BTreeMap<String, u64>>,
    throttled: AtomicU64,
    replays: AtomicU64,
    delivered: AtomicU64,
    /// Added to the real time: the shop's clock, moved on by tests.
    clock_offset: Mutex<chrono::Duration>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn shop(&self) -> MutexGuard<'_, Shop> {
        lock(&self.shop)
    }
    fn bucket(&self) -> MutexGuard<'_, cost::Bucket> {
        lock(&self.bucket)
    }
    fn keys(&self) -> MutexGuard<'_, HashMap<String, (Value, Value)>> {
        lock(&self.keys)
    }
    fn roots(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        lock(&self.roots)
    }
    fn sent(&self) -> MutexGuard<'_, Vec<SentDelivery>> {
        lock(&self.sent)
    }
    fn target(&self) -> Option<WebhookTarget> {
        lock(&self.target).clone()
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *lock(&self.clock_offset)
    }
}

/// A running simulated shop; stopped when dropped.
pub struct ShopifySim {
    server: SimServer,
    shared: Arc<Shared>,
}

impl ShopifySim {
    pub async fn start(options: ShopifySimOptions) -> std::io::Result<Self> {
        stocksync_pos::http::install_crypto();
        let mut shop = Shop::default();
        for product in &options.products {
            shop.add_variant(&product.name, &product.sku, None, Some(product.quantity));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        let shared = Arc::new(Shared {
            shop: Mutex::new(shop),
            token: options.access_token,
            faults: Faults::seeded(options.seed),
            bucket: Mutex::new(cost::Bucket::new(options.bucket)),
            throttle_with_429: options.throttle_with_429,
            keys: Mutex::new(HashMap::new()),
            target: Mutex::new(options.webhook),
            sent: Mutex::new(Vec::new()),
            http,
            requests: AtomicU64::new(0),
            roots: Mutex::new(BTreeMap::new()),
            throttled: AtomicU64::new(0),
            replays: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            clock_offset: Mutex::new(chrono::Duration::zero()),
        });
        let server = SimServer::start(graphql::router(shared.clone()), options.port).await?;
        Ok(Self { server, shared })
    }

    /// The shop's address (`https://{shop}.myshopify.com` stands here).
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn access_token(&self) -> &str {
        &self.shared.token
    }

    /// The primary location's id.
    pub fn location_id(&self) -> String {
        format!("gid://shopify/Location/{}", model::PRIMARY_LOCATION)
    }

    /// A second location, where nothing is stocked.
    pub fn other_location_id(&self) -> String {
        format!("gid://shopify/Location/{}", model::OTHER_LOCATION)
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Moves the shop's clock on (order times are read from it).
    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.shared.clock_offset) += chrono::Duration::from_std(by).expect("a short time");
    }

    /// The shop's time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.now()
    }

    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        *lock(&self.shared.target) = target;
    }

    // The merchant's catalog.

    /// A variant stocked at the primary location with `quantity` available (`None`: stock not
    /// tracked, not stocked anywhere). Its numeric id.
    pub fn add_variant(
        &self,
        name: &str,
        sku: &str,
        barcode: Option<&str>,
        quantity: Option<i64>,
    ) -> u64 {
        self.shared.shop().add_variant(name, sku, barcode, quantity)
    }

    /// Variant ids, ascending.
    pub fn variant_ids(&self) -> Vec<u64> {
        self.shared.shop().variants.iter().map(|v| v.id).collect()
    }

    /// The numeric id of a variant's inventory item.
    pub fn inventory_item(&self, variant: u64) -> Option<u64> {
        self.shared.shop().variant(variant).map(|v| v.item)
    }

    /// `available` at the primary location; `None` when not stocked there.
    pub fn available(&self, variant: u64) -> Option<i64> {
        self.shared
            .shop()
            .level(variant)
            .map(|level| level.available)
    }

    pub fn committed(&self, variant: u64) -> Option<i64> {
        self.shared
            .shop()
            .level(variant)
            .map(|level| level.committed)
    }

    /// The merchant changes `available` in the admin (not an API write: not counted).
    pub fn set_available(&self, variant: u64, quantity: i64) {
        let mut shop = self.shared.shop();
        if let Some(item) = shop.variant(variant).map(|v| v.item)
            && let Some(level) = shop.levels.get_mut(&(item, model::PRIMARY_LOCATION))
        {
            level.available = quantity;
        }
    }

    // Shoppers.

    /// An order of `lines` (variant, quantity); sends `orders/create`. Its id.
    pub fn place_order(&self, lines: &[(u64, i64)]) -> u64 {
        let mut shop = self.shared.shop();
        let id = shop.place_order(lines, self.shared.now());
        let payload = model::order_rest_json(&shop, shop.order(id).expect("just placed"));
        drop(shop);
        webhook::deliver(&self.shared, "orders/create", &payload);
        id
    }

    /// Moves an order's creation (and last change) back to `at`, as an order placed before a
    /// test began.
    pub fn backdate_order(&self, id: u64, at: chrono::DateTime<chrono::Utc>) {
        if let Some(order) = self.shared.shop().orders.iter_mut().find(|o| o.id == id) {
            order.created_at = at;
            order.updated_at = at;
        }
    }

    /// Cancels with restock; sends `orders/cancelled`. `false` when there is nothing to cancel.
    pub fn cancel_order(&self, id: u64) -> bool {
        let mut shop = self.shared.shop();
        if !shop.cancel_order(id, self.shared.now()) {
            return false;
        }
        let payload = model::order_rest_json(&shop, shop.order(id).expect("exists"));
        drop(shop);
        webhook::deliver(&self.shared, "orders/cancelled", &payload);
        true
    }

    /// Refunds `lines` (index of the line in the order, quantity, restock); sends
    /// `refunds/create`. The refund's id.
    pub fn refund(&self, order: u64, lines: &[(usize, i64, RestockType)]) -> Option<u64> {
        let mut shop = self.shared.shop();
        let refund = shop.refund(order, lines, self.shared.now())?;
        let order = shop.order(order).expect("exists");
        let json = model::refund_rest_json(order, order.refunds.last().expect("just added"));
        drop(shop);
        webhook::deliver(&self.shared, "refunds/create", &json);
        Some(refund)
    }

    // What it saw.

    /// The merchant stops stocking a (tracked) variant at the primary location.
    pub fn unstock(&self, variant: u64) {
        self.shared.shop().unstock(variant);
    }

    /// The units of each line of an order, in order (empty for an unknown order).
    pub fn order_line_quantities(&self, order: u64) -> Vec<i64> {
        self.shared
            .shop()
            .order(order)
            .map(|order| order.lines.iter().map(|line| line.quantity).collect())
            .unwrap_or_default()
    }

    /// The ids of an order's lines, in order (empty for an unknown order).
    pub fn order_line_ids(&self, order: u64) -> Vec<u64> {
        self.shared
            .shop()
            .order(order)
            .map(|order| order.lines.iter().map(|line| line.id).collect())
            .unwrap_or_default()
    }

    /// Every `inventorySetQuantities` write, in order.
    pub fn writes(&self) -> Vec<WriteSeen> {
        self.shared.shop().writes.clone()
    }

    /// Writes per inventory item (never merged).
    pub fn writes_per_item(&self) -> BTreeMap<u64, u64> {
        let mut counts = BTreeMap::new();
        for write in &self.shared.shop().writes {
            *counts.entry(write.item).or_default() += 1;
        }
        counts
    }

    /// Requests whose root field was `root` (throttled ones included).
    pub fn requests_to(&self, root: &str) -> u64 {
        self.shared.roots().get(root).copied().unwrap_or(0)
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// THROTTLED answers given (the fault plan's included).
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Query cost charged by the bucket so far: (requested, actual) points, summed over every
    /// answer that was not throttled.
    pub fn query_cost(&self) -> (f64, f64) {
        self.shared.bucket().charged()
    }

    /// Mutations answered from an idempotency key already seen, without writing.
    pub fn replays(&self) -> u64 {
        self.shared.replays.load(Ordering::SeqCst)
    }

    /// Deliveries sent so far, in order.
    pub fn sent_deliveries(&self) -> Vec<SentDelivery> {
        self.shared.sent().clone()
    }

    /// Deliveries answered 2xx.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// Sends a delivery again, with its webhook id, as Shopify's retries do.
    pub fn redeliver(&self, delivery: SentDelivery) {
        webhook::send(&self.shared, delivery);
    }
}
