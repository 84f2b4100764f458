//! What the POS connectors keep in the database: rotated OAuth tokens (and the lease under
//! which one process at a time refreshes them) and monthly call counts (the store's side of
//! `TokenVault` and `CallBudget`).

use crate::{Store, dispatch, now, unique_violation};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use stocksync_domain::ports::{CallBudget, TokenPair, TokenVault};
use stocksync_domain::{AccountId, PosError};

fn storage_error(what: &str) -> impl Fn(sqlx::Error) -> PosError + '_ {
    move |err| PosError::Unavailable(format!("the database could not {what}: {err}"))
}

#[async_trait]
impl TokenVault for Store {
    async fn load(&self, account: &AccountId) -> Result<Option<TokenPair>, PosError> {
        let row: Option<(String, String, DateTime<Utc>)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT access_token, refresh_token, expires_at FROM stocksync_pos_tokens WHERE account_id = ?")
                .bind(account.as_str())
                .fetch_optional(pool)
                .await
                .map_err(storage_error("read the POS tokens"))?
        });
        Ok(
            row.map(|(access_token, refresh_token, expires_at)| TokenPair {
                access_token,
                refresh_token,
                expires_at,
            }),
        )
    }

    async fn save(&self, account: &AccountId, tokens: &TokenPair) -> Result<(), PosError> {
        dispatch!(self, pool => {
            sqlx::query(
                "REPLACE INTO stocksync_pos_tokens (account_id, access_token, refresh_token, expires_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account.as_str())
            .bind(&tokens.access_token)
            .bind(&tokens.refresh_token)
            .bind(tokens.expires_at)
            .bind(now())
            .execute(pool)
            .await
            .map_err(storage_error("save the POS tokens"))?;
        });
        Ok(())
    }

    async fn lease_refresh(
        &self,
        account: &AccountId,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, PosError> {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.acquire_lease(&refresh_lease(account), holder, Utc::now(), ttl)
            .await
            .map_err(|err| {
                PosError::Unavailable(format!(
                    "the database could not lease the token refresh: {err}"
                ))
            })
    }

    async fn end_refresh(&self, account: &AccountId, holder: &str) -> Result<(), PosError> {
        self.release_lease(&refresh_lease(account), holder)
            .await
            .map_err(|err| {
                PosError::Unavailable(format!(
                    "the database could not end the token refresh lease: {err}"
                ))
            })
    }
}

/// The named lease under which one process at a time refreshes an account's tokens.
fn refresh_lease(account: &AccountId) -> String {
    format!("token-refresh:{account}")
}

#[async_trait]
impl CallBudget for Store {
    /// Atomic on both backends: the month's row is created if missing, then one conditional
    /// `UPDATE` counts the call only while under the limit.
    async fn take(&self, account: &AccountId, month: &str, limit: i64) -> Result<bool, PosError> {
        let counted = dispatch!(self, pool => {
            let created = sqlx::query("INSERT INTO stocksync_pos_calls (account_id, month, calls) VALUES (?, ?, 0)")
                .bind(account.as_str())
                .bind(month)
                .execute(pool)
                .await;
            match created {
                Err(err) if !unique_violation(&err) => {
                    return Err(storage_error("count a POS call")(err));
                }
                _ => {}
            }
            sqlx::query("UPDATE stocksync_pos_calls SET calls = calls + 1 WHERE account_id = ? AND month = ? AND calls < ?")
                .bind(account.as_str())
                .bind(month)
                .bind(limit)
                .execute(pool)
                .await
                .map_err(storage_error("count a POS call"))?
                .rows_affected()
        });
        Ok(counted == 1)
    }

    async fn used(&self, account: &AccountId, month: &str) -> Result<i64, PosError> {
        self.calls_used(account, month).await.map_err(|err| {
            PosError::Unavailable(format!(
                "the database could not read the POS call count: {err}"
            ))
        })
    }
}

impl Store {
    /// Calls counted against `account`'s budget for `month` (`YYYY-MM`).
    pub async fn calls_used(&self, account: &AccountId, month: &str) -> crate::Result<i64> {
        let row: Option<(i64,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT calls FROM stocksync_pos_calls WHERE account_id = ? AND month = ?")
                .bind(account.as_str())
                .bind(month)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map_or(0, |(calls,)| calls))
    }
}
