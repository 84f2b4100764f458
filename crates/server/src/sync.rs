//! One sync of one account: an incremental read from the account's stored cursor (the sync
//! cycle), or a full read (reconciliation) in which linked products absent from the read are
//! looked up one by one before being reported as gone. A failing account never stops the
//! others: the caller goes on to the next.

use crate::accounts::Account;
use crate::synchronizer::Synchronizer;
use chrono::Utc;
use std::collections::HashSet;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::pos::{ProductQuery, StockCount};
use stocksync_domain::{PosError, PosRef};
use stocksync_store::{PosRead, SyncReport};

/// How much of the POS a sync reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// What changed since the last read (everything the first time).
    Incremental,
    /// Everything, to find drift and vanished products; a dry run only reports.
    Reconcile { dry_run: bool },
}

/// How far before the last read's start confirmed sales are read again.
const RECENT_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// Where the start time of an account's last applied read is kept.
fn last_read_key(account: &Account) -> String {
    format!("sync.read_started.{}", account.config.id)
}

/// Linked products missing from a full read are looked up one by one (a product never counted
/// is absent from some POS's bulk reads without being gone); past this many, the rest are
/// reported as missing without a lookup.
const MAX_LOOKUPS: usize = 100;

impl Synchronizer {
    #[tracing::instrument(skip_all, fields(account = %account.config.id, ?kind), err)]
    pub async fn sync_account(
        &self,
        account: &Account,
        kind: SyncKind,
    ) -> Result<SyncReport, String> {
        let started = std::time::Instant::now();
        let budget_before = self.budget_used(account).await;
        let outcome = self.read_and_apply(account, kind).await;
        if self.stopping.is_cancelled() {
            // Interrupted, not failed: nothing to count or remember.
            return outcome;
        }
        self.count(account, kind, &outcome, started.elapsed());
        let line = outcome
            .as_ref()
            .map(SyncReport::describe)
            .map_err(Clone::clone);
        if kind != (SyncKind::Reconcile { dry_run: true }) {
            let calls = match (budget_before, self.budget_used(account).await) {
                (Some(before), Some(after)) => Some(after - before),
                _ => None,
            };
            self.record_last_sync(account, line, calls).await;
        }
        outcome
    }

