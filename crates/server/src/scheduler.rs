//! The scheduler: while the synchronizer is started, turns each schedule's ticks into jobs
//! (one sync job per account, one nightly reconciliation per account). Every process runs it; the database
//! makes each tick one job (`Store::fire_schedule`), skips a tick whose work is still waiting or
//! running (counted), spaces a budgeted POS's polls, and, after a restart, catches up a missed
//! tick once.

use crate::accounts::Accounts;
use crate::synchronizer::Synchronizer;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use stocksync_domain::task::TaskKind;
use stocksync_store::{NewJob, ScheduleTick, StoreError, TickOutcome};

/// The longest the scheduler waits before reading the schedules and the started/stopped state
/// again (another process may have changed them).
const RECHECK: chrono::Duration = chrono::Duration::seconds(15);

#[derive(Clone)]
pub struct Scheduler {
    pub synchronizer: Synchronizer,
    pub accounts: Accounts,
}

impl Scheduler {
    /// Fires due ticks until stocksync stops.
    pub async fn drive(self) {
        let sync = &self.synchronizer;
        let mut running = sync.subscribe_running();
        while !sync.stopping.is_cancelled() {
            let now = sync.clock.now();
            let next = match sync.refresh_running().await {
                Ok(true) => match self.pass().await {
                    Ok(next) => next,
                    Err(err) => {
                        tracing::error!(error = %err, "the scheduler could not reach the database");
                        None
                    }
                },
                Ok(false) => None,
                Err(err) => {
                    tracing::error!(error = %err, "the scheduler could not read the started/stopped state");
                    None
                }
            };
            let wake = next.map_or(now + RECHECK, |next| next.min(now + RECHECK));
            // Seen: only a change after this pass wakes the loop early.
            running.borrow_and_update();
            tokio::select! {
                _ = sync.stopping.cancelled() => return,
                _ = running.changed() => {}
                _ = sync.schedules_changed.notified() => {}
                _ = sync.clock.sleep_until(wake) => {}
            }
        }
    }

    /// Acts on every schedule's latest tick if it has not been acted on; returns when the next
    /// tick comes.
    pub async fn pass(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sync = &self.synchronizer;
        let now = sync.clock.now();
        let plan = sync.schedules.plan().await?;
        let zone = plan.time_zone.value;
        let states: HashMap<String, DateTime<Utc>> = sync
            .store
            .schedule_states()
            .await?
            .into_iter()
            .map(|state| (state.name, state.last_tick))
            .collect();
        let mut next: Option<DateTime<Utc>> = None;
        for entry in &plan.entries {
            let schedule = &entry.schedule.value;
            if let Some(upcoming) = schedule.next_after(now, zone) {
                next = Some(next.map_or(upcoming, |n| n.min(upcoming)));
            }
            let Some(last_tick) = states.get(&entry.name) else {
                sync.store.begin_schedule(&entry.name, now).await?;
                continue;
            };
            let Some(tick) = schedule
                .last_at_or_before(now, zone)
                .filter(|tick| tick > last_tick)
            else {
                continue;
            };
            // A budgeted POS spaces its polls; its nightly reconciliation is not a poll.
            let account = self.accounts.get(&entry.account);
            let min_gap = match (entry.kind, account) {
                (TaskKind::SyncAll, Some(account)) => {
                    sync.poll_spacing(account).await?.map(|s| s.gap)
                }
                _ => None,
            };
            let outcome = sync
                .store
                .fire_schedule(
                    ScheduleTick {
                        name: &entry.name,
                        tick,
                        job: NewJob::new(entry.kind, &entry.account),
                        min_gap,
                    },
                    now,
                )
                .await?;
            match outcome {
                TickOutcome::Fired(job) => {
                    tracing::debug!(schedule = %entry.name, %tick, %job, "scheduled job enqueued");
                    sync.tasks_waiting.notify_one();
                }
                TickOutcome::SkippedOverlap => tracing::info!(
                    schedule = %entry.name, %tick,
                    "tick skipped: the previous run is still waiting or running"
                ),
                TickOutcome::SkippedBudget => tracing::debug!(
                    schedule = %entry.name, %tick,
                    "tick skipped: the POS's monthly budget spaces the polls further apart"
                ),
                TickOutcome::AlreadyDone => {}
            }
        }
        Ok(next)
    }
}
