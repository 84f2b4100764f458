//! The three POS simulators and the three shop platforms (WooCommerce, Shopify, PrestaShop)
//! together, with a generated catalog each: what `stocksync simulate` runs by hand, and what the
//! demo and the benchmarks run on. Each shop sells the POS catalog's products (the same SKUs,
//! its own stale quantities); WooCommerce and Shopify send their order webhooks to a stocksync
//! (`/webhooks/shop`, signed with [`SHOP_WEBHOOK_SECRET`]); PrestaShop has none.

pub mod shops;

use serde_json::{Value, json};
use shops::{SimShop, Webhooks, start_shop};
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::ShopKind;
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions};
use stocksync_lightspeed::{LightspeedSim, LightspeedSimOptions, RateLimit};
use stocksync_pos::simkit::catalog;
use stocksync_square::{SquareSim, SquareSimOptions};

/// Where the shops' webhooks go unless told: stocksync on its default `Listen`.
pub const DEFAULT_STOCKSYNC: &str = "http://127.0.0.1:5000";
/// The secret the simulated shops sign their webhook deliveries with (`Shop.WebhookSecret`).
pub const SHOP_WEBHOOK_SECRET: &str = "simulated-webhook-secret";
/// The shop platforms, in the order of their ports (after the POS's four).
pub const SHOP_KINDS: [ShopKind; 3] = [
    ShopKind::WooCommerce,
    ShopKind::Shopify,
    ShopKind::PrestaShop,
];

/// Square, Hiboutik, Lightspeed, WooCommerce, Shopify and PrestaShop simulators, stopped when
/// dropped.
pub struct Simulators {
    pub square: SquareSim,
    pub hiboutik: HiboutikSim,
    pub lightspeed: LightspeedSim,
    /// The web shops, each with one item per catalog product (SKUs as on the POS).
    pub woocommerce: Arc<dyn SimShop>,
    pub shopify: Arc<dyn SimShop>,
    pub prestashop: Arc<dyn SimShop>,
    /// Where the shops' webhook deliveries go.
    shop_webhook_url: String,
}

impl Simulators {
    /// [`Simulators::start_for`] a stocksync at [`DEFAULT_STOCKSYNC`].
    pub async fn start(products: usize, first_port: u16) -> std::io::Result<Self> {
        Self::start_for(DEFAULT_STOCKSYNC, products, first_port).await
    }

    /// Starts the six with `products` products each, on ports `first_port` to
    /// `first_port + 6` (Square, Hiboutik, Lightspeed, Lightspeed OAuth, WooCommerce, Shopify,
    /// PrestaShop; any free ports when 0); the shops' webhooks (every order event) go to
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
        let webhooks = Webhooks {
            url: shop_webhook_url.clone(),
            secret: SHOP_WEBHOOK_SECRET.to_owned(),
        };
        // The same SKUs as the POS catalogs, with the numbers the shops showed before stocksync.
        let shop = |offset: u16, kind: ShopKind| {
            start_shop(
                kind,
                port(offset),
                catalog(products, 4),
                Some(webhooks.clone()),
            )
        };
        Ok(Self {
            square,
            hiboutik,
            lightspeed,
            woocommerce: shop(4, ShopKind::WooCommerce).await?,
            shopify: shop(5, ShopKind::Shopify).await?,
            prestashop: shop(6, ShopKind::PrestaShop).await?,
            shop_webhook_url,
        })
    }

    /// The simulated shop of platform `kind`.
    pub fn shop(&self, kind: ShopKind) -> &dyn SimShop {
        match kind {
            ShopKind::WooCommerce => self.woocommerce.as_ref(),
            ShopKind::Shopify => self.shopify.as_ref(),
            ShopKind::PrestaShop => self.prestashop.as_ref(),
        }
    }

    /// The `Shop` section that points stocksync at the simulated `kind` shop.
    pub fn shop_settings(&self, kind: ShopKind) -> Value {
        self.shop(kind).settings(Some(SHOP_WEBHOOK_SECRET))
    }

    /// The `PosAccess` section: three accounts pointing at the POS simulators.
    pub fn pos_settings(&self) -> Value {
        json!({ "PosConfigurations": [
            self.square.account_settings(),
            self.hiboutik.account_settings(),
            self.lightspeed.account_settings(),
        ]})
    }

    /// An `appsettings.json` whose three accounts and shop (the `kind` one) point at these
    /// simulators.
    pub fn appsettings(&self, kind: ShopKind) -> Value {
        json!({ "PosAccess": self.pos_settings(), "Shop": self.shop_settings(kind) })
    }

    /// What a person needs to use them: addresses, how to make a till sale, an appsettings.json
    /// with the `kind` shop, and the other shops' `Shop` sections.
    pub fn describe(&self, kind: ShopKind) -> String {
        let sale_example = |url: String, pos_ref: Option<String>| {
            format!(
                "curl -X POST {url}/_sim/sale -H 'Content-Type: application/json' -d '{{\"pos_ref\":\"{}\",\"quantity\":1}}'",
                pos_ref.unwrap_or_default()
            )
        };
        let products = self.woocommerce.item_ids().len();
        let alternatives: String = SHOP_KINDS
            .into_iter()
            .filter(|other| *other != kind)
            .map(|other| {
                format!(
                    "\n\"Shop\": {}\n",
                    serde_json::to_string_pretty(&self.shop_settings(other)).unwrap_or_default()
                )
            })
            .collect();
        format!(
            "Square      {}\nHiboutik    {}\nLightspeed  {} (OAuth at {})\n\
             WooCommerce {} (REST API under /wp-json/wc/v3, OAuth 1.0a; its order webhooks go to {})\n\
             Shopify     {} (Admin GraphQL API; its order webhooks go to {})\n\
             PrestaShop  {} (Webservice under /api; no webhooks: stocksync polls its orders)\n\
             Each shop sells {products} products with the POS SKUs.\n\n\
             A till sale on each POS (the first product):\n  {}\n  {}\n  {}\n\n\
             An appsettings.json for stocksync with the {} shop (credentials of the simulators only):\n{}\n\n\
             The other shops, to put in place of its \"Shop\" (stocksync reaches one shop):\n{alternatives}",
            self.square.base_url(),
            self.hiboutik.base_url(),
            self.lightspeed.base_url(),
            self.lightspeed.auth_url(),
            self.woocommerce.base_url(),
            self.shop_webhook_url,
            self.shopify.base_url(),
            self.shop_webhook_url,
            self.prestashop.base_url(),
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
            kind.display_name(),
            serde_json::to_string_pretty(&self.appsettings(kind)).unwrap_or_default(),
        )
    }
}
