//! What the POS connectors need from storage, as traits the store implements: OAuth tokens that
//! survive a restart, and call budgets counted per calendar month.

use crate::{AccountId, PosError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// An OAuth access token and the refresh token that replaces it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenPair([REDACTED], expires {})", self.expires_at)
    }
}

/// Where rotated OAuth tokens are kept, shared by every process on the database. A refresh
/// token is single-use on Lightspeed: the new pair is saved before it is used, so a restart
/// never needs the old one, and a refresh is made under the account's refresh lease, so that
/// only one process at a time trades a refresh token and the others load the pair it saved.
#[async_trait]
pub trait TokenVault: Send + Sync {
    async fn load(&self, account: &AccountId) -> Result<Option<TokenPair>, PosError>;
    async fn save(&self, account: &AccountId, tokens: &TokenPair) -> Result<(), PosError>;
    /// Takes `account`'s refresh lease for `holder` until `ttl` from now; `false` while another
    /// holder has it unexpired.
    async fn lease_refresh(
        &self,
        account: &AccountId,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, PosError>;
    /// Gives the refresh lease back, if `holder` has it.
    async fn end_refresh(&self, account: &AccountId, holder: &str) -> Result<(), PosError>;
}

/// A persistent count of calls per account and calendar month (Hiboutik's quota).
#[async_trait]
pub trait CallBudget: Send + Sync {
    /// Counts one call against `limit` for `month` (`YYYY-MM`); `false`, and nothing counted,
    /// when the month's budget is already spent.
    async fn take(&self, account: &AccountId, month: &str, limit: i64) -> Result<bool, PosError>;
    /// Calls counted for `month`.
    async fn used(&self, account: &AccountId, month: &str) -> Result<i64, PosError>;
}
