//! The configured shop's connector: `Shop.Type` picks the platform's client, with the
//! process's call log (its calls are counted as the POS clients' are, under the name `shop`).

use crate::config::ShopConfig;
use secrecy::ExposeSecret;
use std::sync::Arc;
use stocksync_domain::{ShopConnector, ShopKind};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_woocommerce::WooClient;

/// The name the shop's calls are logged under.
pub const CALLS_NAME: &str = "shop";

/// The client of the shop `config` describes (WooCommerce: Basic auth over https, OAuth 1.0a
/// over http). `Err` says why it cannot be built.
pub fn connect(config: &ShopConfig, calls: &CallLog) -> Result<Arc<dyn ShopConnector>, String> {
    let http = PosHttp::new(CALLS_NAME, calls.clone());
    Ok(match config.kind {
        ShopKind::WooCommerce => Arc::new(WooClient::new(
            &config.base_url,
            config.consumer_key.expose_secret(),
            config.consumer_secret.clone(),
            http,
        )?),
        // Their clients exist (stocksync-shopify, stocksync-prestashop); the configuration
        // offers neither yet.
        ShopKind::Shopify | ShopKind::PrestaShop => {
            return Err(format!(
                "Shop.Type {} is not connected to the engine yet",
                config.kind.as_str()
            ));
        }
    })
}
