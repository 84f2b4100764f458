//! Reading sales for the metrics (by state, the age of the oldest in the outbox), for the sync
//! (the products of recently confirmed sales) and for a POS budget (sales this month).

use crate::{Result, Store, dispatch};
use chrono::{DateTime, Utc};
use stocksync_domain::{AccountId, PosRef};

impl Store {
    /// How many sales (and returns) are in each state.
    pub async fn sales_by_state(&self) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT state, COUNT(*) FROM stocksync_sales GROUP BY state ORDER BY state")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// The POS products of the account's sales (and returns) that the POS confirmed at or after
    /// `since`.
    pub async fn confirmed_since(
        &self,
        account: &AccountId,
        since: DateTime<Utc>,
    ) -> Result<Vec<PosRef>> {
        let rows: Vec<(String,)> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT pos_ref FROM stocksync_sales \
                 WHERE account_id = ? AND state = 'confirmed' AND confirmed_at >= ?",
            )
            .bind(account.as_str())
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(pos_ref,)| PosRef::new(pos_ref))
            .collect())
    }

    /// When the oldest sale still waiting to reach its POS was accepted.
    pub async fn oldest_pending_sale(&self) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(DateTime<Utc>,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT created_at FROM stocksync_sales WHERE state = 'accepted' ORDER BY created_at LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(at,)| at))
    }

    /// How many sales (and returns) the account was sent since `since`.
    pub async fn sales_since(&self, account: &AccountId, since: DateTime<Utc>) -> Result<i64> {
        let (count,): (i64,) = dispatch!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM stocksync_sales WHERE account_id = ? AND created_at >= ?")
                .bind(account.as_str())
                .bind(since)
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }
}
