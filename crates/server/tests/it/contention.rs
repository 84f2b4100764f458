//! Many writers on the same rows: web sales over items linked on several POS accounts, syncs of
//! those accounts and the shop's own table, all at once. On MariaDB, InnoDB may roll a
//! transaction back as a deadlock victim (1213) or after a lock wait timeout (1205); the store
//! runs it again, so the caller never sees it (never a 5xx).

use crate::row_lock::RowLock;
use chrono::SubsecRound;
use serde_json::json;
use std::sync::Arc;
use stocksync_domain::AccountId;
use stocksync_domain::task::TaskKind;
use stocksync_store::{NewJob, ScheduleTick, TickOutcome};
use stocksync_testkit::{
    ACCOUNT, Backend, OTHER_ACCOUNT, Options, TestApp, TestDb, on_every_backend, send,
};

on_every_backend!(
    a_deadlock_victim_is_run_again,
    concurrent_sales_and_syncs_over_shared_items_never_answer_5xx,
    a_deadlocked_schedule_tick_is_run_again,
);

fn options() -> Options {
    let mut shop = String::from(
        "CREATE TABLE produit (id INTEGER NOT NULL PRIMARY KEY, quantite_stock INTEGER NOT NULL);
         CREATE TABLE ballast (id INTEGER NOT NULL PRIMARY KEY);
         INSERT INTO produit (id, quantite_stock) VALUES ",
    );
    let rows: Vec<String> = (1..=ITEMS).map(|i| format!("({i}, 0)")).collect();
    shop.push_str(&rows.join(", "));
    shop.push(';');
    Options {
        config: Some(json!({
            "ShopTable": { "Table": "produit", "IdColumn": "id", "QuantityColumn": "quantite_stock" }
        })),
        setup_sql: Some(shop),
        ..Options::default()
    }
}

const ITEMS: usize = 6;

/// Shop item `i` is linked to `A{i}` on the first account and `B{i}` on the other.
async fn link_items(app: &TestApp, quantity: i64) {
    for i in 1..=ITEMS {
        app.catalog.put(&format!("A{i}"), "Mug", None, quantity);
        app.other_catalog
            .put(&format!("B{i}"), "Mug", None, quantity);
        app.link(&format!("A{i}"), &i.to_string()).await;
        let (status, body) = app
            .register(json!({ "item_pos_id": format!("B{i}"), "item_ecommerce_id": i.to_string(), "account_id": OTHER_ACCOUNT }))
            .await;
        assert_eq!(status, 201, "{body}");
    }
}

/// A sale waits for the shop's row while holding its link; the test's transaction, which holds
/// the shop's row and has written more, then asks for the link: InnoDB rolls the sale back as
/// the deadlock victim. The sale is run again, and answered 202.
async fn a_deadlock_victim_is_run_again(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, options()).await else {
        return;
    };
    app.catalog.put("A1", "Mug", None, 5);
    app.link("A1", "1").await;
    let lock = RowLock::take(&app.db, "SELECT id FROM produit WHERE id = 1 FOR UPDATE").await;
    let sale = tokio::spawn(send(
        app.request(reqwest::Method::POST, "/api/synchronizer/sale")
            .json(&json!({ "item_ecommerce_id": "1", "delta": 1, "balance": 100 })),
    ));
    if let Some(lock) = lock {
        let sql = "SELECT id FROM stock WHERE idProductPOS = 'A1' FOR UPDATE";
        lock.deadlock_the_waiter(sql, "the sale").await;
    }
    let (status, body) = sale.await.unwrap();
    assert_eq!(status, 202, "{body}");
    let quantities = app
        .db
        .pairs("SELECT CAST(s.quantity AS SIGNED), CAST(p.quantite_stock AS SIGNED) FROM stock s JOIN produit p ON p.id = 1")
        .await;
    assert_eq!(quantities, [(4, 4)], "sold once: link and shop column");
}

