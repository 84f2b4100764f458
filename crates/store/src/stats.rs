//! Figures for the metrics: sales by state and the age of the oldest sale still in the outbox.

use crate::{Result, Store, dispatch};
use chrono::{DateTime, Utc};

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

    /// When the oldest sale still waiting to reach its POS was accepted.
    pub async fn oldest_pending_sale(&self) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(DateTime<Utc>,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT created_at FROM stocksync_sales WHERE state = 'accepted' ORDER BY created_at LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(at,)| at))
    }
}
