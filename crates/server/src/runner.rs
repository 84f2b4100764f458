//! The task runner: takes enqueued tasks from the database one at a time and runs them.
//! `try_run_one` is a single step (tests drain the queue with it); `drive` loops until shutdown.

use crate::accounts::Accounts;
use crate::synchronizer::{Synchronizer, describe};
use std::time::Duration;
use stocksync_domain::task::{Task, TaskKind};
use stocksync_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

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
}

impl Runner {
    /// Runs the oldest waiting task, if any.
    pub async fn try_run_one(&self) -> Result<Step, StoreError> {
        let Some(task) = self.store.claim_task().await? else {
            return Ok(Step::Empty);
        };
        let outcome = self.execute(&task).await;
        match &outcome {
            Ok(summary) => tracing::info!(task = %task.id, %summary, "task succeeded"),
            Err(error) => tracing::warn!(task = %task.id, %error, "task failed"),
        }
        self.store.finish_task(&task.id, outcome).await?;
        Ok(Step::Ran)
    }

    async fn execute(&self, task: &Task) -> Result<String, String> {
        match task.kind {
            TaskKind::SyncAll => self.sync_all().await,
        }
    }

    /// Syncs every account; one failing account is reported but does not stop the others.
    async fn sync_all(&self) -> Result<String, String> {
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for account in self.accounts.iter() {
            match self.synchronizer.sync_account(account).await {
                Ok(summary) => done.push(format!("{}: {}", account.config.id, describe(&summary))),
                Err(error) => failed.push(format!("{}: {error}", account.config.id)),
            }
        }
        if done.is_empty() && failed.is_empty() {
            return Ok("no POS account is configured".into());
        }
        let mut report = done;
        report.extend(failed.iter().cloned());
        if failed.is_empty() {
            Ok(report.join("; "))
        } else {
            Err(report.join("; "))
        }
    }

    /// Runs tasks as they come until `shutdown`; a database error is logged and retried.
    pub async fn drive(self, shutdown: CancellationToken) {
        loop {
            match self.try_run_one().await {
                Ok(Step::Ran) => continue,
                Ok(Step::Empty) => {}
                Err(err) => {
                    tracing::error!(error = %err, "task runner could not reach the database")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.synchronizer.tasks_waiting.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
