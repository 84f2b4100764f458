//! The configured shop's connector: `Shop.Type` picks the platform's client, with the
//! process's call log (its calls are counted as the POS clients' are, under the name `shop`).

use crate::config::{ShopAccess, ShopConfig};
use secrecy::ExposeSecret;
use std::sync::Arc;
use stocksync_domain::ShopConnector;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_prestashop::PrestaClient;
use stocksync_shopify::ShopifyClient;
use stocksync_woocommerce::WooClient;

/// The name the shop's calls are logged under.
pub const CALLS_NAME: &str = "shop";

/// The client of the shop `config` describes (WooCommerce: Basic auth over https, OAuth 1.0a
/// over http; Shopify: the Admin GraphQL API with the access token; PrestaShop: the Webservice
/// with its key). `Err` says why it cannot be built.
pub fn connect(config: &ShopConfig, calls: &CallLog) -> Result<Arc<dyn ShopConnector>, String> {
    let http = PosHttp::new(CALLS_NAME, calls.clone());
    Ok(match &config.access {
        ShopAccess::WooCommerce {
            consumer_key,
            consumer_secret,
        } => Arc::new(WooClient::new(
            &config.base_url,
            consumer_key.expose_secret(),
            consumer_secret.clone(),
            http,
        )?),
        ShopAccess::Shopify {
            access_token,
            api_version,
            location_id,
            activate,
            ..
        } => Arc::new(
            ShopifyClient::new(
                &config.base_url,
                access_token.clone(),
                api_version,
                location_id.clone(),
                http,
            )?
            .with_activation(*activate),
        ),
        ShopAccess::PrestaShop {
            api_key,
            shop_id,
            time_zone,
            states,
        } => Arc::new(
            PrestaClient::new(&config.base_url, api_key.clone(), *shop_id, http)?
                .with_time_zone(*time_zone)
                .with_order_states(states.clone()),
        ),
    })
}
