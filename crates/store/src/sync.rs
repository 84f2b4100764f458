//! Applying POS counts to the `stock` table: shop quantity = POS count − web sales the count may
//! not include (invariant 2, "no resurrected stock"), a ledger line per change, and for full
//! reads the links whose POS product has disappeared. A dry run computes the same and writes
//! nothing (reconciliation's report).

use crate::links::{LinkRow, select_links};
use crate::shop_table::mirror_to_shop;
use crate::{
    LedgerLine, Result, Store, begin_write, dispatch, locks_rows, now, retry_conflicts,
    write_ledger,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use stocksync_domain::AccountId;
use stocksync_domain::link::Link;
use stocksync_domain::pos::StockCount;

/// Counts read from one account's POS.
pub struct PosRead<'a> {
    pub counts: &'a [StockCount],
    /// When the read began, by our clock.
    pub started_at: DateTime<Utc>,
    /// Whether it covers every product of the account (a full read), so that a linked product
    /// absent from it has disappeared from the POS.
    pub complete: bool,
}

/// A link whose shop quantity differs from what the POS count says it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub link_id: i64,
    pub item_pos_id: String,
    pub item_ecommerce_id: String,
    pub pos_quantity: i64,
    /// Units sold online that the POS count may not include.
    pub in_flight: i64,
    pub shop_quantity: i64,
    /// `pos_quantity − in_flight`.
    pub expected: i64,
}

/// A link whose POS product was not in a full read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub link_id: i64,
    pub item_pos_id: String,
    pub item_ecommerce_id: String,
    pub shop_quantity: i64,
}

/// What one read found (and, unless a dry run, changed).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub drifted: Vec<Drift>,
    pub unchanged: u64,
    /// Counts for POS products that no link uses (ignored).
    pub unlinked: u64,
    pub missing: Vec<Missing>,
    /// `true` when nothing was written.
    pub dry_run: bool,
}

impl SyncReport {
    /// One line for people.
    pub fn describe(&self) -> String {
        let mut line = format!(
            "{} link(s) {}, {} unchanged, {} unlinked POS product(s) ignored",
            self.drifted.len(),
            if self.dry_run { "differ" } else { "changed" },
            self.unchanged,
            self.unlinked
        );
        if !self.missing.is_empty() {
            line.push_str(&format!(
                ", {} linked product(s) gone from the POS",
                self.missing.len()
            ));
        }
        line
    }
}

/// Units sold online that a count of the account's POS may not include, by POS product
/// (`pos_ref`, units): sales accepted and not yet on the POS, sales the POS confirmed at or after
/// the read began (binds: account, when the read began, `false`), and dead sales whose units were
/// not given back. Keyed by the product, not the link row: a product unlinked and linked again
/// keeps its sales. A return (negative delta) counts 0: the count may already include it, and
/// adding it would show units that may not be there; the next count settles it.
macro_rules! select_in_flight {
    ($and:literal) => {
        concat!(
            "SELECT pos_ref, CAST(SUM(CASE WHEN delta > 0 THEN delta ELSE 0 END) AS SIGNED) FROM stocksync_sales \
             WHERE account_id = ? AND (state = 'accepted' \
                OR (state = 'confirmed' AND confirmed_at >= ?) \
                OR (state = 'dead' AND restored = ?)) ",
            $and,
            " GROUP BY pos_ref"
        )
    };
}
pub(crate) use select_in_flight;

impl Store {
    /// Applies counts read from one account's POS, in one transaction, as
    /// shop quantity = POS count − units sold online that the count may not include:
    /// - sales accepted and not yet on the POS (including any accepted while the read was in
    ///   flight: they are committed before this transaction reads them);
    /// - sales the POS confirmed at or after the read began (the count may predate them);
    /// - dead sales whose units were not given back (sold online, never recorded on the POS).
    ///
    /// When in doubt a sale is subtracted and a return is not added: at worst a transient
    /// under-count that the next read corrects, never an over-count. With `dry_run`, the transaction is rolled back.
    #[tracing::instrument(skip(self, read), fields(counts = read.counts.len()), err)]
    pub async fn apply_counts(
        &self,
        account: &AccountId,
        read: &PosRead<'_>,
        dry_run: bool,
    ) -> Result<SyncReport> {
        retry_conflicts(|| self.apply_counts_once(account, read, dry_run)).await
    }

