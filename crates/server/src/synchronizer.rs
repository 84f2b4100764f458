//! The synchronizer: whether periodic work runs (kept in the database, so a restart keeps it),
//! the CRON schedules that enqueue it (the sync cycle, and the nightly reconciliation), and how
//! each account's last sync went. One sync of one account is in `sync.rs`.

use crate::accounts::Account;
use crate::config::Schedule;
use crate::metrics::Metrics;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use stocksync_domain::AccountId;
use stocksync_domain::task::{Task, TaskKind};
use stocksync_store::{Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

const RUNNING_SETTING: &str = "synchronizer.running";

/// The handle the API and the background loops share.
#[derive(Clone)]
pub struct Synchronizer {
    pub(crate) store: Store,
    /// When the sync cycle runs (`Cron`).
    pub sync_schedule: Schedule,
    /// When the full reconciliation runs (`ReconcileCron`).
    pub reconcile_schedule: Schedule,
    running: Arc<watch::Sender<bool>>,
    /// Wakes the task runner when a task is enqueued.
    pub tasks_waiting: Arc<Notify>,
    /// Cancelled when stocksync stops: POS reads in flight are abandoned; database steps finish.
    pub stopping: CancellationToken,
    /// Sync cycles, their duration and the drift they found, for `GET /metrics`.
    pub metrics: Metrics,
}

/// How the last sync of an account went, kept in the settings table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub message: String,
}

impl Synchronizer {
    /// Reads the stored started/stopped state (stopped on a new database, as the original).
    pub async fn load(
        store: Store,
        sync_schedule: Schedule,
        reconcile_schedule: Schedule,
        stopping: CancellationToken,
    ) -> Result<Self, StoreError> {
        let running = store.setting(RUNNING_SETTING).await?.as_deref() == Some("true");
        Ok(Self {
            store,
            sync_schedule,
            reconcile_schedule,
            running: Arc::new(watch::Sender::new(running)),
            tasks_waiting: Arc::new(Notify::new()),
            stopping,
            metrics: Metrics::default(),
        })
    }

    pub fn is_running(&self) -> bool {
        *self.running.borrow()
    }

    /// Starts or stops the periodic work; doing it twice changes nothing.
    pub async fn set_running(&self, running: bool) -> Result<(), StoreError> {
        self.store
            .set_setting(RUNNING_SETTING, if running { "true" } else { "false" })
            .await?;
        self.running.send_replace(running);
        Ok(())
    }

    /// Enqueues a task for every account (or returns the same one already waiting) and wakes
    /// the runner.
    pub async fn request(&self, kind: TaskKind) -> Result<Task, StoreError> {
        self.request_for(kind, None).await
    }

    /// Enqueues a task for one account (all when `None`).
    pub async fn request_for(
        &self,
        kind: TaskKind,
        account: Option<&AccountId>,
    ) -> Result<Task, StoreError> {
        let task = self.store.enqueue_task(kind, account).await?;
        self.tasks_waiting.notify_one();
        Ok(task)
    }

    /// Enqueues `kind` at every tick of `schedule` while started, until stocksync stops.
    pub async fn drive_schedule(self, schedule: Schedule, kind: TaskKind) {
        let shutdown = self.stopping.clone();
        let mut running = self.running.subscribe();
        loop {
            let wait = if *running.borrow_and_update() {
                schedule
                    .next_after(Utc::now())
                    .and_then(|next| (next - Utc::now()).to_std().ok())
            } else {
                None
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = running.changed() => if changed.is_err() { return },
                _ = sleep_or_forever(wait) => {
                    if let Err(err) = self.request(kind).await {
                        tracing::error!(error = %err, kind = kind.as_str(), "could not enqueue scheduled work");
                    }
                }
            }
        }
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
    ) {
        let last = LastSync {
            at: Utc::now(),
            ok: outcome.is_ok(),
            message: outcome.unwrap_or_else(|err| err),
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

async fn sleep_or_forever(wait: Option<std::time::Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
