//! The shop side's calls and delays (issues 12 and 13), per shop platform, against its
//! simulator over real HTTP (WooCommerce, Shopify, PrestaShop), with the in-process POS catalog
//! and SQLite: 10 000 shop items linked by SKU, the first adoption (read, then write), an idle
//! poll, 10 000 changed quantities pushed, till changes reaching the shop's item, and web
//! orders reaching the POS (through the order webhook; PrestaShop has none: its order poll);
//! on Shopify also the query cost its bucket charged and the THROTTLED answers. Run with
//! `cargo bench -p stocksync --bench shop` (`STOCKSYNC_BENCH_SHOP_KIND`: `woocommerce`,
//! `shopify` or `prestashop`, all three by default; `STOCKSYNC_BENCH_SHOP_ITEMS`, 10 000 by
//! default; `STOCKSYNC_BENCH_SHOP_SAMPLES`, 200 by default; `STOCKSYNC_BENCH_SHOP_POLL_SAMPLES`,
//! the web orders timed on a platform without webhooks, 100 by default, one every 300 ms,
//! orders polled every second there: `Shop.PollSeconds` 1; `STOCKSYNC_BENCH_SHOPIFY_RESTORE`,
//! the Shopify bucket's restore rate in points a second, 1 000 (the Plus plan's) by default:
//! at the Standard plan's 100, reading 10 000 variants takes about ten minutes).

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stocksync::simulate::shops::SimShop;
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::{SimProduct, catalog};
use stocksync_prestashop::{PrestaSim, PrestaSimOptions};
use stocksync_shopify::sim::BucketSpec;
use stocksync_shopify::{ShopifySim, ShopifySimOptions};
use stocksync_testkit::{ACCOUNT, Backend, Options, SHOP_WEBHOOK_SECRET, TestApp};
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// The simulator of one platform, for what only it can say (its routes, webhook, cost).
enum Sim {
    Woo(Arc<WooSim>),
    Shopify(Arc<ShopifySim>),
    Presta(Arc<PrestaSim>),
}

impl Sim {
    async fn start(kind: ShopKind, products: Vec<SimProduct>) -> Self {
        match kind {
            ShopKind::WooCommerce => Self::Woo(Arc::new(
                WooSim::start(WooSimOptions {
                    products,
                    ..WooSimOptions::default()
                })
                .await
                .unwrap(),
            )),
            ShopKind::Shopify => Self::Shopify(Arc::new(
                ShopifySim::start(ShopifySimOptions {
                    products,
                    bucket: BucketSpec {
                        maximum: 1000.0,
                        restore_rate: env_number("STOCKSYNC_BENCH_SHOPIFY_RESTORE", 1000) as f64,
                    },
                    ..ShopifySimOptions::default()
                })
                .await
                .unwrap(),
            )),
            ShopKind::PrestaShop => Self::Presta(Arc::new(
                PrestaSim::start(PrestaSimOptions {
                    products,
                    ..PrestaSimOptions::default()
                })
                .await
                .unwrap(),
            )),
        }
    }

    fn shop(&self) -> Arc<dyn SimShop> {
        match self {
            Self::Woo(sim) => sim.clone(),
            Self::Shopify(sim) => sim.clone(),
            Self::Presta(sim) => sim.clone(),
        }
    }

    /// The routes (Shopify: GraphQL root fields) the shop side calls; the first is the
    /// order poll's.
    fn routes(&self) -> &'static [&'static str] {
        match self {
            Self::Woo(_) => &["GET /orders", "GET /products", "POST /products/batch"],
            Self::Shopify(_) => &[
                "orders",
                "order",
                "location",
                "productVariants",
                "nodes",
                "inventorySetQuantities",
            ],
            Self::Presta(_) => &[
                "GET /orders",
                "GET /products",
                "GET /combinations",
                "GET /stock_availables",
                "GET /stock_availables/{id}",
                "PUT /stock_availables/{id}",
                "PATCH /stock_availables/{id}",
            ],
        }
    }

    fn requests_to(&self, route: &str) -> u64 {
        match self {
            Self::Woo(sim) => sim.requests_to(route),
            Self::Shopify(sim) => sim.requests_to(route),
            Self::Presta(sim) => sim.requests_to(route),
        }
    }

    /// Points the platform's order webhook at `url` (delivered at once); `false` for a
    /// platform without webhooks.
    async fn connect_webhook(&self, url: String) -> bool {
        match self {
            Self::Woo(sim) => {
                let (_, ping) = sim
                    .create_webhook(stocksync_woocommerce::sim::WebhookTarget {
                        delivery_url: url,
                        secret: SHOP_WEBHOOK_SECRET.to_owned(),
                        delay: Duration::ZERO,
                    })
                    .await;
                assert_eq!(ping, Some(200));
                true
            }
            Self::Shopify(sim) => {
                sim.set_webhook(Some(stocksync_shopify::sim::WebhookTarget {
                    url,
                    secret: SHOP_WEBHOOK_SECRET.to_owned(),
                }));
                true
            }
            Self::Presta(_) => false,
        }
    }

    /// `Shop.PollSeconds` where orders are polled every few seconds rather than every minute
    /// (`Shop.Cron`): PrestaShop, which has no webhooks.
    fn poll_seconds(&self) -> Option<u64> {
        match self {
            Self::Presta(_) => Some(1),
            _ => None,
        }
    }

    /// Shopify's bucket so far: query cost requested and actual, THROTTLED answers.
    fn cost(&self) -> Option<(f64, f64, u64)> {
        match self {
            Self::Shopify(sim) => {
                let (requested, actual) = sim.query_cost();
                Some((requested, actual, sim.throttled()))
            }
            _ => None,
        }
    }
}

