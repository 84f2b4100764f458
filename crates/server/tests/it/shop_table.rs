//! `ShopTable`: the shop's own stock column follows the sum of each item's links, in the same
//! transaction as every change; -1 ("unlimited") is never overwritten.

use crate::row_lock::RowLock;
use serde_json::json;
use stocksync_testkit::{
    ACCOUNT, Backend, OTHER_ACCOUNT, Options, TestApp, TestDb, on_every_backend, send,
};

on_every_backend!(
    the_shop_column_follows_every_change,
    a_missing_shop_table_stops_the_start,
    two_links_changing_at_once_leave_the_sum_of_both,
    a_retried_sale_of_a_relinked_product_moves_its_new_item,
);

const SHOP_SQL: &str =
    "CREATE TABLE produit (id INTEGER NOT NULL PRIMARY KEY, quantite_stock INTEGER NOT NULL);
INSERT INTO produit (id, quantite_stock) VALUES (1, 0), (2, -1), (3, 9);";

fn options() -> Options {
    Options {
        config: Some(json!({
            "ShopTable": { "Table": "produit", "IdColumn": "id", "QuantityColumn": "quantite_stock" }
        })),
        setup_sql: Some(SHOP_SQL.into()),
        ..Options::default()
    }
}

async fn shop(db: &TestDb) -> Vec<(i64, i64)> {
    db.pairs("SELECT id, CAST(quantite_stock AS SIGNED) FROM produit ORDER BY id")
        .await
}

async fn the_shop_column_follows_every_change(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, options()).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.catalog.put("VAR-2", "Tea", None, 4);
    app.other_catalog.put("77", "Mug", None, 2);
    app.link("VAR-1", "1").await;
    let (status, _) = app
        .register(
            json!({ "item_pos_id": "77", "item_ecommerce_id": "1", "account_id": OTHER_ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201);
    app.link("VAR-2", "2").await;
    assert_eq!(
        shop(&app.db).await,
        [(1, 7), (2, -1), (3, 9)],
        "the sum of both links; -1 kept"
    );

    let sale = app.sell("1", 3).await;
    app.wait_sale(&sale).await;
    assert_eq!(shop(&app.db).await[0], (1, 4));

    app.other_catalog.set_quantity("77", 0);
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(
        shop(&app.db).await[0],
        (1, 2),
        "a till sale on the other POS"
    );

    let (_, links) = app.get("/api/items").await;
    let other = links["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["posID"] == "77")
        .unwrap();
    let (status, _) = app
        .delete(&format!("/api/items/{}", other["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 204);
    assert_eq!(shop(&app.db).await, [(1, 2), (2, -1), (3, 9)]);
}

/// A till sale counted on one link while a web sale takes a unit of the other: each transaction
/// must sum the item's links after it holds the shop's row, or the one that writes last writes
/// a sum that misses the other's change (on MariaDB both are made to queue for the shop's row).
async fn two_links_changing_at_once_leave_the_sum_of_both(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, options()).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 10);
    app.other_catalog.put("77", "Mug", None, 20);
    app.link("VAR-1", "1").await;
    let (status, _) = app
        .register(
            json!({ "item_pos_id": "77", "item_ecommerce_id": "1", "account_id": OTHER_ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(shop(&app.db).await[0], (1, 30));

    let lock = RowLock::take(&app.db, "SELECT id FROM produit WHERE id = 1 FOR UPDATE").await;
    // A till sale of 3 on the first link, read by a sync...
    app.catalog.set_quantity("VAR-1", 7);
    let (_, answer) = app
        .post_empty(&format!("/api/synchronizer/forceUpdate?account={ACCOUNT}"))
        .await;
    let task = answer["location"].as_str().unwrap().to_owned();
    if let Some(lock) = &lock {
        lock.wait_for_waiters(1).await;
    }
    // ... while a web sale takes a unit of the second (it has the most).
    let sale = tokio::spawn(send(
        app.request(reqwest::Method::POST, "/api/synchronizer/sale")
            .json(&json!({ "item_ecommerce_id": "1", "delta": 1, "balance": 100 })),
    ));
    if let Some(lock) = lock {
        lock.wait_for_waiters(2).await;
        lock.release().await;
    }
    assert_eq!(sale.await.unwrap().0, 202);
    assert_eq!(app.wait_task(&task).await["state"], "succeeded");

    let links = app
        .db
        .pairs("SELECT id, CAST(quantity AS SIGNED) FROM stock ORDER BY id")
        .await;
    assert_eq!(links.iter().map(|l| l.1).collect::<Vec<_>>(), [7, 19]);
    assert_eq!(shop(&app.db).await[0], (1, 26), "the sum of both links");
}

async fn a_missing_shop_table_stops_the_start(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let mut settings = stocksync::config::Settings::from_json(
        &json!({ "ShopTable": { "Table": "nope", "IdColumn": "id", "QuantityColumn": "q" } }),
        &|_| None,
    )
    .unwrap();
    settings.database = db.url.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let started = stocksync::app::run(
        settings,
        listener,
        Box::new(|_, _| Ok(stocksync::accounts::Accounts::default())),
        tokio_util::sync::CancellationToken::new(),
    )
    .await;
    let error = format!("{:#}", started.expect_err("the start is refused"));
    assert!(
        error.contains("the configured ShopTable cannot be updated"),
        "{error}"
    );
}

/// A dead sale's product was linked to another shop item since: retrying it takes the units from
/// the product's link now, so that item's column must follow (it was the sale's old item that
/// was recomputed, and the new one kept the units: the shop oversold).
async fn a_retried_sale_of_a_relinked_product_moves_its_new_item(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, options()).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "1").await;
    app.catalog.refuse_sales_of("VAR-1");
    let sale = app.sell("1", 1).await;
    assert_eq!(app.wait_sale(&sale).await["state"], "dead");
    assert_eq!(shop(&app.db).await[0], (1, 5), "its unit given back");

    let (status, _) = app
        .delete(&format!("/api/items/{}", link["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 204);
    app.link("VAR-1", "3").await;
    assert_eq!(shop(&app.db).await[2], (3, 5));

    // The POS is slow: the retried sale stays on its way while the columns are read.
    app.catalog.slow_sales(std::time::Duration::from_secs(120));
    let (status, answer) = app.post_empty(&format!("{sale}/retry")).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        shop(&app.db).await[2],
        (3, 4),
        "the new item's column follows"
    );
}
