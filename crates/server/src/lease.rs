//! Holding a lease while work runs. One task per lease ([`Held`]) renews it every third of its
//! length and cancels the lease's token the moment it is lost (another owner has it) or could
//! not be renewed before it would expire; the work runs only while the token is live, so
//! another process takes the work over only once this one has stopped doing it.
//!
//! Knows nothing of what is leased: the caller gives the renewal as a closure.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stocksync_store::StoreError;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A lease this process holds, renewed by its own task until dropped.
pub struct Held {
    live: CancellationToken,
    /// Until when the lease is surely ours: its last renewal's start plus its length, less a
    /// margin for the other processes' clocks.
    live_until: Arc<Mutex<Instant>>,
    renewer: JoinHandle<()>,
}

/// What one turn of the renewal task does next.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Renew again at this instant.
    RenewAt(Instant),
    /// The lease is lost or about to expire unrenewed: stop the work.
    Lost(&'static str),
}

/// How long before the lease's expiry the work stops when renewals keep failing, so that a
/// call in flight ends before another process may take over (and other clocks may run ahead).
fn margin(length: Duration) -> Duration {
    length / 6
}

/// After a renewal that answered `renewed` (`None`: it failed or timed out) at `now`, for a
/// lease surely held until `live_until`: when to renew next, or that the lease is lost.
fn after_renewal(
    renewed: Option<bool>,
    now: Instant,
    live_until: Instant,
    length: Duration,
) -> Next {
    match renewed {
        Some(false) => Next::Lost("another process holds it"),
        _ if now >= live_until => Next::Lost("it could not be renewed before it expires"),
        Some(true) => Next::RenewAt(now + length / 3),
        // Failed: try again soon, while the lease still holds.
        None => Next::RenewAt((now + length / 12).min(live_until)),
    }
}

impl Held {
    /// Holds a lease of `length` taken (or renewed) by a call that began at `taken_at`;
    /// `renew` renews it for `length` more and answers `false` once another owner has it.
    pub fn spawn<F, Fut>(taken_at: Instant, length: Duration, what: String, mut renew: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<bool, StoreError>> + Send,
    {
        let live = CancellationToken::new();
        let live_until = Arc::new(Mutex::new(taken_at + length - margin(length)));
        let (token, until) = (live.clone(), live_until.clone());
        let renewer = tokio::spawn(async move {
            let mut next = Next::RenewAt(taken_at + length / 3);
            while let Next::RenewAt(at) = next {
                tokio::time::sleep_until(at).await;
                let sent = Instant::now();
                let deadline = *until.lock().expect("lease deadline");
                let renewed = match tokio::time::timeout_at(deadline, renew()).await {
                    Ok(Ok(renewed)) => Some(renewed),
                    Ok(Err(err)) => {
                        tracing::warn!(lease = %what, error = %err, "could not renew a lease");
                        None
                    }
                    Err(_) => None,
                };
                if renewed == Some(true) {
                    *until.lock().expect("lease deadline") = sent + length - margin(length);
                }
                let live_until = *until.lock().expect("lease deadline");
                next = after_renewal(renewed, Instant::now(), live_until, length);
            }
            if let Next::Lost(why) = next {
                tracing::warn!(lease = %what, why, "lease lost; its work stops");
            }
            token.cancel();
        });
        Self {
            live,
            live_until,
            renewer,
        }
    }

    /// Cancelled the moment the lease is lost.
    pub fn token(&self) -> &CancellationToken {
        &self.live
    }

    /// Whether the work may go on: the lease is held and surely not expired (checked right
    /// before a call that must not be made twice, in case this process stalled).
    pub fn is_live(&self) -> bool {
        !self.live.is_cancelled()
            && Instant::now() < *self.live_until.lock().expect("lease deadline")
    }

    /// Runs `work` while the lease is held: `None` if the lease was lost first (the work is
    /// dropped at once).
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            biased;
            _ = self.live.cancelled() => None,
            done = work => Some(done),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewer.abort();
        self.live.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const LENGTH: Duration = Duration::from_secs(30);

    #[test]
    fn a_renewed_lease_is_renewed_again_a_third_later() {
        let now = Instant::now();
        assert_eq!(
            after_renewal(Some(true), now, now + LENGTH, LENGTH),
            Next::RenewAt(now + LENGTH / 3)
        );
    }

    #[test]
    fn a_lease_another_owner_took_is_lost_at_once() {
        let now = Instant::now();
        assert!(matches!(
            after_renewal(Some(false), now, now + LENGTH, LENGTH),
            Next::Lost(_)
        ));
    }

    #[test]
    fn failed_renewals_are_retried_until_the_lease_would_expire() {
        let now = Instant::now();
        let until = now + Duration::from_secs(1);
        assert_eq!(
            after_renewal(None, now, until, LENGTH),
            Next::RenewAt(until),
            "retried, but not after the lease is no longer sure"
        );
        assert!(matches!(
            after_renewal(None, until, until, LENGTH),
            Next::Lost(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_work_stops_when_the_lease_is_lost() {
        let renewals = Arc::new(AtomicU32::new(0));
        let counted = renewals.clone();
        // Renewed twice, then another owner has it.
        let held = Held::spawn(Instant::now(), LENGTH, "test".into(), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok(n < 2) }
        });
        let started = Instant::now();
        let outcome = held.run(std::future::pending::<()>()).await;
        assert_eq!(outcome, None);
        assert_eq!(renewals.load(Ordering::SeqCst), 3);
        assert_eq!(
            started.elapsed(),
            LENGTH,
            "renewed every third of its length"
        );
        assert!(!held.is_live());
    }

    #[tokio::test(start_paused = true)]
    async fn the_work_stops_before_an_unrenewable_lease_expires() {
        let held = Held::spawn(Instant::now(), LENGTH, "test".into(), || async {
            Err(StoreError::Corrupt("the database is away".into()))
        });
        let started = Instant::now();
        assert!(held.is_live());
        assert_eq!(held.run(std::future::pending::<()>()).await, None);
        assert_eq!(started.elapsed(), LENGTH - margin(LENGTH));
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_ends_keeps_its_result() {
        let held = Held::spawn(Instant::now(), LENGTH, "test".into(), || async { Ok(true) });
        let done = held
            .run(async {
                tokio::time::sleep(LENGTH * 3).await;
                7
            })
            .await;
        assert_eq!(done, Some(7));
        assert!(held.is_live());
    }
}
