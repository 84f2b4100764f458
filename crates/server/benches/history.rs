//! Sync time as the sales history grows: `Store::apply_counts` of one account (200 links), the
//! transaction that holds the account's link locks, with 10 000 then 100 000 confirmed sales in
//! the database, with the sales indexes of migration 0004 and without them. Run with
//! `cargo bench -p stocksync --bench history` (MariaDB is measured too when
//! `STOCKSYNC_TEST_MARIADB_URL` is set).

use chrono::{Duration as Days, Utc};
use std::time::{Duration, Instant};
use stocksync_domain::AccountId;
use stocksync_domain::pos::StockCount;
use stocksync_store::{PosRead, Store};
use stocksync_testkit::{ACCOUNT, Backend, TestDb};

const LINKS: usize = 200;
const RUNS: usize = 20;

#[tokio::main]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(stocksync_testkit::MARIADB_URL_VAR).is_ok() {
        backends.push(Backend::MariaDb);
    }
    println!(
        "\n| database | confirmed sales | sync (median of {RUNS}), indexed | without the 0004 indexes |"
    );
    println!("|----------|-----------------|------------------|------------------|");
    for backend in backends {
        for sales in [10_000, 100_000] {
            let (indexed, bare) = sync_time(backend, sales).await;
            println!(
                "| {backend:?} | {sales} | {:.2} ms | {:.2} ms |",
                indexed.as_secs_f64() * 1000.0,
                bare.as_secs_f64() * 1000.0
            );
        }
    }
}

/// The median time of a sync of one account with `sales` confirmed sales (a month old) in the
/// history, then the same once the indexes of migration 0004 are dropped.
async fn sync_time(backend: Backend, sales: usize) -> (Duration, Duration) {
    let db = TestDb::create(backend).await.expect("the backend");
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let links: Vec<String> = (0..LINKS)
        .map(|i| format!("('P{i}', '{i}', 1000, '{ACCOUNT}', 'Product {i}', 0)"))
        .collect();
    db.execute(&format!(
        "INSERT INTO stock (idProductPOS, idProductEcommerce, quantity, accountID, description, limitQuantity) VALUES {}",
        links.join(",")
    ))
    .await;
    let old = (Utc::now() - Days::days(30)).format("%Y-%m-%d %H:%M:%S");
    for chunk in (0..sales).collect::<Vec<_>>().chunks(5_000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|n| {
                let link = n % LINKS;
                format!(
                    "('s{n}', {}, '{link}', '{ACCOUNT}', 'P{link}', 1, 100, 'confirmed', 1, '{old}', '{old}', '{old}')",
                    link + 1
                )
            })
            .collect();
        db.execute(&format!(
            "INSERT INTO stocksync_sales (id, link_id, item_ecommerce_id, account_id, pos_ref, delta, balance_cents, \
             state, attempts, confirmed_at, created_at, updated_at) VALUES {}",
            rows.join(",")
        ))
        .await;
    }
    db.execute(match backend {
        Backend::Sqlite => "ANALYZE",
        Backend::MariaDb => "ANALYZE TABLE stocksync_sales",
    })
    .await;
    let indexed = median_sync(&store).await;
    db.execute(match backend {
        Backend::Sqlite => {
            "DROP INDEX stocksync_sales_account_state; DROP INDEX stocksync_sales_product; \
             DROP INDEX stocksync_sales_state_created; DROP INDEX stocksync_sales_account_created; \
             CREATE INDEX stocksync_sales_state ON stocksync_sales (state, link_id); ANALYZE"
        }
        Backend::MariaDb => {
            "ALTER TABLE stocksync_sales DROP KEY sales_account_state, DROP KEY sales_product, \
             DROP KEY sales_state_created, DROP KEY sales_account_created, ADD KEY sales_state (state, link_id); \
             ANALYZE TABLE stocksync_sales"
        }
    })
    .await;
    (indexed, median_sync(&store).await)
}

/// Applies the same counts (each link's quantity changes by one, so every run writes) `RUNS`
/// times; the median time.
async fn median_sync(store: &Store) -> Duration {
    let account = AccountId::new(ACCOUNT);
    let mut times = Vec::new();
    for run in 0..RUNS {
        let counts: Vec<StockCount> = (0..LINKS)
            .map(|i| StockCount {
                pos_ref: stocksync_domain::PosRef::new(format!("P{i}")),
                quantity: 1000 + (run % 2) as i64,
                counted_at: None,
            })
            .collect();
        let read = PosRead {
            counts: &counts,
            started_at: Utc::now(),
            complete: false,
        };
        let started = Instant::now();
        store.apply_counts(&account, &read, false).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    times[RUNS / 2]
}
