//! Contract tests: the real `ShopifyClient`, through the `ShopConnector` port, against the
//! real `ShopifySim` over HTTP on 127.0.0.1. No mocks; calls are counted on both sides.

mod errors;
mod items;
mod node;
mod orders;
mod pacing;
mod stock;
mod webhook;

use secrecy::SecretString;
use std::sync::Once;
use std::time::Duration;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::ItemRef;
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::DroppedConnection;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_shopify::sim::BucketSpec;
use stocksync_shopify::{ShopifyClient, ShopifySim, ShopifySimOptions};

pub const ACCOUNT: &str = "shop";
pub const VERSION: &str = "2026-04";

/// A simulated shop and a client of it.
pub struct Setup {
    pub sim: ShopifySim,
    pub client: ShopifyClient,
    pub calls: CallLog,
}

impl Setup {
    /// A client of the primary location, found by asking the shop.
    pub async fn new(options: ShopifySimOptions) -> Self {
        Self::at(options, None).await
    }

    pub async fn at(options: ShopifySimOptions, location: Option<String>) -> Self {
        quiet_dropped_connections();
        let sim = ShopifySim::start(options)
            .await
            .expect("the simulator starts");
        let calls = CallLog::default();
        let client = client_of(&sim, sim.access_token(), location, &calls);
        Self { sim, client, calls }
    }

    /// Calls the client made under `operation` (the root field).
    pub fn calls_to(&self, operation: &str) -> u64 {
        self.calls.count(ACCOUNT, operation)
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

pub fn client_of(
    sim: &ShopifySim,
    token: &str,
    location: Option<String>,
    calls: &CallLog,
) -> ShopifyClient {
    let http = PosHttp::with_timeout(ACCOUNT, calls.clone(), Duration::from_secs(5));
    ShopifyClient::new(
        &sim.base_url(),
        SecretString::from(token.to_owned()),
        VERSION,
        location,
        http,
    )
    .expect("a valid client")
    .with_backoff(QUICK)
}

/// `count` variants with tracked stock, and a bucket that refills fast (a Standard shop's 100
/// points a second would make a 600-variant read take 15 s; `pacing.rs` tests the waits).
pub fn products(count: usize) -> ShopifySimOptions {
    ShopifySimOptions {
        products: stocksync_pos::simkit::catalog(count, 7),
        bucket: BucketSpec {
            maximum: 1000.0,
            restore_rate: 50_000.0,
        },
        ..ShopifySimOptions::default()
    }
}

/// A variant's reference, without its inventory item.
pub fn variant(id: u64) -> ItemRef {
    ItemRef {
        id: EcommerceId::new(id.to_string()),
        locator: None,
    }
}

/// A variant's reference with its inventory item, as read from the shop.
pub fn located(sim: &ShopifySim, id: u64) -> ItemRef {
    ItemRef {
        id: EcommerceId::new(id.to_string()),
        locator: Some(format!(
            "gid://shopify/InventoryItem/{}",
            sim.inventory_item(id).expect("a variant")
        )),
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
