//! The chaos test's web shop (issues 12 and 13): a simulated shop of the platform the run
//! names (WooCommerce, Shopify or PrestaShop) whose items are the chaos test's shop items,
//! configured as stocksync's `Shop` with its webhook, where the platform has one, pointed at
//! the service. Shoppers place orders (on WooCommerce processing, on-hold, completed, or
//! pending and paid later), the merchant cancels and refunds them (WooCommerce: some units of
//! a line, restocked or not; Shopify: some units of a line, restocked as a return, as a cancel
//! or not at all; PrestaShop: the whole order, its state), some announced by the webhook and
//! some not (WooCommerce's paused or disabled by deliveries that failed during a kill;
//! Shopify's lost, and earlier ones replayed; PrestaShop has none: its orders are polled),
//! while the shop itself answers 429s (Shopify: THROTTLED), 5xx, drops connections and loses
//! answers. This module keeps the model of those orders (what each line must owe the POS in
//! the end) and checks it: every counted line is on its POS once (the sales keyed
//! `shop:{platform}:{order}:{line}:n` add up to what the shop holds taken for the line), every
//! return once, and the shop's quantity of every item equals stocksync's sellable sum.

use super::signed_delta;
use crate::process::{Stocksync, exchange};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stocksync::simulate::shops::SimShop;
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::{FaultPlan, Rng};
use stocksync_prestashop::{PrestaSim, PrestaSimOptions};
use stocksync_shopify::sim::RestockType;
use stocksync_shopify::{ShopifySim, ShopifySimOptions};
use stocksync_testkit::{SHOP_WEBHOOK_SECRET, shop_signature};
use stocksync_woocommerce::sim::{WebhookStatus, WebhookTarget};
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// The statuses in which the shop holds an order's units taken from stock: WooCommerce's, and
/// `paid`, an order of Shopify or PrestaShop neither cancelled nor refunded.
const COUNTED: [&str; 4] = ["processing", "on-hold", "completed", "paid"];

/// The simulator of the run's platform, for what only that platform does.
enum Platform {
    /// With its webhook's id once created.
    Woo(Arc<WooSim>, Option<i64>),
    /// With the webhook's target once connected.
    Shopify(
        Arc<ShopifySim>,
        Option<stocksync_shopify::sim::WebhookTarget>,
    ),
    Presta(Arc<PrestaSim>),
}

/// One line of a web order, as the test placed and refunded it.
struct Line {
    id: String,
    /// An index into the chaos test's shop items.
    item: usize,
    quantity: i64,
    refunded: i64,
    restocked: i64,
}

struct WebOrder {
    id: String,
    status: String,
    lines: Vec<Line>,
}

impl WebOrder {
    /// The shop holds the units taken (counted, or refunded after being counted).
    fn holds_stock(&self) -> bool {
        COUNTED.contains(&self.status.as_str()) || self.status == "refunded"
    }

    /// What line `line` owes the POS now: what the shop holds taken from stock for it.
    fn target(&self, line: &Line) -> i64 {
        if self.holds_stock() {
            line.quantity - line.restocked
        } else {
            0
        }
    }
}

#[derive(Default)]
pub struct Figures {
    placed: u64,
    refused: u64,
    paid_later: u64,
    cancelled: u64,
    refunds: u64,
    restocking_refunds: u64,
    unannounced: u64,
    replayed: u64,
    fault_plans: u64,
    nudges: u64,
    sales: usize,
    returns: usize,
}

/// The shop, its webhook and the orders placed on it.
pub struct Shop {
    kind: ShopKind,
    sim: Arc<dyn SimShop>,
    platform: Platform,
    orders: Vec<WebOrder>,
    /// The shop items' ids (the chaos test's `ShopItem::id`), by index.
    items: Vec<String>,
    pub figures: Figures,
}

