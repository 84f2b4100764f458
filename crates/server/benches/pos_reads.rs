//! POS calls and time of a full read and of an incremental read after 10 till sales, per
//! vendor, against the simulators (real HTTP on loopback, the real clients, a real SQLite
//! database for tokens and call budgets). Run with `cargo bench -p stocksync --bench pos_reads`;
//! `STOCKSYNC_BENCH_PRODUCTS` changes the catalog size (default 10 000). Prints a table.
//!
//! Lightspeed paces itself on the simulator's bucket as on the real one (90 drips, 1 per
//! second), so its time is mostly waiting: that is the price of getting no 429.

use std::time::{Duration, Instant};
use stocksync::accounts;
use stocksync::config::Settings;
use stocksync::simulate::Simulators;
use stocksync_domain::PosConnector;
use stocksync_pos::CallLog;
use stocksync_store::{DatabaseUrl, Store};

struct Figures {
    vendor: &'static str,
    rows: usize,
    full_calls: u64,
    full_time: Duration,
    changed: usize,
    incremental_calls: u64,
    incremental_time: Duration,
    rate_limited: u64,
}

#[tokio::main]
async fn main() {
    let products: usize = std::env::var("STOCKSYNC_BENCH_PRODUCTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .expect("an SQLite URL");
    let store = Store::connect(&url).await.expect("SQLite");
    store.migrate().await.expect("migrations");
    let sims = Simulators::start(products, 0).await.expect("simulators");
    let settings = Settings::from_json(
        &sims.appsettings(stocksync_domain::ShopKind::WooCommerce),
        &|_| None,
    )
    .expect("the simulators' settings");
    let calls = CallLog::default();
    let mut table = Vec::new();
    for config in &settings.accounts {
        let connector = accounts::connect(config, &calls, &store).expect("a connector");
        let (vendor, refs): (&'static str, Vec<String>) = match config.kind.as_str() {
            "square" => ("Square", sims.square.product_refs()),
            "hiboutik" => ("Hiboutik", sims.hiboutik.product_refs()),
            _ => ("Lightspeed", sims.lightspeed.product_refs()),
        };
        eprintln!("{vendor}: full read of {products} products…");
        let account = config.id.as_str();
        let figures = measure(vendor, &*connector, &calls, account, || {
            for pos_ref in refs.iter().step_by(refs.len().max(10) / 10).take(10) {
                match vendor {
                    "Square" => sims.square.till_sale(pos_ref, 1),
                    "Hiboutik" => {
                        sims.hiboutik.till_sale(pos_ref, 1);
                    }
                    _ => sims.lightspeed.till_sale(pos_ref, 1),
                }
            }
        })
        .await;
        table.push(figures);
    }
    print_table(products, &table);
}

async fn measure(
    vendor: &'static str,
    connector: &dyn PosConnector,
    calls: &CallLog,
    account: &str,
    till_sales: impl FnOnce(),
) -> Figures {
    let before = calls.total(account);
    let started = Instant::now();
    let full = connector.read_stock(None).await.expect("a full read");
    let full_time = started.elapsed();
    let full_calls = calls.total(account) - before;
    // Let the clocks move past the full read, so the incremental read starts after it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    till_sales();
    let before = calls.total(account);
    let started = Instant::now();
    let incremental = connector
        .read_stock(full.cursor.as_deref())
        .await
        .expect("an incremental read");
    Figures {
        vendor,
        rows: full.counts.len(),
        full_calls,
        full_time,
        changed: incremental.counts.len(),
        incremental_calls: calls.total(account) - before,
        incremental_time: started.elapsed(),
        rate_limited: calls.with_status(account, 429),
    }
}

fn print_table(products: usize, table: &[Figures]) {
    println!("\nPOS reads of {products} products per simulator (real HTTP on loopback)\n");
    println!(
        "| POS        | counts read | full read: calls | time     | after 10 till sales: counts | calls | time     | 429s |"
    );
    println!(
        "|------------|-------------|------------------|----------|-----------------------------|-------|----------|------|"
    );
    for f in table {
        println!(
            "| {:<10} | {:>11} | {:>16} | {:>7.2}s | {:>27} | {:>5} | {:>7.2}s | {:>4} |",
            f.vendor,
            f.rows,
            f.full_calls,
            f.full_time.as_secs_f64(),
            f.changed,
            f.incremental_calls,
            f.incremental_time.as_secs_f64(),
            f.rate_limited
        );
    }
}
