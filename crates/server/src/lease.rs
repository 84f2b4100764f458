//! Keeping a lease while work runs: renewed every third of its length, so that another process
//! takes the work over only when this one has stopped or stalled.

use std::future::Future;
use std::time::Duration;
use stocksync_store::StoreError;

/// Renews with `renew` every third of `lease`; returns only when the lease is lost (`renew`
/// answered `false`). A failed renewal is logged and tried again at the next turn.
pub async fn keep<F, Fut>(lease: Duration, what: &str, mut renew: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, StoreError>>,
{
    loop {
        tokio::time::sleep(lease / 3).await;
        match renew().await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => tracing::warn!(lease = what, error = %err, "could not renew a lease"),
        }
    }
}
