//! Jobs (tasks): enqueued by the API, the schedules and webhooks; claimed under a lease by the
//! workers of every process sharing the database; kept so that `GET /api/jobs` and
//! `GET /api/itemstask/{id}` can tell how they went.
//!
//! A worker renews its lease while it works. A job whose lease expired (its process died) is
//! taken over by the next claim; one that lost its worker `max_attempts` times is dead. Every job
//! is for one account (work for every account is one job per account), and two jobs of the same
//! account never run at once, whichever processes hold them: claims are serialised
//! (`lock_jobs!`). A job without account, left by an earlier version, busies nothing: the runner
//! replaces it with one job per account.

use crate::{Result, Store, StoreError, begin_write, dispatch, locks_rows, retry_conflicts};
use chrono::{DateTime, SubsecRound, Utc};
use stocksync_domain::task::{Task, TaskKind, TaskState};
use stocksync_domain::{AccountId, TaskId};

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    kind: String,
    account_id: Option<String>,
    state: String,
    attempts: i32,
    run_at: Option<DateTime<Utc>>,
    worker: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    dedupe_key: Option<String>,
    payload: Option<String>,
    summary: Option<String>,
    result: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

macro_rules! select_tasks {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, account_id, state, attempts, run_at, worker, lease_until, dedupe_key, payload, \
             summary, result, error, created_at, started_at, finished_at FROM stocksync_tasks ",
            $tail
        )
    };
}

/// Serialises job claims and schedule ticks across processes: SQLite's `BEGIN IMMEDIATE`
/// already does; on MySQL the transaction locks the one row of `stocksync_locks`.
macro_rules! lock_jobs {
    ($pool:ident, $tx:ident) => {
        if locks_rows($pool) {
            sqlx::query("SELECT name FROM stocksync_locks WHERE name = 'jobs' FOR UPDATE")
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use lock_jobs;

/// Inserts a new waiting job inside `$tx`.
macro_rules! insert_task {
    ($tx:ident, $job:expr, $id:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO stocksync_tasks (id, kind, account_id, state, attempts, dedupe_key, payload, created_at) \
             VALUES (?, ?, ?, 'enqueued', 0, ?, ?, ?)",
        )
        .bind($id)
        .bind($job.kind.as_str())
        .bind($job.account.as_str())
        .bind($job.dedupe_key.as_deref())
        .bind($job.payload.as_deref())
        .bind($at)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use insert_task;

/// A job to enqueue.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    pub kind: TaskKind,
    /// The account it is for.
    pub account: &'a AccountId,
    pub payload: Option<&'a str>,
    /// Makes the job once only, whoever asks (a schedule's tick).
    pub dedupe_key: Option<&'a str>,
}

impl<'a> NewJob<'a> {
    pub fn new(kind: TaskKind, account: &'a AccountId) -> Self {
        Self {
            kind,
            account,
            payload: None,
            dedupe_key: None,
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, Default)]
pub struct TaskOutcome {
    pub summary: String,
    /// Set when the task failed (in part or whole); it then says what failed and what worked.
    pub error: Option<String>,
    pub result: Option<String>,
}

/// What becomes of a job after its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// `succeeded`, or `failed` when the outcome has an error.
    Done,
    /// Failed; waits in `scheduled` for another attempt at this time.
    RetryAt(DateTime<Utc>),
    /// Failed its last allowed attempt.
    Dead,
}

/// Why a job is dead when its worker vanished during each of its attempts.
const LOST_WORKER: &str = "its worker stopped during every attempt (the lease expired each time)";

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;
    fn try_from(row: TaskRow) -> Result<Self> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("task {} has {what} '{value}'", row.id))
        };
        Ok(Task {
            kind: TaskKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
            state: TaskState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?,
            account: row.account_id.map(AccountId::new),
            id: TaskId::new(row.id),
            attempts: i64::from(row.attempts),
            run_at: row.run_at,
            worker: row.worker,
            lease_until: row.lease_until,
            dedupe_key: row.dedupe_key,
            payload: row.payload,
            summary: row.summary,
            result: row.result,
            error: row.error,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        })
    }
}

/// Times as both backends store them (MySQL keeps microseconds).
fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

impl Store {
    /// Enqueues `job`: see [`Store::enqueue_jobs`].
    #[tracing::instrument(skip(self), err)]
    pub async fn enqueue_job(&self, job: NewJob<'_>, at: DateTime<Utc>) -> Result<Task> {
        let mut tasks = self.enqueue_jobs(&[job], at).await?;
        tasks
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a job vanished once enqueued".into()))
    }