impl Shop {
    pub async fn start(kind: ShopKind, seed: u64) -> Self {
        let (sim, platform): (Arc<dyn SimShop>, Platform) = match kind {
            ShopKind::WooCommerce => {
                let sim = Arc::new(
                    WooSim::start(WooSimOptions {
                        seed,
                        ..WooSimOptions::default()
                    })
                    .await
                    .expect("the WooCommerce simulator"),
                );
                (sim.clone(), Platform::Woo(sim, None))
            }
            ShopKind::Shopify => {
                let sim = Arc::new(
                    ShopifySim::start(ShopifySimOptions {
                        seed,
                        ..ShopifySimOptions::default()
                    })
                    .await
                    .expect("the Shopify simulator"),
                );
                (sim.clone(), Platform::Shopify(sim, None))
            }
            ShopKind::PrestaShop => {
                let sim = Arc::new(
                    PrestaSim::start(PrestaSimOptions {
                        seed,
                        ..PrestaSimOptions::default()
                    })
                    .await
                    .expect("the PrestaShop simulator"),
                );
                (sim.clone(), Platform::Presta(sim))
            }
        };
        Self {
            kind,
            sim,
            platform,
            orders: Vec::new(),
            items: Vec::new(),
            figures: Figures::default(),
        }
    }

    /// A new item showing `quantity` before stocksync adopts it; its id (the shop item's
    /// `item_ecommerce_id`).
    pub fn add_item(&mut self, sku: &str, quantity: i64) -> String {
        let id = self.sim.add_item(sku, Some(quantity));
        self.items.push(id.clone());
        id
    }

    /// The `Shop` section of stocksync's configuration (PrestaShop's orders, without webhooks,
    /// polled every 2 s).
    pub fn config(&self) -> Value {
        let mut settings = self.sim.settings(Some(SHOP_WEBHOOK_SECRET));
        if let Platform::Presta(_) = self.platform {
            settings["PollSeconds"] = json!(2);
        }
        settings
    }

    /// The merchant adds the order webhook where the platform has one (WooCommerce's ping
    /// answered by stocksync).
    pub async fn connect_webhook(&mut self, base: &str) {
        let url = format!("{base}/webhooks/shop");
        match &mut self.platform {
            Platform::Woo(sim, hook) => {
                let (id, ping) = sim
                    .create_webhook(WebhookTarget {
                        delivery_url: url,
                        secret: SHOP_WEBHOOK_SECRET.to_owned(),
                        delay: Duration::from_millis(30),
                    })
                    .await;
                assert_eq!(ping, Some(200), "the webhook's ping");
                *hook = Some(id);
            }
            Platform::Shopify(sim, hook) => {
                let target = stocksync_shopify::sim::WebhookTarget {
                    url,
                    secret: SHOP_WEBHOOK_SECRET.to_owned(),
                };
                sim.set_webhook(Some(target.clone()));
                *hook = Some(target);
            }
            Platform::Presta(_) => {}
        }
    }

    /// The webhook announces the next move (`true`) or loses it.
    fn announce(&mut self, announce: bool) {
        if !announce {
            self.figures.unannounced += 1;
        }
        match &self.platform {
            Platform::Woo(sim, Some(hook)) => {
                let status = if announce {
                    WebhookStatus::Active
                } else {
                    WebhookStatus::Paused
                };
                sim.set_webhook_status(*hook, status);
            }
            Platform::Shopify(sim, Some(target)) => {
                sim.set_webhook(announce.then(|| target.clone()));
            }
            _ => {}
        }
    }

    /// Shopify retrying: an earlier delivery sent again, same webhook id, now and then.
    fn replay(&mut self, rng: &mut Rng) {
        if let Platform::Shopify(sim, Some(_)) = &self.platform {
            let sent = sim.sent_deliveries();
            if !sent.is_empty() && rng.unit() < 0.2 {
                let at = rng.between(0, sent.len() as i64 - 1) as usize;
                sim.redeliver(sent[at].clone());
                self.figures.replayed += 1;
            }
        }
    }

