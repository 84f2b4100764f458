//! A configured POS account: which vendor, where its API is, and the credentials and options
//! its connector needs. Parsed from `appsettings.json` by the server; read by the connectors.

use crate::{AccountId, PosKind};
use secrecy::SecretString;

/// One configured POS account. Secrets are `SecretString`s: they print as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    pub id: AccountId,
    pub kind: PosKind,
    /// The vendor's base address, or the `BaseUrl` that replaces it (sandbox, simulator),
    /// without a trailing slash.
    pub base_url: String,
    pub vendor: VendorConfig,
}

/// What each vendor needs beyond the common fields.
#[derive(Debug, Clone)]
pub enum VendorConfig {
    Square {
        access_token: SecretString,
        /// Location ids to cover; empty means every location of the account.
        locations: Vec<String>,
    },
    Hiboutik {
        access_token: SecretString,
        email: String,
        account_name: String,
        /// The monthly call budget (Hiboutik allows 10 000 calls a month per shop).
        maximum_requests: i64,
        store_id: i64,
        customer_id: i64,
    },
    Lightspeed {
        /// May be absent: a refresh gives one.
        access_token: Option<SecretString>,
        refresh_token: SecretString,
        client_id: String,
        client_secret: SecretString,
        /// The OAuth server, or the `AuthUrl` that replaces it, without a trailing slash.
        auth_url: String,
        employee_id: i64,
        register_id: i64,
        shop_id: i64,
        customer_id: i64,
    },
}
