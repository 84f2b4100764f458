//! Named leases: work that one process at a time may do (an account's outbox pushes), held by
//! renewing before expiry and free for another process once expired.

use crate::{Result, Store, dispatch, retry_conflicts, unique_violation};
use chrono::{DateTime, SubsecRound, Utc};

impl Store {
    /// Takes or renews the lease `name` for `owner` until `at + ttl`; `false` while another
    /// owner holds it unexpired.
    pub async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        at: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<bool> {
        retry_conflicts(|| self.acquire_lease_once(name, owner, at, ttl)).await
    }

    async fn acquire_lease_once(
        &self,
        name: &str,
        owner: &str,
        at: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<bool> {
        let (at, until) = (at.trunc_subsecs(6), (at + ttl).trunc_subsecs(6));
        let taken = dispatch!(self, pool => {
            let updated = sqlx::query(
                "UPDATE stocksync_leases SET owner = ?, expires_at = ? WHERE name = ? AND (owner = ? OR expires_at < ?)",
            )
            .bind(owner)
            .bind(until)
            .bind(name)
            .bind(owner)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected();
            if updated == 1 {
                Ok(true)
            } else {
                sqlx::query("INSERT INTO stocksync_leases (name, owner, expires_at) VALUES (?, ?, ?)")
                    .bind(name)
                    .bind(owner)
                    .bind(until)
                    .execute(pool)
                    .await
                    .map(|_| true)
            }
        });
        match taken {
            Err(err) if unique_violation(&err) => Ok(false),
            other => Ok(other?),
        }
    }

    /// Lets the lease go at once (the owner is stopping), if `owner` holds it.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        retry_conflicts(|| self.release_lease_once(name, owner)).await
    }

    async fn release_lease_once(&self, name: &str, owner: &str) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query("DELETE FROM stocksync_leases WHERE name = ? AND owner = ?")
                .bind(name)
                .bind(owner)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
