//! The synchronizer: whether periodic work runs (kept in the database, so a restart and every
//! process sharing it agree), the schedules it follows (`schedules.rs`; the loop that fires them
//! is `scheduler.rs`), how each account's last sync went, and the spacing a POS budget imposes.
//! One sync of one account is in `sync.rs`.

use crate::accounts::{Account, Accounts};
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::schedules::Schedules;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use stocksync_domain::AccountId;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::budget::{self, MonthlyBudget, PollSpacing};
use stocksync_domain::task::{Task, TaskKind};
use stocksync_store::{NewJob, Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

const RUNNING_SETTING: &str = "synchronizer.running";

/// The handle the API and the background loops share.
#[derive(Clone)]
pub struct Synchronizer {
    pub(crate) store: Store,
    /// When each account is synced and the reconciliation runs.
    pub schedules: Schedules,
    /// Rung when a schedule is changed through this process's API.
    pub schedules_changed: Arc<Notify>,
    pub clock: Arc<dyn Clock>,
    running: Arc<watch::Sender<bool>>,
    /// Wakes the task runner when a task is enqueued.
    pub tasks_waiting: Arc<Notify>,
    /// Cancelled when stocksync stops: POS reads in flight are abandoned; database steps finish.
    pub stopping: CancellationToken,
    /// Sync cycles, their duration and the drift they found, for `GET /metrics`.
    pub metrics: Metrics,
}

/// How the last sync of an account went, kept in the settings table.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub message: String,
    /// POS calls it cost, where the POS has a monthly budget.
    #[serde(default)]
    pub calls: Option<i64>,
}

impl Synchronizer {
    /// Reads the stored started/stopped state (stopped on a new database, as the original).
    pub async fn load(
        store: Store,
        schedules: Schedules,
        clock: Arc<dyn Clock>,
        stopping: CancellationToken,
    ) -> Result<Self, StoreError> {
        let running = store.setting(RUNNING_SETTING).await?.as_deref() == Some("true");
        Ok(Self {
            store,
            schedules,
            schedules_changed: Arc::new(Notify::new()),
            clock,
            running: Arc::new(watch::Sender::new(running)),
            tasks_waiting: Arc::new(Notify::new()),
            stopping,
            metrics: Metrics::default(),
        })
    }

    pub fn is_running(&self) -> bool {
        *self.running.borrow()
    }

    /// Watches the started/stopped state.
    pub fn subscribe_running(&self) -> watch::Receiver<bool> {
        self.running.subscribe()
    }

    /// Starts or stops the periodic work; doing it twice changes nothing. Starting does not
    /// catch up the ticks missed while stopped.
    pub async fn set_running(&self, running: bool) -> Result<(), StoreError> {
        let was_running = self.refresh_running().await?;
        if running && !was_running {
            self.store.restart_schedules(self.clock.now()).await?;
        }
        self.store
            .set_setting(RUNNING_SETTING, if running { "true" } else { "false" })
            .await?;
        self.running.send_replace(running);
        Ok(())
    }

    /// Reads the started/stopped state again (another process may have changed it).
    pub async fn refresh_running(&self) -> Result<bool, StoreError> {
        let running = self.store.setting(RUNNING_SETTING).await?.as_deref() == Some("true");
        self.running
            .send_if_modified(|was| std::mem::replace(was, running) != running);
        Ok(running)
    }

    /// Enqueues a task of `kind` for each account (or returns the same one already waiting),
    /// in configuration order, and wakes the runner: work for every account is one job per
    /// account, so that a slow or failing account holds up, and retries, only its own.
    pub async fn request_each(
        &self,
        kind: TaskKind,
        accounts: &Accounts,
    ) -> Result<Vec<Task>, StoreError> {
        let ids: Vec<&AccountId> = accounts.iter().map(|a| &a.config.id).collect();
        self.request_for_each(kind, &ids).await
    }

    /// [`Synchronizer::request_each`] for these accounts (the shop's among them, for a
    /// reconciliation).
    pub async fn request_for_each(
        &self,
        kind: TaskKind,
        accounts: &[&AccountId],
    ) -> Result<Vec<Task>, StoreError> {
        let jobs: Vec<NewJob> = accounts.iter().map(|id| NewJob::new(kind, id)).collect();
        let tasks = self.store.enqueue_jobs(&jobs, self.clock.now()).await?;
        // Every idle worker, and the next to look.
        self.tasks_waiting.notify_waiters();
        self.tasks_waiting.notify_one();
        Ok(tasks)
    }

    /// Enqueues a task for one account.
    pub async fn request_for(
        &self,
        kind: TaskKind,
        account: &AccountId,
    ) -> Result<Task, StoreError> {
        self.request_job(NewJob::new(kind, account)).await
    }

    /// Enqueues `job` and wakes the runner.
    pub async fn request_job(&self, job: NewJob<'_>) -> Result<Task, StoreError> {
        let task = self.store.enqueue_job(job, self.clock.now()).await?;
        self.tasks_waiting.notify_one();
        Ok(task)
    }

    /// How far apart the polls of an account with a monthly call budget (Hiboutik) must be for
    /// the budget to last the month; `None` for the others.
    pub async fn poll_spacing(&self, account: &Account) -> Result<Option<PollSpacing>, StoreError> {
        let VendorConfig::Hiboutik {
            maximum_requests, ..
        } = &account.config.vendor
        else {
            return Ok(None);
        };
        let now = self.clock.now();
        let (month_start, _) = budget::month_bounds(now);
        let used = self
            .store
            .calls_used(&account.config.id, &now.format("%Y-%m").to_string())
            .await?;
        let calls_per_poll = self
            .last_sync(account)
            .await
            .and_then(|last| last.calls)
            .unwrap_or(1);
        Ok(Some(budget::poll_spacing(MonthlyBudget {
            limit: *maximum_requests,
            used,
            calls_per_poll,
            sales_this_month: self
                .store
                .sales_since(&account.config.id, month_start)
                .await?,
            now,
        })))
    }

    pub async fn last_sync(&self, account: &Account) -> Option<LastSync> {
        let stored = self
            .store
            .setting(&last_sync_setting(account))
            .await
            .ok()??;
        serde_json::from_str(&stored).ok()
    }

    /// Remembers how a sync of `account` went, for the status route.
    pub(crate) async fn record_last_sync(
        &self,
        account: &Account,
        outcome: Result<String, String>,
        calls: Option<i64>,
    ) {
        let last = LastSync {
            at: Utc::now(),
            ok: outcome.is_ok(),
            message: outcome.unwrap_or_else(|err| err),
            calls,
        };
        let stored = serde_json::to_string(&last).unwrap_or_default();
        if let Err(err) = self
            .store
            .set_setting(&last_sync_setting(account), &stored)
            .await
        {
            tracing::warn!(error = %err, "could not record the sync outcome");
        }
    }
}

fn last_sync_setting(account: &Account) -> String {
    format!("sync.last.{}", account.config.id)
}
