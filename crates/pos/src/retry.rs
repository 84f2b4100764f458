//! The one retry loop of the vendor clients (POS and shops): an attempt tried again while it
//! fails for a transient reason and retries remain, after the wait the other side asked for
//! (a `Retry-After`, a rate bucket's refill) when it asked and not for longer than the
//! backoff's ceiling, otherwise after the backoff's jittered delay. A wait asked for longer
//! than the ceiling ends the loop: the error (which says how long) goes to the caller, who
//! schedules as it sees fit. The decision is [`next_wait`], pure; [`with_retries`] sleeps on
//! tokio's clock (tests can pause time) and logs each retry. Knows no vendor.

use crate::PosHttp;
use crate::backoff::{Backoff, jitter};
use std::fmt::Display;
use std::time::Duration;
use stocksync_domain::{PosError, ShopError};

/// A failed attempt, as the retry loop sees it.
pub trait Retryable: Display {
    /// Whether the same call may succeed later (transport trouble, timeouts, 429, 5xx).
    fn is_transient(&self) -> bool;

    /// How long the other side asked us to wait before trying again, when it said.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

impl Retryable for PosError {
    fn is_transient(&self) -> bool {
        PosError::is_transient(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PosError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

impl Retryable for ShopError {
    fn is_transient(&self) -> bool {
        ShopError::is_transient(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ShopError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// A failed attempt whose wait is known apart from its error (a `Retry-After` on a 503, a
/// bucket's refill): that wait, not the error's own, decides the next one.
#[derive(Debug)]
pub struct Failure<E> {
    pub error: E,
    pub retry_after: Option<Duration>,
}

impl<E> From<E> for Failure<E> {
    fn from(error: E) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

impl<E: Display> Display for Failure<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<E: Retryable> Retryable for Failure<E> {
    fn is_transient(&self) -> bool {
        self.error.is_transient()
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// The call a retry is logged under.
#[derive(Clone, Copy, Debug)]
pub struct Retried<'a> {
    /// As in "retrying a WooCommerce call".
    pub platform: &'static str,
    pub account: &'a str,
    /// The name the call is counted under (its endpoint, or GraphQL operation).
    pub endpoint: &'a str,
}

impl<'a> Retried<'a> {
    /// A call of `platform` made through `http` (which names the account), counted under
    /// `endpoint`.
    pub fn on(platform: &'static str, http: &'a PosHttp, endpoint: &'a str) -> Self {
        Self {
            platform,
            account: http.account(),
            endpoint,
        }
    }
}

/// The wait before retry number `retry` (0-based) of a call whose attempt failed, or `None`
/// to give up: the failure is not `transient`, the retries are spent, or the other side
/// `asked` for a wait longer than `backoff.max`. Without an `asked` wait, the `fraction` (a
/// draw in [0, 1)) of the backoff's ceiling for that retry.
pub fn next_wait(
    backoff: &Backoff,
    retry: u32,
    transient: bool,
    asked: Option<Duration>,
    fraction: f64,
) -> Option<Duration> {
    if !transient || retry >= backoff.retries {
        return None;
    }
    match asked {
        Some(asked) if asked > backoff.max => None,
        Some(asked) => Some(asked),
        None => Some(backoff.jittered(retry, fraction)),
    }
}

/// Runs `attempt` until it succeeds or [`next_wait`] gives up; its last error then. (A closure
/// returning a future rather than an async closure: the latter's future is not `Send` for
/// every lifetime, which `async_trait` ports need.)
pub async fn with_retries<T, E, F, Fut>(
    backoff: &Backoff,
    call: Retried<'_>,
    mut attempt: F,
) -> Result<T, E>
where
    E: Retryable,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut retry = 0;
    loop {
        let error = match attempt().await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        let wait = next_wait(
            backoff,
            retry,
            error.is_transient(),
            error.retry_after(),
            jitter(),
        );
        let Some(wait) = wait else {
            return Err(error);
        };
        tracing::warn!(
            account = call.account,
            endpoint = call.endpoint,
            error = %error,
            wait_ms = wait.as_millis() as u64,
            "retrying a {} call",
            call.platform
        );
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
        retries: 3,
    };

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_transient_failure_waits_the_jittered_share_of_its_ceiling() {
        assert_eq!(next_wait(&BACKOFF, 0, true, None, 0.5), Some(ms(50)));
        assert_eq!(next_wait(&BACKOFF, 2, true, None, 0.5), Some(ms(200)));
        assert_eq!(next_wait(&BACKOFF, 2, true, None, 0.0), Some(ms(0)));
    }

    #[test]
    fn the_wait_asked_for_is_kept_up_to_the_ceiling_and_beyond_it_given_up() {
        assert_eq!(
            next_wait(&BACKOFF, 0, true, Some(ms(1500)), 0.5),
            Some(ms(1500))
        );
        assert_eq!(
            next_wait(&BACKOFF, 0, true, Some(ms(2000)), 0.5),
            Some(ms(2000))
        );
        assert_eq!(next_wait(&BACKOFF, 0, true, Some(ms(2001)), 0.5), None);
        assert_eq!(next_wait(&BACKOFF, 0, true, Some(ms(0)), 0.5), Some(ms(0)));
    }

    #[test]
    fn permanent_failures_and_spent_retries_give_up() {
        assert_eq!(next_wait(&BACKOFF, 0, false, None, 0.5), None);
        assert_eq!(next_wait(&BACKOFF, 0, false, Some(ms(10)), 0.5), None);
        assert_eq!(next_wait(&BACKOFF, 2, true, None, 0.5), Some(ms(200)));
        assert_eq!(next_wait(&BACKOFF, 3, true, None, 0.5), None);
        assert_eq!(next_wait(&BACKOFF, 3, true, Some(ms(10)), 0.5), None);
    }

    const CALL: Retried<'static> = Retried {
        platform: "test",
        account: "a",
        endpoint: "GET /x",
    };

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_tried_again_until_the_retries_are_spent() {
        let attempts = &AtomicU32::new(0);
        let answer: Result<(), PosError> = with_retries(&BACKOFF, CALL, || async {
            attempts.fetch_add(1, Ordering::Relaxed);
            Err(PosError::Unavailable("down".into()))
        })
        .await;
        assert!(matches!(answer, Err(PosError::Unavailable(_))));
        assert_eq!(attempts.load(Ordering::Relaxed), 1 + BACKOFF.retries);

        let attempts = &AtomicU32::new(0);
        let answer = with_retries(&BACKOFF, CALL, || async {
            match attempts.fetch_add(1, Ordering::Relaxed) {
                0 => Err(PosError::RateLimited {
                    retry_after: Some(ms(300)),
                }),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(answer, Ok(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_or_a_too_long_wait_is_returned_at_once() {
        let started = tokio::time::Instant::now();
        for error in [
            PosError::Rejected("no".into()),
            PosError::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
            },
        ] {
            let attempts = &AtomicU32::new(0);
            let answer: Result<(), PosError> = with_retries(&BACKOFF, CALL, || async {
                attempts.fetch_add(1, Ordering::Relaxed);
                Err(error.clone())
            })
            .await;
            assert_eq!(answer, Err(error));
            assert_eq!(attempts.load(Ordering::Relaxed), 1);
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "no wait");
    }

    #[tokio::test(start_paused = true)]
    async fn the_asked_wait_is_slept_on_tokios_clock() {
        let started = tokio::time::Instant::now();
        let attempts = &AtomicU32::new(0);
        let _ = with_retries(&BACKOFF, CALL, || async {
            match attempts.fetch_add(1, Ordering::Relaxed) {
                0 => Err(PosError::RateLimited {
                    retry_after: Some(ms(1500)),
                }),
                _ => Ok(()),
            }
        })
        .await;
        assert_eq!(started.elapsed(), ms(1500));
    }
}
