//! How fast the outbox drains a backlog of web sales to each POS, against the simulators over
//! real HTTP: sales confirmed per second, and POS calls (and look-ups) per sale. Lightspeed's
//! simulator keeps its documented bucket (90 drips, 1 a second; a completed sale costs 6).
//! Run with `cargo bench -p stocksync --bench outbox_drain` (`STOCKSYNC_BENCH_OUTBOX_SALES`
//! sets the backlog, 30 by default; Lightspeed's is kept within its bucket unless
//! `STOCKSYNC_BENCH_LIGHTSPEED_SALES` says otherwise; `STOCKSYNC_BENCH_LATENCY_MS` makes each
//! simulator answer that much later, as a POS across the internet would).

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use stocksync_pos::simkit::{FaultPlan, SimProduct, catalog};
use stocksync_testkit::{Backend, Options, TestApp};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// One product with stock for every sale of the bench.
fn products() -> Vec<SimProduct> {
    let mut products = catalog(1, 5);
    products[0].quantity = 1_000_000;
    products
}

#[tokio::main]
async fn main() {
    let sales = env_number("STOCKSYNC_BENCH_OUTBOX_SALES", 30);
    let lightspeed_sales = env_number("STOCKSYNC_BENCH_LIGHTSPEED_SALES", 12);
    let latency = FaultPlan {
        latency: Duration::from_millis(env_number("STOCKSYNC_BENCH_LATENCY_MS", 0) as u64),
        ..FaultPlan::default()
    };
    println!(
        "\n| POS ({} ms a call) | sales | drained in | sales/s | POS calls per sale | look-ups per sale |",
        latency.latency.as_millis()
    );
    println!("|-----|-------|------------|---------|--------------------|-------------------|");

    let square = stocksync_square::SquareSim::start(stocksync_square::SquareSimOptions {
        products: products(),
        ..Default::default()
    })
    .await
    .unwrap();
    square.faults().set(latency.clone());
    let pos_ref = square.product_refs()[0].clone();
    drain("Square", square.account_settings(), &pos_ref, sales).await;

    let hiboutik = stocksync_hiboutik::HiboutikSim::start(stocksync_hiboutik::HiboutikSimOptions {
        products: products(),
        ..Default::default()
    })
    .await
    .unwrap();
    hiboutik.faults().set(latency.clone());
    let mut account = hiboutik.account_settings();
    account["MaximumRequests"] = json!(1_000_000);
    let pos_ref = hiboutik.product_refs()[0].clone();
    drain("Hiboutik", account, &pos_ref, sales).await;

    let lightspeed =
        stocksync_lightspeed::LightspeedSim::start(stocksync_lightspeed::LightspeedSimOptions {
            products: products(),
            rate_limit: stocksync_lightspeed::RateLimit::documented(),
            ..Default::default()
        })
        .await
        .unwrap();
    lightspeed.faults().set(latency);
    let pos_ref = lightspeed.product_refs()[0].clone();
    drain(
        "Lightspeed (documented bucket)",
        lightspeed.account_settings(),
        &pos_ref,
        lightspeed_sales,
    )
    .await;
}

/// Accepts `sales` web sales of one unit of `pos_ref` at once, then waits until the outbox has
/// confirmed them all; prints one row.
async fn drain(vendor: &str, account: Value, pos_ref: &str, sales: usize) {
    let account_id = account["AccountName"]
        .as_str()
        .or(account["AccountID"].as_str())
        .unwrap()
        .to_owned();
    let options = Options {
        config: Some(json!({ "PosAccess": { "PosConfigurations": [account] } })),
        vendor_clients: true,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (status, link) = app
        .register(
            json!({ "item_pos_id": pos_ref, "item_ecommerce_id": "1", "account_id": account_id }),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let before = sale_calls(&app).await;
    let started = Instant::now();
    let mut locations = Vec::new();
    for n in 0..sales {
        let (status, answer) = app
            .post(
                "/api/synchronizer/sale",
                json!({ "item_ecommerce_id": "1", "delta": 1, "balance": 500, "order_id": format!("drain-{n}") }),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        locations.push(answer["location"].as_str().unwrap().to_owned());
    }
    for location in &locations {
        loop {
            let (_, sale) = app.get(location).await;
            if sale["state"] == "confirmed" {
                break;
            }
            assert_eq!(sale["state"], "accepted", "{sale}");
            assert!(
                started.elapsed() < Duration::from_secs(900),
                "not drained: {sale}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let took = started.elapsed().as_secs_f64();
    let after = sale_calls(&app).await;
    let per_sale = |n: f64| n / sales as f64;
    println!(
        "| {vendor} | {sales} | {took:.2} s | {:.1} | {:.2} | {:.2} |",
        sales as f64 / took,
        per_sale(after.0 - before.0),
        per_sale(after.1 - before.1),
    );
}

/// POS calls made for sales so far, from `/metrics`: all of them, and the look-ups among them.
async fn sale_calls(app: &TestApp) -> (f64, f64) {
    let response = app
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let (mut all, mut lookups) = (0.0, 0.0);
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("stocksync_pos_calls_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let endpoint = labels
            .split("endpoint=\"")
            .nth(1)
            .and_then(|e| e.split('"').next())
            .unwrap_or_default();
        let value: f64 = value.trim().parse().unwrap_or(0.0);
        let lookup = [
            "/sales/search",
            "GET /sales/{id}",
            "GET Sale.json",
            "changes/batch-retrieve",
        ]
        .iter()
        .any(|l| endpoint.contains(l));
        let sale = lookup
            || ["/sales", "/sale/", "Sale.json", "changes/batch-create"]
                .iter()
                .any(|s| endpoint.contains(s));
        if sale {
            all += value;
        }
        if lookup {
            lookups += value;
        }
    }
    (all, lookups)
}
