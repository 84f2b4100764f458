//! Pacing for one Lightspeed account: one request at a time, each sent only when the leaky
//! bucket the last answer described (`X-LS-API-Bucket-Level`, `X-LS-API-Drip-Rate`) has room
//! for it and the one-second burst limiter would accept it, so that a long read gets no 429.
//! A 429 that comes anyway holds every request back for its `Retry-After`.
//!
//! Time is tokio's clock, so tests pause it. Knows nothing of URLs, tokens or JSON.

use reqwest::header::HeaderMap;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::{Instant, sleep_until};

/// The burst limiter counts requests in one-second windows; ours is a little longer, so that
/// requests spread by network jitter never land in one of the server's windows together.
const BURST_WINDOW: Duration = Duration::from_millis(1_050);
/// The shortest wait after a 429 of the burst limiter (the docs ask for at least a second).
const BURST_PENALTY: Duration = Duration::from_secs(1);
/// A wait is never longer than this, whatever the headers say.
const LONGEST_WAIT: Duration = Duration::from_secs(120);

/// The bucket of one account, as the last answer described it.
#[derive(Debug, Default)]
pub struct Pacer {
    bucket: Mutex<Bucket>,
}

#[derive(Debug, Default)]
struct Bucket {
    /// The last known level, size and drip rate, and when they were read.
    reading: Option<Reading>,
    /// Burst limit per second, once a `X-LS-API-Burst-Level` header told it.
    burst_limit: Option<usize>,
    /// When the requests of the last burst window were sent.
    sent: VecDeque<Instant>,
    /// No request before this (after a 429).
    blocked_until: Option<Instant>,
    /// The cost the server last charged for each endpoint (`X-LS-API-Request-Cost`).
    learned_costs: HashMap<&'static str, f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Reading {
    level: f64,
    size: f64,
    drip: f64,
    at: Instant,
}

/// The right to send one request; held until its answer is observed (or the request failed).
pub struct Turn<'a> {
    bucket: MutexGuard<'a, Bucket>,
    endpoint: &'static str,
    cost: f64,
    observed: bool,
}

impl Pacer {
    /// Waits until a request to `endpoint`, expected to cost `estimate` (or what the server last
    /// charged for it, if more), fits the bucket, and keeps every other request waiting until
    /// this one's answer is observed.
    pub async fn turn(&self, endpoint: &'static str, estimate: f64) -> Turn<'_> {
        let mut bucket = self.bucket.lock().await;
        let cost = bucket
            .learned_costs
            .get(endpoint)
            .map_or(estimate, |learned| learned.max(estimate));
        loop {
            let now = Instant::now();
            match bucket.ready_at(cost, now) {
                Some(at) if at > now => sleep_until(at.min(now + LONGEST_WAIT)).await,
                _ => break,
            }
        }
        let now = Instant::now();
        bucket.sent.push_back(now);
        Turn {
            bucket,
            endpoint,
            cost,
            observed: false,
        }
    }
}

impl Bucket {
    /// When a request costing `cost` may go, or `None` if it may go now.
    fn ready_at(&mut self, cost: f64, now: Instant) -> Option<Instant> {
        while self
            .sent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= BURST_WINDOW)
        {
            self.sent.pop_front();
        }
        let mut ready = self.blocked_until.filter(|&t| t > now);
        if let Some(limit) = self.burst_limit
            && self.sent.len() >= limit.max(1)
        {
            let oldest = self.sent[self.sent.len() - limit.max(1)];
            ready = ready.max(Some(oldest + BURST_WINDOW));
        }
        if let Some(reading) = self.reading {
            ready = ready.max(reading.room_at(cost, now));
        }
        ready.filter(|&t| t > now)
    }
}

impl Reading {
    /// When the bucket will hold `cost` more without passing its size (or be empty, for a
    /// request costing more than the whole bucket).
    fn room_at(&self, cost: f64, now: Instant) -> Option<Instant> {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        let level_now = (self.level - self.drip * elapsed).max(0.0);
        let allowed = (self.size - cost).max(0.0);
        if level_now <= allowed {
            return None;
        }
        if self.drip <= 0.0 {
            // A bucket that never drains is nonsense; wait a second and ask again.
            return Some(now + Duration::from_secs(1));
        }
        let wait =
            Duration::try_from_secs_f64((level_now - allowed) / self.drip).unwrap_or(LONGEST_WAIT);
        Some(now + wait.min(LONGEST_WAIT))
    }
}

impl Turn<'_> {
    /// Records what an answer's headers say about the bucket (any status; a 429 also blocks
    /// every request for its `Retry-After`).
    pub fn observe(&mut self, status: u16, headers: &HeaderMap) {
        let now = Instant::now();
        match header(headers, "x-ls-api-bucket-level").and_then(fraction) {
            Some((level, size)) => {
                let drip = header(headers, "x-ls-api-drip-rate")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|d| d.is_finite() && *d >= 0.0)
                    .or(self.bucket.reading.map(|r| r.drip))
                    .unwrap_or(1.0);
                self.bucket.reading = Some(Reading {
                    level,
                    size,
                    drip,
                    at: now,
                });
            }
            None => self.charge_estimate(now),
        }
        let bucket = &mut *self.bucket;
        if let Some((_, limit)) = header(headers, "x-ls-api-burst-level").and_then(fraction) {
            bucket.burst_limit = Some(limit.floor().max(1.0) as usize);
        }
        if let Some(cost) = header(headers, "x-ls-api-request-cost")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|c| c.is_finite() && *c > 0.0)
        {
            bucket.learned_costs.insert(self.endpoint, cost);
        }
        if status == 429 {
            let burst =
                header(headers, "x-ls-api-ratelimit-type").is_some_and(|t| t.contains("burst"));
            let mut wait = retry_after(headers).unwrap_or(Duration::from_secs(1));
            if burst {
                wait = wait.max(BURST_PENALTY);
            }
            bucket.blocked_until = Some(now + wait.min(LONGEST_WAIT));
        }
        self.observed = true;
    }

    /// Without an answer, assume the request was charged as estimated.
    fn charge_estimate(&mut self, now: Instant) {
        let cost = self.cost;
        let bucket = &mut *self.bucket;
        if let Some(reading) = bucket.reading.as_mut() {
            let elapsed = now.duration_since(reading.at).as_secs_f64();
            reading.level = (reading.level - reading.drip * elapsed).max(0.0) + cost;
            reading.at = now;
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.observed {
            self.charge_estimate(Instant::now());
        }
    }
}

