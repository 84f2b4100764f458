//! Dashboard sessions, shared by every process on the database: each login adds a row keyed by
//! the hash of its token (never the token), logging out deletes it, and a row past its expiry
//! is refused (and purged at the next login). What a token is and how it is hashed belongs to
//! the server (`api::auth`).

use crate::{Result, Store, dispatch};
use chrono::{DateTime, SubsecRound, Utc};

impl Store {
    /// Records a new session valid until `expires_at`, and forgets the sessions expired by `now`.
    pub async fn create_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let (now, expires_at) = (now.trunc_subsecs(6), expires_at.trunc_subsecs(6));
        dispatch!(self, pool => {
            sqlx::query("DELETE FROM stocksync_sessions WHERE expires_at <= ?")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO stocksync_sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
            )
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether a session with this hash exists and has not expired at `now`.
    pub async fn session_is_live(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let found: Option<(i64,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT 1 FROM stocksync_sessions WHERE token_hash = ? AND expires_at > ?")
                .bind(token_hash)
                .bind(now.trunc_subsecs(6))
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// Ends a session (logout): its token opens nothing from now on, in any process.
    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query("DELETE FROM stocksync_sessions WHERE token_hash = ?")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
