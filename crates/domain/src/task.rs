//! Jobs (also called tasks, as in `GET /api/itemstask/{id}`): what they do and the states they
//! pass through.

use crate::TaskId;
use chrono::{DateTime, Utc};

/// What a task does. Every task is for one account: work for every account is one task per
/// account, so that a slow or failing account holds up, and retries, only its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// Read the account's changes and bring its `stock` rows up to date. (Named `sync_all`
    /// since the original's "sync all products"; it is one account's, as every task.)
    SyncAll,
    /// Read the account in full, report every link that drifted, and fix it.
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

impl TaskState {
    /// Whether it has ended (and will not run again by itself).
    pub fn has_ended(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Dead | Self::Cancelled
        )
    }

    /// The state of a group of tasks asked for together (one per account), as one task would
    /// show it: running while any runs (or while some have ended and others still wait),
    /// else waiting for a retry while any does, else enqueued while any is; once all have
    /// ended, the worst outcome (dead, failed, cancelled, then succeeded).
    pub fn of_group(states: &[TaskState]) -> TaskState {
        let any = |state: TaskState| states.contains(&state);
        let waiting = states.iter().any(|s| !s.has_ended());
        let ended = states.iter().any(|s| s.has_ended());
        if any(Self::Running) || (waiting && ended && !any(Self::Scheduled)) {
            Self::Running
        } else if any(Self::Scheduled) {
            Self::Scheduled
        } else if waiting {
            Self::Enqueued
        } else {
            [Self::Dead, Self::Failed, Self::Cancelled]
                .into_iter()
                .find(|&worst| any(worst))
                .unwrap_or(Self::Succeeded)
        }
    }
}

/// A stored task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    /// The account it is for. `None` only in a task an earlier version made for every
    /// account: the runner replaces it with one task per account.
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

    #[test]
    fn a_group_runs_until_every_task_has_ended_then_shows_the_worst() {
        use TaskState::*;
        let group = TaskState::of_group;
        assert_eq!(group(&[Enqueued, Enqueued]), Enqueued);
        assert_eq!(group(&[Running, Enqueued]), Running);
        assert_eq!(group(&[Succeeded, Enqueued]), Running, "under way");
        assert_eq!(group(&[Succeeded, Scheduled]), Scheduled, "a retry waits");
        assert_eq!(group(&[Running, Scheduled]), Running);
        assert_eq!(group(&[Succeeded, Succeeded]), Succeeded);
        assert_eq!(group(&[Succeeded, Failed]), Failed);
        assert_eq!(group(&[Failed, Dead, Succeeded]), Dead);
        assert_eq!(group(&[Cancelled, Succeeded]), Cancelled);
        assert_eq!(group(&[Succeeded]), Succeeded);
    }
}
