//! The simulated cost bucket (shop-apis.md §2.7): a leaky bucket of query-cost points per
//! shop, charged the requested cost up front and refunded down to the actual cost, restored at
//! a fixed rate, reported in every answer as `extensions.cost`; a query costing more than is
//! available is throttled, one costing more than the bucket can ever hold is refused.

use serde_json::{Value, json};
use std::time::Instant;

/// The bucket's size and restore rate (Shopify's Standard plan: 100 points a second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketSpec {
    pub maximum: f64,
    pub restore_rate: f64,
}

impl Default for BucketSpec {
    fn default() -> Self {
        Self {
            maximum: 1000.0,
            restore_rate: 100.0,
        }
    }
}

#[derive(Debug)]
pub(super) struct Bucket {
    spec: BucketSpec,
    available: f64,
    at: Instant,
    /// Points charged so far: requested up front, and what stayed charged after refunds.
    requested_total: f64,
    actual_total: f64,
}

impl Bucket {
    pub fn new(spec: BucketSpec) -> Self {
        Self {
            spec,
            available: spec.maximum,
            at: Instant::now(),
            requested_total: 0.0,
            actual_total: 0.0,
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let restored = now.duration_since(self.at).as_secs_f64() * self.spec.restore_rate;
        self.available = (self.available + restored).min(self.spec.maximum);
        self.at = now;
    }

    pub fn maximum(&self) -> f64 {
        self.spec.maximum
    }

    /// Charges `requested` if it is available: `false` (throttled) otherwise.
    pub fn charge(&mut self, requested: f64) -> bool {
        self.refill();
        if requested > self.available {
            return false;
        }
        self.available -= requested;
        self.requested_total += requested;
        self.actual_total += requested;
        true
    }

    /// Gives back what a query did not use.
    pub fn refund(&mut self, points: f64) {
        self.actual_total -= points;
        self.available = (self.available + points).min(self.spec.maximum);
    }

    /// Points charged so far (throttled queries charge none): requested, and actual (what
    /// stayed charged once each answer refunded the unused part).
    pub fn charged(&self) -> (f64, f64) {
        (self.requested_total, self.actual_total)
    }

    /// `extensions.cost` of an answer.
    pub fn extensions(&mut self, requested: f64, actual: Option<f64>) -> Value {
        self.refill();
        json!({ "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.spec.maximum,
                "currentlyAvailable": self.available.floor(),
                "restoreRate": self.spec.restore_rate,
            },
        } })
    }
}