/// `Retry-After` in seconds (integer or fractional).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header(headers, "retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    // HeaderMap names are case-insensitive already; `name` is given in lower case.
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `"92.57/90"` → `(92.57, 90.0)`.
fn fraction(value: &str) -> Option<(f64, f64)> {
    let (level, size) = value.split_once('/')?;
    let level = level.trim().parse::<f64>().ok().filter(|v| v.is_finite())?;
    let size = size
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)?;
    Some((level, size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    async fn answered(pacer: &Pacer, cost: f64, status: u16, pairs: &[(&str, &str)]) -> Duration {
        let start = Instant::now();
        let mut turn = pacer.turn("GET /x", cost).await;
        let waited = start.elapsed();
        turn.observe(status, &headers(pairs));
        waited
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_the_bucket_has_room_for_the_next_request() {
        let pacer = Pacer::default();
        // Mixed-case names: header names are compared without case.
        let full = [
            ("X-LS-Api-Bucket-Level", "9.5/10"),
            ("x-ls-api-drip-rate", "2"),
        ];
        assert_eq!(answered(&pacer, 1.0, 200, &full).await, Duration::ZERO);
        // 9.5 + 1 > 10: a quarter of a second drains the half drip missing.
        let waited = answered(&pacer, 1.0, 200, &full).await;
        assert_eq!(waited, Duration::from_millis(250));
        // A costly write (6) needs 5.5 drained: 2.75 s at 2 per second.
        let waited = answered(&pacer, 6.0, 200, &[("X-LS-API-Bucket-Level", "1/10")]).await;
        assert_eq!(waited, Duration::from_millis(2_750));
        // 1 + 6 fits; that answer has no header, so its estimate is charged: 7.
        let waited = answered(&pacer, 6.0, 200, &[]).await;
        assert_eq!(waited, Duration::ZERO);
        // 7 + 6 - 10 = 3 drips at 2 per second.
        let waited = answered(&pacer, 6.0, 200, &[]).await;
        assert_eq!(waited, Duration::from_millis(1_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fractional_level_and_drip_are_read() {
        let pacer = Pacer::default();
        answered(
            &pacer,
            1.0,
            200,
            &[
                ("x-ls-api-bucket-level", "92.57/90"),
                ("x-ls-api-drip-rate", "1.5"),
            ],
        )
        .await;
        let waited = answered(&pacer, 1.0, 200, &[]).await;
        // 92.57 + 1 - 90 = 3.57 drips at 1.5/s.
        assert!(
            (waited.as_secs_f64() - 3.57 / 1.5).abs() < 0.01,
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_under_the_burst_limit() {
        let pacer = Pacer::default();
        let mut waits = Vec::new();
        for _ in 0..5 {
            waits.push(answered(&pacer, 1.0, 200, &[("x-ls-api-burst-level", "1/2")]).await);
        }
        assert_eq!(waits[..2], [Duration::ZERO, Duration::ZERO]);
        assert_eq!(waits[2], BURST_WINDOW);
        assert_eq!(waits[3], Duration::ZERO);
        assert_eq!(waits[4], BURST_WINDOW);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_for_its_retry_after() {
        let pacer = Pacer::default();
        answered(
            &pacer,
            1.0,
            429,
            &[
                ("retry-after", "3"),
                ("x-ls-api-ratelimit-type", "api-leaky-bucket"),
            ],
        )
        .await;
        assert_eq!(
            answered(&pacer, 1.0, 200, &[]).await,
            Duration::from_secs(3)
        );
        answered(
            &pacer,
            1.0,
            429,
            &[("X-LS-API-RateLimit-Type", "api-burst-limiter")],
        )
        .await;
        assert_eq!(
            answered(&pacer, 1.0, 200, &[]).await,
            Duration::from_secs(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn learns_what_an_endpoint_costs() {
        let pacer = Pacer::default();
        let charged = [
            ("x-ls-api-bucket-level", "5/10"),
            ("x-ls-api-drip-rate", "1"),
            ("x-ls-api-request-cost", "5"),
        ];
        answered(&pacer, 1.0, 200, &charged).await;
        // Estimated 1, but the server charged 5: 5 + 5 ≤ 10 goes at once, then the next waits.
        assert_eq!(
            answered(&pacer, 1.0, 200, &[("x-ls-api-bucket-level", "10/10")]).await,
            Duration::ZERO
        );
        assert_eq!(
            answered(&pacer, 1.0, 200, &[]).await,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn bucket_levels_are_read_leniently() {
        assert_eq!(fraction("1/90"), Some((1.0, 90.0)));
        assert_eq!(fraction(" 92.57 / 90 "), Some((92.57, 90.0)));
        assert_eq!(fraction("1/0"), None);
        assert_eq!(fraction("lots"), None);
    }
}
