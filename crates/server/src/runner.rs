//! The job runner: each process runs `JobWorkers` workers, which claim due jobs from the
//! database under a lease, keep it with a heartbeat while they work, and record how the job
//! ended and what comes next (done, a retry later, or dead). Every job is one account's; two jobs
//! of the same account never run at once, whichever processes share the database; a job whose
//! process died is taken over once its lease expires. A job an earlier version made for every
//! account is replaced by one job per account. The shop's reconciliation is a job whose account
//! is the shop's (`shop::job_account`).

use crate::accounts::{Account, Accounts};
use crate::config::JobSettings;
use crate::lease;
use crate::shop::ShopHandle;
use crate::sync::SyncKind;
use crate::synchronizer::Synchronizer;
use serde_json::{Value, json};
use std::time::Duration;
use stocksync_domain::task::{Task, TaskKind};
use stocksync_domain::{PosRef, TaskId};
use stocksync_pos::backoff::Backoff;
use stocksync_store::{NextStep, Store, StoreError, SyncReport, TaskOutcome};

/// How often the queue is looked at when nothing wakes the runner.
const POLL: Duration = Duration::from_secs(2);

/// How failed jobs are spaced: 30 s, then 1, 2, … minutes, up to 10.
const RETRY: Backoff = Backoff {
    initial: Duration::from_secs(30),
    max: Duration::from_secs(600),
    retries: 0,
};

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
    pub jobs: JobSettings,
    /// This process, as named in the jobs it holds (`host:pid:random`).
    pub process: String,
    /// The shop platform, when configured: its reconciliations are jobs too, and its worker is
    /// woken when a sync changed quantities.
    pub shop: Option<ShopHandle>,
}

/// A name for this process that no other process shares, even after a restart.
pub fn process_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

