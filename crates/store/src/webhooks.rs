//! Webhook notifications, stored raw as they arrive: duplicates (the same sender event id) are
//! recognised, and every event stays available to be looked at or replayed.

use crate::{Result, Store, dispatch, now, unique_violation};
use stocksync_domain::AccountId;

impl Store {
    /// Stores a notification; `false` when one with the same `event_id` from the same source
    /// and account was stored before (a redelivery). Events without an id are always stored.
    pub async fn record_webhook(
        &self,
        source: &str,
        account: &AccountId,
        event_id: Option<&str>,
        body: &str,
    ) -> Result<bool> {
        let inserted = dispatch!(self, pool => {
            sqlx::query(
                "INSERT INTO stocksync_webhook_events (source, account_id, event_id, received_at, body) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(source)
            .bind(account.as_str())
            .bind(event_id)
            .bind(now())
            .bind(body)
            .execute(pool)
            .await
            .map(drop)
        });
        match inserted {
            Ok(()) => Ok(true),
            Err(err) if unique_violation(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// How many notifications were stored from `source` for `account`.
    pub async fn webhook_count(&self, source: &str, account: &AccountId) -> Result<i64> {
        let (count,): (i64,) = dispatch!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM stocksync_webhook_events WHERE source = ? AND account_id = ?")
                .bind(source)
                .bind(account.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }
}