/// What the simulator had counted at one moment.
struct Counts {
    calls: Vec<u64>,
    cost: Option<(f64, f64, u64)>,
}

impl Counts {
    fn now(sim: &Sim) -> Self {
        Self {
            calls: sim.routes().iter().map(|r| sim.requests_to(r)).collect(),
            cost: sim.cost(),
        }
    }

    /// Calls since `self`: their total, then per route (routes not called left out); the
    /// query cost and THROTTLED answers since, where the platform has a bucket.
    fn since(&self, sim: &Sim) -> String {
        let now = Self::now(sim);
        let deltas: Vec<(u64, &str)> = now
            .calls
            .iter()
            .zip(&self.calls)
            .map(|(now, before)| now - before)
            .zip(sim.routes().iter().copied())
            .collect();
        let total: u64 = deltas.iter().map(|(n, _)| n).sum();
        let parts: Vec<String> = deltas
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, route)| format!("{n} {route}"))
            .collect();
        let cost = match (now.cost, self.cost) {
            (Some((requested, actual, throttled)), Some((r0, a0, t0))) => format!(
                "{:.0} / {:.0} | {}",
                requested - r0,
                actual - a0,
                throttled - t0
            ),
            _ => "— | —".to_owned(),
        };
        format!("{total} ({}) | {cost}", parts.join(", "))
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Waits (up to `within`) until `done`.
async fn until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let index = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1000.0
}

/// One timed path: its name and its samples, sorted.
type Path = (String, Vec<Duration>);