async fn concurrent_sales_and_syncs_over_shared_items_never_answer_5xx(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, options()).await else {
        return;
    };
    link_items(&app, 1_000).await;
    let app = Arc::new(app);
    const WORKERS: usize = 12;
    const SALES_EACH: usize = 20;
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..SALES_EACH {
                let item = (worker + n) % ITEMS + 1;
                let request = app
                    .request(reqwest::Method::POST, "/api/synchronizer/sale")
                    .json(&json!({ "item_ecommerce_id": item.to_string(), "delta": 1 + n % 2, "balance": 100 }));
                statuses.push(send(request).await);
            }
            statuses
        }));
    }
    // Till sales and syncs of both accounts meanwhile.
    for round in 1..=8 {
        for i in 1..=ITEMS {
            let (a, b) = (format!("A{i}"), format!("B{i}"));
            app.catalog.set_quantity(&a, app.catalog.quantity(&a) - 1);
            app.other_catalog
                .set_quantity(&b, app.other_catalog.quantity(&b) - round % 2);
        }
        let (status, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
        assert_eq!(status, 202, "{answer}");
        app.wait_task(answer["location"].as_str().unwrap()).await;
    }
    for worker in workers {
        for (status, body) in worker.await.unwrap() {
            assert_eq!(status, 202, "{body}");
        }
    }

    // Once every sale is on its POS, a sync leaves each shop column the sum of its links.
    let (_, sales) = app.get("/api/sales?per_page=1000").await;
    for sale in sales["sales"].as_array().unwrap() {
        let state = app
            .wait_sale(&format!("/api/sales/{}", sale["id"].as_str().unwrap()))
            .await;
        assert_eq!(state["state"], "confirmed", "{state}");
    }
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    let sums = app
        .db
        .pairs(
            "SELECT CAST(idProductEcommerce AS SIGNED), CAST(SUM(quantity) AS SIGNED) FROM stock \
             GROUP BY idProductEcommerce ORDER BY 1",
        )
        .await;
    let shop = app
        .db
        .pairs("SELECT id, CAST(quantite_stock AS SIGNED) FROM produit ORDER BY id")
        .await;
    assert_eq!(
        shop, sums,
        "each shop column is the sum of its item's links"
    );
    for i in 1..=ITEMS {
        let (a, b) = (format!("A{i}"), format!("B{i}"));
        let pos = app.catalog.quantity(&a) + app.other_catalog.quantity(&b);
        assert_eq!(
            sums[i - 1].1,
            pos,
            "item {i}: the POS counts, once every sale is on them"
        );
    }
}

/// A schedule's tick (the job store's writes: ticks, claims, leases, settings) is run again when
/// InnoDB picks it as a deadlock victim. The tick holds the job lock and waits for its schedule's
/// row, which the test's heavier transaction holds; the test then asks for the job lock. The
/// tick still makes its one job.
async fn a_deadlocked_schedule_tick_is_run_again(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    db.execute("CREATE TABLE ballast (id INTEGER NOT NULL PRIMARY KEY)")
        .await;
    let (name, account) = (format!("sync:{ACCOUNT}"), AccountId::new(ACCOUNT));
    let now = chrono::Utc::now();
    let tick = now + chrono::Duration::minutes(1);
    store.begin_schedule(&name, now).await.unwrap();
    let lock = RowLock::take(
        &db,
        &format!("SELECT name FROM stocksync_schedules WHERE name = '{name}' FOR UPDATE"),
    )
    .await;
    let fired = tokio::spawn({
        let (store, name) = (store.clone(), name.clone());
        async move {
            let job = NewJob::new(TaskKind::SyncAll, &account);
            let tick = ScheduleTick {
                name: &name,
                tick,
                job,
                min_gap: None,
            };
            store.fire_schedule(tick, tick.tick).await
        }
    });
    if let Some(lock) = lock {
        let sql = "SELECT name FROM stocksync_locks WHERE name = 'jobs' FOR UPDATE";
        lock.deadlock_the_waiter(sql, "the tick").await;
    }
    let fired = fired.await.unwrap().expect("the tick is run again");
    assert!(matches!(fired, TickOutcome::Fired(_)), "{fired:?}");
    let (jobs, total) = store.tasks(None, None, 0, 10).await.unwrap();
    assert_eq!(total, 1, "one job for the tick: {jobs:?}");
    let state = store.schedule_states().await.unwrap();
    assert_eq!(state[0].last_fired, Some(tick.trunc_subsecs(6)));
}
