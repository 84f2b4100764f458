//! The simulated Square seller, in memory: locations, a catalog of items and variations
//! (indexed by id), `IN_STOCK` counts per (variation, location) kept in
//! newest-first order, the ledger of inventory changes, the idempotency store, and a clock that
//! never gives the same millisecond twice. No HTTP here: the routes read and change it under
//! one lock.

use super::units;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use stocksync_pos::simkit::{Rng, SimProduct};

#[derive(Debug)]
pub struct Location {
    pub id: String,
    pub name: String,
    pub active: bool,
}

#[derive(Debug)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub variations: Vec<usize>,
}

#[derive(Debug)]
pub struct Variation {
    pub id: String,
    pub item: usize,
    pub name: String,
    /// `""`: none (left out of its JSON, as Square leaves out unset fields).
    pub sku: String,
    /// The barcode; `""`: none.
    pub upc: String,
    /// Minor units.
    pub price: i64,
}

/// A catalog object, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    Item(usize),
    Variation(usize),
}

/// One `IN_STOCK` count.
#[derive(Clone, Copy, Debug)]
pub struct Count {
    /// Hundred-thousandths of a unit.
    pub units: i64,
    pub calculated_at: DateTime<Utc>,
}

/// Where a count sits in the newest-first order: (newest first, variation, location).
pub type CountKey = (Reverse<DateTime<Utc>>, usize, usize);

/// One inventory change, as the ledger keeps it.
#[derive(Clone, Debug)]
pub struct Change {
    pub id: String,
    pub kind: ChangeKind,
    pub variation: usize,
    pub location: usize,
    /// Hundred-thousandths of a unit.
    pub units: i64,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub reference_id: Option<String>,
    /// `SQUARE_POS` (a till), `EXTERNAL_API` (a client), `DASHBOARD` (a count by hand).
    pub product: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Adjustment { from: String, to: String },
    PhysicalCount,
}

/// A change asked for, checked, not yet applied.
#[derive(Clone, Debug)]
pub struct NewChange {
    pub kind: ChangeKind,
    pub variation: usize,
    pub location: usize,
    pub units: i64,
    pub occurred_at: DateTime<Utc>,
    pub reference_id: Option<String>,
    pub product: &'static str,
}

#[derive(Debug)]
pub struct State {
    pub locations: Vec<Location>,
    pub items: Vec<Item>,
    pub variations: Vec<Variation>,
    pub objects: HashMap<String, Object>,
    pub counts: HashMap<(usize, usize), Count>,
    pub newest_first: BTreeSet<CountKey>,
    pub ledger: Vec<Change>,
    /// Variation → its positions in the ledger.
    pub ledger_by_variation: HashMap<usize, Vec<usize>>,
    /// Idempotency key → (request body, answer).
    pub idempotency: HashMap<String, (Value, Value)>,
    /// Ledger positions of the sales recorded through the API.
    pub web_sales: Vec<usize>,
    last_tick: DateTime<Utc>,
    rng: Rng,
}

impl State {
    /// A seller whose products' stock is split over the `active` locations, counted an hour
    /// before now. A product of quantity 0 was never counted (it has no count row).
    /// Consecutive products named `Base (Variant)` are variations of one item `Base`; any other
    /// product is an item with a single variation named `Regular`.
    pub fn new(products: &[SimProduct], active: &[String], inactive: &[String], seed: u64) -> Self {
        let mut state = Self {
            locations: active
                .iter()
                .map(|id| (id, true))
                .chain(inactive.iter().map(|id| (id, false)))
                .map(|(id, active)| Location {
                    id: id.clone(),
                    name: format!("Shop {id}"),
                    active,
                })
                .collect(),
            items: Vec::new(),
            variations: Vec::new(),
            objects: HashMap::new(),
            counts: HashMap::new(),
            newest_first: BTreeSet::new(),
            ledger: Vec::new(),
            ledger_by_variation: HashMap::new(),
            idempotency: HashMap::new(),
            web_sales: Vec::new(),
            last_tick: DateTime::<Utc>::MIN_UTC,
            rng: Rng::new(seed),
        };
        let counted_at = truncate(Utc::now() - TimeDelta::hours(1));
        for product in products {
            let variation = state.add_product(product);
            let active_count = active.len().max(1) as i64;
            for location in 0..active.len() {
                let mut share = product.quantity / active_count;
                if location == 0 {
                    share += product.quantity % active_count;
                }
                if share != 0 {
                    state.record(
                        NewChange {
                            kind: ChangeKind::PhysicalCount,
                            variation,
                            location,
                            units: share * units::SCALE,
                            occurred_at: counted_at,
                            reference_id: None,
                            product: "DASHBOARD",
                        },
                        counted_at,
                    );
                }
            }
        }
        state
    }

    fn add_product(&mut self, product: &SimProduct) -> usize {
        let (base, variation_name) = split_name(&product.name);
        let item = match self.items.last() {
            Some(last) if variation_name.is_some() && last.name == base && self.grouped(last) => {
                self.items.len() - 1
            }
            _ => {
                let id = self.new_id();
                self.objects
                    .insert(id.clone(), Object::Item(self.items.len()));
                self.items.push(Item {
                    id,
                    name: base.to_owned(),
                    variations: Vec::new(),
                });
                self.items.len() - 1
            }
        };
        let index = self.variations.len();
        let id = self.new_id();
        self.objects.insert(id.clone(), Object::Variation(index));
        self.variations.push(Variation {
            id,
            item,
            name: variation_name.unwrap_or("Regular").to_owned(),
            sku: product.sku.clone(),
            upc: String::new(),
            price: 500 + (index as i64 * 37) % 5000,
        });
        self.items[item].variations.push(index);
        index
    }

