//! Reading the ledger and what is known of a link beyond its `stock` row.

use crate::{Result, Store, dispatch};
use chrono::{DateTime, Utc};
use stocksync_domain::LinkId;
use stocksync_domain::ledger::{LedgerEntry, LinkState};

#[derive(sqlx::FromRow)]
struct LedgerRow {
    id: i64,
    link_id: i64,
    at: DateTime<Utc>,
    reason: String,
    quantity_before: i64,
    quantity_after: i64,
    sale_id: Option<String>,
    pos_ref: String,
    detail: Option<String>,
}

impl From<LedgerRow> for LedgerEntry {
    fn from(row: LedgerRow) -> Self {
        LedgerEntry {
            id: row.id,
            link_id: row.link_id,
            at: row.at,
            reason: row.reason,
            quantity_before: row.quantity_before,
            quantity_after: row.quantity_after,
            sale_id: row.sale_id,
            pos_ref: row.pos_ref,
            detail: row.detail,
        }
    }
}

/// The last count read from the POS: quantity, when we read it, the POS's own time for it.
type Observation = (i64, DateTime<Utc>, Option<DateTime<Utc>>);

impl Store {
    /// A link's ledger, newest first, `limit` entries after skipping `offset`, and the total.
    pub async fn ledger(
        &self,
        link: LinkId,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<LedgerEntry>, i64)> {
        let (rows, (total,)): (Vec<LedgerRow>, (i64,)) = dispatch!(self, pool => {
            let rows = sqlx::query_as(
                "SELECT id, link_id, at, reason, quantity_before, quantity_after, sale_id, pos_ref, detail \
                 FROM stocksync_ledger WHERE link_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            )
            .bind(link)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_as("SELECT COUNT(*) FROM stocksync_ledger WHERE link_id = ?")
                .bind(link)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(LedgerEntry::from).collect(), total))
    }

    /// The last observation and the sales in flight of a link's product (its sales from an
    /// earlier link of the same product included).
    pub async fn link_state(&self, link: LinkId) -> Result<LinkState> {
        let (observation, (in_flight, dead_sales)): (Option<Observation>, (i64, i64)) = dispatch!(self, pool => {
            let observation = sqlx::query_as(
                "SELECT pos_quantity, observed_at, counted_at FROM stocksync_observations WHERE link_id = ?",
            )
            .bind(link)
            .fetch_optional(pool)
            .await?;
            let sales = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'accepted' THEN delta ELSE 0 END), 0) AS SIGNED), \
                        CAST(COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS SIGNED) \
                 FROM stocksync_sales JOIN stock ON stock.id = ? \
                 WHERE account_id = stock.accountID AND pos_ref = stock.idProductPOS",
            )
            .bind(link)
            .fetch_one(pool)
            .await?;
            (observation, sales)
        });
        Ok(LinkState {
            pos_quantity: observation.map(|o| o.0),
            observed_at: observation.map(|o| o.1),
            counted_at: observation.and_then(|o| o.2),
            in_flight,
            dead_sales,
        })
    }
}