    /// Reads the named products again and applies their counts (the job a webhook enqueues).
    pub async fn read_items(
        &self,
        account: &Account,
        refs: &[PosRef],
    ) -> Result<SyncReport, String> {
        let started_at = Utc::now();
        let read = tokio::select! {
            _ = self.stopping.cancelled() => return Err("stocksync is stopping".into()),
            read = account.connector.read_items(refs) => read.map_err(|e| e.to_string())?,
        };
        self.store
            .apply_counts(
                &account.config.id,
                &PosRead {
                    counts: &read.counts,
                    started_at,
                    complete: false,
                },
                false,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Calls counted this month against the account's monthly budget, if it has one (the
    /// difference across a sync is what a poll costs, which spaces the polls).
    async fn budget_used(&self, account: &Account) -> Option<i64> {
        if !matches!(account.config.vendor, VendorConfig::Hiboutik { .. }) {
            return None;
        }
        let month = Utc::now().format("%Y-%m").to_string();
        self.store.calls_used(&account.config.id, &month).await.ok()
    }

    async fn read_and_apply(
        &self,
        account: &Account,
        kind: SyncKind,
    ) -> Result<SyncReport, String> {
        let cursor_key = format!("sync.cursor.{}", account.config.id);
        let cursor = match kind {
            SyncKind::Incremental => self
                .store
                .setting(&cursor_key)
                .await
                .map_err(|e| e.to_string())?,
            SyncKind::Reconcile { .. } => None,
        };
        let started_at = Utc::now();
        let (complete, dry_run) = match kind {
            SyncKind::Incremental => (false, false),
            SyncKind::Reconcile { dry_run } => (true, dry_run),
        };
        let reading = async {
            let read = account
                .connector
                .read_stock(cursor.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let mut counts = read.counts;
            if complete {
                self.look_up_absent(account, &mut counts).await?;
            } else {
                self.read_recently_confirmed(account, &mut counts).await?;
            }
            Ok::<_, String>((counts, read.cursor))
        };
        // Stopping abandons the POS reads; the database is only written once they are done.
        let (counts, next_cursor) = tokio::select! {
            _ = self.stopping.cancelled() => return Err("stocksync is stopping".into()),
            read = reading => read?,
        };
        let report = self
            .store
            .apply_counts(
                &account.config.id,
                &PosRead {
                    counts: &counts,
                    started_at,
                    complete,
                },
                dry_run,
            )
            .await
            .map_err(|e| e.to_string())?;
        if let (Some(next), false) = (next_cursor, dry_run) {
            self.store
                .set_setting(&cursor_key, &next)
                .await
                .map_err(|e| e.to_string())?;
        }
        if !dry_run {
            self.store
                .set_setting(&last_read_key(account), &started_at.to_rfc3339())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(report)
    }

    /// Adds the current counts of products whose web sales the POS confirmed since the last
    /// read began. That read may have counted them before the sale and had the sale taken off
    /// (the safe side); an incremental read need not return them again (their POS row may not
    /// change any more), so they are read directly, and the next sync corrects the under-count.
    async fn read_recently_confirmed(
        &self,
        account: &Account,
        counts: &mut Vec<StockCount>,
    ) -> Result<(), String> {
        let Some(since) = self
            .store
            .setting(&last_read_key(account))
            .await
            .map_err(|e| e.to_string())?
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
        else {
            return Ok(());
        };
        // A confirmation is stamped before its transaction commits (it may wait for a sync's
        // lock): look back a little further than the last read's start.
        let since = since.with_timezone(&Utc) - RECENT_MARGIN;
        let confirmed = self
            .store
            .confirmed_since(&account.config.id, since)
            .await
            .map_err(|e| e.to_string())?;
        let missing: Vec<PosRef> = confirmed
            .into_iter()
            .filter(|pos_ref| !counts.iter().any(|c| &c.pos_ref == pos_ref))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let read = account
            .connector
            .read_items(&missing)
            .await
            .map_err(|e| e.to_string())?;
        counts.extend(read.counts);
        Ok(())
    }

    fn count(
        &self,
        account: &Account,
        kind: SyncKind,
        outcome: &Result<SyncReport, String>,
        took: std::time::Duration,
    ) {
        let id = account.config.id.as_str();
        let kind_label = match kind {
            SyncKind::Incremental => "sync",
            SyncKind::Reconcile { dry_run: false } => "reconcile",
            SyncKind::Reconcile { dry_run: true } => "reconcile_dry_run",
        };
        let outcome_label = if outcome.is_ok() { "ok" } else { "error" };
        let metrics = &self.metrics;
        let labels = [("account", id), ("kind", kind_label)];
        metrics.add(
            "stocksync_sync_cycles_total",
            &[labels[0], labels[1], ("outcome", outcome_label)],
            1.0,
        );
        metrics.add(
            "stocksync_sync_duration_seconds_sum",
            &labels,
            took.as_secs_f64(),
        );
        metrics.add("stocksync_sync_duration_seconds_count", &labels, 1.0);
        if let (Ok(report), SyncKind::Reconcile { .. }) = (outcome, kind) {
            metrics.add(
                "stocksync_reconcile_drift_total",
                &labels,
                report.drifted.len() as f64,
            );
            metrics.add(
                "stocksync_reconcile_missing_total",
                &labels,
                report.missing.len() as f64,
            );
        }
    }

    /// Adds a count for each linked product absent from a full read that the POS still knows.
    async fn look_up_absent(
        &self,
        account: &Account,
        counts: &mut Vec<StockCount>,
    ) -> Result<(), String> {
        let present: HashSet<String> = counts.iter().map(|c| c.pos_ref.to_string()).collect();
        let links = self
            .store
            .links_of_account(&account.config.id)
            .await
            .map_err(|e| e.to_string())?;
        let absent = links
            .iter()
            .filter(|link| !present.contains(link.pos_ref.as_str()));
        for link in absent.take(MAX_LOOKUPS) {
            match account
                .connector
                .find_products(&ProductQuery::Id(link.pos_ref.clone()))
                .await
            {
                Ok(found) => {
                    if let Some(product) = found.into_iter().find(|p| p.pos_ref == link.pos_ref) {
                        counts.push(StockCount {
                            pos_ref: product.pos_ref,
                            quantity: product.quantity,
                            counted_at: None,
                        });
                    }
                }
                Err(PosError::NotFound(_)) => {}
                Err(err) => return Err(err.to_string()),
            }
        }
        Ok(())
    }
}
