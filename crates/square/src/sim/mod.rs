//! `SquareSim`: a Square seller on a loopback port, for contract tests, the demo and the
//! benchmarks, following `pos-apis.md` §5.3: bearer token, locations, catalog, inventory counts
//! and changes with Square's paging, validation and idempotency, faults from `simkit::Faults`
//! (429 `RATE_LIMITED` without `Retry-After`, 500, dropped connections, answers lost after the
//! work is done), and signed `inventory.count.updated` webhooks. It writes its JSON itself:
//! it shares no types with the client.
//!
//! The seller it simulates: the options' products, each an ITEM_VARIATION (see
//! [`SquareSimOptions::products`] for how they become items), their stock split over the
//! ACTIVE locations and counted an hour before the start; a product of quantity 0 has never
//! been counted and has no count row.

mod catalog;
mod inventory;
mod routes;
mod state;
mod units;
mod webhooks;

use serde_json::{Value, json};
use state::{ChangeKind, NewChange, State};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use stocksync_pos::simkit::{Faults, SimProduct, SimServer, catalog as generated_catalog};

pub use webhooks::SimWebhookEvent;

/// How a simulator starts.
#[derive(Clone, Debug)]
pub struct SquareSimOptions {
    /// 0 for any free port.
    pub port: u16,
    /// One variation each. Consecutive products named `Base (Variant)` are the variations of
    /// one item `Base`; any other product is an item of its own with one variation called
    /// `Regular`. So the connector names each product exactly as here (avoid a lone
    /// `X (Regular)`, which it calls `X`). Default: a generated catalog of 50.
    pub products: Vec<SimProduct>,
    /// ACTIVE locations, over which stock is split (the first gets the remainder, and is where
    /// the till sells). Default `L1MAIN`, `L2SHOP`.
    pub locations: Vec<String>,
    /// INACTIVE locations, listed by `GET /v2/locations`, empty until `set_count`. Default
    /// `L9CLOSED`.
    pub inactive_locations: Vec<String>,
    pub access_token: String,
    /// The `AccountID` of [`SquareSim::account_settings`].
    pub account_id: String,
    /// `(notification URL, signature key)`: where `inventory.count.updated` events go.
    pub webhook: Option<(String, String)>,
    /// Seeds the object ids.
    pub seed: u64,
}

impl Default for SquareSimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            products: generated_catalog(50, 1),
            locations: vec!["L1MAIN".into(), "L2SHOP".into()],
            inactive_locations: vec!["L9CLOSED".into()],
            access_token: "square-sim-access-token".into(),
            account_id: "square-sim".into(),
            webhook: None,
            seed: 1,
        }
    }
}

/// A sale recorded through the API (`IN_STOCK → SOLD`), as the simulator keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimWebSale {
    pub adjustment_id: String,
    pub pos_ref: String,
    pub location_id: String,
    /// As Square writes it (`"2"`).
    pub quantity: String,
    pub reference_id: Option<String>,
}

/// A running simulator; it stops when dropped.
pub struct SquareSim {
    server: SimServer,
    shared: Arc<Shared>,
    account_id: String,
}

/// What the routes share.
pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    token: String,
    /// Raw answers to give, in order, before anything else (then the guard goes on as usual).
    injected: Mutex<VecDeque<(u16, String)>>,
    webhooks: Option<webhooks::Webhooks>,
    /// Every request that reached `/v2`, answered or not.
    requests: AtomicU64,
}

