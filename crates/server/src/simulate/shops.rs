//! The three simulated shop platforms behind one face ([`SimShop`]): what the demo, the
//! benchmarks and the engine's tests do to a shop (add an item, place, cancel and refund an
//! order, change a quantity in the admin, count what stocksync wrote) is the same story on
//! WooCommerce, Shopify and PrestaShop. [`start_shop`] starts one.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::SimProduct;
use stocksync_prestashop::{PrestaSim, PrestaSimOptions, parse_item_id};
use stocksync_shopify::sim::RestockType;
use stocksync_shopify::{ShopifySim, ShopifySimOptions};
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// How long WooCommerce queues a webhook delivery (its Action Scheduler; events of one order
/// within it are merged into one delivery).
const WOO_WEBHOOK_DELAY: Duration = Duration::from_millis(100);

/// Where a simulated shop sends its webhooks (PrestaShop has none).
#[derive(Clone, Debug)]
pub struct Webhooks {
    /// stocksync's `/webhooks/shop`.
    pub url: String,
    /// `Shop.WebhookSecret`.
    pub secret: String,
}

/// A simulated shop, whatever its platform. Item and order ids are stocksync's
/// (`item_ecommerce_id`: WooCommerce's product or variation id, Shopify's variant id,
/// PrestaShop's product id or `product-combination`).
pub trait SimShop: Send + Sync {
    fn kind(&self) -> ShopKind;
    /// The shop's address (as `Shop.BaseUrl`).
    fn base_url(&self) -> String;
    /// The `Shop` section that points stocksync at this shop; with `webhook_secret` where the
    /// platform sends webhooks.
    fn settings(&self, webhook_secret: Option<&str>) -> Value;
    /// A new sellable item with SKU `sku` and `quantity` units (`None`: the shop does not
    /// track its stock); its id.
    fn add_item(&self, sku: &str, quantity: Option<i64>) -> String;
    /// Every sellable item's id, in creation order.
    fn item_ids(&self) -> Vec<String>;
    /// The item's sellable quantity as the shop shows it (`None`: unknown or not tracked).
    fn quantity(&self, item: &str) -> Option<i64>;
    /// The merchant types a new quantity in the shop's admin (not an API write).
    fn set_quantity(&self, item: &str, quantity: i64);
    /// A shopper's paid order of `lines` (item, units); its id, announced by webhook where the
    /// platform has them. `Err` says why the shop refused it.
    fn place_order(&self, lines: &[(&str, i64)]) -> Result<String, String>;
    /// The ids of the order's lines, in order, as stocksync sees them (empty for an unknown
    /// order).
    fn order_lines(&self, order: &str) -> Vec<String>;
    /// The shop tells of a placed order again, its lines unchanged (WooCommerce: the merchant
    /// completes it, `order.updated`; Shopify: its `orders/create` delivery retried, as
    /// Shopify's at-least-once deliveries are; PrestaShop: the merchant marks it shipped, its
    /// `date_upd` moves for the next poll); `false` for an unknown order.
    fn announce_again(&self, order: &str) -> bool;
    /// [`SimShop::place_order`] dated `age` ago (an order placed before stocksync was
    /// connected, say).
    fn place_past_order(
        &self,
        lines: &[(&str, i64)],
        age: chrono::Duration,
    ) -> Result<String, String>;
    /// The merchant cancels the order, its units back on the shelf; `false` for an unknown
    /// order.
    fn cancel_order(&self, order: &str) -> bool;
    /// The merchant refunds the whole order, its units back on the shelf; `false` for an
    /// unknown order.
    fn refund_order(&self, order: &str) -> bool;
    /// The stock writes the shop's API received for `item` (every one counted, none merged).
    fn writes_of(&self, item: &str) -> u64;
    /// Every stock write the shop's API received.
    fn writes(&self) -> u64;
    /// Every request the shop's API received, whatever its answer.
    fn requests(&self) -> u64;
    /// Whether the platform sends webhooks (else stocksync only polls its orders).
    fn sends_webhooks(&self) -> bool {
        true
    }
    /// Webhook deliveries sent (answered, where the platform counts answers; 0 without
    /// webhooks).
    fn deliveries(&self) -> u64;
}

/// Starts a simulated `kind` shop on `port` (0: any free port) selling `products`, sending
/// its webhooks (every order event) to `webhooks` where the platform has them.
pub async fn start_shop(
    kind: ShopKind,
    port: u16,
    products: Vec<SimProduct>,
    webhooks: Option<Webhooks>,
) -> std::io::Result<Arc<dyn SimShop>> {
    Ok(match kind {
        ShopKind::WooCommerce => Arc::new(
            WooSim::start(WooSimOptions {
                port,
                products,
                webhook: webhooks.map(|hooks| stocksync_woocommerce::sim::WebhookTarget {
                    delivery_url: hooks.url,
                    secret: hooks.secret,
                    delay: WOO_WEBHOOK_DELAY,
                }),
                ..WooSimOptions::default()
            })
            .await?,
        ),
        ShopKind::Shopify => Arc::new(
            ShopifySim::start(ShopifySimOptions {
                port,
                products,
                webhook: webhooks.map(|hooks| stocksync_shopify::sim::WebhookTarget {
                    url: hooks.url,
                    secret: hooks.secret,
                }),
                ..ShopifySimOptions::default()
            })
            .await?,
        ),
        ShopKind::PrestaShop => Arc::new(
            PrestaSim::start(PrestaSimOptions {
                port,
                products,
                ..PrestaSimOptions::default()
            })
            .await?,
        ),
    })
}

