//! The service's own figures, printed as a table: web sales accepted per second through
//! `POST /api/synchronizer/sale` (durable writes) beside the raw rate of as many committed
//! transactions on the same database (the ceiling); the time from a till sale on a simulator to
//! the new quantity in the `stock` table, by webhook and by a sync; and the peak memory of a full
//! sync of many links. Run with `cargo bench -p stocksync --bench service`
//! (`STOCKSYNC_BENCH_SALES`, `STOCKSYNC_BENCH_LINKS` change the sizes; MariaDB is measured too
//! when `STOCKSYNC_TEST_MARIADB_URL` is set).

use serde_json::json;
use sqlx::Connection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stocksync_testkit::{ACCOUNT, Backend, Options, TestApp, TestDb, send};

const CONCURRENCY: usize = 16;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let sales = env_number("STOCKSYNC_BENCH_SALES", 2_000);
    let links = env_number("STOCKSYNC_BENCH_LINKS", 100_000);
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(stocksync_testkit::MARIADB_URL_VAR).is_ok() {
        backends.push(Backend::MariaDb);
    }
    println!("\n| database | web sales accepted/s | raw commits/s (ceiling) | sales |");
    println!("|----------|----------------------|-------------------------|-------|");
    for backend in backends {
        let (accepted, raw) = sales_rate(backend, sales).await;
        println!("| {backend:?} | {accepted:.0} | {raw:.0} | {sales} |");
    }
    let (by_webhook, by_sync) = till_sale_latency().await;
    println!("\n| till sale → stock table | time |");
    println!("|-------------------------|------|");
    println!(
        "| Square webhook (signed event → sync) | {:.0} ms |",
        by_webhook.as_secs_f64() * 1000.0
    );
    println!(
        "| a sync (forceUpdate; the schedule adds up to its period, 1 min by default) | {:.0} ms |",
        by_sync.as_secs_f64() * 1000.0
    );
    let (took, peak) = full_sync_memory(links).await;
    println!("\n| links | full sync | peak memory (VmHWM) |");
    println!("|-------|-----------|---------------------|");
    println!(
        "| {links} | {:.1} s | {} MiB |",
        took.as_secs_f64(),
        peak / 1024
    );
}

/// Sales per second through the API (each one a transaction: check, decrement, outbox row,
/// ledger line), and raw single-insert transactions per second on an equal database.
async fn sales_rate(backend: Backend, sales: usize) -> (f64, f64) {
    let app = TestApp::spawn(backend).await.expect("the backend");
    for i in 0..50 {
        app.catalog
            .put(&format!("V{i}"), &format!("Item {i}"), None, 1_000_000);
        app.link(&format!("V{i}"), &i.to_string()).await;
    }
    let app = Arc::new(app);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            for n in (worker..sales).step_by(CONCURRENCY) {
                let request = app
                    .request(reqwest::Method::POST, "/api/synchronizer/sale")
                    .header("Idempotency-Key", format!("bench-{n}"))
                    .json(&json!({ "item_ecommerce_id": n % 50, "delta": 1, "balance": 100 }));
                assert_eq!(send(request).await.0, 202);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let accepted = sales as f64 / started.elapsed().as_secs_f64();

    let db = TestDb::create(backend).await.expect("the backend");
    db.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .await;
    let url = Arc::new(db.url.expose().to_owned());
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let url = url.clone();
        workers.push(tokio::spawn(async move {
            commit_each(
                backend,
                &url,
                (worker..sales).step_by(CONCURRENCY).collect(),
            )
            .await;
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    (accepted, sales as f64 / started.elapsed().as_secs_f64())
}

/// One committed insert per id, on one connection (SQLite as the service opens it: WAL, FULL).
async fn commit_each(backend: Backend, url: &str, ids: Vec<usize>) {
    macro_rules! insert_each {
        ($conn:expr, $begin:literal) => {
            for id in ids {
                let mut tx = $conn.begin_with($begin).await.unwrap();
                sqlx::query("INSERT INTO bench (id, payload) VALUES (?, ?)")
                    .bind(id as i64)
                    .bind("a sale's worth of bytes")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        };
    }
    match backend {
        Backend::Sqlite => {
            use sqlx::ConnectOptions;
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let mut conn = options
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .connect()
                .await
                .unwrap();
            // Taking the write lock at once, as the service does.
            insert_each!(conn, "BEGIN IMMEDIATE");
        }
        Backend::MariaDb => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.unwrap();
            insert_each!(conn, "BEGIN");
        }
    }
}

/// From a till sale on the Square simulator to the new quantity in the `stock` table: through
/// a signed webhook (which enqueues a sync), and through a sync alone.
async fn till_sale_latency() -> (Duration, Duration) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/webhooks/square/square-sim");
    let square = stocksync_square::SquareSim::start(stocksync_square::SquareSimOptions {
        products: stocksync_pos::simkit::catalog(100, 1),
        webhook: Some((url.clone(), "bench-webhook-key".into())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut account = square.account_settings();
    account["WebhookSignatureKey"] = json!("bench-webhook-key");
    account["WebhookUrl"] = json!(url);
    let options = Options {
        config: Some(json!({ "PosAccess": { "PosConfigurations": [account] } })),
        vendor_clients: true,
        listen_port: Some(port),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let pos_ref = square
        .product_refs()
        .into_iter()
        .find(|r| square.quantity(r).unwrap_or(0) > 5)
        .unwrap();
    let (status, _) = app
        .register(
            json!({ "item_pos_id": pos_ref, "item_ecommerce_id": "1", "account_id": "square-sim" }),
        )
        .await;
    assert_eq!(status, 201);
    let quantity = || async {
        let (_, links) = app.get("/api/items/square-sim").await;
        links[0]["quantity"].as_i64().unwrap()
    };
    let until = |target: i64| async move {
        while quantity().await != target {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let before = quantity().await;
    let started = Instant::now();
    square.till_sale(&pos_ref, 1);
    until(before - 1).await;
    let by_webhook = started.elapsed();

    // A sync on its own (the simulator's webhook may race it: the sync is what is timed).
    let started = Instant::now();
    square.set_count(&pos_ref, &square.location_ids()[0], "0");
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    (by_webhook, started.elapsed())
}

/// A full sync (reconciliation) of `links` links, and the process's peak resident memory.
async fn full_sync_memory(links: usize) -> (Duration, u64) {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.catalog
        .extend((0..links).map(|i| (format!("P{i}"), format!("Product {i}"), (i % 40) as i64)));
    // Links written straight into the table, a few thousand rows a statement.
    for chunk in (0..links).collect::<Vec<_>>().chunks(5_000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| format!("('P{i}', '{i}', 0, '{ACCOUNT}', 'Product {i}', 0)"))
            .collect();
        app.db
            .execute(&format!(
                "INSERT INTO stock (idProductPOS, idProductEcommerce, quantity, accountID, description, limitQuantity) VALUES {}",
                rows.join(",")
            ))
            .await;
    }
    let started = Instant::now();
    let (_, answer) = app.post_empty("/api/synchronizer/reconcile").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    (started.elapsed(), peak_kib())
}

/// `VmHWM` of /proc/self/status: the peak resident set, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
