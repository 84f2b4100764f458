//! Taking over the original program's MySQL database: its `stock` rows are kept, and a table
//! that links one POS product twice is refused with the rows named. And upgrading a database of
//! an earlier stocksync: jobs it left running are queued again.

use stocksync_domain::AccountId;
use stocksync_store::Store;
use stocksync_testkit::{Backend, TestDb};

/// The `stock` table as the original program's users created it (narrower types, no keys).
const ORIGINAL_STOCK: &str = "CREATE TABLE stock (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idProductPOS VARCHAR(45) NOT NULL,
    idProductEcommerce INT NOT NULL,
    quantity INT NOT NULL,
    accountID VARCHAR(45) NOT NULL,
    description VARCHAR(255),
    limitQuantity INT NOT NULL DEFAULT 0
)";

async fn original_database(rows: &str) -> Option<(TestDb, Store)> {
    if !Backend::mariadb_available() {
        return None;
    }
    let db = TestDb::create(Backend::MariaDb).await?;
    let store = db.store().await;
    db.execute(ORIGINAL_STOCK).await;
    db.execute(&format!(
        "INSERT INTO stock (idProductPOS, idProductEcommerce, quantity, accountID, description, limitQuantity) VALUES {rows}"
    ))
    .await;
    Some((db, store))
}

#[tokio::test]
async fn the_original_stock_rows_are_kept() {
    let Some((_db, store)) =
        original_database("('A1', 12, 4, 'sq', 'Mug', 1), ('A2', 13, 0, 'sq', 'Bowl', 0)").await
    else {
        return;
    };
    store
        .migrate()
        .await
        .expect("the original table is adopted");
    let links = store.links_of_account(&AccountId::new("sq")).await.unwrap();
    let seen: Vec<(&str, &str, i64, i64)> = links
        .iter()
        .map(|l| {
            (
                l.pos_ref.as_str(),
                l.ecommerce_id.as_str(),
                l.quantity,
                l.limit_quantity,
            )
        })
        .collect();
    assert_eq!(seen, [("A1", "12", 4, 1), ("A2", "13", 0, 0)]);
    store
        .migrate()
        .await
        .expect("migrating twice changes nothing");
}

#[tokio::test]
async fn a_table_linking_one_product_twice_is_refused_with_the_rows_named() {
    let Some((_db, store)) =
        original_database("('A1', 12, 4, 'sq', 'Mug', 0), ('A1', 14, 4, 'sq', 'Mug', 0)").await
    else {
        return;
    };
    let error = store
        .migrate()
        .await
        .expect_err("duplicates are refused")
        .to_string();
    assert!(error.contains("account sq product A1 (2 rows)"), "{error}");
    assert!(error.contains("keep one row each"), "{error}");
}

stocksync_testkit::on_every_backend!(
    jobs_left_running_by_an_earlier_version_are_queued_again,
    names_made_of_the_longest_account_id_fit,
);

async fn names_made_of_the_longest_account_id_fit(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let account = stocksync_domain::AccountId::new("a".repeat(191));
    let name = format!("schedule.cron.{account}");
    store.set_setting(&name, "*/5 * * * *").await.unwrap();
    assert_eq!(
        store.setting(&name).await.unwrap().as_deref(),
        Some("*/5 * * * *")
    );
    // Its outbox lease, its schedule and a tick's job, named after it too.
    let now = chrono::Utc::now();
    let lease = chrono::Duration::seconds(30);
    assert!(
        store
            .acquire_lease(&format!("outbox:{account}"), "p", now, lease)
            .await
            .unwrap()
    );
    let schedule = format!("sync:{account}");
    store.begin_schedule(&schedule, now).await.unwrap();
    let tick = stocksync_store::ScheduleTick {
        name: &schedule,
        tick: now + chrono::Duration::minutes(1),
        job: stocksync_store::NewJob::new(stocksync_domain::task::TaskKind::SyncAll, &account),
        min_gap: None,
    };
    let fired = store.fire_schedule(tick, now).await.unwrap();
    assert!(
        matches!(fired, stocksync_store::TickOutcome::Fired(_)),
        "{fired:?}"
    );
}

async fn jobs_left_running_by_an_earlier_version_are_queued_again(backend: Backend) {
    use sqlx::Connection;
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    // The schema as the version before job leases left it (migrations 1 and 2).
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::MariaDb => "mysql",
    };
    let migrations = std::path::PathBuf::from(format!(
        "{}/../store/migrations/{folder}",
        env!("CARGO_MANIFEST_DIR")
    ));
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    match backend {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = db.url.expose().parse().unwrap();
            let mut conn = sqlx::SqliteConnection::connect_with(&options.create_if_missing(true))
                .await
                .unwrap();
            migrator.run_to(2, &mut conn).await.unwrap();
        }
        Backend::MariaDb => {
            let mut conn = sqlx::MySqlConnection::connect(db.url.expose())
                .await
                .unwrap();
            migrator.run_to(2, &mut conn).await.unwrap();
        }
    }
    db.execute(
        "INSERT INTO stocksync_tasks (id, kind, account_id, state, created_at, started_at) \
         VALUES ('t-1', 'reconcile', NULL, 'running', '2026-11-01 10:00:00', '2026-11-01 10:00:01')",
    )
    .await;

    let store = db.store().await;
    store.migrate().await.unwrap();
    let task = store.task("t-1").await.unwrap().unwrap();
    assert_eq!(task.state, stocksync_domain::task::TaskState::Enqueued);
    assert_eq!(task.started_at, None);
    let claimed = store
        .claim_task("w", chrono::Utc::now(), chrono::Duration::seconds(30), 3)
        .await
        .unwrap()
        .expect("the job runs again");
    assert_eq!(claimed.id.as_str(), "t-1");
}
