//! Applying POS counts to the `stock` table: shop quantity = POS count − web sales accepted but
//! not yet recorded on the POS (invariant 2, "no resurrected stock"), ledger line per change.

use crate::links::{LinkRow, select_links};
use crate::{LedgerLine, Result, Store, begin_write, dispatch, now, write_ledger};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use stocksync_domain::AccountId;
use stocksync_domain::link::Link;
use stocksync_domain::pos::StockCount;

/// What applying one read changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    /// Links whose shop quantity changed.
    pub changed: u64,
    /// Links read whose shop quantity was already right.
    pub unchanged: u64,
    /// Counts for POS products that no link uses (ignored).
    pub unlinked: u64,
}

impl Store {
    /// Applies counts read from one account's POS, in one transaction, as
    /// shop quantity = POS count − units sold online that the count may not include:
    /// - sales accepted and not yet on the POS (including any accepted while the read was in
    ///   flight: they are committed before this transaction reads them);
    /// - sales the POS confirmed at or after `read_started_at` (the count may predate them);
    /// - dead sales whose units were not given back (sold online, never recorded on the POS).
    ///
    /// When in doubt a sale is subtracted: at worst a transient under-count that the next read
    /// corrects, never an over-count.
    #[tracing::instrument(skip(self, counts), fields(counts = counts.len()), err)]
    pub async fn apply_counts(
        &self,
        account: &AccountId,
        counts: &[StockCount],
        read_started_at: DateTime<Utc>,
    ) -> Result<SyncSummary> {
        let at = now();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            // Lock the account's links before reading them and their pending sales: a sale
            // being accepted holds its link's row until it commits, so what is read below
            // includes every sale that decremented these links (SQLite: the database is
            // already locked by BEGIN IMMEDIATE; MySQL reads committed data after the lock).
            sqlx::query("UPDATE stock SET quantity = quantity WHERE accountID = ?")
                .bind(account.as_str())
                .execute(&mut *tx)
                .await?;
            let links: Vec<LinkRow> = sqlx::query_as(select_links!("WHERE accountID = ?"))
                .bind(account.as_str())
                .fetch_all(&mut *tx)
                .await?;
            let links: HashMap<String, Link> = links
                .into_iter()
                .map(Link::from)
                .map(|link| (link.pos_ref.as_str().to_owned(), link))
                .collect();
            let pending: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT link_id, CAST(SUM(delta) AS SIGNED) FROM stocksync_sales \
                 WHERE account_id = ? AND (state = 'accepted' \
                    OR (state = 'confirmed' AND confirmed_at >= ?) \
                    OR (state = 'dead' AND restored = ?)) \
                 GROUP BY link_id",
            )
            .bind(account.as_str())
            .bind(read_started_at)
            .bind(false)
            .fetch_all(&mut *tx)
            .await?;
            let pending: HashMap<i64, i64> = pending.into_iter().collect();
            let mut summary = SyncSummary::default();
            for count in counts {
                let Some(link) = links.get(count.pos_ref.as_str()) else {
                    summary.unlinked += 1;
                    continue;
                };
                sqlx::query("REPLACE INTO stocksync_observations (link_id, pos_quantity, observed_at, counted_at) VALUES (?, ?, ?, ?)")
                    .bind(link.id)
                    .bind(count.quantity)
                    .bind(at)
                    .bind(count.counted_at)
                    .execute(&mut *tx)
                    .await?;
                let in_flight = pending.get(&link.id).copied().unwrap_or(0);
                let shop_quantity = count.quantity - in_flight;
                if shop_quantity == link.quantity {
                    summary.unchanged += 1;
                    continue;
                }
                sqlx::query("UPDATE stock SET quantity = ? WHERE id = ?")
                    .bind(shop_quantity)
                    .bind(link.id)
                    .execute(&mut *tx)
                    .await?;
                write_ledger!(tx, LedgerLine {
                    link_id: link.id,
                    at,
                    reason: "pos_count",
                    before: link.quantity,
                    after: shop_quantity,
                    sale_id: None,
                    pos_ref: link.pos_ref.as_str(),
                    detail: format!(
                        "POS counts {}, {in_flight} unit(s) sold online not yet counted by the POS",
                        count.quantity
                    ),
                })?;
                summary.changed += 1;
            }
            tx.commit().await?;
            Ok(summary)
        })
    }
}
