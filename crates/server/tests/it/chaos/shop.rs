//! The chaos test's web shop (issue 12): a simulated WooCommerce shop whose products are the
//! chaos test's shop items, configured as stocksync's `Shop` with its webhook pointed at the
//! service. Shoppers place orders (processing, on-hold, completed, or pending and paid later),
//! the merchant cancels and refunds them (with and without restock), some announced by the
//! webhook and some not (paused, or disabled by deliveries that failed during a kill), while
//! the shop itself answers 429s, 5xx, drops connections and loses answers. This module keeps
//! the model of those orders (what each line must owe the POS in the end) and checks it:
//! every counted line is on its POS once (the sales keyed `shop:woocommerce:{order}:{line}:n`
//! add up to what WooCommerce holds taken for the line), every return once, and the shop's
//! quantity of every item equals stocksync's sellable sum.

use super::signed_delta;
use crate::process::{Stocksync, exchange};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use stocksync_pos::simkit::{FaultPlan, Rng};
use stocksync_testkit::{SHOP_WEBHOOK_SECRET, shop_signature};
use stocksync_woocommerce::sim::{WebhookStatus, WebhookTarget};
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// The statuses in which WooCommerce holds an order's units taken from stock.
const COUNTED: [&str; 3] = ["processing", "on-hold", "completed"];
/// The prefix of the idempotency keys of the sales stocksync makes of WooCommerce lines.
const KEY_PREFIX: &str = "shop:woocommerce:";

/// One line of a web order, as the test placed and refunded it.
struct Line {
    id: i64,
    /// An index into the chaos test's shop items.
    item: usize,
    quantity: i64,
    refunded: i64,
    restocked: i64,
}

struct WebOrder {
    id: i64,
    status: String,
    lines: Vec<Line>,
}

impl WebOrder {
    /// WooCommerce holds the units taken (counted, or refunded after being counted).
    fn holds_stock(&self) -> bool {
        COUNTED.contains(&self.status.as_str()) || self.status == "refunded"
    }

    /// What line `line` owes the POS now: what WooCommerce holds taken from stock for it.
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
    fault_plans: u64,
    nudges: u64,
    sales: usize,
    returns: usize,
}

/// The shop, its webhook and the orders placed on it.
pub struct Shop {
    pub sim: WooSim,
    /// The webhook's id once created.
    hook: Option<i64>,
    orders: Vec<WebOrder>,
    /// The shop items' WooCommerce ids (the chaos test's `ShopItem::id`), by index.
    items: Vec<String>,
    pub figures: Figures,
}

impl Shop {
    pub async fn start(seed: u64) -> Self {
        let sim = WooSim::start(WooSimOptions {
            seed,
            ..WooSimOptions::default()
        })
        .await
        .expect("the WooCommerce simulator");
        Self {
            sim,
            hook: None,
            orders: Vec::new(),
            items: Vec::new(),
            figures: Figures::default(),
        }
    }

    /// A new product showing `quantity` before stocksync adopts it; its id (the shop item's
    /// `item_ecommerce_id`).
    pub fn add_item(&mut self, sku: &str, quantity: i64) -> String {
        let id = self.sim.add_simple(sku, Some(quantity)).to_string();
        self.items.push(id.clone());
        id
    }

    /// The `Shop` section of stocksync's configuration.
    pub fn config(&self) -> Value {
        json!({
            "Type": "WooCommerce",
            "BaseUrl": self.sim.base_url(),
            "ConsumerKey": self.sim.consumer_key(),
            "ConsumerSecret": self.sim.consumer_secret(),
            "WebhookSecret": SHOP_WEBHOOK_SECRET,
        })
    }

