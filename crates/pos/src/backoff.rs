//! Exponential backoff with full jitter, for retrying a POS call that failed for a transient
//! reason (429, 5xx, timeout). Sleeping uses tokio's clock, so tests can pause time.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How retries are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub initial: Duration,
    /// The ceiling never grows past this.
    pub max: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
}

impl Default for Backoff {
    /// Square's SDK defaults: about 1 s, doubling, a few retries.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            retries: 4,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (0-based): a random duration up to
    /// `min(max, initial × 2^retry)` (full jitter spreads clients that failed together).
    pub fn delay(&self, retry: u32) -> Duration {
        self.jittered(retry, jitter())
    }

    /// The wait before retry number `retry` for a draw `fraction` in [0, 1) of the jitter:
    /// that share of its ceiling.
    pub fn jittered(&self, retry: u32, fraction: f64) -> Duration {
        self.ceiling(retry).mul_f64(fraction)
    }

    /// The largest wait before retry number `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(20));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    nanos | 1
}

/// A number in [0, 1) from a xorshift generator: jitter needs spread, not cryptography.
pub(crate) fn jitter() -> f64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            retries: 10,
        };
        let ceilings: Vec<u128> = (0..6).map(|r| backoff.ceiling(r).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn delays_stay_under_their_ceiling_and_vary() {
        let backoff = Backoff::default();
        let delays: Vec<Duration> = (0..50).map(|_| backoff.delay(2)).collect();
        assert!(delays.iter().all(|d| *d < backoff.ceiling(2)));
        let first = delays[0];
        assert!(
            delays.iter().any(|d| *d != first),
            "jitter spreads the waits"
        );
    }
}
