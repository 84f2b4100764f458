//! The shop side's calls and delays (issue 12), against the WooCommerce simulator over real
//! HTTP, with the in-process POS catalog and SQLite: 10 000 shop items linked by SKU, the first
//! adoption (read, then write), an idle cron poll, 10 000 changed quantities pushed, till
//! changes reaching the shop's product, and web orders reaching the POS through the order
//! webhook. Run with `cargo bench -p stocksync --bench shop` (`STOCKSYNC_BENCH_SHOP_ITEMS`,
//! 10 000 by default; `STOCKSYNC_BENCH_SHOP_SAMPLES`, 200 by default).

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stocksync_pos::simkit::catalog;
use stocksync_testkit::{ACCOUNT, Backend, Options, SHOP_WEBHOOK_SECRET, TestApp};
use stocksync_woocommerce::sim::WebhookTarget;
use stocksync_woocommerce::{WooSim, WooSimOptions};

/// The simulator's routes the shop side calls.
const ROUTES: [&str; 3] = ["GET /orders", "GET /products", "POST /products/batch"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Requests per route so far.
fn calls(sim: &WooSim) -> [u64; 3] {
    ROUTES.map(|route| sim.requests_to(route))
}

/// Requests per route since `before`, as text, and their total.
fn since(sim: &WooSim, before: [u64; 3]) -> (String, u64) {
    let now = calls(sim);
    let parts: Vec<String> = ROUTES
        .iter()
        .zip(now.iter().zip(before))
        .map(|(route, (now, before))| format!("{} {route}", now - before))
        .collect();
    let total = now.iter().sum::<u64>() - before.iter().sum::<u64>();
    (parts.join(", "), total)
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

#[tokio::main]
async fn main() {
    let items = env_number("STOCKSYNC_BENCH_SHOP_ITEMS", 10_000);
    let samples = env_number("STOCKSYNC_BENCH_SHOP_SAMPLES", 200);
    // The shop shows other quantities than the POS counts: adoption writes every item.
    let products = catalog(items, 21);
    let sim = Arc::new(
        WooSim::start(WooSimOptions {
            products: products.clone(),
            ..WooSimOptions::default()
        })
        .await
        .unwrap(),
    );
    // Linking 10 000 items in one request takes longer than the default 30 s.
    let options = Options {
        shop: Some(sim.clone()),
        config: Some(json!({ "RequestTimeoutSeconds": 900 })),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let ids = sim.item_ids();
    let pos_refs: Vec<String> = (0..items).map(|n| format!("P{n}")).collect();
    for (n, product) in products.iter().enumerate() {
        app.catalog.put(
            &pos_refs[n],
            &product.name,
            Some(&product.sku),
            1000 + n as i64 % 50,
        );
    }
    let pos_quantity = |n: usize| 1000 + n as i64 % 50;
    let shop_shows_pos = |offset: i64| {
        ids.iter()
            .enumerate()
            .all(|(n, &id)| sim.stock(id) == Some(pos_quantity(n) + offset))
    };

    println!("\n| step | items | calls to WooCommerce | took |");
    println!("|------|-------|---------------------|------|");
    let before = calls(&sim);
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
    let (routes, total) = since(&sim, before);
    println!(
        "| link by SKU (1 catalogue read) and first adoption (read, then write) | {items} | {total} ({routes}) | {:.1} s (linking {:.1} s) |",
        started.elapsed().as_secs_f64(),
        linked.as_secs_f64()
    );

    // (a) Idle: the next poll on `Shop.Cron` (every minute), and nothing else.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = calls(&sim);
    let polls = sim.requests_to(ROUTES[0]);
    let started = Instant::now();
    until("a cron poll", Duration::from_secs(70), || {
        sim.requests_to(ROUTES[0]) > polls
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (routes, total) = since(&sim, before);
    println!(
        "| idle: one cron poll, nothing new | {items} | {total} ({routes}) | {:.1} s watched |",
        started.elapsed().as_secs_f64()
    );

    // (b) Every POS count changes: one sync, then the pushes (the shop's quantities known).
    for (n, pos_ref) in pos_refs.iter().enumerate() {
        app.catalog.set_quantity(pos_ref, pos_quantity(n) - 1);
    }
    let before = calls(&sim);
    let started = Instant::now();
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    until("the pushes", Duration::from_secs(900), || {
        shop_shows_pos(-1)
    })
    .await;
    let (routes, total) = since(&sim, before);
    println!(
        "| {items} changed quantities pushed (shop's quantities known) | {items} | {total} ({routes}) | {:.1} s |",
        started.elapsed().as_secs_f64()
    );

    // (c) A till sale: the POS count changes and a sync runs; until the shop shows it.
    let (id, pos_ref, mut left) = (ids[0], pos_refs[0].clone(), pos_quantity(0) - 1);
    let mut till = Vec::new();
    for _ in 0..samples {
        left -= 1;
        let started = Instant::now();
        app.catalog.set_quantity(&pos_ref, left);
        let (status, _) = app.post_empty("/api/synchronizer/forceUpdate").await;
        assert_eq!(status, 202);
        until("the till sale on the shop", Duration::from_secs(60), || {
            sim.stock(id) == Some(left)
        })
        .await;
        till.push(started.elapsed());
    }
    till.sort();

    // (d) A web order: WooCommerce's order webhook (no queue delay) until the POS has it.
    let (_, ping) = sim
        .create_webhook(WebhookTarget {
            delivery_url: app.url("/webhooks/shop"),
            secret: SHOP_WEBHOOK_SECRET.to_owned(),
            delay: Duration::ZERO,
        })
        .await;
    assert_eq!(ping, Some(200));
    let id = ids[1];
    let mut web = Vec::new();
    for _ in 0..samples {
        let sales = app.catalog.recorded_sales().len();
        let started = Instant::now();
        sim.place_order(&[(id, 1)], "processing").unwrap();
        until("the web order on the POS", Duration::from_secs(60), || {
            app.catalog.recorded_sales().len() > sales
        })
        .await;
        web.push(started.elapsed());
    }
    web.sort();

    println!("\n| path | samples | p50 | p99 | max |");
    println!("|------|---------|-----|-----|-----|");
    for (path, times) in [
        (
            "till (POS count change + forced sync of the account) → WooCommerce quantity",
            &till,
        ),
        ("web order → POS (order webhook)", &web),
    ] {
        println!(
            "| {path} | {} | {:.0} ms | {:.0} ms | {:.0} ms |",
            times.len(),
            percentile(times, 50),
            percentile(times, 99),
            percentile(times, 100),
        );
    }
}
