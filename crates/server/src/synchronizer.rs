//! The synchronizer: whether periodic syncs run (kept in the database, so a restart keeps it),
//! the CRON schedule that enqueues them, and one sync of one account.

use crate::accounts::Account;
use crate::config::Schedule;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use stocksync_domain::task::{Task, TaskKind};
use stocksync_store::{Store, StoreError, SyncSummary};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

const RUNNING_SETTING: &str = "synchronizer.running";

/// The handle the API and the background loops share.
#[derive(Clone)]
pub struct Synchronizer {
    store: Store,
    schedule: Schedule,
    running: Arc<watch::Sender<bool>>,
    /// Wakes the task runner when a task is enqueued.
    pub tasks_waiting: Arc<Notify>,
}

/// How the last sync of an account went, kept in the settings table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastSync {
    pub at: chrono::DateTime<Utc>,
    pub ok: bool,
    pub message: String,
}

impl Synchronizer {
    /// Reads the stored started/stopped state (stopped on a new database, as the original).
    pub async fn load(store: Store, schedule: Schedule) -> Result<Self, StoreError> {
        let running = store.setting(RUNNING_SETTING).await?.as_deref() == Some("true");
        Ok(Self {
            store,
            schedule,
            running: Arc::new(watch::Sender::new(running)),
            tasks_waiting: Arc::new(Notify::new()),
        })
    }

    pub fn is_running(&self) -> bool {
        *self.running.borrow()
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Starts or stops the periodic sync; doing it twice changes nothing.
    pub async fn set_running(&self, running: bool) -> Result<(), StoreError> {
        self.store
            .set_setting(RUNNING_SETTING, if running { "true" } else { "false" })
            .await?;
        self.running.send_replace(running);
        Ok(())
    }

    /// Enqueues a sync of every account (or returns the one already waiting).
    pub async fn request_sync(&self) -> Result<Task, StoreError> {
        let task = self.store.enqueue_task(TaskKind::SyncAll).await?;
        self.tasks_waiting.notify_one();
        Ok(task)
    }

    /// The next time the schedule fires after now, if it ever does.
    pub fn next_run(&self) -> Option<chrono::DateTime<Utc>> {
        self.schedule
            .cron
            .find_next_occurrence(&Utc::now(), false)
            .ok()
    }

    /// Enqueues a sync at every tick of the schedule while started, until `shutdown`.
    pub async fn drive_schedule(self, shutdown: CancellationToken) {
        let mut running = self.running.subscribe();
        loop {
            let wait = if *running.borrow_and_update() {
                self.next_run()
                    .and_then(|next| (next - Utc::now()).to_std().ok())
            } else {
                None
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = running.changed() => if changed.is_err() { return },
                _ = sleep_or_forever(wait) => {
                    if let Err(err) = self.request_sync().await {
                        tracing::error!(error = %err, "could not enqueue the scheduled sync");
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

    /// Reads one account's stock in full and applies it; the outcome is remembered for the
    /// status route. A failing account never stops the others (the caller goes on).
    #[tracing::instrument(skip_all, fields(account = %account.config.id), err)]
    pub async fn sync_account(&self, account: &Account) -> Result<SyncSummary, String> {
        let read_started_at = Utc::now();
        let outcome = match account.connector.read_stock(None).await {
            Ok(read) => self
                .store
                .apply_counts(&account.config.id, &read.counts, read_started_at)
                .await
                .map_err(|e| e.to_string()),
            Err(err) => Err(err.to_string()),
        };
        let last = LastSync {
            at: Utc::now(),
            ok: outcome.is_ok(),
            message: match &outcome {
                Ok(summary) => describe(summary),
                Err(err) => err.clone(),
            },
        };
        let stored = serde_json::to_string(&last).unwrap_or_default();
        if let Err(err) = self
            .store
            .set_setting(&last_sync_setting(account), &stored)
            .await
        {
            tracing::warn!(error = %err, "could not record the sync outcome");
        }
        outcome
    }
}

fn last_sync_setting(account: &Account) -> String {
    format!("sync.last.{}", account.config.id)
}

pub fn describe(summary: &SyncSummary) -> String {
    format!(
        "{} link(s) changed, {} unchanged, {} unlinked POS product(s) ignored",
        summary.changed, summary.unchanged, summary.unlinked
    )
}

async fn sleep_or_forever(wait: Option<std::time::Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