    /// The merchant adds the order webhook (stocksync answers its ping).
    pub async fn connect_webhook(&mut self, base: &str) {
        let (id, ping) = self
            .sim
            .create_webhook(WebhookTarget {
                delivery_url: format!("{base}/webhooks/shop"),
                secret: SHOP_WEBHOOK_SECRET.to_owned(),
                delay: Duration::from_millis(30),
            })
            .await;
        assert_eq!(ping, Some(200), "the webhook's ping");
        self.hook = Some(id);
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
        if let Some(hook) = self.hook {
            let status = if announce {
                WebhookStatus::Active
            } else {
                self.figures.unannounced += 1;
                WebhookStatus::Paused
            };
            self.sim.set_webhook_status(hook, status);
        }
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
        let status = match rng.between(0, 9) {
            0..=4 => "processing",
            5 => "on-hold",
            6 => "completed",
            _ => "pending",
        };
        let wanted: Vec<(i64, i64)> = lines
            .iter()
            .map(|&(item, units)| (self.items[item].parse().expect("an id"), units))
            .collect();
        match self.sim.place_order(&wanted, status) {
            Ok(id) => {
                let ids = self.sim.order_lines(id);
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

    fn set_status(&mut self, order: usize, status: &str) {
        let id = self.orders[order].id;
        self.sim
            .set_order_status(id, status)
            .expect("a status change");
        self.orders[order].status = status.to_owned();
    }

    fn pay_pending(&mut self, rng: &mut Rng) {
        if let Some(order) = self.pick(rng, |o| o.status == "pending") {
            self.set_status(order, "processing");
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
            self.set_status(order, "cancelled");
            self.figures.cancelled += 1;
        }
    }

    /// Some units of a counted line refunded, restocked or not; every unit refunded turns the
    /// order `refunded`.
    fn refund(&mut self, rng: &mut Rng) {
        let fit = |o: &WebOrder| {
            COUNTED.contains(&o.status.as_str()) && o.lines.iter().any(|l| l.refunded < l.quantity)
        };
        let Some(order) = self.pick(rng, fit) else {
            return;
        };
        let open: Vec<usize> = (0..self.orders[order].lines.len())
            .filter(|&l| {
                let line = &self.orders[order].lines[l];
                line.refunded < line.quantity
            })
            .collect();
        let l = open[rng.between(0, open.len() as i64 - 1) as usize];
        let restock = rng.unit() < 0.6;
        let id = self.orders[order].id;
        let line = &mut self.orders[order].lines[l];
        let units = rng.between(1, line.quantity - line.refunded);
        self.sim
            .refund(id, &[(line.id, units)], restock)
            .expect("a refund");
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

    /// The shop's host in trouble: 429s, 5xx, dropped connections, lost answers (or cleared).
    fn faults(&mut self, rng: &mut Rng) {
        self.figures.fault_plans += 1;
        if rng.unit() < 0.3 {
            self.sim.faults().set(FaultPlan::default());
            return;
        }
        self.sim.faults().set(FaultPlan {
            error_rate: [0.0, 0.05, 0.1][rng.between(0, 2) as usize],
            rate_limit_next: rng.between(0, 3) as u32,
            fail_next: rng.between(0, 3) as u32,
            drop_next: rng.between(0, 2) as u32,
            lose_answer_next: rng.between(0, 2) as u32,
            ..FaultPlan::default()
        });
    }

    /// Quiet: no faults, the webhook active.
    pub fn clear_faults(&self) {
        self.sim.faults().set(FaultPlan::default());
        if let Some(hook) = self.hook {
            self.sim.set_webhook_status(hook, WebhookStatus::Active);
        }
    }

    /// A `product.updated` delivery, as WooCommerce sends when a product changes: a hint that
    /// has the orders polled now (a poll otherwise comes with a push or on `Shop.Cron`).
    async fn nudge(&mut self, ss: &Stocksync) {
        let body = json!({ "id": self.items[0] }).to_string();
        let request = ss
            .http
            .post(ss.url("/webhooks/shop"))
            .header("Content-Type", "application/json")
            .header("X-WC-Webhook-Topic", "product.updated")
            .header("X-WC-Webhook-Signature", shop_signature(body.as_bytes()))
            .body(body);
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
                    .map(move |l| ((o.id.to_string(), l.id.to_string()), o.target(l)))
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
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.nudge(ss).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sales = shop_sales(ss).await;
            let mut applied: BTreeMap<(String, String), i64> = BTreeMap::new();
            let mut strays = Vec::new();
            for sale in sales.values() {
                let key = sale["idempotency_key"].as_str().unwrap_or_default();
                let mut parts = key.trim_start_matches(KEY_PREFIX).split(':');
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
                    let shop = self.sim.stock(item.parse().expect("an id"));
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
        let (deliveries, merged) = self.sim.deliveries();
        format!(
            "{} orders placed ({} refused for stock), {} paid later, {} cancelled, {} refunds \
             ({} restocking); {} moves unannounced, {} webhook deliveries ({} merged), {} nudges; \
             {} fault plans; {} WooCommerce requests, {} stock writes; stocksync made {} sales \
             and {} returns of its lines",
            f.placed,
            f.refused,
            f.paid_later,
            f.cancelled,
            f.refunds,
            f.restocking_refunds,
            f.unannounced,
            deliveries,
            merged,
            f.nudges,
            f.fault_plans,
            self.sim.requests(),
            self.sim.stock_writes().len(),
            f.sales,
            f.returns,
        )
    }
}

/// Every sale stocksync made of a shop line, by location.
async fn shop_sales(ss: &Stocksync) -> BTreeMap<String, Value> {
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
            if key.starts_with(KEY_PREFIX) {
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
