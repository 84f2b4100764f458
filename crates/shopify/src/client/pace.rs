//! Pacing on Shopify's cost bucket (shop-apis.md §2.7): what the last answer said of the bucket
//! (`extensions.cost.throttleStatus`), what each operation cost last time, and how long to wait
//! before sending a query so that it is not throttled. Pure: the caller passes the time. No
//! limit is written here: they all come from Shopify's answers.

use crate::wire::Cost;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// The bucket as last reported, with the cost each operation was last charged.
#[derive(Debug, Default)]
pub(super) struct Bucket {
    /// `currentlyAvailable`, `restoreRate` and `maximumAvailable` at `at`, less what was
    /// sent since (reserved).
    state: Option<State>,
    /// `requestedQueryCost` per operation, as last answered.
    costs: HashMap<&'static str, f64>,
}

#[derive(Clone, Copy, Debug)]
struct State {
    available: f64,
    restore_rate: f64,
    maximum: f64,
    at: Instant,
}

impl State {
    fn available_at(&self, now: Instant) -> f64 {
        let restored = now.saturating_duration_since(self.at).as_secs_f64() * self.restore_rate;
        (self.available + restored).min(self.maximum)
    }
}

impl Bucket {
    /// Whether `operation` may be sent at `now`: if so its expected cost is reserved (so that
    /// concurrent calls wait their turn) and returned, otherwise how long to wait.
    pub(super) fn reserve(
        &mut self,
        operation: &'static str,
        now: Instant,
    ) -> Result<f64, Duration> {
        // An operation not yet sent is expected to cost as much as the dearest one seen (a
        // first `nodes` read after a catalogue read, say): never sent blind into a drained bucket.
        let expected = self
            .costs
            .get(operation)
            .copied()
            .or_else(|| self.costs.values().copied().reduce(f64::max));
        let (Some(state), Some(cost)) = (self.state.as_mut(), expected) else {
            return Ok(0.0);
        };
        let available = state.available_at(now);
        let cost = cost.min(state.maximum);
        if available >= cost {
            *state = State {
                available: available - cost,
                at: now,
                ..*state
            };
            return Ok(cost);
        }
        if state.restore_rate <= 0.0 {
            return Err(Duration::from_secs(1));
        }
        Err(Duration::from_secs_f64(
            (cost - available) / state.restore_rate,
        ))
    }

    /// Gives back a reservation whose call got no answer from Shopify (nothing was charged).
    pub(super) fn release(&mut self, points: f64) {
        if let Some(state) = self.state.as_mut() {
            state.available = (state.available + points).min(state.maximum);
        }
    }

    /// Takes in what an answer to `operation` said.
    pub(super) fn observe(&mut self, operation: &'static str, cost: &Cost, now: Instant) {
        let status = cost.throttle_status;
        self.costs.insert(operation, cost.requested_query_cost);
        self.state = Some(State {
            available: status.currently_available,
            restore_rate: status.restore_rate,
            maximum: status.maximum_available,
            at: now,
        });
    }

    /// How long until `cost` points are available, per the last answer (for a THROTTLED one).
    pub(super) fn refill_time(&self, cost: f64, now: Instant) -> Option<Duration> {
        let state = self.state?;
        let missing = cost.min(state.maximum) - state.available_at(now);
        (state.restore_rate > 0.0)
            .then(|| Duration::from_secs_f64(missing.max(0.0) / state.restore_rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ThrottleStatus;

    fn cost(requested: f64, available: f64) -> Cost {
        Cost {
            requested_query_cost: requested,
            actual_query_cost: Some(requested),
            throttle_status: ThrottleStatus {
                maximum_available: 1000.0,
                currently_available: available,
                restore_rate: 100.0,
            },
        }
    }

    #[test]
    fn waits_only_for_what_is_missing_and_reserves_what_it_sends() {
        let now = Instant::now();
        let mut bucket = Bucket::default();
        assert_eq!(bucket.reserve("q", now), Ok(0.0), "nothing known yet");
        bucket.observe("q", &cost(300.0, 500.0), now);
        assert_eq!(bucket.reserve("q", now), Ok(300.0));
        // 200 left after the reservation: 100 missing at 100/s.
        assert_eq!(bucket.reserve("q", now), Err(Duration::from_secs(1)));
        // Half a second later, 250 are there: 50 missing.
        let later = now + Duration::from_millis(500);
        assert_eq!(bucket.reserve("q", later), Err(Duration::from_millis(500)));
        assert_eq!(bucket.reserve("q", now + Duration::from_secs(1)), Ok(300.0));
    }

    #[test]
    fn an_operation_not_yet_sent_is_paced_as_the_dearest_one_seen() {
        let now = Instant::now();
        let mut bucket = Bucket::default();
        bucket.observe("small", &cost(10.0, 1000.0), now);
        bucket.observe("page", &cost(750.0, 100.0), now);
        // 100 there: the first "nodes" waits for 750, not for nothing.
        assert_eq!(
            bucket.reserve("nodes", now),
            Err(Duration::from_millis(6500))
        );
        assert_eq!(
            bucket.reserve("nodes", now + Duration::from_millis(6500)),
            Ok(750.0)
        );
        assert_eq!(
            bucket.reserve("small", now + Duration::from_secs(7)),
            Ok(10.0)
        );
    }

    #[test]
    fn a_call_without_an_answer_gives_its_reservation_back() {
        let now = Instant::now();
        let mut bucket = Bucket::default();
        bucket.observe("q", &cost(300.0, 500.0), now);
        let reserved = bucket.reserve("q", now).unwrap();
        bucket.release(reserved);
        assert_eq!(bucket.reserve("q", now), Ok(300.0));
        assert_eq!(bucket.reserve("q", now), Err(Duration::from_secs(1)));
    }

    #[test]
    fn the_bucket_never_fills_past_its_maximum() {
        let now = Instant::now();
        let mut bucket = Bucket::default();
        bucket.observe("q", &cost(900.0, 0.0), now);
        let much_later = now + Duration::from_secs(3600);
        assert_eq!(bucket.reserve("q", much_later), Ok(900.0));
        assert_eq!(
            bucket.refill_time(900.0, much_later),
            Some(Duration::from_secs(8))
        );
    }
}