/// A numeric id of ours as the simulator's.
fn number<T: std::str::FromStr + Default>(id: &str) -> T {
    id.parse().unwrap_or_default()
}

impl SimShop for WooSim {
    fn kind(&self) -> ShopKind {
        ShopKind::WooCommerce
    }
    fn base_url(&self) -> String {
        WooSim::base_url(self)
    }
    fn settings(&self, webhook_secret: Option<&str>) -> Value {
        let mut settings = json!({
            "Type": "WooCommerce",
            "BaseUrl": WooSim::base_url(self),
            "ConsumerKey": self.consumer_key(),
            "ConsumerSecret": self.consumer_secret(),
        });
        if let Some(secret) = webhook_secret {
            settings["WebhookSecret"] = json!(secret);
        }
        settings
    }
    fn add_item(&self, sku: &str, quantity: Option<i64>) -> String {
        self.add_simple(sku, quantity).to_string()
    }
    fn item_ids(&self) -> Vec<String> {
        WooSim::item_ids(self).iter().map(i64::to_string).collect()
    }
    fn quantity(&self, item: &str) -> Option<i64> {
        self.stock(number(item))
    }
    fn set_quantity(&self, item: &str, quantity: i64) {
        self.set_stock(number(item), quantity);
    }
    fn place_order(&self, lines: &[(&str, i64)]) -> Result<String, String> {
        let lines: Vec<(i64, i64)> = lines.iter().map(|(id, n)| (number(id), *n)).collect();
        WooSim::place_order(self, &lines, "processing")
            .map(|id| id.to_string())
            .map_err(|refusal| format!("{refusal:?}"))
    }
    fn order_lines(&self, order: &str) -> Vec<String> {
        WooSim::order_lines(self, number(order))
            .iter()
            .map(i64::to_string)
            .collect()
    }
    fn announce_again(&self, order: &str) -> bool {
        self.set_order_status(number(order), "completed").is_ok()
    }
    fn place_past_order(
        &self,
        lines: &[(&str, i64)],
        age: chrono::Duration,
    ) -> Result<String, String> {
        let order = SimShop::place_order(self, lines)?;
        self.backdate_order(number(&order), chrono::Utc::now() - age);
        Ok(order)
    }
    fn cancel_order(&self, order: &str) -> bool {
        self.set_order_status(number(order), "cancelled").is_ok()
    }
    fn refund_order(&self, order: &str) -> bool {
        let order: i64 = number(order);
        let lines = self.order_line_quantities(order);
        !lines.is_empty() && self.refund(order, &lines, true).is_ok()
    }
    fn writes_of(&self, item: &str) -> u64 {
        self.writes_per_item()
            .get(&number(item))
            .copied()
            .unwrap_or(0)
    }
    fn writes(&self) -> u64 {
        self.stock_writes().len() as u64
    }
    fn requests(&self) -> u64 {
        WooSim::requests(self)
    }
    fn deliveries(&self) -> u64 {
        WooSim::deliveries(self).0
    }
}

