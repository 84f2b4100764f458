//! Named values that must survive a restart, such as whether the synchronizer is started.

use crate::{Result, Store, begin_write, dispatch, retry_conflicts};

impl Store {
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT value FROM stocksync_settings WHERE name = ?")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(value,)| value))
    }

    /// Every value whose name starts with `prefix`, by name.
    pub async fn settings_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, String)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT name, value FROM stocksync_settings WHERE SUBSTR(name, 1, ?) = ?")
                .bind(i64::try_from(prefix.len()).unwrap_or(i64::MAX))
                .bind(prefix)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// Sets a value, replacing any previous one (`REPLACE` is understood by both backends).
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        retry_conflicts(|| self.set_setting_once(name, value)).await
    }

    async fn set_setting_once(&self, name: &str, value: &str) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query("REPLACE INTO stocksync_settings (name, value) VALUES (?, ?)")
                .bind(name)
                .bind(value)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) several values in one transaction: all or none.
    pub async fn change_settings(&self, changes: &[(String, Option<String>)]) -> Result<()> {
        retry_conflicts(|| self.change_settings_once(changes)).await
    }

    async fn change_settings_once(&self, changes: &[(String, Option<String>)]) -> Result<()> {
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            for (name, value) in changes {
                match value {
                    Some(value) => sqlx::query("REPLACE INTO stocksync_settings (name, value) VALUES (?, ?)")
                        .bind(name)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?,
                    None => sqlx::query("DELETE FROM stocksync_settings WHERE name = ?")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?,
                };
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
