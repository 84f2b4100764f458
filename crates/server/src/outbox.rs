//! The outbox worker: pushes each accepted web sale to its POS (idempotently: the connector
//! keys the POS write on the sale's id), retries transient failures with exponential backoff and
//! jitter, and after the configured number of attempts declares the sale dead. A sale the POS
//! refuses for good (the item is gone) is dead at once and its units go back to the shop.
//! Each account has its own loop, so a POS that is down or slow never holds up the others'
//! sales (invariant 5); across processes sharing the database, one process at a time pushes an
//! account's sales (the lease `outbox:<account>`), and another takes over when it stops.
//! `try_push_one` is a single step; `drive` runs the loops.

use crate::accounts::{Account, Accounts};
use crate::lease;
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
    /// Pushes the oldest due sale of `account`, if any.
    pub async fn try_push_one(&self, account: &Account) -> Result<Step, StoreError> {
        let Some(sale) = self
            .store
            .next_due_sale(&account.config.id, Utc::now())
            .await?
        else {
            return Ok(Step::Empty);
        };
        let pos_sale = pos_sale(&sale);
        let lease_name = lease_name(account);
        let pushed = tokio::select! {
            _ = self.stopping.cancelled() => return Ok(Step::Empty),
            pushed = account.connector.record_sale(&pos_sale) => pushed,
            () = lease::keep(self.lease, &lease_name, || self.hold(&lease_name)) => {
                tracing::warn!(sale = %sale.id, "the outbox lease was lost (this process stalled); another process pushes this account's sales");
                return Ok(Step::Empty);
            }
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
        let ttl = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::MAX);
        self.store
            .acquire_lease(lease_name, &self.process, Utc::now(), ttl)
            .await
    }

    /// Pushes one account's sales as they become due, while this process holds its lease.
    async fn drive_account(self, account: Account) {
        let wake = self.wake.of(&account.config.id);
        let lease_name = lease_name(&account);
        // The lease is renewed every third of its length, not at every look at the outbox.
        let mut held_until: Option<std::time::Instant> = None;
        while !self.stopping.is_cancelled() {
            let now = std::time::Instant::now();
            if held_until.is_none_or(|until| now >= until) {
                held_until = match self.hold(&lease_name).await {
                    Ok(true) => Some(now + self.lease / 3),
                    Ok(false) => None,
                    Err(err) => {
                        tracing::error!(error = %err, "outbox could not reach the database");
                        None
                    }
                };
            }
            let wait = match held_until {
                // Sales accepted by another process ring no bell here: look every few seconds.
                Some(until) => self
                    .push_due(&account)
                    .await
                    .min(OTHERS)
                    .min(until.saturating_duration_since(std::time::Instant::now())),
                // Another process pushes them; look again before its lease would expire.
                None => self.lease / 3,
            };
            tokio::select! {
                _ = self.stopping.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        if let Err(err) = self.store.release_lease(&lease_name, &self.process).await {
            tracing::warn!(error = %err, "could not let the outbox lease go; it expires by itself");
        }
    }

    /// Pushes the account's due sales; returns how long to wait before looking again.
    async fn push_due(&self, account: &Account) -> Duration {
        loop {
            match self.try_push_one(account).await {
                Ok(Step::Ran) if !self.stopping.is_cancelled() => continue,
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

fn lease_name(account: &Account) -> String {
    format!("outbox:{}", account.config.id)
}

/// The sale as the POS connector takes it; its key is the sale's id, stable across retries.
fn pos_sale(sale: &Sale) -> PosSale {
    PosSale {
        sale_key: sale.id.to_string(),
        pos_ref: sale.pos_ref.clone(),
        quantity: sale.request.delta,
        balance_cents: sale.request.balance_cents,
    }
}
