//! Jobs (also called tasks, as in `GET /api/itemstask/{id}`): what they do and the states they
//! pass through.

use crate::TaskId;
use chrono::{DateTime, Utc};

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// Read every configured account's changes and bring the `stock` table up to date.
    SyncAll,
    /// Read every account in full, report every link that drifted, and fix it.
    Reconcile,
    /// The same report, changing nothing.
    ReconcileDryRun,
    /// Read again the products a webhook named (the job's payload) on its account.
    ReadItems,
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Waits for its time (`run_at`): a retry after a failed attempt.
    Scheduled,
    /// Ready to run.
    Enqueued,
    /// A worker holds its lease.
    Running,
    Succeeded,
    /// Ended in failure and is not retried by itself: a sync (the schedule runs the next one),
    /// unless someone retries it.
    Failed,
    /// Failed every attempt it was allowed (or lost its worker that many times).
    Dead,
    /// Taken out of the queue before it ran.
    Cancelled,
}

named_enum!(TaskKind {
    SyncAll => "sync_all",
    Reconcile => "reconcile",
    ReconcileDryRun => "reconcile_dry_run",
    ReadItems => "read_items",
});
named_enum!(TaskState {
    Scheduled => "scheduled",
    Enqueued => "enqueued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Dead => "dead",
    Cancelled => "cancelled",
});

/// A stored task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    /// The one account it is for; every account when `None`.
    pub account: Option<crate::AccountId>,
    pub state: TaskState,
    /// Times a worker took it.
    pub attempts: i64,
    /// When a `scheduled` job becomes due.
    pub run_at: Option<DateTime<Utc>>,
    /// The process that holds (or last held) it.
    pub worker: Option<String>,
    /// Until when its worker's lease runs; past it, another worker may take the job over.
    pub lease_until: Option<DateTime<Utc>>,
    /// Set when a schedule's tick made it (`sync:<account>@<tick>`).
    pub dedupe_key: Option<String>,
    /// What it works on, as JSON (the products a webhook named).
    pub payload: Option<String>,
    /// A one-line outcome for people (for a sync: how many links changed).
    pub summary: Option<String>,
    /// The outcome in detail, as JSON (a reconciliation's report).
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in [
            TaskState::Scheduled,
            TaskState::Enqueued,
            TaskState::Running,
            TaskState::Succeeded,
            TaskState::Failed,
            TaskState::Dead,
            TaskState::Cancelled,
        ] {
            assert_eq!(TaskState::parse(state.as_str()), Some(state));
        }
        assert_eq!(TaskKind::parse("sync_all"), Some(TaskKind::SyncAll));
        assert_eq!(TaskKind::parse("nap"), None);
    }
}
