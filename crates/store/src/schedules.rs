//! What the schedules did, shared by every process on the database: the last tick acted on per
//! schedule (so that one tick makes one job, whichever process sees it first, and a restart
//! catches up a missed tick once), and the ticks skipped, with why.

use crate::tasks::{NewJob, insert_task, lock_jobs};
use crate::{Result, Store, begin_write, dispatch, locks_rows, retry_conflicts, unique_violation};
use chrono::{DateTime, SubsecRound, Utc};

/// One schedule's shared state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleState {
    /// `sync:<account id>` or `reconcile:<account id>` (`reconcile`, from an earlier version,
    /// is no longer read).
    pub name: String,
    /// The last tick acted on (fired or skipped), or when the schedule was (re)started.
    pub last_tick: DateTime<Utc>,
    /// The last tick that made a job.
    pub last_fired: Option<DateTime<Utc>>,
    /// Ticks skipped because the same work was still waiting or running.
    pub skipped_overlap: i64,
    /// Ticks skipped because the POS's call budget asks for longer gaps.
    pub skipped_budget: i64,
}

/// A tick of a schedule, and the job it makes.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleTick<'a> {
    pub name: &'a str,
    pub tick: DateTime<Utc>,
    pub job: NewJob<'a>,
    /// The least time between two jobs of this schedule (a POS budget's spacing).
    pub min_gap: Option<chrono::Duration>,
}

/// What a tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickOutcome {
    /// Another process (or an earlier pass) already acted on this tick.
    AlreadyDone,
    /// A job was enqueued (its id).
    Fired(String),
    /// The same work was still waiting or running.
    SkippedOverlap,
    /// Too soon after the last job for the POS's budget.
    SkippedBudget,
}

impl Store {
    /// Every schedule's shared state.
    pub async fn schedule_states(&self) -> Result<Vec<ScheduleState>> {
        let rows = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT name, last_tick, last_fired, skipped_overlap, skipped_budget FROM stocksync_schedules ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Starts counting ticks of `name` from `at`, unless it is known already (its missed tick,
    /// if any, is then caught up by the next pass).
    pub async fn begin_schedule(&self, name: &str, at: DateTime<Utc>) -> Result<()> {
        retry_conflicts(|| self.begin_schedule_once(name, at)).await
    }

    async fn begin_schedule_once(&self, name: &str, at: DateTime<Utc>) -> Result<()> {
        let inserted = dispatch!(self, pool => {
            sqlx::query("INSERT INTO stocksync_schedules (name, last_tick) VALUES (?, ?)")
                .bind(name)
                .bind(at.trunc_subsecs(6))
                .execute(pool)
                .await
                .map(drop)
        });
        match inserted {
            Err(err) if !unique_violation(&err) => Err(err.into()),
            _ => Ok(()),
        }
    }

    /// Forgets the ticks before `at` (the synchronizer was started: the time it was stopped is
    /// not caught up).
    pub async fn restart_schedules(&self, at: DateTime<Utc>) -> Result<()> {
        retry_conflicts(|| self.restart_schedules_once(at)).await
    }

    async fn restart_schedules_once(&self, at: DateTime<Utc>) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query("UPDATE stocksync_schedules SET last_tick = ? WHERE last_tick < ?")
                .bind(at.trunc_subsecs(6))
                .bind(at.trunc_subsecs(6))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Acts on one tick, once across every process: enqueues its job, or counts it skipped
    /// when the same job (same kind and account) is still waiting or running, or when it comes
    /// sooner than `min_gap` after the last one.
    #[tracing::instrument(skip(self), err)]
    pub async fn fire_schedule(
        &self,
        tick: ScheduleTick<'_>,
        at: DateTime<Utc>,
    ) -> Result<TickOutcome> {
        retry_conflicts(|| self.fire_schedule_once(tick, at)).await
    }

    async fn fire_schedule_once(
        &self,
        tick: ScheduleTick<'_>,
        at: DateTime<Utc>,
    ) -> Result<TickOutcome> {
        let (at, when) = (at.trunc_subsecs(6), tick.tick.trunc_subsecs(6));
        let dedupe_key = format!("{}@{}", tick.name, when.to_rfc3339());
        let job = NewJob {
            dedupe_key: Some(&dedupe_key),
            ..tick.job
        };
        let id = uuid::Uuid::new_v4().to_string();
        let outcome = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            lock_jobs!(pool, tx);
            let state: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT last_tick, last_fired FROM stocksync_schedules WHERE name = ?",
            )
            .bind(tick.name)
            .fetch_optional(&mut *tx)
            .await?;
            let last_fired = match state {
                Some((last_tick, _)) if last_tick >= when => return Ok(TickOutcome::AlreadyDone),
                Some((_, last_fired)) => last_fired,
                None => {
                    sqlx::query("INSERT INTO stocksync_schedules (name, last_tick) VALUES (?, ?)")
                        .bind(tick.name)
                        .bind(when)
                        .execute(&mut *tx)
                        .await?;
                    None
                }
            };
            let (still_busy,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM stocksync_tasks WHERE kind = ? AND account_id = ? \
                 AND (state IN ('enqueued', 'scheduled') OR (state = 'running' AND lease_until >= ?))",
            )
            .bind(job.kind.as_str())
            .bind(job.account.as_str())
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let too_soon = match (tick.min_gap, last_fired) {
                (Some(gap), Some(last)) => when < last + gap,
                _ => false,
            };
            let outcome = if still_busy > 0 {
                TickOutcome::SkippedOverlap
            } else if too_soon {
                TickOutcome::SkippedBudget
            } else {
                insert_task!(tx, job, &id, at)?;
                TickOutcome::Fired(id)
            };
            match &outcome {
                TickOutcome::SkippedOverlap => sqlx::query(
                    "UPDATE stocksync_schedules SET last_tick = ?, skipped_overlap = skipped_overlap + 1 WHERE name = ?",
                )
                .bind(when)
                .bind(tick.name)
                .execute(&mut *tx)
                .await?,
                TickOutcome::SkippedBudget => sqlx::query(
                    "UPDATE stocksync_schedules SET last_tick = ?, skipped_budget = skipped_budget + 1 WHERE name = ?",
                )
                .bind(when)
                .bind(tick.name)
                .execute(&mut *tx)
                .await?,
                _ => sqlx::query("UPDATE stocksync_schedules SET last_tick = ?, last_fired = ? WHERE name = ?")
                    .bind(when)
                    .bind(when)
                    .bind(tick.name)
                    .execute(&mut *tx)
                    .await?,
            };
            tx.commit().await?;
            outcome
        });
        Ok(outcome)
    }
}
