//! Contract tests: the real `PrestaClient`, through the `ShopConnector` port, against the real
//! `PrestaSim` over HTTP on 127.0.0.1. No mocks; every call counted on both sides.

mod errors;
mod items;
mod orders;
mod patch;
mod python;
mod stock;

use secrecy::SecretString;
use std::sync::Once;
use std::time::Duration;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::{ItemRef, LevelWrite};
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::DroppedConnection;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_prestashop::{PrestaClient, PrestaSim, PrestaSimOptions};

pub const ACCOUNT: &str = "shop";

/// The endpoint names the client counts its calls under.
pub mod endpoint {
    pub const PRODUCTS: &str = "GET /products";
    pub const COMBINATIONS: &str = "GET /combinations";
    pub const STOCK_AVAILABLES: &str = "GET /stock_availables";
    pub const STOCK_AVAILABLE: &str = "GET /stock_availables/{id}";
    pub const PUT_STOCK_AVAILABLE: &str = "PUT /stock_availables/{id}";
    pub const PATCH_STOCK_AVAILABLE: &str = "PATCH /stock_availables/{id}";
    pub const ORDERS: &str = "GET /orders";
    pub const ORDER: &str = "GET /orders/{id}";
}

/// A simulated shop and a client of it.
pub struct Setup {
    pub sim: PrestaSim,
    pub client: PrestaClient,
    pub calls: CallLog,
}

impl Setup {
    pub async fn new(options: PrestaSimOptions) -> Self {
        quiet_dropped_connections();
        let sim = PrestaSim::start(options)
            .await
            .expect("the simulator starts");
        let calls = CallLog::default();
        let client = client_of(&sim, sim.key(), Some(1), &calls);
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
    initial: Duration::from_millis(10),
    max: Duration::from_secs(1),
    retries: 4,
};

pub fn client_of(sim: &PrestaSim, key: &str, shop: Option<i64>, calls: &CallLog) -> PrestaClient {
    let http = PosHttp::with_timeout(ACCOUNT, calls.clone(), Duration::from_secs(5));
    PrestaClient::new(
        &sim.base_url(),
        SecretString::from(key.to_owned()),
        shop,
        http,
    )
    .expect("an http BaseUrl")
    .with_backoff(QUICK)
}

pub fn item(id: &str) -> ItemRef {
    ItemRef {
        id: EcommerceId::new(id),
        locator: None,
    }
}

/// A write of `quantity` to item `id`; `expected` set, as the engine does, and ignored.
pub fn write(id: &str, quantity: i64) -> LevelWrite {
    LevelWrite {
        item: item(id),
        quantity,
        expected: Some(-1),
    }
}

/// `count` products without combinations.
pub fn products(count: usize) -> PrestaSimOptions {
    PrestaSimOptions {
        products: stocksync_pos::simkit::catalog(count, 7),
        ..PrestaSimOptions::default()
    }
}

/// PrestaShop 1.7: no PATCH, stock is written by read and PUT.
pub const V1_7: &str = "1.7.8.11";
/// PrestaShop 8: stock is written by PATCH.
pub const V8: &str = "8.1.2";

/// An empty shop of this version.
pub fn on(version: &str) -> PrestaSimOptions {
    PrestaSimOptions {
        version: version.into(),
        ..PrestaSimOptions::default()
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
