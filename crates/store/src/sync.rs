//! Applying POS counts to the `stock` table: shop quantity = POS count − web sales accepted but
//! not yet recorded on the POS (invariant 2, "no resurrected stock"), ledger line per change.

use crate::links::{LinkRow, select_links};
use crate::{Result, Store, begin_write, dispatch, now};
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
    /// Applies counts read from one account's POS, in one transaction. The sales subtracted are
    /// every sale accepted up to this transaction, so a sale accepted while the read was in
    /// flight is still subtracted: at worst a transient under-count, never an over-count.
    #[tracing::instrument(skip(self, counts), fields(counts = counts.len()), err)]
    pub async fn apply_counts(
        &self,
        account: &AccountId,
        counts: &[StockCount],
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
                 WHERE account_id = ? AND state = 'accepted' GROUP BY link_id",
            )
            .bind(account.as_str())
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
                sqlx::query(
                    "INSERT INTO stocksync_ledger (link_id, at, reason, quantity_before, quantity_after, sale_id, pos_ref, detail) \
                     VALUES (?, ?, 'pos_count', ?, ?, NULL, ?, ?)",
                )
                .bind(link.id)
                .bind(at)
                .bind(link.quantity)
                .bind(shop_quantity)
                .bind(link.pos_ref.as_str())
                .bind(format!(
                    "POS counts {}, {in_flight} unit(s) sold online not yet on the POS",
                    count.quantity
                ))
                .execute(&mut *tx)
                .await?;
                summary.changed += 1;
            }
            tx.commit().await?;
            Ok(summary)
        })
    }
}
