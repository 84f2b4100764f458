//! Contract tests: the real `SquareConnector` against the real `SquareSim`, over HTTP on
//! 127.0.0.1. No mocks: every fault is the simulator's.

mod catalog;
mod errors;
mod location;
mod lookup;
mod sale;
mod simulator;
mod stock;
mod webhooks;

use secrecy::SecretString;
use std::time::Duration;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::{AccountId, PosKind};
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::{SimProduct, catalog};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_square::{SquareConnector, SquareSim, SquareSimOptions};

/// The account name calls are counted under.
pub const ACCOUNT: &str = "square-test";

pub const COUNTS: &str = "POST /v2/inventory/counts/batch-retrieve";
pub const LOCATIONS: &str = "GET /v2/locations";
pub const BATCH_CREATE: &str = "POST /v2/inventory/changes/batch-create";

/// A simulator, a connector to it, and the connector's call log.
pub struct Setup {
    pub sim: SquareSim,
    pub connector: SquareConnector,
    pub calls: CallLog,
}

/// Millisecond waits, four retries: tests stay fast.
pub fn fast_backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(5),
        retries: 4,
    }
}

/// `count` generated products, each with at least 2 units, so that every product has a count
/// row at both default locations.
pub fn products(count: usize) -> Vec<SimProduct> {
    catalog(count, 7)
        .into_iter()
        .map(|p| SimProduct {
            quantity: p.quantity + 2,
            ..p
        })
        .collect()
}

pub fn product(name: &str, sku: &str, quantity: i64) -> SimProduct {
    SimProduct {
        name: name.into(),
        sku: sku.into(),
        quantity,
    }
}

/// The account of `sim` with this token and these locations (none: every ACTIVE one).
pub fn account(sim: &SquareSim, token: &str, locations: &[&str]) -> AccountConfig {
    AccountConfig {
        id: AccountId::new(ACCOUNT),
        kind: PosKind::Square,
        base_url: sim.base_url(),
        vendor: VendorConfig::Square {
            access_token: SecretString::from(token.to_owned()),
            locations: locations.iter().map(|l| l.to_string()).collect(),
        },
    }
}

pub fn connect(
    sim: &SquareSim,
    calls: &CallLog,
    token: &str,
    locations: &[&str],
) -> SquareConnector {
    let http = PosHttp::with_timeout(ACCOUNT, calls.clone(), Duration::from_secs(5));
    SquareConnector::new(&account(sim, token, locations), http)
        .expect("a Square account")
        .with_backoff(fast_backoff())
}

pub async fn setup(options: SquareSimOptions) -> Setup {
    let sim = SquareSim::start(options)
        .await
        .expect("the simulator starts");
    let calls = CallLog::default();
    let connector = connect(&sim, &calls, sim.access_token(), &[]);
    Setup {
        sim,
        connector,
        calls,
    }
}

pub async fn setup_with(products: Vec<SimProduct>) -> Setup {
    setup(SquareSimOptions {
        products,
        ..SquareSimOptions::default()
    })
    .await
}
