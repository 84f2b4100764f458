//! The shop platform reached through its API (`Shop` in the configuration): its connector
//! (`connect`), orders in (`orders`), stock out (`push`), and the one loop that runs both
//! (`worker`), and its reconciliation (`reconcile`: a job beside the POS accounts');
//! `POST /webhooks/shop` (in `api::shop_webhook`) ingests through `orders` too, remembering
//! the deliveries it handled (`recent`).

pub mod connect;
pub mod orders;
pub mod push;
pub mod recent;
pub mod reconcile;
pub mod worker;

use crate::config::ShopConfig;
use recent::RecentKeys;
use std::sync::Arc;
use stocksync_domain::{AccountId, ShopConnector, ShopKind};
use tokio::sync::{Mutex, Notify};

/// The configured shop, shared by the API and the shop's background work.
#[derive(Clone)]
pub struct ShopHandle {
    pub config: ShopConfig,
    pub connector: Arc<dyn ShopConnector>,
    /// Rung when the shop has something to do at once (a webhook's order, a change to push).
    pub wake: Arc<Notify>,
    /// Taken by the worker for a turn (orders read, pushed, read again) and by a webhook's
    /// ingest: in this process, an order is never ingested between a push's read of the shop
    /// and its write.
    pub turn: Arc<Mutex<()>>,
    /// Webhook deliveries already handled here (by the platform's delivery id).
    pub deliveries: Arc<std::sync::Mutex<RecentKeys>>,
    /// Versions (`{order}@{modified}`) of orders from before the connection already seen here.
    pub old_orders: Arc<std::sync::Mutex<RecentKeys>>,
}

/// The "account" of the shop's jobs (`shop:woocommerce`): its reconciliations are jobs like the
/// POS accounts', so two never run at once and a failing one is retried alone.
pub fn job_account(kind: ShopKind) -> AccountId {
    AccountId::new(format!("shop:{}", kind.as_str()))
}

impl ShopHandle {
    /// The "account" of this shop's jobs ([`job_account`]).
    pub fn job_account(&self) -> AccountId {
        job_account(self.config.kind)
    }

    /// The name the shop's read state is kept under (`Store::shop_read_state`, `shop_polled`).
    pub fn state_name(&self) -> &'static str {
        self.config.kind.as_str()
    }

    pub fn new(config: ShopConfig, connector: Arc<dyn ShopConnector>) -> Self {
        Self {
            config,
            connector,
            wake: Arc::new(Notify::new()),
            turn: Arc::new(Mutex::new(())),
            deliveries: Arc::default(),
            old_orders: Arc::default(),
        }
    }
}
