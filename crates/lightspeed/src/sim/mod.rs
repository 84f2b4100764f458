//! `LightspeedSim`: a simulated Lightspeed Retail R-Series account, served over HTTP on two
//! loopback ports like the real thing: the API (`/API/V3/Account/{accountID}/…`) and the OAuth
//! "cloud" server (`/auth/oauth/token`). It follows `pos-apis.md` §5.2: rotating single-use
//! refresh tokens, the leaky bucket and burst limiter with their headers, cursor paging, the
//! filters, the string-everything and one-element-list quirks, shops with the `shopID=0`
//! summary, balanced completed sales, and injected faults.
//!
//! Modules: `data` (records and stock rules), `query` (sorting, paging) and `filter`,
//! `resources` (what each endpoint answers), `render` (JSON and quirks), `limits` (rate limits), `oauth`
//! (tokens), `api` (the HTTP gate and routes). Nothing here is shared with the client.

mod api;
mod data;
mod filter;
mod limits;
mod oauth;
mod query;
mod render;
mod resources;

pub use limits::RateLimit;

use data::{Data, NewSale};
use limits::Bucket;
use oauth::Tokens;
use render::Render;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use stocksync_pos::simkit::{Fault, Faults, SimProduct, SimServer, catalog};

/// How a simulator starts.
#[derive(Clone, Debug)]
pub struct LightspeedSimOptions {
    /// The API's port (0: any free one).
    pub port: u16,
    /// The OAuth server's port (0: any free one).
    pub auth_port: u16,
    /// Items 1, 2, … in this order, their stock split over the shops.
    pub products: Vec<SimProduct>,
    /// The Lightspeed account number.
    pub account_id: i64,
    /// Real shops, numbered from 1 (at least one).
    pub shops: usize,
    /// The `ShopID` that `account_settings` gives (0: every shop), which `quantity` reports,
    /// and where till sales happen (shop 1 when 0).
    pub shop_id: i64,
    /// Lightspeed's serialisation quirks (strings for every scalar, one-element lists as
    /// objects, `""` for empty relations, empty pages without their key); off: plain JSON.
    pub quirks: bool,
    /// `expires_in` of the access tokens.
    pub token_lifetime: Duration,
    pub rate_limit: RateLimit,
}

impl Default for LightspeedSimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            auth_port: 0,
            products: catalog(20, 1),
            account_id: 83050,
            shops: 2,
            shop_id: 0,
            quirks: true,
            token_lifetime: Duration::from_secs(3600),
            rate_limit: RateLimit::roomy(),
        }
    }
}

/// What the handlers of both servers share.
pub(crate) struct Shared {
    data: Mutex<Data>,
    tokens: Mutex<Tokens>,
    bucket: Mutex<Bucket>,
    faults: Faults,
    write_faults: Faults,
    account_id: i64,
    client_id: String,
    client_secret: String,
    rate: RateLimit,
    render: Render,
    till_shop: i64,
    /// Every request that reached the API (`/API/V3/…`), answered or not.
    requests: AtomicU64,
}

/// A poisoned lock only means a handler panicked (a dropped connection does, on purpose).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.data)
    }

    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    fn bucket(&self) -> MutexGuard<'_, Bucket> {
        lock(&self.bucket)
    }

    /// The fault for one request: the general plan first, then, for writes, the writes' plan.
    fn decide(&self, write: bool) -> (Fault, Duration) {
        let (fault, latency) = self.faults.decide();
        if fault == Fault::None && write {
            let (fault, more) = self.write_faults.decide();
            return (fault, latency + more);
        }
        (fault, latency)
    }

    /// A completed, paid sale at the till; its id.
    fn sell_at_till(&self, pos_ref: &str, shop_id: i64, quantity: i64) -> Result<i64, String> {
        let item_id = pos_ref
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("'{pos_ref}' is not an itemID"))?;
        let mut data = self.data();
        let price = data
            .items
            .get(&item_id)
            .ok_or_else(|| format!("no item {pos_ref}"))?
            .price_cents;
        if !data.shops.iter().any(|shop| shop.id == shop_id) {
            return Err(format!("no shop {shop_id}"));
        }
        let sale = data.record_sale(NewSale {
            completed: true,
            reference_number: String::new(),
            reference_number_source: String::new(),
            shop_id,
            register_id: 1,
            employee_id: 1,
            customer_id: 0,
            lines: vec![(item_id, quantity, Some(price))],
            payments: vec![(price * quantity, 1)],
            from_api: false,
        });
        Ok(sale.id)
    }
}

/// A running simulator; both servers stop when it is dropped.
pub struct LightspeedSim {
    api: SimServer,
    cloud: SimServer,
    shared: Arc<Shared>,
    shop_id: i64,
}