    /// Whether the item was made from `Base (Variant)` products (and so takes more).
    fn grouped(&self, item: &Item) -> bool {
        item.variations
            .first()
            .is_some_and(|&v| self.variations[v].name != "Regular")
    }

    /// A fresh opaque id: 24 upper-case letters and digits, as Square's.
    pub fn new_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..24)
            .map(|_| ALPHABET[(self.rng.next_u64() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// The server's time for a new change: now, rounded up to the millisecond (never before
    /// the moment of the change), always later than the last.
    pub fn tick(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = truncate(now + TimeDelta::nanoseconds(999_999));
        self.last_tick = if now > self.last_tick {
            now
        } else {
            self.last_tick + TimeDelta::milliseconds(1)
        };
        self.last_tick
    }

    pub fn variation(&self, id: &str) -> Option<usize> {
        match self.objects.get(id) {
            Some(Object::Variation(v)) => Some(*v),
            _ => None,
        }
    }

    pub fn location(&self, id: &str) -> Option<usize> {
        self.locations.iter().position(|l| l.id == id)
    }

    /// Appends a change to the ledger and applies it to the counts, at server time `at`.
    /// Returns its ledger position.
    pub fn record(&mut self, change: NewChange, at: DateTime<Utc>) -> usize {
        let key = (change.variation, change.location);
        let current = self.counts.get(&key).map(|c| c.units);
        let next = match &change.kind {
            ChangeKind::PhysicalCount => Some(change.units),
            ChangeKind::Adjustment { from, to } => {
                let delta = i64::from(to == "IN_STOCK") - i64::from(from == "IN_STOCK");
                (delta != 0).then(|| current.unwrap_or(0) + delta * change.units)
            }
        };
        if let Some(units) = next {
            if let Some(old) = self.counts.get(&key) {
                self.newest_first
                    .remove(&(Reverse(old.calculated_at), key.0, key.1));
            }
            self.counts.insert(
                key,
                Count {
                    units,
                    calculated_at: at,
                },
            );
            self.newest_first.insert((Reverse(at), key.0, key.1));
        }
        let position = self.ledger.len();
        let id = self.new_id();
        self.ledger.push(Change {
            id,
            kind: change.kind,
            variation: change.variation,
            location: change.location,
            units: change.units,
            occurred_at: change.occurred_at,
            created_at: at,
            reference_id: change.reference_id,
            product: change.product,
        });
        self.ledger_by_variation
            .entry(change.variation)
            .or_default()
            .push(position);
        position
    }

    /// A variation's stock over the active locations, in hundred-thousandths.
    pub fn active_units(&self, variation: usize) -> i64 {
        self.locations
            .iter()
            .enumerate()
            .filter(|(_, l)| l.active)
            .filter_map(|(i, _)| self.counts.get(&(variation, i)))
            .map(|c| c.units)
            .sum()
    }

    /// The first active location: where the till is.
    pub fn till_location(&self) -> usize {
        self.locations.iter().position(|l| l.active).unwrap_or(0)
    }
}

/// `Base (Variant)` → (`Base`, `Variant`); anything else is its own base.
fn split_name(name: &str) -> (&str, Option<&str>) {
    name.strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" ("))
        .filter(|(base, variant)| !base.trim().is_empty() && !variant.trim().is_empty())
        .map_or((name, None), |(base, variant)| (base, Some(variant)))
}

/// Square writes times with milliseconds.
fn truncate(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(time.timestamp_millis()).expect("a time in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, quantity: i64) -> SimProduct {
        SimProduct {
            name: name.into(),
            sku: format!("SKU-{name}"),
            quantity,
        }
    }

    #[test]
    fn variant_names_group_consecutive_products_into_one_item() {
        let products = [
            product("Tee (Small)", 1),
            product("Tee (Large)", 2),
            product("Mug", 3),
            product("Poster (Matte)", 4),
        ];
        let state = State::new(&products, &["A".into()], &[], 1);
        let names: Vec<(&str, usize)> = state
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.variations.len()))
            .collect();
        assert_eq!(names, [("Tee", 2), ("Mug", 1), ("Poster", 1)]);
        assert_eq!(state.variations[2].name, "Regular");
        assert_eq!(state.variations[3].name, "Matte");
    }

    #[test]
    fn stock_is_split_over_the_active_locations() {
        let state = State::new(
            &[product("A", 7), product("B", 0)],
            &["L1".into(), "L2".into()],
            &["L9".into()],
            1,
        );
        assert_eq!(state.counts[&(0, 0)].units, 4 * units::SCALE);
        assert_eq!(state.counts[&(0, 1)].units, 3 * units::SCALE);
        assert_eq!(state.active_units(0), 7 * units::SCALE);
        assert!(
            !state.counts.contains_key(&(1, 0)),
            "quantity 0 was never counted"
        );
        assert!(!state.locations[2].active);
    }

    #[test]
    fn the_clock_never_repeats_a_millisecond() {
        let mut state = State::new(&[], &[], &[], 1);
        let ticks: Vec<_> = (0..100).map(|_| state.tick()).collect();
        assert!(ticks.windows(2).all(|w| w[0] < w[1]));
    }
}
