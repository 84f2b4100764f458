//! A sale's state changes under concurrency: each transition happens once (a double-clicked
//! retry takes the units once; a kill that loses the race to a confirmation changes nothing).
//! On MariaDB the racing transactions are made to queue behind a row lock held by the test, so
//! the interleaving that used to break these rules happens every time.

use crate::row_lock::RowLock;
use stocksync_domain::link::NewLink;
use stocksync_domain::sale::SaleRequest;
use stocksync_domain::{AccountId, EcommerceId, PosRef};
use stocksync_store::SaleOutcome;
use stocksync_testkit::{ACCOUNT, Backend, TestApp, TestDb, on_every_backend, send};

on_every_backend!(
    a_double_clicked_retry_takes_the_units_once,
    a_kill_racing_a_confirmation_leaves_it_confirmed,
);

async fn a_double_clicked_retry_takes_the_units_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "1").await;
    let link_id = link["id"].as_str().unwrap().to_owned();
    app.catalog.refuse_sales_of("VAR-1");
    let sale = app.sell("1", 1).await;
    assert_eq!(app.wait_sale(&sale).await["state"], "dead");
    assert_eq!(quantity(&app, &link_id).await, 5, "units given back");

    // Two retries at once; on MariaDB both queue behind the link's row while they run. The POS
    // is slow, so that the retried sale is still in the outbox when the second click arrives
    // (on SQLite it could otherwise be refused and dead again in between: a legitimate retry).
    app.catalog.slow_sales(std::time::Duration::from_secs(3));
    let lock = RowLock::take(
        &app.db,
        "SELECT id FROM stock WHERE idProductPOS = 'VAR-1' FOR UPDATE",
    )
    .await;
    let retry = || {
        tokio::spawn(send(
            app.request(reqwest::Method::POST, &format!("{sale}/retry")),
        ))
    };
    let (first, second) = (retry(), retry());
    if let Some(lock) = lock {
        lock.wait_for_waiters(2).await;
        lock.release().await;
    }
    let mut statuses = [first.await.unwrap().0, second.await.unwrap().0];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409], "one retry goes, the other is refused");

    // The retried sale is refused again, and its unit given back again.
    assert_eq!(app.wait_sale(&sale).await["state"], "dead");
    assert_eq!(quantity(&app, &link_id).await, 5, "the unit taken once");
    let (_, history) = app
        .get(&format!("/api/items/{link_id}/history?per_page=100"))
        .await;
    let reasons: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "sale_refused",
            "sale_retried",
            "sale_refused",
            "web_sale",
            "registered"
        ],
        "newest first"
    );
}

async fn quantity(app: &TestApp, link_id: &str) -> i64 {
    let (_, link) = app.get(&format!("/api/items/{link_id}")).await;
    link["quantity"].as_i64().unwrap()
}

async fn a_kill_racing_a_confirmation_leaves_it_confirmed(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    store
        .insert_link(&NewLink {
            pos_ref: PosRef::new("VAR-1"),
            ecommerce_id: EcommerceId::new("1"),
            quantity: 5,
            account_id: AccountId::new(ACCOUNT),
            description: "Mug".into(),
            limit_quantity: 0,
            primary: false,
            shop_locator: None,
        })
        .await
        .unwrap();
    let (delta, balance) = (1.try_into().unwrap(), 100.try_into().unwrap());
    let request = SaleRequest::parse("1", delta, balance, None).unwrap();
    let SaleOutcome::Accepted(sale) = store.accept_sale(&request).await.unwrap() else {
        panic!("the sale is accepted");
    };

    // The POS confirms the sale while the outbox (of a process that lost its lease, say) is
    // killing it: on MariaDB the confirmation waits for the link's row with the sale's row
    // locked, and the kill queues behind it.
    let lock = RowLock::take(
        &db,
        "SELECT id FROM stock WHERE idProductPOS = 'VAR-1' FOR UPDATE",
    )
    .await;
    let confirm = tokio::spawn({
        let (store, id) = (store.clone(), sale.id.clone());
        async move { store.confirm_sale(&id, "pos-1").await }
    });
    match &lock {
        Some(lock) => lock.wait_for_waiters(1).await,
        // SQLite runs one writing transaction at a time: the kill comes after.
        None => {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while !confirm.is_finished() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "confirmed within 30 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }
    let kill = tokio::spawn({
        let (store, id) = (store.clone(), sale.id.clone());
        async move { store.kill_sale(&id, "refused", true).await }
    });
    if let Some(lock) = lock {
        lock.wait_for_waiters(2).await;
        lock.release().await;
    }
    confirm.await.unwrap().unwrap();
    kill.await.unwrap().unwrap();

    let sale = store.sale(&sale.id).await.unwrap().unwrap();
    assert_eq!(sale.state.as_str(), "confirmed");
    let link = store
        .link_by_pos_ref(&AccountId::new(ACCOUNT), &PosRef::new("VAR-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.quantity, 4, "the sold unit is not given back");
    let (ledger, _) = store.ledger(link.id, 0, 100).await.unwrap();
    let reasons: Vec<&str> = ledger.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["sale_confirmed", "web_sale", "registered"]);
}
