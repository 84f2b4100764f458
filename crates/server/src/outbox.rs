//! The outbox worker: pushes each accepted web sale to its POS (idempotently: the connector
//! keys the POS write on the sale's id), retries transient failures with exponential backoff and
//! jitter, and after the configured number of attempts declares the sale dead. A sale the POS
//! refuses for good (the item is gone) is dead at once and its units go back to the shop.
//! Each account has its own loop, so a POS that is down or slow never holds up the others'
//! sales (invariant 5); across processes sharing the database, one process at a time pushes an
//! account's sales (the lease `outbox:<account>`, held by one renewal task whose token stops
//! the pushes the moment it is lost), and another takes over when it stops. Each push is marked
//! in the database before its POS call, so that only a sale an earlier push may have delivered
//! is looked up on the POS before it is written. `try_push_one` is a single step; `drive` runs
//! the loops.

use crate::accounts::{Account, Accounts};
use crate::lease::Held;
use crate::runner::Step;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::pos::PosSale;
use stocksync_domain::sale::Sale;
use stocksync_domain::{AccountId, PosError};
use stocksync_pos::backoff::Backoff;
use stocksync_store::{Store, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The longest the worker sleeps without looking at the outbox.
const IDLE: Duration = Duration::from_secs(30);
/// How often the process holding an account's outbox looks for sales that other processes
/// accepted (its own sales wake it at once).
const OTHERS: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub accounts: Accounts,
    /// `retries + 1` attempts in all before a sale is dead.
    pub backoff: Backoff,
    /// Rung, per account, when a sale is accepted or retried.
    pub wake: Arc<OutboxWake>,
    /// Cancelled when stocksync stops: a POS call in flight is abandoned (the sale stays
    /// accepted and is pushed again, idempotently, after the restart); database steps finish.
    pub stopping: CancellationToken,
    /// This process, as named in the leases it holds.
    pub process: String,
    /// How long an account's outbox stays this process's without renewal (`JobLeaseSeconds`).
    pub lease: Duration,
}

/// One `Notify` per configured account, so that accepting a sale wakes that account's loop.
#[derive(Default)]
pub struct OutboxWake {
    accounts: HashMap<AccountId, Arc<Notify>>,
}

impl OutboxWake {
    pub fn new(accounts: &Accounts) -> Self {
        Self {
            accounts: accounts
                .iter()
                .map(|a| (a.config.id.clone(), Arc::new(Notify::new())))
                .collect(),
        }
    }

    /// Wakes the loop of `account` (a permit is kept if it is busy).
    pub fn wake(&self, account: &AccountId) {
        if let Some(notify) = self.accounts.get(account) {
            notify.notify_one();
        }
    }

    fn of(&self, account: &AccountId) -> Arc<Notify> {
        self.accounts.get(account).cloned().unwrap_or_default()
    }
}

impl Outbox {
    /// Pushes the oldest due sale of `account`, if any, while `held` (the account's outbox
    /// lease) is live: a POS call in flight is abandoned the moment the lease is lost.
    pub async fn try_push_one(&self, account: &Account, held: &Held) -> Result<Step, StoreError> {
        let Some(sale) = self
            .store
            .next_due_sale(&account.config.id, Utc::now())
            .await?
        else {
            return Ok(Step::Empty);
        };
        // The mark comes before the call: whoever pushes this sale next knows it may be on
        // the POS already, and has it looked up first.
        let Some(sent_before) = self.store.begin_sale_push(&sale.id).await? else {
            return Ok(Step::Ran); // confirmed or killed meanwhile
        };
        // Checked after the mark (which may have waited on the database), right before the
        // call: a process that stalled past its lease must not send what the new holder sends.
        if !held.is_live() {
            return Ok(Step::Empty);
        }
        let pos_sale = pos_sale(&sale, sent_before);
        let pushed = tokio::select! {
            biased;
            _ = self.stopping.cancelled() => return Ok(Step::Empty),
            _ = held.token().cancelled() => {
                tracing::warn!(sale = %sale.id, "the outbox lease was lost mid-push; the next holder looks this sale up before sending it");
                return Ok(Step::Empty);
            }
            pushed = account.connector.record_sale(&pos_sale) => pushed,
        };
        match pushed {
            Ok(receipt) => {
                tracing::info!(sale = %sale.id, pos_reference = %receipt.pos_reference, "sale recorded on the POS");
                self.store
                    .confirm_sale(&sale.id, &receipt.pos_reference)
                    .await?;
            }
            Err(err @ (PosError::Rejected(_) | PosError::NotFound(_))) => {
                tracing::warn!(sale = %sale.id, error = %err, "the POS refused the sale for good; units given back");
                self.store
                    .kill_sale(&sale.id, &err.to_string(), true)
                    .await?;
            }
            Err(err) => self.failed(&sale, &err).await?,
        }
        Ok(Step::Ran)
    }

