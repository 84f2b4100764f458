//! The configured POS accounts, each with the connector that talks to it.

use crate::config::AccountConfig;
use async_trait::async_trait;
use std::sync::Arc;
use stocksync_domain::pos::{PosProduct, PosSale, PosSaleReceipt, ProductQuery, StockRead};
use stocksync_domain::{AccountId, PosConnector, PosError, PosKind};

/// One account: its settings and its connector.
#[derive(Clone)]
pub struct Account {
    pub config: AccountConfig,
    pub connector: Arc<dyn PosConnector>,
}

/// Every configured account, in configuration order.
#[derive(Clone, Default)]
pub struct Accounts {
    accounts: Vec<Account>,
}

impl Accounts {
    pub fn new(accounts: Vec<Account>) -> Self {
        Self { accounts }
    }

    /// Accounts whose connector is chosen by `connector_for`, one per configured account.
    pub fn from_configs(
        configs: &[AccountConfig],
        connector_for: impl Fn(&AccountConfig) -> Arc<dyn PosConnector>,
    ) -> Self {
        Self::new(
            configs
                .iter()
                .map(|config| Account {
                    connector: connector_for(config),
                    config: config.clone(),
                })
                .collect(),
        )
    }

    pub fn get(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.iter().find(|a| &a.config.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter()
    }

    /// The configured account ids, for error messages.
    pub fn ids(&self) -> Vec<String> {
        self.accounts
            .iter()
            .map(|a| a.config.id.to_string())
            .collect()
    }
}

/// The connector of an account whose POS client is not part of this build yet: every call
/// fails with a message that says so. The vendor clients replace it (POS connectors issue).
pub struct NoClient {
    pub kind: PosKind,
}

impl NoClient {
    fn error(&self) -> PosError {
        PosError::Unsupported(format!(
            "this build of stocksync has no {} client yet",
            self.kind.as_str()
        ))
    }
}

#[async_trait]
impl PosConnector for NoClient {
    async fn find_products(&self, _query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        Err(self.error())
    }
    async fn read_stock(&self, _cursor: Option<&str>) -> Result<StockRead, PosError> {
        Err(self.error())
    }
    async fn record_sale(&self, _sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        Err(self.error())
    }
}
