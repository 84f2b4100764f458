//! The task runner: takes enqueued tasks from the database one at a time and runs them.
//! `try_run_one` is a single step (tests drain the queue with it); `drive` loops until shutdown.

use crate::accounts::Accounts;
use crate::sync::SyncKind;
use crate::synchronizer::Synchronizer;
use serde_json::{Value, json};
use std::time::Duration;
use stocksync_domain::task::{Task, TaskKind};
use stocksync_store::{Store, StoreError, SyncReport, TaskOutcome};

/// How often the queue is looked at when nothing wakes the runner.
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Ran,
    Empty,
}

#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub accounts: Accounts,
    pub synchronizer: Synchronizer,
    /// How long finished jobs and webhook events are kept; older ones are purged after each
    /// reconciliation (nightly by default).
    pub history: chrono::Duration,
}

impl Runner {
    /// Runs the oldest waiting task, if any.
    pub async fn try_run_one(&self) -> Result<Step, StoreError> {
        let Some(task) = self.store.claim_task().await? else {
            return Ok(Step::Empty);
        };
        let outcome = self.execute(&task).await;
        if self.synchronizer.stopping.is_cancelled() {
            // Interrupted: left `running`, queued again at the next start.
            return Ok(Step::Ran);
        }
        match &outcome.error {
            None => tracing::info!(task = %task.id, summary = %outcome.summary, "task succeeded"),
            Some(error) => tracing::warn!(task = %task.id, %error, "task failed"),
        }
        self.store.finish_task(&task.id, &outcome).await?;
        if task.kind == TaskKind::Reconcile {
            let purged = self
                .store
                .purge_history(chrono::Utc::now() - self.history)
                .await?;
            if purged > 0 {
                tracing::info!(purged, "old jobs and webhook events purged");
            }
        }
        Ok(Step::Ran)
    }

    /// Syncs every account the way `task` asks; one failing account is reported but does not
    /// stop the others.
    async fn execute(&self, task: &Task) -> TaskOutcome {
        let kind = match task.kind {
            TaskKind::SyncAll => SyncKind::Incremental,
            TaskKind::Reconcile => SyncKind::Reconcile { dry_run: false },
            TaskKind::ReconcileDryRun => SyncKind::Reconcile { dry_run: true },
        };
        let mut lines = Vec::new();
        let mut reports: Vec<Value> = Vec::new();
        let mut failed = false;
        let wanted = self.accounts.iter().filter(|account| {
            task.account
                .as_ref()
                .is_none_or(|only| only == &account.config.id)
        });
        for account in wanted {
            let id = &account.config.id;
            match self.synchronizer.sync_account(account, kind).await {
                Ok(report) => {
                    lines.push(format!("{id}: {}", report.describe()));
                    reports.push(json!({ "account_id": id, "ok": true, "report": kept(&report) }));
                }
                Err(error) => {
                    failed = true;
                    lines.push(format!("{id}: {error}"));
                    reports.push(json!({ "account_id": id, "ok": false, "error": error }));
                }
            }
        }
        if lines.is_empty() {
            lines.push("no POS account is configured".into());
        }
        let summary = lines.join("; ");
        let result = match kind {
            SyncKind::Incremental => None,
            SyncKind::Reconcile { dry_run } => {
                Some(json!({ "dry_run": dry_run, "accounts": reports }).to_string())
            }
        };
        TaskOutcome {
            error: failed.then(|| summary.clone()),
            summary,
            result,
        }
    }

    /// Runs tasks as they come until stocksync stops; a database error is logged and retried.
    pub async fn drive(self) {
        let stopping = self.synchronizer.stopping.clone();
        while !stopping.is_cancelled() {
            match self.try_run_one().await {
                Ok(Step::Ran) => continue,
                Ok(Step::Empty) => {}
                Err(err) => {
                    tracing::error!(error = %err, "task runner could not reach the database")
                }
            }
            tokio::select! {
                _ = stopping.cancelled() => return,
                _ = self.synchronizer.tasks_waiting.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// How many drifted or missing links a stored report lists; the totals are always given.
const REPORT_LIST_LIMIT: usize = 500;

/// A report as stored with its task: the counts in full, the lists cut to
/// `REPORT_LIST_LIMIT` entries (a first reconciliation of a large shop may find every link
/// drifted; the ledger has each change).
fn kept(report: &SyncReport) -> Value {
    json!({
        "drifted": report.drifted.iter().take(REPORT_LIST_LIMIT).collect::<Vec<_>>(),
        "drifted_total": report.drifted.len(),
        "missing": report.missing.iter().take(REPORT_LIST_LIMIT).collect::<Vec<_>>(),
        "missing_total": report.missing.len(),
        "unchanged": report.unchanged,
        "unlinked": report.unlinked,
        "dry_run": report.dry_run,
    })
}