    async fn failed(&self, sale: &Sale, err: &PosError) -> Result<(), StoreError> {
        let failures = sale.attempts + 1;
        if failures > i64::from(self.backoff.retries) {
            tracing::warn!(sale = %sale.id, error = %err, attempts = failures, "sale is dead after its last attempt");
            return self
                .store
                .kill_sale(&sale.id, &err.to_string(), false)
                .await;
        }
        let wait = self
            .backoff
            .delay(u32::try_from(failures - 1).unwrap_or(u32::MAX));
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        tracing::info!(sale = %sale.id, error = %err, attempts = failures, retry_in = ?wait, "sale push failed; will retry");
        self.store
            .sale_attempt_failed(&sale.id, &err.to_string(), next)
            .await
    }

    /// Sales left for accounts no longer configured cannot be pushed: they are declared dead
    /// (with the reason, retryable once the account is back), at start-up.
    async fn retire_orphans(&self) -> Result<(), StoreError> {
        for account in self.store.accounts_with_pending_sales().await? {
            if self.accounts.get(&account).is_some() {
                continue;
            }
            let reason = format!("account {account} is no longer configured");
            while let Some(sale) = self
                .store
                .next_due_sale(&account, Utc::now() + chrono::Duration::days(36_500))
                .await?
            {
                tracing::warn!(sale = %sale.id, %reason, "sale is dead");
                self.store.kill_sale(&sale.id, &reason, false).await?;
            }
        }
        Ok(())
    }

    /// Runs one loop per account until stocksync stops.
    pub async fn drive(self) {
        if let Err(err) = self.retire_orphans().await {
            tracing::error!(error = %err, "outbox could not look for orphan sales");
        }
        let mut loops = tokio::task::JoinSet::new();
        for account in self.accounts.iter() {
            loops.spawn(self.clone().drive_account(account.clone()));
        }
        while loops.join_next().await.is_some() {}
    }

    /// Takes or renews this process's lease on an account's outbox.
    async fn hold(&self, lease_name: &str) -> Result<bool, StoreError> {
        take_lease(&self.store, lease_name, &self.process, self.lease).await
    }

    /// Pushes one account's sales as they become due, while this process holds its lease;
    /// otherwise looks again every third of the lease, to take over from a process that stopped.
    async fn drive_account(self, account: Account) {
        let wake = self.wake.of(&account.config.id);
        let lease_name = lease_name(&account);
        while !self.stopping.is_cancelled() {
            let taken_at = tokio::time::Instant::now();
            match self.hold(&lease_name).await {
                Ok(true) => {
                    let held = self.keep(taken_at, &lease_name);
                    self.push_while_held(&account, &held, &wake).await;
                }
                // Another process pushes them.
                Ok(false) => {}
                Err(err) => tracing::error!(error = %err, "outbox could not reach the database"),
            }
            tokio::select! {
                _ = self.stopping.cancelled() => break,
                _ = tokio::time::sleep(self.lease / 3) => {}
            }
        }
        if let Err(err) = self.store.release_lease(&lease_name, &self.process).await {
            tracing::warn!(error = %err, "could not let the outbox lease go; it expires by itself");
        }
    }

    /// The lease `lease_name`, taken by a call that began at `taken_at`, held by its own
    /// renewal task.
    fn keep(&self, taken_at: tokio::time::Instant, lease_name: &str) -> Held {
        let (store, name, process, length) = (
            self.store.clone(),
            lease_name.to_owned(),
            self.process.clone(),
            self.lease,
        );
        Held::spawn(taken_at, self.lease, name.clone(), move || {
            let (store, name, process) = (store.clone(), name.clone(), process.clone());
            async move { take_lease(&store, &name, &process, length).await }
        })
    }

    /// Pushes the account's sales as they come, until the lease is lost or stocksync stops.
    async fn push_while_held(&self, account: &Account, held: &Held, wake: &Notify) {
        while held.is_live() && !self.stopping.is_cancelled() {
            let wait = self.push_due(account, held).await;
            // Sales accepted by another process ring no bell here: look every few seconds.
            tokio::select! {
                _ = self.stopping.cancelled() => return,
                _ = held.token().cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait.min(OTHERS)) => {}
            }
        }
    }

    /// Pushes the account's due sales while `held` is live; returns how long to wait before
    /// looking again.
    async fn push_due(&self, account: &Account, held: &Held) -> Duration {
        loop {
            match self.try_push_one(account, held).await {
                Ok(Step::Ran) if held.is_live() && !self.stopping.is_cancelled() => continue,
                Ok(_) => break,
                Err(err) => {
                    tracing::error!(error = %err, "outbox could not reach the database");
                    break;
                }
            }
        }
        match self.store.next_sale_due_at(&account.config.id).await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default().min(IDLE),
            _ => IDLE,
        }
    }
}

/// Takes or renews `process`'s lease `name` for `length` from now.
pub(crate) async fn take_lease(
    store: &Store,
    name: &str,
    process: &str,
    length: Duration,
) -> Result<bool, StoreError> {
    let ttl = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
    store.acquire_lease(name, process, Utc::now(), ttl).await
}

fn lease_name(account: &Account) -> String {
    format!("outbox:{}", account.config.id)
}

/// The sale as the POS connector takes it; its key is the sale's id, stable across retries.
fn pos_sale(sale: &Sale, sent_before: bool) -> PosSale {
    PosSale {
        sale_key: sale.id.to_string(),
        pos_ref: sale.pos_ref.clone(),
        quantity: sale.request.delta,
        balance_cents: sale.request.balance_cents,
        sent_before,
    }
}
