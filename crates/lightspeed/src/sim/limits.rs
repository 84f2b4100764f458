//! Lightspeed's rate limits: a leaky bucket per (account, client) that drips at a fixed rate,
//! and a burst limiter over fixed one-second windows. Every answer carries the `X-LS-API-*`
//! headers; a request that does not fit gets 429 with `X-LS-API-RateLimit-Type` and
//! `Retry-After` (whole seconds).

use tokio::time::Instant;

/// The bucket's shape and what requests cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Drips the bucket holds.
    pub size: f64,
    /// Drips leaked per second.
    pub drip: f64,
    /// Requests per one-second window; `None`: no burst limiter.
    pub burst: Option<u32>,
    /// The costs before the 2026-03-17 rebalance: GET 1, any write 10.
    pub legacy_costs: bool,
}

impl RateLimit {
    /// The documented bucket of a one-register account: 90 drips, 1 per second, bursts of 20.
    pub fn documented() -> Self {
        Self {
            size: 90.0,
            drip: 1.0,
            burst: Some(20),
            legacy_costs: false,
        }
    }

    /// The bucket most client libraries were written against: 60 drips, writes cost 10.
    pub fn legacy() -> Self {
        Self {
            size: 60.0,
            drip: 1.0,
            burst: None,
            legacy_costs: true,
        }
    }

    /// A bucket that a benchmark or a demo does not notice (its headers are still sent).
    pub fn roomy() -> Self {
        Self {
            size: 10_000.0,
            drip: 1_000.0,
            burst: None,
            legacy_costs: false,
        }
    }

    /// What a request costs: GET 1 (+0.2 per to-many relation, doubled on lists; `count=1`
    /// costs 10); a write of a sale 2, +3 if completed, +0.5 per nested line or payment.
    pub(crate) fn cost(&self, request: Cost) -> f64 {
        match request {
            Cost::Read {
                relations,
                list,
                count,
            } => {
                if count {
                    10.0
                } else {
                    1.0 + relations as f64 * if list { 0.4 } else { 0.2 }
                }
            }
            Cost::WriteSale { .. } if self.legacy_costs => 10.0,
            Cost::WriteSale { completed, nested } => {
                2.0 + if completed { 3.0 } else { 0.0 } + 0.5 * nested as f64
            }
        }
    }
}

/// What a request is, for its cost.
#[derive(Clone, Copy, Debug)]
pub enum Cost {
    Read {
        relations: usize,
        list: bool,
        count: bool,
    },
    WriteSale {
        completed: bool,
        nested: usize,
    },
}

/// The state of one bucket.
#[derive(Debug)]
pub struct Bucket {
    level: f64,
    at: Instant,
    started: Instant,
    window: u64,
    in_window: u32,
}

/// What the limiter decided, with the headers to send either way.
#[derive(Debug)]
pub struct Verdict {
    /// `Some((type, retry after in seconds))` when refused.
    pub refused: Option<(&'static str, u64)>,
    pub headers: Vec<(&'static str, String)>,
}

impl Bucket {
    pub fn new() -> Self {
        let now = Instant::now();
        Self {
            level: 0.0,
            at: now,
            started: now,
            window: 0,
            in_window: 0,
        }
    }

    fn leak(&mut self, rate: &RateLimit) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.level = (self.level - rate.drip * elapsed).max(0.0);
        self.at = now;
        let window = now.duration_since(self.started).as_secs();
        if window != self.window {
            self.window = window;
            self.in_window = 0;
        }
    }

    /// Lets a request costing `cost` in, or refuses it. As on Lightspeed, a request that finds
    /// the bucket below its size is let in even if it takes the level past it.
    pub fn admit(&mut self, rate: &RateLimit, cost: f64) -> Verdict {
        self.leak(rate);
        let refused = if rate.burst.is_some_and(|limit| self.in_window >= limit) {
            Some(("api-burst-limiter", 1))
        } else if self.level >= rate.size {
            let wait = (self.level - rate.size + cost) / rate.drip.max(f64::MIN_POSITIVE);
            Some(("api-leaky-bucket", wait.ceil().clamp(1.0, 3600.0) as u64))
        } else {
            self.level += cost;
            self.in_window += 1;
            None
        };
        Verdict {
            refused,
            headers: self.headers(rate, cost),
        }
    }

    /// The headers of an answer that did not go through the bucket (a refused token, a fault).
    pub fn report(&mut self, rate: &RateLimit) -> Vec<(&'static str, String)> {
        self.leak(rate);
        self.headers(rate, 0.0)
    }

    fn headers(&self, rate: &RateLimit, cost: f64) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (
                "x-ls-api-bucket-level",
                format!("{}/{}", decimal(self.level), decimal(rate.size)),
            ),
            ("x-ls-api-drip-rate", decimal(rate.drip)),
            ("x-ls-api-request-cost", decimal(cost)),
        ];
        if let Some(limit) = rate.burst {
            headers.push((
                "x-ls-api-burst-level",
                format!("{}/{limit}", self.in_window),
            ));
        }
        headers
    }
}

/// `1`, `92.57`: at most two decimals, no trailing zeros.
fn decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_fills_refuses_and_drains() {
        let rate = RateLimit {
            size: 3.0,
            drip: 2.0,
            burst: None,
            legacy_costs: false,
        };
        let mut bucket = Bucket::new();
        for _ in 0..3 {
            assert!(bucket.admit(&rate, 1.0).refused.is_none());
        }
        let refused = bucket.admit(&rate, 1.0);
        assert_eq!(refused.refused, Some(("api-leaky-bucket", 1)));
        assert!(
            refused
                .headers
                .contains(&("x-ls-api-bucket-level", "3/3".to_owned()))
        );
        tokio::time::advance(Duration::from_millis(250)).await;
        let admitted = bucket.admit(&rate, 1.0);
        assert!(admitted.refused.is_none());
        assert!(
            admitted
                .headers
                .contains(&("x-ls-api-bucket-level", "3.5/3".to_owned()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_burst_limiter_counts_requests_per_second() {
        let rate = RateLimit {
            burst: Some(2),
            ..RateLimit::roomy()
        };
        let mut bucket = Bucket::new();
        assert!(bucket.admit(&rate, 1.0).refused.is_none());
        assert!(bucket.admit(&rate, 1.0).refused.is_none());
        assert_eq!(
            bucket.admit(&rate, 1.0).refused,
            Some(("api-burst-limiter", 1))
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(bucket.admit(&rate, 1.0).refused.is_none());
    }

    #[test]
    fn costs_follow_the_2026_model_or_the_legacy_one() {
        let rate = RateLimit::documented();
        let sale = Cost::WriteSale {
            completed: true,
            nested: 2,
        };
        assert_eq!(rate.cost(sale), 6.0);
        assert_eq!(RateLimit::legacy().cost(sale), 10.0);
        assert_eq!(
            rate.cost(Cost::Read {
                relations: 1,
                list: true,
                count: false
            }),
            1.4
        );
        assert_eq!(
            rate.cost(Cost::Read {
                relations: 0,
                list: true,
                count: true
            }),
            10.0
        );
    }
}