impl SimShop for ShopifySim {
    fn kind(&self) -> ShopKind {
        ShopKind::Shopify
    }
    fn base_url(&self) -> String {
        ShopifySim::base_url(self)
    }
    fn settings(&self, webhook_secret: Option<&str>) -> Value {
        let mut settings = json!({
            "Type": "Shopify",
            "ShopDomain": "simulated.myshopify.com",
            "BaseUrl": ShopifySim::base_url(self),
            "AccessToken": self.access_token(),
            "LocationID": self.location_id(),
        });
        if let Some(secret) = webhook_secret {
            settings["WebhookSecret"] = json!(secret);
        }
        settings
    }
    fn add_item(&self, sku: &str, quantity: Option<i64>) -> String {
        self.add_variant(&format!("Product {sku}"), sku, None, quantity)
            .to_string()
    }
    fn item_ids(&self) -> Vec<String> {
        self.variant_ids().iter().map(u64::to_string).collect()
    }
    fn quantity(&self, item: &str) -> Option<i64> {
        self.available(number(item))
    }
    fn set_quantity(&self, item: &str, quantity: i64) {
        ShopifySim::set_available(self, number(item), quantity);
    }
    fn place_order(&self, lines: &[(&str, i64)]) -> Result<String, String> {
        let lines: Vec<(u64, i64)> = lines.iter().map(|(id, n)| (number(id), *n)).collect();
        Ok(ShopifySim::place_order(self, &lines).to_string())
    }
    fn order_lines(&self, order: &str) -> Vec<String> {
        self.order_line_ids(number(order))
            .iter()
            .map(u64::to_string)
            .collect()
    }
    fn announce_again(&self, order: &str) -> bool {
        let created = self.sent_deliveries().into_iter().rev().find(|delivery| {
            delivery.topic == "orders/create"
                && serde_json::from_slice::<Value>(&delivery.body)
                    .is_ok_and(|body| body["id"].as_u64() == order.parse().ok())
        });
        created.map(|delivery| self.redeliver(delivery)).is_some()
    }
    fn place_past_order(
        &self,
        lines: &[(&str, i64)],
        age: chrono::Duration,
    ) -> Result<String, String> {
        let order = SimShop::place_order(self, lines)?;
        self.backdate_order(number(&order), self.now() - age);
        Ok(order)
    }
    fn cancel_order(&self, order: &str) -> bool {
        ShopifySim::cancel_order(self, number(order))
    }
    fn refund_order(&self, order: &str) -> bool {
        let order: u64 = number(order);
        let lines: Vec<(usize, i64, RestockType)> = self
            .order_line_quantities(order)
            .into_iter()
            .enumerate()
            .map(|(at, units)| (at, units, RestockType::Return))
            .collect();
        !lines.is_empty() && self.refund(order, &lines).is_some()
    }
    fn writes_of(&self, item: &str) -> u64 {
        self.inventory_item(number(item))
            .and_then(|item| self.writes_per_item().get(&item).copied())
            .unwrap_or(0)
    }
    fn writes(&self) -> u64 {
        ShopifySim::writes(self).len() as u64
    }
    fn requests(&self) -> u64 {
        ShopifySim::requests(self)
    }
    fn deliveries(&self) -> u64 {
        self.delivered()
    }
}

impl SimShop for PrestaSim {
    fn kind(&self) -> ShopKind {
        ShopKind::PrestaShop
    }
    fn base_url(&self) -> String {
        PrestaSim::base_url(self)
    }
    fn settings(&self, _webhook_secret: Option<&str>) -> Value {
        json!({
            "Type": "PrestaShop",
            "BaseUrl": PrestaSim::base_url(self),
            "ApiKey": self.key(),
        })
    }
    fn add_item(&self, sku: &str, quantity: Option<i64>) -> String {
        let id = self.add_product(&format!("Product {sku}"), sku, "", quantity.unwrap_or(0));
        if quantity.is_none()
            && let Some(row) = self.row_id(id, 0)
        {
            self.set_depends_on_stock(row, true);
        }
        id.to_string()
    }
    fn item_ids(&self) -> Vec<String> {
        PrestaSim::item_ids(self)
    }
    fn quantity(&self, item: &str) -> Option<i64> {
        let (product, combination) = parse_item_id(item)?;
        self.stock(product, combination.unwrap_or(0))
    }
    fn set_quantity(&self, item: &str, quantity: i64) {
        if let Some((product, combination)) = parse_item_id(item) {
            self.set_stock(product, combination.unwrap_or(0), quantity);
        }
    }
    fn place_order(&self, lines: &[(&str, i64)]) -> Result<String, String> {
        let lines = lines
            .iter()
            .map(|(id, n)| {
                let (product, combination) =
                    parse_item_id(id).ok_or_else(|| format!("'{id}' is not an item id"))?;
                Ok((product, combination.unwrap_or(0), *n))
            })
            .collect::<Result<Vec<_>, String>>()?;
        // 2: payment accepted.
        Ok(PrestaSim::place_order(self, &lines, 2).to_string())
    }
    fn order_lines(&self, order: &str) -> Vec<String> {
        self.order_rows(number(order))
            .iter()
            .map(i64::to_string)
            .collect()
    }
    fn announce_again(&self, order: &str) -> bool {
        // 4: shipped.
        self.set_order_state(number(order), 4)
    }
    fn place_past_order(
        &self,
        lines: &[(&str, i64)],
        age: chrono::Duration,
    ) -> Result<String, String> {
        // The shop's clock dates its saves: turned back for this one, then forward again.
        self.advance(-age);
        let order = SimShop::place_order(self, lines);
        self.advance(age);
        order
    }
    fn cancel_order(&self, order: &str) -> bool {
        self.set_order_state(number(order), 6)
    }
    fn refund_order(&self, order: &str) -> bool {
        self.set_order_state(number(order), 7)
    }
    fn writes_of(&self, item: &str) -> u64 {
        parse_item_id(item)
            .and_then(|(product, combination)| self.row_id(product, combination.unwrap_or(0)))
            .and_then(|row| self.writes_per_row().get(&row).copied())
            .unwrap_or(0)
    }
    fn writes(&self) -> u64 {
        self.writes_per_row().values().sum()
    }
    fn requests(&self) -> u64 {
        PrestaSim::requests(self)
    }
    fn sends_webhooks(&self) -> bool {
        false
    }
    fn deliveries(&self) -> u64 {
        0
    }
}
