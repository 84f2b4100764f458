//! Named values that must survive a restart, such as whether the synchronizer is started.

use crate::{Result, Store, dispatch};

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

    /// Sets a value, replacing any previous one (`REPLACE` is understood by both backends).
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query("REPLACE INTO stocksync_settings (name, value) VALUES (?, ?)")
                .bind(name)
                .bind(value)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