impl Runner {
    /// Runs one due job, if any, as worker `worker`.
    pub async fn try_run_one(&self, worker: &str) -> Result<Step, StoreError> {
        let lease = chrono::Duration::from_std(self.jobs.lease).unwrap_or(chrono::Duration::MAX);
        let claimed_at = tokio::time::Instant::now();
        let Some(task) = self
            .store
            .claim_task(
                worker,
                self.synchronizer.clock.now(),
                lease,
                self.jobs.max_attempts,
            )
            .await?
        else {
            return Ok(Step::Empty);
        };
        tracing::info!(task = %task.id, kind = task.kind.as_str(), account = ?task.account, attempt = task.attempts, "job started");
        let held = self.hold_lease(claimed_at, &task.id, worker);
        let Some(outcome) = held.run(self.execute(&task)).await else {
            tracing::warn!(task = %task.id, "the job's lease was lost (taken over, or not renewed in time); the job stopped here");
            return Ok(Step::Ran);
        };
        drop(held);
        if self.synchronizer.stopping.is_cancelled() {
            // Interrupted, not failed: back in the queue for whichever process runs next.
            self.store.release_task(&task.id, worker).await?;
            return Ok(Step::Ran);
        }
        let next = self.next_step(&task, &outcome);
        match (&outcome.error, next) {
            (None, _) => {
                tracing::info!(task = %task.id, summary = %outcome.summary, "job succeeded")
            }
            (Some(error), NextStep::RetryAt(at)) => {
                tracing::warn!(task = %task.id, %error, retry_at = %at, "job failed; will retry")
            }
            (Some(error), _) => {
                tracing::warn!(task = %task.id, %error, state = ?next, "job failed")
            }
        }
        if !self
            .store
            .finish_task(&task.id, worker, &outcome, next)
            .await?
        {
            tracing::warn!(task = %task.id, "the job was taken over by another worker; its outcome is theirs to record");
        }
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

    /// Holds the job's lease, claimed by a call that began at `claimed_at`, while it runs.
    fn hold_lease(
        &self,
        claimed_at: tokio::time::Instant,
        id: &TaskId,
        worker: &str,
    ) -> lease::Held {
        let (store, clock) = (self.store.clone(), self.synchronizer.clock.clone());
        let (id, worker) = (id.clone(), worker.to_owned());
        let length = self.jobs.lease;
        lease::Held::spawn(claimed_at, length, format!("job {id}"), move || {
            let (store, id, worker) = (store.clone(), id.clone(), worker.clone());
            let until =
                clock.now() + chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
            async move { store.renew_task_lease(&id, &worker, until).await }
        })
    }

    /// What follows a job's attempt: a failed sync is not retried (the schedule runs the next
    /// one); other failed jobs (reconciliations, webhook reads) are retried with growing waits
    /// until `JobMaxAttempts`, then dead.
    fn next_step(&self, task: &Task, outcome: &TaskOutcome) -> NextStep {
        if outcome.error.is_none() || task.kind == TaskKind::SyncAll {
            NextStep::Done
        } else if task.attempts >= self.jobs.max_attempts {
            NextStep::Dead
        } else {
            let wait = RETRY.ceiling(u32::try_from(task.attempts - 1).unwrap_or(0));
            NextStep::RetryAt(
                self.synchronizer.clock.now()
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            )
        }
    }

    /// Syncs the job's account the way `task` asks.
    async fn execute(&self, task: &Task) -> TaskOutcome {
        let Some(id) = &task.account else {
            return self.split(task).await;
        };
        if let Some(shop) = self.shop.as_ref().filter(|shop| shop.job_account() == *id) {
            return crate::shop::reconcile::run_job(
                &self.store,
                shop,
                task.kind,
                &self.synchronizer.metrics,
            )
            .await;
        }
        let Some(account) = self.accounts.get(id) else {
            return failed(format!("account {id} is not configured"));
        };
        let kind = match task.kind {
            TaskKind::SyncAll => SyncKind::Incremental,
            TaskKind::Reconcile => SyncKind::Reconcile { dry_run: false },
            TaskKind::ReconcileDryRun => SyncKind::Reconcile { dry_run: true },
            TaskKind::ReadItems => return self.read_items(task, account).await,
        };
        let (line, error, report) = match self.synchronizer.sync_account(account, kind).await {
            Ok(report) => {
                if !report.dry_run && (!report.drifted.is_empty() || !report.missing.is_empty()) {
                    self.wake_shop();
                }
                let line = format!("{id}: {}", report.describe());
                let kept = json!({ "account_id": id, "ok": true, "report": kept(&report) });
                (line, None, kept)
            }
            Err(error) => {
                let line = format!("{id}: {error}");
                let kept = json!({ "account_id": id, "ok": false, "error": error });
                (line.clone(), Some(line), kept)
            }
        };
        // A reconciliation's report, in the shape a group of them merges into (`api/tasks.rs`).
        let result = match kind {
            SyncKind::Incremental => None,
            SyncKind::Reconcile { dry_run } => {
                Some(json!({ "dry_run": dry_run, "accounts": [report] }).to_string())
            }
        };
        TaskOutcome {
            summary: line,
            error,
            result,
        }
    }

    /// A job an earlier version made for every account (no account): replaced by one job per
    /// configured account, which run on their own.
    async fn split(&self, task: &Task) -> TaskOutcome {
        if task.kind == TaskKind::ReadItems {
            return failed("a webhook read without its account".into());
        }
        match self
            .synchronizer
            .request_each(task.kind, &self.accounts)
            .await
        {
            Ok(jobs) => TaskOutcome {
                summary: format!(
                    "made for every account by an earlier version: replaced by one job per account ({})",
                    jobs.iter()
                        .map(|job| job.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                error: None,
                result: None,
            },
            Err(err) => failed(format!("could not enqueue one job per account: {err}")),
        }
    }

    /// Reads again the products a webhook named (the job's payload).
    async fn read_items(&self, task: &Task, account: &Account) -> TaskOutcome {
        let refs: Vec<PosRef> = match serde_json::from_str(task.payload.as_deref().unwrap_or("")) {
            Ok(refs) => refs,
            Err(err) => return failed(format!("the job's list of products is unreadable: {err}")),
        };
        match self.synchronizer.read_items(account, &refs).await {
            Ok(report) => {
                if !report.drifted.is_empty() {
                    self.wake_shop();
                }
                TaskOutcome {
                    summary: format!("{}: {}", account.config.id, report.describe()),
                    error: None,
                    result: None,
                }
            }
            Err(error) => failed(format!("{}: {error}", account.config.id)),
        }
    }

    /// Quantities changed: the shop's worker pushes them now rather than at its next look.
    fn wake_shop(&self) {
        if let Some(shop) = &self.shop {
            shop.wake.notify_one();
        }
    }

    /// Runs `JobWorkers` workers until stocksync stops.
    pub async fn drive(self) {
        let mut workers = tokio::task::JoinSet::new();
        for n in 1..=self.jobs.workers {
            let worker = format!("{}/{n}", self.process);
            workers.spawn(self.clone().drive_worker(worker));
        }
        while workers.join_next().await.is_some() {}
    }

    /// One worker: runs jobs as they come; a database error is logged and retried.
    async fn drive_worker(self, worker: String) {
        let stopping = self.synchronizer.stopping.clone();
        while !stopping.is_cancelled() {
            match self.try_run_one(&worker).await {
                Ok(Step::Ran) => continue,
                Ok(Step::Empty) => {}
                Err(err) => {
                    tracing::error!(error = %err, "job runner could not reach the database")
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

/// A job that failed before it could start.
fn failed(error: String) -> TaskOutcome {
    TaskOutcome {
        summary: error.clone(),
        error: Some(error),
        result: None,
    }
}

/// How many drifted or missing links a stored report lists; the totals are always given.
pub(crate) const REPORT_LIST_LIMIT: usize = 500;

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
