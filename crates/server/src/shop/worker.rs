//! The shop's one background loop in the whole fleet, run by the process holding the database
//! lease `shop` (renewed by a [`Held`], as the outbox's are). While held: orders are polled on
//! `Shop.Cron` (or every `Shop.PollSeconds`) and when woken; whenever pushes are due, orders are
//! read right before each batch (an order the shop took since the last read lowered its stock:
//! the batch must not overwrite that), between a batch that read shop quantities and the one
//! that writes them, and right after a batch that wrote (an order placed while writing). Due pushes are looked for
//! every [`CHECK`], so a till sale reaches the shop well under two seconds.

use super::ShopHandle;
use super::orders;
use super::push::{self, BATCH};
use crate::lease::Held;
use crate::outbox::{OutboxWake, take_lease};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::sync::Arc;
use std::time::Duration;
use stocksync_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

/// How often the holder looks for due pushes (changes made by any process).
pub const CHECK: Duration = Duration::from_millis(200);
/// The most batches one turn pushes before it looks at the clock and the lease again.
const BATCHES_PER_TURN: usize = 20;
const LEASE: &str = "shop";

#[derive(Clone)]
pub struct ShopWorker {
    pub store: Store,
    pub shop: ShopHandle,
    pub outbox: Arc<OutboxWake>,
    pub stopping: CancellationToken,
    /// This process, as named in the lease.
    pub process: String,
    /// How long the lease stays this process's without renewal (`JobLeaseSeconds`).
    pub lease: Duration,
    /// The zone `Shop.Cron` is read in.
    pub time_zone: Tz,
}

impl ShopWorker {
    /// Runs until stocksync stops: works while this process holds the lease, and otherwise
    /// looks every third of the lease to take over from a process that stopped.
    pub async fn drive(self) {
        while !self.stopping.is_cancelled() {
            let taken_at = tokio::time::Instant::now();
            match take_lease(&self.store, LEASE, &self.process, self.lease).await {
                Ok(true) => {
                    let held = self.keep(taken_at);
                    self.work_while_held(&held).await;
                }
                Ok(false) => {}
                Err(err) => {
                    tracing::error!(error = %err, "the shop worker could not reach the database")
                }
            }
            tokio::select! {
                _ = self.stopping.cancelled() => break,
                _ = tokio::time::sleep(self.lease / 3) => {}
            }
        }
        if let Err(err) = self.store.release_lease(LEASE, &self.process).await {
            tracing::warn!(error = %err, "could not let the shop lease go; it expires by itself");
        }
    }

    fn keep(&self, taken_at: tokio::time::Instant) -> Held {
        let (store, process, length) = (self.store.clone(), self.process.clone(), self.lease);
        Held::spawn(taken_at, self.lease, LEASE.to_owned(), move || {
            let (store, process) = (store.clone(), process.clone());
            async move { take_lease(&store, LEASE, &process, length).await }
        })
    }

    fn next_poll(&self) -> Option<DateTime<Utc>> {
        match self.shop.config.poll_every {
            Some(every) => chrono::Duration::from_std(every)
                .ok()
                .map(|every| Utc::now() + every),
            None => self.shop.config.cron.next_after(Utc::now(), self.time_zone),
        }
    }

    /// Polls and pushes until the lease is lost or stocksync stops; polls at once first.
    async fn work_while_held(&self, held: &Held) {
        let mut poll_now = true;
        let mut next_poll = self.next_poll();
        while held.is_live() && !self.stopping.is_cancelled() {
            if next_poll.is_some_and(|at| Utc::now() >= at) {
                poll_now = true;
                next_poll = self.next_poll();
            }
            match held.run(self.turn(poll_now, held)).await {
                None => return,
                Some(Err(err)) => {
                    tracing::error!(error = %err, "the shop worker could not reach the database");
                }
                Some(Ok(())) => {}
            }
            poll_now = false;
            tokio::select! {
                _ = self.stopping.cancelled() => return,
                _ = held.token().cancelled() => return,
                _ = self.shop.wake.notified() => poll_now = true,
                _ = tokio::time::sleep(CHECK) => {}
            }
        }
    }

    /// One turn: the orders read when asked or when pushes are due, then each batch of due
    /// pushes followed by a read of the orders.
    pub async fn turn(&self, poll_now: bool, held: &Held) -> Result<(), StoreError> {
        let _turn = self.shop.turn.lock().await;
        let mut pushes_due = !self.store.due_shop_pushes(1).await?.is_empty();
        if poll_now || pushes_due {
            orders::poll(&self.store, &self.shop, &self.outbox).await?;
        }
        for _ in 0..BATCHES_PER_TURN {
            if !pushes_due || !held.is_live() {
                break;
            }
            let pushed = push::push_batch(
                &self.store,
                self.shop.config.kind,
                self.shop.connector.as_ref(),
            )
            .await?;
            if pushed.written > 0 || pushed.read > 0 {
                orders::poll(&self.store, &self.shop, &self.outbox).await?;
            }
            pushes_due = i64::try_from(pushed.due).unwrap_or(i64::MAX) >= BATCH
                || !self.store.due_shop_pushes(1).await?.is_empty();
        }
        Ok(())
    }
}