/// Benches one platform: prints its table of steps, answers its timed paths.
async fn bench(kind: ShopKind, items: usize, samples: usize, poll_samples: usize) -> Vec<Path> {
    let name = kind.display_name();
    // The shop shows other quantities than the POS counts: adoption writes every item.
    let products = catalog(items, 21);
    let sim = Sim::start(kind, products.clone()).await;
    let shop = sim.shop();
    let mut settings = shop.settings(Some(SHOP_WEBHOOK_SECRET));
    if let Some(seconds) = sim.poll_seconds() {
        settings["PollSeconds"] = json!(seconds);
    }
    // Linking 10 000 items in one request takes longer than the default 30 s.
    let options = Options {
        config: Some(json!({ "RequestTimeoutSeconds": 900, "Shop": settings })),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let ids = shop.item_ids();
    let pos_refs: Vec<String> = (0..items).map(|n| format!("P{n}")).collect();
    let pos_quantity = |n: usize| 1000 + n as i64 % 50;
    for (n, product) in products.iter().enumerate() {
        app.catalog.put(
            &pos_refs[n],
            &product.name,
            Some(&product.sku),
            pos_quantity(n),
        );
    }
    let shop_shows_pos = |offset: i64| {
        ids.iter()
            .enumerate()
            .all(|(n, id)| shop.quantity(id) == Some(pos_quantity(n) + offset))
    };

    println!("\n{name}:\n");
    println!(
        "| step | items | calls to {name} | query cost requested / actual | THROTTLED | took |"
    );
    println!("|------|-------|----------|------|------|------|");
    let before = Counts::now(&sim);
    let started = Instant::now();
    let (status, answer) = app
        .post(
            "/api/items/match",
            json!({ "account_id": ACCOUNT, "by": "sku" }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["matched"].as_array().unwrap().len(), items);
    let linked = started.elapsed();
    until("the adoption", Duration::from_secs(900), || {
        shop_shows_pos(0)
    })
    .await;
    println!(
        "| link by SKU (1 catalogue read) and first adoption (read, then write) | {items} | {} | {:.1} s (linking {:.1} s) |",
        before.since(&sim),
        started.elapsed().as_secs_f64(),
        linked.as_secs_f64()
    );

    // (a) Idle: the next order poll (every minute, or every `PollSeconds`), and nothing else.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = Counts::now(&sim);
    let poll_route = sim.routes()[0];
    let polls = sim.requests_to(poll_route);
    let started = Instant::now();
    until("an order poll", Duration::from_secs(70), || {
        sim.requests_to(poll_route) > polls
    })
    .await;
    // Time for the calls a poll might bring, less than a poll period.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let period = match sim.poll_seconds() {
        Some(seconds) => format!("PollSeconds {seconds}"),
        None => "Shop.Cron, every minute".to_owned(),
    };
    println!(
        "| idle: one order poll ({period}), nothing new | {items} | {} | {:.1} s watched |",
        before.since(&sim),
        started.elapsed().as_secs_f64()
    );

    // (b) Every POS count changes: one sync, then the pushes (the shop's quantities known).
    for (n, pos_ref) in pos_refs.iter().enumerate() {
        app.catalog.set_quantity(pos_ref, pos_quantity(n) - 1);
    }
    let before = Counts::now(&sim);
    let started = Instant::now();
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    until("the pushes", Duration::from_secs(900), || {
        shop_shows_pos(-1)
    })
    .await;
    println!(
        "| {items} changed quantities pushed (shop's quantities known) | {items} | {} | {:.1} s |",
        before.since(&sim),
        started.elapsed().as_secs_f64()
    );

    // (c) A till sale: the POS count changes and a sync runs; until the shop shows it.
    let (id, pos_ref, mut left) = (&ids[0], pos_refs[0].clone(), pos_quantity(0) - 1);
    let before = Counts::now(&sim);
    let mut till = Vec::new();
    for _ in 0..samples {
        left -= 1;
        let started = Instant::now();
        app.catalog.set_quantity(&pos_ref, left);
        let (status, _) = app.post_empty("/api/synchronizer/forceUpdate").await;
        assert_eq!(status, 202);
        until("the till sale on the shop", Duration::from_secs(60), || {
            shop.quantity(id) == Some(left)
        })
        .await;
        till.push(started.elapsed());
    }
    till.sort();
    println!(
        "| {samples} till sales, each a forced sync and one item pushed | {items} | {} | — |",
        before.since(&sim)
    );

    // (d) Web orders: the order webhook (delivered at once) until the POS has each, one after
    // the other; without webhooks, one placed every 300 ms (whatever the poll's phase) and
    // each timed until a poll brought it to the POS.
    let webhook = sim.connect_webhook(app.url("/webhooks/shop")).await;
    let (orders, gap) = if webhook {
        (samples, None)
    } else {
        (poll_samples, Some(Duration::from_millis(300)))
    };
    let id = ids[1].as_str();
    let before = Counts::now(&sim);
    let base = app.catalog.recorded_sales().len();
    let mut placed: Vec<Instant> = Vec::new();
    let mut web = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60) * orders as u32;
    while web.len() < orders {
        assert!(Instant::now() < deadline, "the web orders on the POS");
        let arrived = app.catalog.recorded_sales().len() - base;
        while web.len() < arrived.min(placed.len()) {
            web.push(placed[web.len()].elapsed());
        }
        let due = match (gap, placed.last()) {
            (_, None) => true,
            (None, Some(_)) => web.len() == placed.len(),
            (Some(gap), Some(last)) => last.elapsed() >= gap,
        };
        if placed.len() < orders && due {
            placed.push(Instant::now());
            shop.place_order(&[(id, 1)]).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    web.sort();
    let how = if webhook {
        "order webhook".to_owned()
    } else {
        format!("order poll, {period}")
    };
    println!(
        "| {orders} web orders ({how}) | {items} | {} | — |",
        before.since(&sim)
    );
    vec![
        (
            format!("{name}: till (POS count change + forced sync of the account) → shop quantity"),
            till,
        ),
        (format!("{name}: web order → POS ({how})"), web),
    ]
}

#[tokio::main]
async fn main() {
    let items = env_number("STOCKSYNC_BENCH_SHOP_ITEMS", 10_000);
    let samples = env_number("STOCKSYNC_BENCH_SHOP_SAMPLES", 200);
    let poll_samples = env_number("STOCKSYNC_BENCH_SHOP_POLL_SAMPLES", 100);
    let kinds: Vec<ShopKind> = match std::env::var("STOCKSYNC_BENCH_SHOP_KIND") {
        Ok(kind) => vec![
            ShopKind::parse(&kind.to_ascii_lowercase()).unwrap_or_else(|| {
                panic!(
                    "STOCKSYNC_BENCH_SHOP_KIND={kind}: one of {:?}",
                    ShopKind::NAMES
                )
            }),
        ],
        Err(_) => vec![
            ShopKind::WooCommerce,
            ShopKind::Shopify,
            ShopKind::PrestaShop,
        ],
    };
    let mut paths = Vec::new();
    for kind in kinds {
        let started = Instant::now();
        paths.extend(bench(kind, items, samples, poll_samples).await);
        println!(
            "\n({} benched in {:.0} s)",
            kind.display_name(),
            started.elapsed().as_secs_f64()
        );
    }
    println!("\n| path | samples | p50 | p99 | max |");
    println!("|------|---------|-----|-----|-----|");
    for (path, times) in &paths {
        println!(
            "| {path} | {} | {:.0} ms | {:.0} ms | {:.0} ms |",
            times.len(),
            percentile(times, 50),
            percentile(times, 99),
            percentile(times, 100),
        );
    }
}