impl LightspeedSim {
    pub async fn start(options: LightspeedSimOptions) -> std::io::Result<Self> {
        let client_id = "stocksync-simulated-client".to_owned();
        let shops = options.shops.max(1);
        let shared = Arc::new(Shared {
            data: Mutex::new(Data::new(&options.products, shops)),
            tokens: Mutex::new(Tokens::new(
                options.account_id,
                &client_id,
                options.token_lifetime,
            )),
            bucket: Mutex::new(Bucket::new()),
            faults: Faults::default(),
            write_faults: Faults::seeded(2),
            account_id: options.account_id,
            client_secret: format!("sim-secret-{}", uuid::Uuid::new_v4().simple()),
            client_id,
            rate: options.rate_limit,
            render: Render {
                quirks: options.quirks,
            },
            till_shop: if options.shop_id == 0 {
                1
            } else {
                options.shop_id
            },
            requests: AtomicU64::new(0),
        });
        let api = SimServer::start(api::router(shared.clone()), options.port).await?;
        let cloud = SimServer::start(oauth::router(shared.clone()), options.auth_port).await?;
        Ok(Self {
            api,
            cloud,
            shared,
            shop_id: options.shop_id,
        })
    }

    /// The account's `BaseUrl`: the API server.
    pub fn base_url(&self) -> String {
        self.api.url()
    }

    /// The account's `AuthUrl`: the OAuth server.
    pub fn auth_url(&self) -> String {
        self.cloud.url()
    }

    /// Faults for every API request (the OAuth server has none).
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Faults for writes only (`POST Sale.json`), consulted when `faults` had none: a lost
    /// answer here is carried out and then the connection is dropped.
    pub fn write_faults(&self) -> &Faults {
        &self.shared.write_faults
    }

    /// A `PosAccess.PosConfigurations[]` entry for this account, with a freshly authorised
    /// token pair (each call authorises anew, so each entry works on its own).
    pub fn account_settings(&self) -> Value {
        let grant = self.shared.tokens().authorize();
        json!({
            "Type": 3,
            "AccountID": self.shared.account_id.to_string(),
            "AccessToken": grant.access_token,
            "RefreshToken": grant.refresh_token,
            "ClientID": self.shared.client_id,
            "ClientSecret": self.shared.client_secret,
            "EmployeeID": 1,
            "RegisterID": 1,
            "ShopID": self.shop_id,
            "LightspeedCustomerID": 0,
            "BaseUrl": self.base_url(),
            "AuthUrl": self.auth_url(),
        })
    }

    /// The `itemID` of each product, in catalog order.
    pub fn product_refs(&self) -> Vec<String> {
        self.shared
            .data()
            .items
            .keys()
            .map(i64::to_string)
            .collect()
    }

    /// What the connector configured by `account_settings` should report for an item.
    pub fn quantity(&self, pos_ref: &str) -> Option<i64> {
        self.quantity_in(pos_ref, self.shop_id)
    }

    /// Units of an item in one shop, or in every real shop for 0.
    pub fn quantity_in(&self, pos_ref: &str, shop_id: i64) -> Option<i64> {
        let item_id = pos_ref.trim().parse::<i64>().ok()?;
        let data = self.shared.data();
        data.items
            .contains_key(&item_id)
            .then(|| data.quantity(item_id, shop_id))
    }

    /// A cashier sells `quantity` of an item in the account's shop (shop 1 when `ShopID` is 0).
    /// Panics if there is no such item: it is for tests and demos.
    pub fn till_sale(&self, pos_ref: &str, quantity: i64) {
        self.till_sale_in(pos_ref, self.shared.till_shop, quantity);
    }

    /// A cashier sells in a given shop.
    pub fn till_sale_in(&self, pos_ref: &str, shop_id: i64, quantity: i64) {
        if let Err(message) = self.shared.sell_at_till(pos_ref, shop_id, quantity) {
            panic!("till sale on the Lightspeed simulator: {message}");
        }
    }

    /// The merchant edits an item's barcodes (`""` clears one); its `timeStamp` moves, as
    /// any edit of an item does. Panics if there is no such item.
    pub fn set_barcodes(&self, pos_ref: &str, upc: &str, ean: &str) {
        let mut data = self.shared.data();
        let item = pos_ref
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| data.items.get_mut(&id))
            .expect("an item of the simulator");
        item.upc = upc.to_owned();
        item.ean = ean.to_owned();
        item.time_stamp = data::now();
    }

    /// Requests that reached the API (`/API/V3/…`, not the OAuth server), whatever their
    /// answer.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Sales made through the API (by stocksync), not at the till.
    pub fn recorded_web_sales(&self) -> usize {
        self.shared
            .data()
            .sales
            .values()
            .filter(|sale| sale.from_api)
            .count()
    }

    /// After `calls` more authorised API calls, every access token expires (as if an hour had
    /// passed in the middle of a read).
    pub fn expire_access_tokens_after(&self, calls: u32) {
        self.shared.tokens().expire_after(calls);
    }

    /// Every stock row is stamped within `seconds` seconds from `start`, its `qoh` unchanged,
    /// as after a bulk import or a stock count applied at once.
    pub fn stamp_all_stock(&self, start: chrono::DateTime<chrono::Utc>, seconds: i64) {
        self.shared.data().stamp_all_stock(start, seconds);
    }

    /// `ItemShop` rows a stock read with this `ShopID` covers (every real shop for 0).
    pub fn item_shop_rows(&self, shop_id: i64) -> usize {
        let data = self.shared.data();
        data.stock
            .values()
            .filter(|row| row.shop_id != 0 && (shop_id == 0 || row.shop_id == shop_id))
            .count()
    }
}
