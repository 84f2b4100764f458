//! Asynchronous tasks: created by the API, claimed one at a time by the task runner, and kept so
//! that `GET /api/itemstask/{id}` can tell how they went.

use crate::{Result, Store, StoreError, begin_write, dispatch, now};
use chrono::{DateTime, Utc};
use stocksync_domain::task::{Task, TaskKind, TaskState};
use stocksync_domain::{AccountId, TaskId};

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    kind: String,
    account_id: Option<String>,
    state: String,
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
            "SELECT id, kind, account_id, state, summary, result, error, created_at, started_at, finished_at \
             FROM stocksync_tasks ",
            $tail
        )
    };
}

/// How a task ended.
#[derive(Debug, Clone, Default)]
pub struct TaskOutcome {
    pub summary: String,
    /// Set when the task failed (in part or whole); it then says what failed and what worked.
    pub error: Option<String>,
    pub result: Option<String>,
}

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
            summary: row.summary,
            result: row.result,
            error: row.error,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        })
    }
}

impl Store {
    /// Enqueues a task of `kind` (for one account, or all when `None`), unless the same one is
    /// already waiting: then that one is returned, so that pressing "sync" twice runs one sync.
    #[tracing::instrument(skip(self), err)]
    pub async fn enqueue_task(&self, kind: TaskKind, account: Option<&AccountId>) -> Result<Task> {
        let account = account.map(AccountId::as_str);
        let at = now();
        let id = uuid::Uuid::new_v4().to_string();
        let row: TaskRow = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let waiting: Option<TaskRow> =
                sqlx::query_as(select_tasks!(
                    "WHERE kind = ? AND COALESCE(account_id, '') = ? AND state = 'enqueued' ORDER BY created_at LIMIT 1"
                ))
                    .bind(kind.as_str())
                    .bind(account.unwrap_or_default())
                    .fetch_optional(&mut *tx)
                    .await?;
            match waiting {
                Some(row) => row,
                None => {
                    sqlx::query(
                        "INSERT INTO stocksync_tasks (id, kind, account_id, state, created_at) VALUES (?, ?, ?, 'enqueued', ?)",
                    )
                        .bind(&id)
                        .bind(kind.as_str())
                        .bind(account)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    TaskRow {
                        id,
                        kind: kind.as_str().to_owned(),
                        account_id: account.map(str::to_owned),
                        state: TaskState::Enqueued.as_str().to_owned(),
                        summary: None,
                        result: None,
                        error: None,
                        created_at: at,
                        started_at: None,
                        finished_at: None,
                    }
                }
            }
        });
        row.try_into()
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

    /// Takes an enqueued task out of the queue; `false` if it is not waiting (any more).
    pub async fn cancel_task(&self, id: &TaskId) -> Result<bool> {
        let cancelled = dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'enqueued'",
            )
            .bind(now())
            .bind(id.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(cancelled == 1)
    }

    /// Takes the oldest enqueued task and marks it running; `None` when there is none.
    pub async fn claim_task(&self) -> Result<Option<Task>> {
        let at = now();
        let claimed: Option<String> = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let oldest: Option<(String,)> =
                sqlx::query_as("SELECT id FROM stocksync_tasks WHERE state = 'enqueued' ORDER BY created_at, id LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = &oldest {
                sqlx::query("UPDATE stocksync_tasks SET state = 'running', started_at = ? WHERE id = ? AND state = 'enqueued'")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            oldest.map(|(id,)| id)
        });
        match claimed {
            Some(id) => self.task(&id).await,
            None => Ok(None),
        }
    }

    /// Records how a running task ended: its one-line summary (or error) and, if any, its
    /// detailed JSON result.
    pub async fn finish_task(&self, id: &TaskId, outcome: &TaskOutcome) -> Result<()> {
        let (state, summary, error) = match &outcome.error {
            None => (TaskState::Succeeded, Some(outcome.summary.as_str()), None),
            Some(error) => (TaskState::Failed, None, Some(error.as_str())),
        };
        dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_tasks SET state = ?, summary = ?, result = ?, error = ?, finished_at = ? WHERE id = ?",
            )
            .bind(state.as_str())
            .bind(summary)
            .bind(outcome.result.as_deref())
            .bind(error)
            .bind(now())
            .bind(id.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes tasks that ended before `before`, and webhook events received before it: the
    /// history the dashboard shows is kept for a configured time (`HistoryDays`). Sales and the
    /// ledger are never purged.
    pub async fn purge_history(&self, before: DateTime<Utc>) -> Result<u64> {
        let purged = dispatch!(self, pool => {
            let tasks = sqlx::query(
                "DELETE FROM stocksync_tasks WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at < ?",
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

    /// Puts back in the queue the tasks a stopped process left running. Called once at start-up
    /// (one process per database until jobs get leases).
    pub async fn requeue_interrupted_tasks(&self) -> Result<u64> {
        let requeued = dispatch!(self, pool => {
            sqlx::query("UPDATE stocksync_tasks SET state = 'enqueued', started_at = NULL WHERE state = 'running'")
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(requeued)
    }
}
