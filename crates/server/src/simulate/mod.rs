//! The three POS simulators and a WooCommerce shop together, with a generated catalog each:
//! what `stocksync simulate` runs by hand, and what the demo and the benchmarks run on. The
//! shop sells the POS catalog's products (the same SKUs, its own stale quantities) and sends
//! its order webhooks to a stocksync (`/webhooks/shop`, signed with [`SHOP_WEBHOOK_SECRET`]).

pub mod shops;

use serde_json::{Value, json};
use std::time::Duration;
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions};
use stocksync_lightspeed::{LightspeedSim, LightspeedSimOptions, RateLimit};
use stocksync_pos::simkit::catalog;
use stocksync_square::{SquareSim, SquareSimOptions};
use stocksync_woocommerce::sim::WebhookTarget;
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// Where the shop's webhooks go unless told: stocksync on its default `Listen`.
pub const DEFAULT_STOCKSYNC: &str = "http://127.0.0.1:5000";
/// The secret the simulated shop signs its webhook deliveries with (`Shop.WebhookSecret`).
pub const SHOP_WEBHOOK_SECRET: &str = "simulated-webhook-secret";
/// How long the shop queues a webhook delivery (WooCommerce's Action Scheduler; events of one
/// order within it are merged into one delivery).
const SHOP_WEBHOOK_DELAY: Duration = Duration::from_millis(100);

/// Square, Hiboutik, Lightspeed and WooCommerce simulators, stopped when dropped.
pub struct Simulators {
    pub square: SquareSim,
    pub hiboutik: HiboutikSim,
    pub lightspeed: LightspeedSim,
    /// The web shop: one simple product per catalog product (ids from 1, SKUs as on the POS).
    pub shop: WooSim,
    /// Where the shop's webhook deliveries go.
    shop_webhook_url: String,
}

impl Simulators {
    /// [`Simulators::start_for`] a stocksync at [`DEFAULT_STOCKSYNC`].
    pub async fn start(products: usize, first_port: u16) -> std::io::Result<Self> {
        Self::start_for(DEFAULT_STOCKSYNC, products, first_port).await
    }

    /// Starts the four with `products` products each, on ports `first_port` to
    /// `first_port + 4` (any free ports when 0); the shop's webhook (every order event) goes to
    /// `stocksync`'s `/webhooks/shop`. Lightspeed paces as the real one does by default (a
    /// bucket of 90 drips, 1 per second).
    pub async fn start_for(
        stocksync: &str,
        products: usize,
        first_port: u16,
    ) -> std::io::Result<Self> {
        let port = |offset: u16| {
            if first_port == 0 {
                0
            } else {
                first_port + offset
            }
        };
        let square = SquareSim::start(SquareSimOptions {
            port: port(0),
            products: catalog(products, 1),
            ..SquareSimOptions::default()
        })
        .await?;
        let hiboutik = HiboutikSim::start(HiboutikSimOptions {
            port: port(1),
            products: catalog(products, 2),
            sized_every: 5,
            ..HiboutikSimOptions::default()
        })
        .await?;
        let lightspeed = LightspeedSim::start(LightspeedSimOptions {
            port: port(2),
            auth_port: port(3),
            products: catalog(products, 3),
            token_lifetime: Duration::from_secs(3600),
            rate_limit: RateLimit {
                size: 90.0,
                drip: 1.0,
                burst: None,
                legacy_costs: false,
            },
            ..LightspeedSimOptions::default()
        })
        .await?;
        let shop_webhook_url = format!("{}/webhooks/shop", stocksync.trim_end_matches('/'));
        let shop = WooSim::start(WooSimOptions {
            port: port(4),
            // The same SKUs as the POS catalogs, with the numbers the shop showed before
            // stocksync.
            products: catalog(products, 4),
            webhook: Some(WebhookTarget {
                delivery_url: shop_webhook_url.clone(),
                secret: SHOP_WEBHOOK_SECRET.to_owned(),
                delay: SHOP_WEBHOOK_DELAY,
            }),
            ..WooSimOptions::default()
        })
        .await?;
        Ok(Self {
            square,
            hiboutik,
            lightspeed,
            shop,
            shop_webhook_url,
        })
    }

    /// The `Shop` section that points stocksync at the simulated shop.
    pub fn shop_settings(&self) -> Value {
        json!({
            "Type": "WooCommerce",
            "BaseUrl": self.shop.base_url(),
            "ConsumerKey": self.shop.consumer_key(),
            "ConsumerSecret": self.shop.consumer_secret(),
            "WebhookSecret": SHOP_WEBHOOK_SECRET,
        })
    }

    /// The `PosAccess` section: three accounts pointing at the POS simulators.
    pub fn pos_settings(&self) -> Value {
        json!({ "PosConfigurations": [
            self.square.account_settings(),
            self.hiboutik.account_settings(),
            self.lightspeed.account_settings(),
        ]})
    }

    /// An `appsettings.json` whose three accounts and shop point at these simulators.
    pub fn appsettings(&self) -> Value {
        json!({ "PosAccess": self.pos_settings(), "Shop": self.shop_settings() })
    }

    /// What a person needs to use them: addresses, how to make a till sale and a web order.
    pub fn describe(&self) -> String {
        let sale_example = |url: String, pos_ref: Option<String>| {
            format!(
                "curl -X POST {url}/_sim/sale -H 'Content-Type: application/json' -d '{{\"pos_ref\":\"{}\",\"quantity\":1}}'",
                pos_ref.unwrap_or_default()
            )
        };
        format!(
            "Square      {}\nHiboutik    {}\nLightspeed  {} (OAuth at {})\n\
             WooCommerce {} (REST API under /wp-json/wc/v3, OAuth 1.0a; {} products with the POS SKUs;\n            \
             its order webhooks go to {})\n\n\
             A till sale on each (the first product):\n  {}\n  {}\n  {}\n\n\
             An appsettings.json for stocksync (credentials of the simulators only):\n{}\n",
            self.square.base_url(),
            self.hiboutik.base_url(),
            self.lightspeed.base_url(),
            self.lightspeed.auth_url(),
            self.shop.base_url(),
            self.shop.item_ids().len(),
            self.shop_webhook_url,
            sale_example(
                self.square.base_url(),
                self.square.product_refs().first().cloned()
            ),
            sale_example(
                self.hiboutik.base_url(),
                self.hiboutik.product_refs().first().cloned()
            ),
            sale_example(
                self.lightspeed.base_url(),
                self.lightspeed.product_refs().first().cloned()
            ),
            serde_json::to_string_pretty(&self.appsettings()).unwrap_or_default(),
        )
    }
}