impl SquareSim {
    pub async fn start(options: SquareSimOptions) -> std::io::Result<Self> {
        let state = State::new(
            &options.products,
            &options.locations,
            &options.inactive_locations,
            options.seed,
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::seeded(options.seed),
            token: options.access_token,
            injected: Mutex::new(VecDeque::new()),
            webhooks: options
                .webhook
                .map(|(url, key)| webhooks::Webhooks::new(url, key)),
            requests: AtomicU64::new(0),
        });
        let server = SimServer::start(routes::router(shared.clone()), options.port).await?;
        Ok(Self {
            server,
            shared,
            account_id: options.account_id,
        })
    }

    /// `http://127.0.0.1:PORT`, the account's `BaseUrl`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn access_token(&self) -> &str {
        &self.shared.token
    }

    /// A `PosAccess.PosConfigurations[]` entry for this simulator (every ACTIVE location).
    pub fn account_settings(&self) -> Value {
        json!({
            "Type": 1,
            "AccountID": self.account_id,
            "AccessToken": self.shared.token,
            "BaseUrl": self.base_url(),
        })
    }

    /// Every location id: the ACTIVE ones first, in the options' order.
    pub fn location_ids(&self) -> Vec<String> {
        self.shared
            .state()
            .locations
            .iter()
            .map(|l| l.id.clone())
            .collect()
    }

    /// The variation id of each product, in the options' order.
    pub fn product_refs(&self) -> Vec<String> {
        self.shared
            .state()
            .variations
            .iter()
            .map(|v| v.id.clone())
            .collect()
    }

    /// The stock the connector should report: the sum over the ACTIVE locations, rounded
    /// down to whole units. `None` for an unknown reference.
    pub fn quantity(&self, pos_ref: &str) -> Option<i64> {
        let state = self.shared.state();
        state
            .variation(pos_ref)
            .map(|v| units::whole(state.active_units(v)))
    }

    /// The `IN_STOCK` count of `pos_ref` at one location, rounded down to whole units (0
    /// without a count row). `None` for an unknown reference or location.
    pub fn quantity_at(&self, pos_ref: &str, location_id: &str) -> Option<i64> {
        let state = self.shared.state();
        let key = (state.variation(pos_ref)?, state.location(location_id)?);
        Some(units::whole(state.counts.get(&key).map_or(0, |c| c.units)))
    }

    /// A cashier sells `quantity` at the till (the first ACTIVE location): the count there
    /// goes down (maybe below zero) at a new `calculated_at`, and a webhook goes out.
    /// Panics on an unknown reference: that is a bug in the test.
    pub fn till_sale(&self, pos_ref: &str, quantity: i64) {
        if let Err(message) = self.shared.sell_at_till(pos_ref, quantity) {
            panic!("{message}");
        }
    }

    /// A stock count by hand: the `IN_STOCK` count of `pos_ref` at `location_id` becomes
    /// `quantity`, a decimal string (`"2.5"`), at any location, INACTIVE ones too.
    /// Panics on an unknown reference or location, or a malformed quantity.
    pub fn set_count(&self, pos_ref: &str, location_id: &str, quantity: &str) {
        let counts = {
            let mut state = self.shared.state();
            let variation = state.variation(pos_ref).expect("a known pos_ref");
            let location = state.location(location_id).expect("a known location");
            let units = units::parse(quantity).expect("a decimal quantity");
            let at = state.tick();
            let change = NewChange {
                kind: ChangeKind::PhysicalCount,
                variation,
                location,
                units,
                occurred_at: at,
                reference_id: None,
                product: "DASHBOARD",
            };
            state.record(change, at);
            vec![inventory::count_json(&state, variation, location)]
        };
        self.shared.notify(counts);
    }

    /// The merchant types a barcode for `pos_ref` in the dashboard: the variation's `upc`
    /// (`""` clears it). Panics on an unknown reference.
    pub fn set_upc(&self, pos_ref: &str, upc: &str) {
        let mut state = self.shared.state();
        let variation = state.variation(pos_ref).expect("a known pos_ref");
        state.variations[variation].upc = upc.to_owned();
    }

    /// Requests that reached `/v2`, whatever their answer.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// How many sales were recorded through the API (replayed answers do not count).
    pub fn recorded_web_sales(&self) -> usize {
        self.shared.state().web_sales.len()
    }

    /// The sales recorded through the API, oldest first.
    pub fn web_sales(&self) -> Vec<SimWebSale> {
        let state = self.shared.state();
        state
            .web_sales
            .iter()
            .map(|&p| {
                let change = &state.ledger[p];
                SimWebSale {
                    adjustment_id: change.id.clone(),
                    pos_ref: state.variations[change.variation].id.clone(),
                    location_id: state.locations[change.location].id.clone(),
                    quantity: units::format(change.units),
                    reference_id: change.reference_id.clone(),
                }
            })
            .collect()
    }

    /// The next `/v2` request gets exactly this answer (garbage, errors inside a 200, …)
    /// instead of being served. Answers queue up.
    pub fn inject_answer(&self, status: u16, body: &str) {
        let mut injected = self.shared.injected.lock().expect("injected answers");
        injected.push_back((status, body.to_owned()));
    }

    /// The `inventory.count.updated` events so far (none without a webhook option).
    pub fn webhook_events(&self) -> Vec<SimWebhookEvent> {
        self.shared
            .webhooks
            .as_ref()
            .map(|w| w.events())
            .unwrap_or_default()
    }

    /// Delivers an event again, same `event_id` (Square's retries make duplicates); the
    /// receiver's HTTP status.
    pub async fn redeliver(&self, event_id: &str) -> Result<u16, String> {
        match &self.shared.webhooks {
            Some(webhooks) => webhooks.redeliver(event_id).await,
            None => Err("the simulator has no webhook".into()),
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("simulator state")
    }

    fn take_injected(&self) -> Option<(u16, String)> {
        self.injected.lock().expect("injected answers").pop_front()
    }

    /// Sends the webhook for changed counts, when there is one.
    fn notify(&self, counts: Vec<Value>) {
        if let Some(webhooks) = &self.webhooks {
            webhooks.notify(counts);
        }
    }

    /// A till sale (see [`SquareSim::till_sale`]); the product's new total.
    fn sell_at_till(&self, pos_ref: &str, quantity: i64) -> Result<i64, String> {
        let (total, counts) = {
            let mut state = self.state();
            let variation = state
                .variation(pos_ref)
                .ok_or_else(|| format!("no variation {pos_ref} in the simulated catalog"))?;
            let location = state.till_location();
            let at = state.tick();
            let change = NewChange {
                kind: ChangeKind::Adjustment {
                    from: "IN_STOCK".into(),
                    to: "SOLD".into(),
                },
                variation,
                location,
                units: quantity * units::SCALE,
                occurred_at: at,
                reference_id: None,
                product: "SQUARE_POS",
            };
            state.record(change, at);
            let total = units::whole(state.active_units(variation));
            (
                total,
                vec![inventory::count_json(&state, variation, location)],
            )
        };
        self.notify(counts);
        Ok(total)
    }
}
