//! The configured POS accounts, each with the connector that talks to it.

use crate::config::AccountConfig;
use std::sync::Arc;
use stocksync_domain::{AccountId, PosConnector, PosKind};
use stocksync_hiboutik::HiboutikConnector;
use stocksync_lightspeed::LightspeedConnector;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_square::SquareConnector;
use stocksync_store::Store;

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
        connector_for: impl Fn(&AccountConfig) -> Result<Arc<dyn PosConnector>, String>,
    ) -> Result<Self, String> {
        let accounts = configs
            .iter()
            .map(|config| {
                Ok(Account {
                    connector: connector_for(config)?,
                    config: config.clone(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self::new(accounts))
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

/// The real connector of an account: its vendor's client, counting its calls in `calls`,
/// keeping Lightspeed's rotated tokens and Hiboutik's monthly call count in `store`.
pub fn connect(
    config: &AccountConfig,
    calls: &CallLog,
    store: &Store,
) -> Result<Arc<dyn PosConnector>, String> {
    let http = PosHttp::new(config.id.as_str(), calls.clone());
    Ok(match config.kind {
        PosKind::Square => Arc::new(SquareConnector::new(config, http)?),
        PosKind::Hiboutik => Arc::new(HiboutikConnector::new(
            config,
            http,
            Arc::new(store.clone()),
        )?),
        PosKind::Lightspeed => Arc::new(LightspeedConnector::new(
            config,
            http,
            Arc::new(store.clone()),
        )?),
    })
}
