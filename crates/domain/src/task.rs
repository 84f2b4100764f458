//! Asynchronous tasks (`GET /api/itemstask/{id}`): what they do and the states they pass through.

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
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    Enqueued,
    Running,
    Succeeded,
    Failed,
    /// Taken out of the queue before it ran.
    Cancelled,
}

named_enum!(TaskKind {
    SyncAll => "sync_all",
    Reconcile => "reconcile",
    ReconcileDryRun => "reconcile_dry_run",
});
named_enum!(TaskState {
    Enqueued => "enqueued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
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
            TaskState::Enqueued,
            TaskState::Running,
            TaskState::Succeeded,
            TaskState::Failed,
            TaskState::Cancelled,
        ] {
            assert_eq!(TaskState::parse(state.as_str()), Some(state));
        }
        assert_eq!(TaskKind::parse("sync_all"), Some(TaskKind::SyncAll));
        assert_eq!(TaskKind::parse("nap"), None);
    }
}
