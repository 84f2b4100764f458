//! Contract tests: the real `WooClient`, through the `ShopConnector` port, against the real
//! `WooSim` over HTTP on 127.0.0.1 (OAuth 1.0a, since the simulator is plain http). No mocks.

mod auth;
mod items;
mod orders;
mod python;
mod resilience;
mod stock;
mod webhook;

use secrecy::SecretString;
use std::sync::Once;
use std::time::Duration;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::ItemRef;
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::{DroppedConnection, SimProduct};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_woocommerce::{WooClient, WooSim, WooSimOptions};

pub const ACCOUNT: &str = "shop";

/// The endpoint names the client counts its calls under.
pub mod endpoint {
    pub const PRODUCTS: &str = "GET /products";
    pub const VARIATIONS: &str = "GET /products/{id}/variations";
    pub const PRODUCTS_BATCH: &str = "POST /products/batch";
    pub const VARIATIONS_BATCH: &str = "POST /products/{id}/variations/batch";
    pub const ORDERS: &str = "GET /orders";
    pub const ORDER: &str = "GET /orders/{id}";
    pub const REFUNDS: &str = "GET /orders/{id}/refunds";
}

/// A simulated shop and a client of it.
pub struct Setup {
    pub sim: WooSim,
    pub client: WooClient,
    pub calls: CallLog,
}

impl Setup {
    pub async fn new(options: WooSimOptions) -> Self {
        quiet_dropped_connections();
        let sim = WooSim::start(options).await.expect("the simulator starts");
        let calls = CallLog::default();
        let client = client_of(&sim, sim.consumer_secret(), &calls);
        Self { sim, client, calls }
    }

    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.calls.count(ACCOUNT, endpoint)
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.total(ACCOUNT)
    }
}

/// Retries as the client's default does (4), with pauses short enough for tests.
pub const QUICK: Backoff = Backoff {
    initial: Duration::from_millis(20),
    max: Duration::from_secs(5),
    retries: 4,
};

/// A client of `sim` with `secret` as its consumer secret, retrying with [`QUICK`] pauses.
pub fn client_of(sim: &WooSim, secret: &str, calls: &CallLog) -> WooClient {
    let http = PosHttp::with_timeout(ACCOUNT, calls.clone(), Duration::from_secs(5));
    WooClient::new(
        &sim.base_url(),
        sim.consumer_key(),
        SecretString::from(secret.to_owned()),
        http,
    )
    .expect("an http BaseUrl")
    .with_backoff(QUICK)
}

/// A simple product's reference.
pub fn simple(id: i64) -> ItemRef {
    ItemRef {
        id: EcommerceId::new(id.to_string()),
        locator: None,
    }
}

/// A variation's reference.
pub fn variation(parent: i64, id: i64) -> ItemRef {
    ItemRef {
        id: EcommerceId::new(id.to_string()),
        locator: Some(parent.to_string()),
    }
}

/// `count` simple products with managed stock.
pub fn products(count: usize) -> WooSimOptions {
    WooSimOptions {
        products: stocksync_pos::simkit::catalog(count, 7),
        ..WooSimOptions::default()
    }
}

pub fn catalog(count: usize) -> Vec<SimProduct> {
    stocksync_pos::simkit::catalog(count, 7)
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