    /// Units the shop's orders hold or may come to hold of `item` (pending ones included): a
    /// till sale must leave room for them on whichever product they are taken from.
    pub fn held(&self, item: usize) -> i64 {
        self.orders
            .iter()
            .filter(|o| o.holds_stock() || o.status == "pending")
            .flat_map(|o| o.lines.iter().filter(|l| l.item == item))
            .map(|l| l.quantity - l.restocked)
            .sum()
    }

    /// One shopper's or merchant's move, announced by the webhook or not; its name.
    pub fn step(&mut self, rng: &mut Rng) -> &'static str {
        let announce = rng.unit() < 0.7;
        self.announce(announce);
        self.replay(rng);
        let roll = rng.unit();
        if roll < 0.45 {
            self.place(rng);
            "shop order"
        } else if roll < 0.55 {
            self.pay_pending(rng);
            "shop order paid"
        } else if roll < 0.67 {
            self.cancel(rng);
            "shop cancel"
        } else if roll < 0.87 {
            self.refund(rng);
            "shop refund"
        } else {
            self.faults(rng);
            "shop faults"
        }
    }

    fn place(&mut self, rng: &mut Rng) {
        let mut lines: Vec<(usize, i64)> = Vec::new();
        for _ in 0..rng.between(1, 2) {
            let item = rng.between(0, self.items.len() as i64 - 1) as usize;
            if lines.iter().all(|&(i, _)| i != item) {
                lines.push((item, rng.between(1, 2)));
            }
        }
        let wanted: Vec<(&str, i64)> = lines
            .iter()
            .map(|&(item, units)| (self.items[item].as_str(), units))
            .collect();
        let placed = match &self.platform {
            Platform::Woo(sim, _) => {
                let status = match rng.between(0, 9) {
                    0..=4 => "processing",
                    5 => "on-hold",
                    6 => "completed",
                    _ => "pending",
                };
                let wanted: Vec<(i64, i64)> = wanted
                    .iter()
                    .map(|&(id, units)| (id.parse().expect("an id"), units))
                    .collect();
                sim.place_order(&wanted, status)
                    .map(|id| (id.to_string(), status))
                    .map_err(|refusal| format!("{refusal:?}"))
            }
            // Paid at once (PrestaShop: payment accepted).
            _ => self.sim.place_order(&wanted).map(|id| (id, "paid")),
        };
        match placed {
            Ok((id, status)) => {
                let ids = self.sim.order_lines(&id);
                let lines = ids
                    .into_iter()
                    .zip(lines)
                    .map(|(id, (item, quantity))| Line {
                        id,
                        item,
                        quantity,
                        refunded: 0,
                        restocked: 0,
                    })
                    .collect();
                self.orders.push(WebOrder {
                    id,
                    status: status.to_owned(),
                    lines,
                });
                self.figures.placed += 1;
            }
            Err(_) => self.figures.refused += 1,
        }
    }

    /// An order among those `fit` accepts, at random.
    fn pick(&self, rng: &mut Rng, fit: impl Fn(&WebOrder) -> bool) -> Option<usize> {
        let fitting: Vec<usize> = (0..self.orders.len())
            .filter(|&o| fit(&self.orders[o]))
            .collect();
        (!fitting.is_empty()).then(|| fitting[rng.between(0, fitting.len() as i64 - 1) as usize])
    }

    /// A pending WooCommerce order paid (the other platforms' orders are paid when placed).
    fn pay_pending(&mut self, rng: &mut Rng) {
        let Platform::Woo(sim, _) = &self.platform else {
            return;
        };
        let sim = sim.clone();
        if let Some(order) = self.pick(rng, |o| o.status == "pending") {
            sim.set_order_status(self.orders[order].id.parse().expect("an id"), "processing")
                .expect("a status change");
            self.orders[order].status = "processing".to_owned();
            self.figures.paid_later += 1;
        }
    }

    /// An order never refunded, cancelled (its counted lines come back).
    fn cancel(&mut self, rng: &mut Rng) {
        let fit = |o: &WebOrder| {
            (COUNTED.contains(&o.status.as_str()) || o.status == "pending")
                && o.lines.iter().all(|l| l.refunded == 0)
        };
        if let Some(order) = self.pick(rng, fit) {
            assert!(self.sim.cancel_order(&self.orders[order].id), "a cancel");
            self.orders[order].status = "cancelled".to_owned();
            self.figures.cancelled += 1;
        }
    }

    /// Some units of a counted line refunded, restocked or not (PrestaShop: the whole order,
    /// its units taken as restocked); every unit refunded turns the order `refunded`.
    fn refund(&mut self, rng: &mut Rng) {
        let fit = |o: &WebOrder| {
            COUNTED.contains(&o.status.as_str()) && o.lines.iter().any(|l| l.refunded < l.quantity)
        };
        let Some(order) = self.pick(rng, fit) else {
            return;
        };
        if let Platform::Presta(_) = self.platform {
            assert!(self.sim.refund_order(&self.orders[order].id), "a refund");
            for line in &mut self.orders[order].lines {
                line.refunded = line.quantity;
                line.restocked = line.quantity;
            }
            self.orders[order].status = "refunded".to_owned();
            self.figures.refunds += 1;
            self.figures.restocking_refunds += 1;
            return;
        }
        let open: Vec<usize> = (0..self.orders[order].lines.len())
            .filter(|&l| {
                let line = &self.orders[order].lines[l];
                line.refunded < line.quantity
            })
            .collect();
        let l = open[rng.between(0, open.len() as i64 - 1) as usize];
        let restock = rng.unit() < 0.6;
        let id = self.orders[order].id.clone();
        let line = &mut self.orders[order].lines[l];
        let units = rng.between(1, line.quantity - line.refunded);
        match &self.platform {
            Platform::Woo(sim, _) => {
                let line_id = line.id.parse().expect("a line id");
                sim.refund(id.parse().expect("an id"), &[(line_id, units)], restock)
                    .expect("a refund");
            }
            Platform::Shopify(sim, _) => {
                // Restocked as a return (back to available) or as a cancel (out of committed).
                let how = match (restock, rng.unit() < 0.5) {
                    (false, _) => RestockType::NoRestock,
                    (true, true) => RestockType::Return,
                    (true, false) => RestockType::Cancel,
                };
                sim.refund(id.parse().expect("an id"), &[(l, units, how)])
                    .expect("a refund");
            }
            Platform::Presta(_) => unreachable!("refunded whole above"),
        }
        line.refunded += units;
        if restock {
            line.restocked += units;
            self.figures.restocking_refunds += 1;
        }
        self.figures.refunds += 1;
        if self.orders[order]
            .lines
            .iter()
            .all(|l| l.refunded == l.quantity)
        {
            self.orders[order].status = "refunded".to_owned();
        }
    }

    fn set_faults(&self, plan: FaultPlan) {
        match &self.platform {
            Platform::Woo(sim, _) => sim.faults().set(plan),
            Platform::Shopify(sim, _) => sim.faults().set(plan),
            Platform::Presta(sim) => sim.set_faults(plan),
        }
    }

    /// The shop's host in trouble: 429s (Shopify: THROTTLED), 5xx, dropped connections, lost
    /// answers (or cleared).
    fn faults(&mut self, rng: &mut Rng) {
        self.figures.fault_plans += 1;
        if rng.unit() < 0.3 {
            self.set_faults(FaultPlan::default());
            return;
        }
        self.set_faults(FaultPlan {
            error_rate: [0.0, 0.05, 0.1][rng.between(0, 2) as usize],
            rate_limit_next: rng.between(0, 3) as u32,
            fail_next: rng.between(0, 3) as u32,
            drop_next: rng.between(0, 2) as u32,
            lose_answer_next: rng.between(0, 2) as u32,
            ..FaultPlan::default()
        });
    }

    /// Quiet: no faults, the webhook active.
    pub fn clear_faults(&mut self) {
        self.set_faults(FaultPlan::default());
        self.announce(true);
    }

    /// An item delivery, as the platform sends when an item's quantity changes (WooCommerce's
    /// `product.updated`, Shopify's `inventory_levels/update` with a quantity stocksync never
    /// wrote): a hint that has the orders polled now (a poll otherwise comes with a push or on
    /// `Shop.Cron`). PrestaShop sends none: its orders wait for the poll.
    async fn nudge(&mut self, ss: &Stocksync) {
        let request = ss
            .http
            .post(ss.url("/webhooks/shop"))
            .header("Content-Type", "application/json");
        let request = match &self.platform {
            Platform::Woo(..) => {
                let body = json!({ "id": self.items[0] }).to_string();
                request
                    .header("X-WC-Webhook-Topic", "product.updated")
                    .header("X-WC-Webhook-Signature", shop_signature(body.as_bytes()))
                    .body(body)
            }
            Platform::Shopify(sim, _) => {
                let item = sim
                    .inventory_item(self.items[0].parse().expect("an id"))
                    .expect("an inventory item");
                let body = json!({
                    "inventory_item_id": item,
                    "location_id": 1,
                    "available": -1_000_000 - self.figures.nudges as i64,
                })
                .to_string();
                request
                    .header("X-Shopify-Topic", "inventory_levels/update")
                    .header("X-Shopify-Hmac-Sha256", shop_signature(body.as_bytes()))
                    .header(
                        "X-Shopify-Webhook-Id",
                        format!("chaos-nudge-{}", self.figures.nudges),
                    )
                    .header("X-Shopify-Shop-Domain", "simulated.myshopify.com")
                    .body(body)
            }
            Platform::Presta(_) => return,
        };
        let _ = exchange(request).await;
        self.figures.nudges += 1;
    }

    /// What every line must owe the POS in the end: (order, line) → units.
    fn targets(&self) -> BTreeMap<(String, String), i64> {
        self.orders
            .iter()
            .flat_map(|o| {
                o.lines
                    .iter()
                    .map(move |l| ((o.id.clone(), l.id.clone()), o.target(l)))
            })
            .collect()
    }

    /// Waits (nudging the poll) until the sales stocksync made of the shop's lines add up to
    /// what each line owes; answers those sales (location → JSON), or the differences left at
    /// the deadline as mismatches.
    pub async fn settle_lines(
        &mut self,
        ss: &Stocksync,
        mismatches: &mut Vec<String>,
    ) -> BTreeMap<String, Value> {
        let targets = self.targets();
        let prefix = format!("shop:{}:", self.kind.as_str());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.nudge(ss).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sales = shop_sales(ss, &prefix).await;
            let mut applied: BTreeMap<(String, String), i64> = BTreeMap::new();
            let mut strays = Vec::new();
            for sale in sales.values() {
                let key = sale["idempotency_key"].as_str().unwrap_or_default();
                let mut parts = key.trim_start_matches(&prefix).split(':');
                let (Some(order), Some(line)) = (parts.next(), parts.next()) else {
                    strays.push(key.to_owned());
                    continue;
                };
                let line = (order.to_owned(), line.to_owned());
                if !targets.contains_key(&line) {
                    strays.push(key.to_owned());
                }
                *applied.entry(line).or_default() += signed_delta(sale);
            }
            let differences: Vec<String> = targets
                .iter()
                .filter(|(line, target)| applied.get(*line).copied().unwrap_or(0) != **target)
                .map(|((order, line), target)| {
                    format!(
                        "shop order {order} line {line}: owes {target}, stocksync moved {}",
                        applied
                            .get(&(order.clone(), line.clone()))
                            .copied()
                            .unwrap_or(0)
                    )
                })
                .chain(
                    strays
                        .iter()
                        .map(|k| format!("a shop sale of no line placed: {k}")),
                )
                .collect();
            if differences.is_empty() || Instant::now() > deadline {
                mismatches.extend(differences);
                self.figures.sales = sales.values().filter(|s| signed_delta(s) > 0).count();
                self.figures.returns = sales.len() - self.figures.sales;
                return sales;
            }
        }
    }

    /// Waits until the shop shows, for every item, stocksync's sellable sum over its links
    /// (Σ max(0, quantity − limit)); the differences left at the deadline are mismatches.
    pub async fn settle_quantities(
        &mut self,
        ss: &Stocksync,
        accounts: &[&str],
        mismatches: &mut Vec<String>,
    ) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut sellable: HashMap<String, i64> = HashMap::new();
            for account in accounts {
                let (status, links) = ss.get_ok(&format!("/api/items/{account}")).await;
                assert_eq!(status, 200, "{links}");
                for link in links.as_array().expect("links") {
                    let item = link["ecommerceID"].as_str().expect("an item").to_owned();
                    let quantity = link["quantity"].as_i64().expect("a quantity");
                    let limit = link["limitQuantitySale"].as_i64().unwrap_or(0);
                    *sellable.entry(item).or_default() += (quantity - limit).max(0);
                }
            }
            let differences: Vec<String> = self
                .items
                .iter()
                .filter_map(|item| {
                    let shop = self.sim.quantity(item);
                    let wanted = sellable.get(item).copied().unwrap_or(0);
                    (shop != Some(wanted)).then(|| {
                        format!(
                            "shop item {item}: the shop shows {shop:?}, stocksync sells {wanted}"
                        )
                    })
                })
                .collect();
            if differences.is_empty() || Instant::now() > deadline {
                mismatches.extend(differences);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn summary(&self) -> String {
        let f = &self.figures;
        let deliveries = match &self.platform {
            Platform::Woo(sim, _) => {
                let (deliveries, merged) = sim.deliveries();
                format!("{deliveries} webhook deliveries ({merged} merged)")
            }
            Platform::Shopify(sim, _) => format!(
                "{} webhook deliveries ({} answered 2xx, {} replayed), {} THROTTLED answers",
                sim.sent_deliveries().len(),
                sim.delivered(),
                f.replayed,
                sim.throttled()
            ),
            Platform::Presta(_) => "no webhooks (orders polled)".to_owned(),
        };
        format!(
            "{}: {} orders placed ({} refused for stock), {} paid later, {} cancelled, {} refunds \
             ({} restocking); {} moves unannounced, {deliveries}, {} nudges; \
             {} fault plans; {} requests, {} stock writes; stocksync made {} sales \
             and {} returns of its lines",
            self.kind.display_name(),
            f.placed,
            f.refused,
            f.paid_later,
            f.cancelled,
            f.refunds,
            f.restocking_refunds,
            f.unannounced,
            f.nudges,
            f.fault_plans,
            self.sim.requests(),
            self.sim.writes(),
            f.sales,
            f.returns,
        )
    }
}

/// Every sale stocksync made of a shop line (its key starting with `prefix`), by location.
async fn shop_sales(ss: &Stocksync, prefix: &str) -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    for page in 1.. {
        let (status, answer) = ss
            .get_ok(&format!("/api/sales?page={page}&per_page=1000"))
            .await;
        assert_eq!(status, 200, "{answer}");
        let rows = answer["sales"].as_array().cloned().unwrap_or_default();
        let last = rows.len() < 1000;
        for sale in rows {
            let key = sale["idempotency_key"].as_str().unwrap_or_default();
            if key.starts_with(prefix) {
                let id = sale["id"].as_str().expect("a sale id");
                found.insert(format!("/api/sales/{id}"), sale);
            }
        }
        if last {
            break;
        }
    }
    found
}