    /// Enqueues `jobs` (one per account, say) in one transaction; the tasks in the same order.
    /// A job without payload or dedupe key is not enqueued twice: when the same kind for the
    /// same account is already waiting, that one is returned, so that pressing "sync" twice
    /// runs one sync per account.
    #[tracing::instrument(skip(self), err)]
    pub async fn enqueue_jobs(&self, jobs: &[NewJob<'_>], at: DateTime<Utc>) -> Result<Vec<Task>> {
        retry_conflicts(|| self.enqueue_jobs_once(jobs, at)).await
    }

    async fn enqueue_jobs_once(&self, jobs: &[NewJob<'_>], at: DateTime<Utc>) -> Result<Vec<Task>> {
        let at = stored(at);
        let ids: Vec<String> = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            // Another process may be enqueueing the same job at this moment.
            lock_jobs!(pool, tx);
            let mut ids = Vec::with_capacity(jobs.len());
            for job in jobs {
                let plain = job.payload.is_none() && job.dedupe_key.is_none();
                let waiting: Option<(String,)> = if plain {
                    sqlx::query_as(
                        "SELECT id FROM stocksync_tasks WHERE kind = ? AND account_id = ? \
                         AND state IN ('enqueued', 'scheduled') AND payload IS NULL ORDER BY created_at LIMIT 1",
                    )
                    .bind(job.kind.as_str())
                    .bind(job.account.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                } else {
                    None
                };
                let id = match waiting {
                    Some((id,)) => id,
                    None => {
                        let id = uuid::Uuid::new_v4().to_string();
                        insert_task!(tx, job, &id, at)?;
                        id
                    }
                };
                ids.push(id);
            }
            tx.commit().await?;
            ids
        });
        let mut tasks = Vec::with_capacity(ids.len());
        for id in ids {
            tasks.push(
                self.task(&id).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!("task {id} vanished once enqueued"))
                })?,
            );
        }
        Ok(tasks)
    }

    pub async fn task(&self, id: &str) -> Result<Option<Task>> {
        let row: Option<TaskRow> = dispatch!(self, pool => {
            sqlx::query_as(select_tasks!("WHERE id = ?"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Task::try_from).transpose()
    }

    /// Tasks, newest first, optionally of one state and one kind; `limit` after `offset`, and
    /// how many match.
    pub async fn tasks(
        &self,
        state: Option<TaskState>,
        kind: Option<TaskKind>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Task>, i64)> {
        let (state, kind) = (state.map(TaskState::as_str), kind.map(TaskKind::as_str));
        let (rows, (total,)): (Vec<TaskRow>, (i64,)) = dispatch!(self, pool => {
            let rows = sqlx::query_as(select_tasks!(
                "WHERE (? IS NULL OR state = ?) AND (? IS NULL OR kind = ?) \
                 ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
            ))
            .bind(state)
            .bind(state)
            .bind(kind)
            .bind(kind)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_as(
                "SELECT COUNT(*) FROM stocksync_tasks WHERE (? IS NULL OR state = ?) AND (? IS NULL OR kind = ?)",
            )
            .bind(state)
            .bind(state)
            .bind(kind)
            .bind(kind)
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        let tasks = rows
            .into_iter()
            .map(Task::try_from)
            .collect::<Result<_>>()?;
        Ok((tasks, total))
    }

    /// How many jobs are in each state (for `GET /metrics`).
    pub async fn task_counts(&self) -> Result<Vec<(TaskState, i64)>> {
        let rows: Vec<(String, i64)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT state, COUNT(*) FROM stocksync_tasks GROUP BY state")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(state, n)| TaskState::parse(&state).map(|state| (state, n)))
            .collect())
    }

    /// Takes a job out of the queue before it runs (enqueued, or scheduled for a retry);
    /// `false` if it is not waiting (any more).
    pub async fn cancel_task(&self, id: &TaskId) -> Result<bool> {
        retry_conflicts(|| self.cancel_task_once(id)).await
    }

    async fn cancel_task_once(&self, id: &TaskId) -> Result<bool> {
        let cancelled = dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET state = 'cancelled', run_at = NULL, finished_at = ? \
                 WHERE id = ? AND state IN ('enqueued', 'scheduled')",
            )
            .bind(stored(Utc::now()))
            .bind(id.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(cancelled == 1)
    }

    /// Claims the oldest job that is due and whose account is free, for `worker`, with a lease
    /// until `at + lease`. A running job whose lease expired is due again (its worker is gone);
    /// one that has already had `max_attempts` attempts is declared dead instead.
    #[tracing::instrument(skip(self), err)]
    pub async fn claim_task(
        &self,
        worker: &str,
        at: DateTime<Utc>,
        lease: chrono::Duration,
        max_attempts: i64,
    ) -> Result<Option<Task>> {
        retry_conflicts(|| self.claim_task_once(worker, at, lease, max_attempts)).await
    }

    async fn claim_task_once(
        &self,
        worker: &str,
        at: DateTime<Utc>,
        lease: chrono::Duration,
        max_attempts: i64,
    ) -> Result<Option<Task>> {
        let at = stored(at);
        let claimed: Option<String> = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            lock_jobs!(pool, tx);
            let lost = sqlx::query(
                "UPDATE stocksync_tasks SET state = 'dead', error = ?, lease_until = NULL, finished_at = ? \
                 WHERE state = 'running' AND lease_until < ? AND attempts >= ?",
            )
            .bind(LOST_WORKER)
            .bind(at)
            .bind(at)
            .bind(max_attempts)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if lost > 0 {
                tracing::warn!(jobs = lost, "{LOST_WORKER}: dead");
            }
            // The oldest due job with no live job of its account running; a running job whose
            // lease expired is due itself and busies nothing. (A job without account, from an
            // earlier version, is never busy and busies nothing: it is only split.)
            let free: Option<(String,)> = sqlx::query_as(
                "SELECT t.id FROM stocksync_tasks t \
                 WHERE (t.state = 'enqueued' OR (t.state = 'scheduled' AND t.run_at <= ?) \
                        OR (t.state = 'running' AND t.lease_until < ?)) \
                 AND NOT EXISTS (SELECT 1 FROM stocksync_tasks r WHERE r.state = 'running' AND r.lease_until >= ? \
                        AND r.account_id = t.account_id) \
                 ORDER BY COALESCE(t.run_at, t.created_at), t.created_at, t.id LIMIT 1",
            )
            .bind(at)
            .bind(at)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id,)) = &free {
                // Stamped now, not at `at`: the claim may have waited for the lock while the
                // job it follows finished.
                sqlx::query(
                    "UPDATE stocksync_tasks SET state = 'running', attempts = attempts + 1, worker = ?, \
                     lease_until = ?, run_at = NULL, started_at = ? WHERE id = ?",
                )
                .bind(worker)
                .bind(at + lease)
                .bind(stored(Utc::now()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            free.map(|(id,)| id)
        });
        match claimed {
            Some(id) => self.task(&id).await,
            None => Ok(None),
        }
    }

    /// Extends `worker`'s lease on a running job to `until`; `false` when the job is no longer
    /// that worker's (its lease expired and another worker took it over).
    pub async fn renew_task_lease(
        &self,
        id: &TaskId,
        worker: &str,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        retry_conflicts(|| self.renew_task_lease_once(id, worker, until)).await
    }

    async fn renew_task_lease_once(
        &self,
        id: &TaskId,
        worker: &str,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let renewed = dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET lease_until = ? WHERE id = ? AND worker = ? AND state = 'running'",
            )
            .bind(stored(until))
            .bind(id.as_str())
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(renewed == 1)
    }

    /// Records how `worker`'s attempt at a running job ended and what comes next; `false` when
    /// the job was no longer that worker's (the outcome is then dropped: the new holder reports).
    pub async fn finish_task(
        &self,
        id: &TaskId,
        worker: &str,
        outcome: &TaskOutcome,
        next: NextStep,
    ) -> Result<bool> {
        retry_conflicts(|| self.finish_task_once(id, worker, outcome, next)).await
    }

    async fn finish_task_once(
        &self,
        id: &TaskId,
        worker: &str,
        outcome: &TaskOutcome,
        next: NextStep,
    ) -> Result<bool> {
        let at = stored(Utc::now());
        let (state, run_at, finished_at) = match (next, &outcome.error) {
            (NextStep::Done, None) => (TaskState::Succeeded, None, Some(at)),
            (NextStep::Done, Some(_)) => (TaskState::Failed, None, Some(at)),
            (NextStep::RetryAt(when), _) => (TaskState::Scheduled, Some(stored(when)), None),
            (NextStep::Dead, _) => (TaskState::Dead, None, Some(at)),
        };
        let summary = outcome.error.is_none().then_some(outcome.summary.as_str());
        let finished = dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET state = ?, summary = ?, result = ?, error = ?, run_at = ?, \
                 lease_until = NULL, finished_at = ? WHERE id = ? AND worker = ? AND state = 'running'",
            )
            .bind(state.as_str())
            .bind(summary)
            .bind(outcome.result.as_deref())
            .bind(outcome.error.as_deref())
            .bind(run_at)
            .bind(finished_at)
            .bind(id.as_str())
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(finished == 1)
    }

    /// Gives a job back to the queue untouched (its worker is stopping): it does not count as
    /// an attempt.
    pub async fn release_task(&self, id: &TaskId, worker: &str) -> Result<()> {
        retry_conflicts(|| self.release_task_once(id, worker)).await
    }

    async fn release_task_once(&self, id: &TaskId, worker: &str) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET state = 'enqueued', attempts = attempts - 1, worker = NULL, \
                 lease_until = NULL, started_at = NULL WHERE id = ? AND worker = ? AND state = 'running'",
            )
            .bind(id.as_str())
            .bind(worker)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes tasks that ended before `before`, and webhook events received before it: the
    /// history the dashboard shows is kept for a configured time (`HistoryDays`). Sales and the
    /// ledger are never purged.
    pub async fn purge_history(&self, before: DateTime<Utc>) -> Result<u64> {
        retry_conflicts(|| self.purge_history_once(before)).await
    }

    async fn purge_history_once(&self, before: DateTime<Utc>) -> Result<u64> {
        let purged = dispatch!(self, pool => {
            let tasks = sqlx::query(
                "DELETE FROM stocksync_tasks WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled') AND finished_at < ?",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected();
            let events = sqlx::query("DELETE FROM stocksync_webhook_events WHERE received_at < ?")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected();
            tasks + events
        });
        Ok(purged)
    }
}