    async fn apply_counts_once(
        &self,
        account: &AccountId,
        read: &PosRead<'_>,
        dry_run: bool,
    ) -> Result<SyncReport> {
        let at = now();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            // Lock the account's links before reading them and their pending sales: a sale
            // being accepted holds its link's row until it commits, so what is read below
            // includes every sale that decremented these links (SQLite: the database is
            // already locked by BEGIN IMMEDIATE; MySQL reads committed data after the lock).
            if locks_rows(pool) {
                sqlx::query("SELECT id FROM stock WHERE accountID = ? FOR UPDATE")
                    .bind(account.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let links: Vec<LinkRow> = sqlx::query_as(select_links!("WHERE accountID = ?"))
                .bind(account.as_str())
                .fetch_all(&mut *tx)
                .await?;
            let links: HashMap<String, Link> = links
                .into_iter()
                .map(Link::from)
                .map(|link| (link.pos_ref.as_str().to_owned(), link))
                .collect();
            let pending: Vec<(String, i64)> = sqlx::query_as(select_in_flight!(""))
                .bind(account.as_str())
                .bind(read.started_at)
                .bind(false)
                .fetch_all(&mut *tx)
                .await?;
            let pending: HashMap<String, i64> = pending.into_iter().collect();
            let mut report = SyncReport { dry_run, ..SyncReport::default() };
            let mut seen = HashSet::new();
            // What to write once everything is known: (link, new quantity, reason, detail).
            let mut changes: Vec<(&Link, i64, &'static str, String)> = Vec::new();
            for count in read.counts {
                let Some(link) = links.get(count.pos_ref.as_str()) else {
                    report.unlinked += 1;
                    continue;
                };
                seen.insert(link.id);
                let in_flight = pending.get(link.pos_ref.as_str()).copied().unwrap_or(0);
                let expected = count.quantity - in_flight;
                if !dry_run {
                    sqlx::query(
                        "REPLACE INTO stocksync_observations (link_id, pos_quantity, observed_at, counted_at) \
                         VALUES (?, ?, ?, ?)",
                    )
                    .bind(link.id)
                    .bind(count.quantity)
                    .bind(at)
                    .bind(count.counted_at)
                    .execute(&mut *tx)
                    .await?;
                }
                if expected == link.quantity {
                    report.unchanged += 1;
                    continue;
                }
                report.drifted.push(Drift {
                    link_id: link.id,
                    item_pos_id: link.pos_ref.to_string(),
                    item_ecommerce_id: link.ecommerce_id.to_string(),
                    pos_quantity: count.quantity,
                    in_flight,
                    shop_quantity: link.quantity,
                    expected,
                });
                let detail = format!(
                    "POS counts {}, {in_flight} unit(s) sold online not yet counted by the POS",
                    count.quantity
                );
                changes.push((link, expected, "pos_count", detail));
            }
            if read.complete {
                let mut gone: Vec<&Link> = links.values().filter(|link| !seen.contains(&link.id)).collect();
                gone.sort_by_key(|link| link.id);
                for link in gone {
                    report.missing.push(Missing {
                        link_id: link.id,
                        item_pos_id: link.pos_ref.to_string(),
                        item_ecommerce_id: link.ecommerce_id.to_string(),
                        shop_quantity: link.quantity,
                    });
                    // A product the POS no longer has cannot be sold: nothing left to sell.
                    if link.quantity != 0 {
                        let detail = "the product is no longer on the POS; the link is kept for you to remove";
                        changes.push((link, 0, "pos_gone", detail.into()));
                    }
                }
            }
            report.drifted.sort_by_key(|d| d.link_id);
            if dry_run {
                tx.rollback().await?;
                return Ok(report);
            }
            // Shop items whose quantity changed, to mirror into the shop's table.
            let mut touched = std::collections::BTreeSet::new();
            for (link, after, reason, detail) in changes {
                sqlx::query("UPDATE stock SET quantity = ? WHERE id = ?")
                    .bind(after)
                    .bind(link.id)
                    .execute(&mut *tx)
                    .await?;
                write_ledger!(tx, LedgerLine {
                    link_id: link.id,
                    at,
                    reason,
                    before: link.quantity,
                    after,
                    sale_id: None,
                    pos_ref: link.pos_ref.as_str(),
                    detail,
                })?;
                touched.insert(link.ecommerce_id.as_str());
            }
            for item in touched {
                mirror_to_shop(self, &mut tx, item).await?;
            }
            tx.commit().await?;
            Ok(report)
        })
    }
}
