//! Invariant 2, "no resurrected stock", under the races it is about: a POS read in flight while
//! a web sale reaches the POS, webhooks that arrive late or out of order, a return the POS may
//! already count, and a product relinked while its sale is on the way.

use serde_json::json;
use std::sync::atomic::Ordering;
use stocksync_testkit::{ACCOUNT, Backend, TestApp, on_every_backend};

on_every_backend!(
    a_read_in_flight_while_a_sale_reaches_the_pos_does_not_bring_it_back,
    an_old_webhook_after_a_poll_changes_nothing,
    a_return_the_pos_already_counts_is_not_added_again,
    a_relinked_product_keeps_its_sales_in_flight,
);

async fn shop_quantity(app: &TestApp) -> i64 {
    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    links[0]["quantity"].as_i64().unwrap()
}

async fn a_read_in_flight_while_a_sale_reaches_the_pos_does_not_bring_it_back(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;

    // The read takes its snapshot (5) and is held there.
    app.catalog.hold_reads();
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = answer["location"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.catalog.reads_held.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "the sync never read");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Meanwhile a web sale is accepted and recorded on the POS (which now counts 4).
    let sale = app.sell("1", 1).await;
    assert_eq!(app.wait_sale(&sale).await["state"], "confirmed");
    assert_eq!(app.catalog.quantity("VAR-1"), 4);

    // The stale count (5) arrives: the sale, confirmed after the read began, is still taken off.
    app.catalog.release_reads();
    assert_eq!(app.wait_task(&task).await["state"], "succeeded");
    assert_eq!(
        shop_quantity(&app).await,
        4,
        "never 5: the sold unit is not resurrected"
    );

    // A fresh read, which includes the sale, agrees.
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(shop_quantity(&app).await, 4);
}

async fn an_old_webhook_after_a_poll_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    app.catalog.set_quantity("VAR-1", 3);
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(shop_quantity(&app).await, 3);

    // Events from before the poll, delivered late and out of order, say 5 then 4.
    for (id, quantity) in [("evt-old-2", "4"), ("evt-old-1", "5")] {
        let body = json!({
            "merchant_id": "M1", "type": "inventory.count.updated", "event_id": id,
            "data": { "object": { "inventory_counts": [
                { "catalog_object_id": "VAR-1", "state": "IN_STOCK", "location_id": "L1",
                  "quantity": quantity, "calculated_at": "2020-01-01T00:00:00Z" } ] } }
        })
        .to_string();
        let (status, _) = crate::webhooks::post_square(
            &app,
            &body,
            &crate::webhooks::sign(stocksync_testkit::SQUARE_WEBHOOK_URL, &body),
        )
        .await;
        assert_eq!(status, 200);
    }
    // Each event only asks for a read of the POS as it is now.
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(
        shop_quantity(&app).await,
        3,
        "the POS says 3; old events cannot say otherwise"
    );
}

async fn sync(app: &TestApp) {
    let (_, answer) = app
        .post_empty(&format!("/api/synchronizer/forceUpdate?account={ACCOUNT}"))
        .await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
}

async fn a_return_the_pos_already_counts_is_not_added_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    // The POS is slow: the return stays on its way while the rest happens.
    app.catalog.slow_sales(std::time::Duration::from_secs(120));
    let (status, answer) = app
        .post(
            "/api/synchronizer/return",
            json!({ "item_ecommerce_id": "1", "delta": 2, "balance": 200 }),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(shop_quantity(&app).await, 7);

    // The shop's staff put the two units back on the till as well: the POS counts 7, the
    // return included. Whether a count includes a return in flight cannot be known.
    app.catalog.set_quantity("VAR-1", 7);
    sync(&app).await;
    assert_eq!(
        shop_quantity(&app).await,
        7,
        "never 9: a return in flight is not added to a count that may include it"
    );
}

async fn a_relinked_product_keeps_its_sales_in_flight(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "1").await;
    // The POS is slow: the sale stays on its way while the link is removed and added again.
    app.catalog.slow_sales(std::time::Duration::from_secs(120));
    app.sell("1", 1).await;
    assert_eq!(shop_quantity(&app).await, 4);
    let (status, _) = app
        .delete(&format!("/api/items/{}", link["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 204);
    let relinked = app.link("VAR-1", "1").await;
    assert_ne!(relinked["id"], link["id"], "a new link");
    assert_eq!(
        shop_quantity(&app).await,
        4,
        "the POS counts 5, one unit of which is sold online"
    );

    sync(&app).await;
    assert_eq!(
        shop_quantity(&app).await,
        4,
        "the sale in flight is still subtracted from the POS count"
    );
}
