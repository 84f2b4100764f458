//! The outbox: accepted web sales reach their POS exactly once, through failures and retries,
//! and dead ones can be retried from the API.

use stocksync_testkit::{ACCOUNT, Backend, TestApp, on_every_backend};

on_every_backend!(
    an_accepted_sale_is_recorded_on_the_pos_once,
    transient_failures_are_retried_until_the_sale_is_recorded,
    a_sale_whose_answer_was_lost_is_looked_up_not_written_again,
    a_sale_out_of_attempts_is_dead_and_can_be_retried,
    a_sale_the_pos_refuses_for_good_gives_its_units_back,
    only_dead_sales_can_be_retried,
    a_slow_pos_does_not_hold_up_the_others,
);

async fn linked_app(backend: Backend, quantity: i64) -> Option<TestApp> {
    let app = TestApp::spawn(backend).await?;
    app.catalog.put("VAR-1", "Mug", None, quantity);
    app.link("VAR-1", "1").await;
    Some(app)
}

async fn shop_quantity(app: &TestApp) -> i64 {
    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    links[0]["quantity"].as_i64().unwrap()
}

async fn sync(app: &TestApp) {
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
}

async fn an_accepted_sale_is_recorded_on_the_pos_once(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    let location = app.sell("1", 2).await;
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "confirmed", "{sale}");
    assert_eq!(sale["attempts"], 1);
    let id = sale["id"].as_str().unwrap();
    assert_eq!(sale["pos_reference"], format!("catalog-{id}"));
    assert!(sale["confirmed_at"].is_string());
    let recorded = app.catalog.recorded_sales();
    assert_eq!(recorded.len(), 1, "written once: {recorded:?}");
    assert!(!recorded[0].sent_before, "a first push is written directly");
    assert_eq!((recorded[0].quantity, recorded[0].balance_cents), (2, 200));
    assert_eq!(app.catalog.quantity("VAR-1"), 3);
    assert_eq!(shop_quantity(&app).await, 3);
    sync(&app).await;
    assert_eq!(
        shop_quantity(&app).await,
        3,
        "the POS count now includes the sale"
    );
}

async fn transient_failures_are_retried_until_the_sale_is_recorded(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    app.catalog.fail_next_sales(2);
    let location = app.sell("1", 1).await;
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "confirmed", "{sale}");
    assert_eq!(sale["attempts"], 3, "two failures, then the success");
    assert_eq!(app.catalog.recorded_sales().len(), 1);
    assert_eq!(app.catalog.quantity("VAR-1"), 4);
}

/// The POS wrote the sale but its answer was lost: the retry must say the sale may be there
/// (`sent_before`), so that the POS looks it up instead of writing it again.
async fn a_sale_whose_answer_was_lost_is_looked_up_not_written_again(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    app.catalog.lose_answers_of_next_sales(1);
    let location = app.sell("1", 1).await;
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "confirmed", "{sale}");
    assert_eq!(sale["attempts"], 2, "the lost answer, then the look-up");
    let writes: Vec<usize> = app.catalog.writes_per_key().into_values().collect();
    assert_eq!(writes, [1], "written once");
    assert_eq!(app.catalog.quantity("VAR-1"), 4);
}

async fn a_sale_out_of_attempts_is_dead_and_can_be_retried(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    app.catalog.fail_next_sales(4);
    let location = app.sell("1", 2).await;
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "dead", "{sale}");
    assert_eq!(sale["attempts"], 4, "the testkit allows 3 retries");
    assert!(
        sale["last_error"].as_str().unwrap().contains("timed out"),
        "{sale}"
    );
    assert_eq!(sale["units_given_back"], false);
    assert_eq!(shop_quantity(&app).await, 3, "the units stay sold online");
    sync(&app).await;
    assert_eq!(
        shop_quantity(&app).await,
        3,
        "a dead sale's units do not come back from the POS count"
    );
    assert!(app.catalog.recorded_sales().is_empty());

    let (status, answer) = app.post_empty(&format!("{location}/retry")).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["location"], location.as_str());
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "confirmed", "{sale}");
    assert_eq!(app.catalog.recorded_sales().len(), 1);
    assert_eq!(app.catalog.quantity("VAR-1"), 3);
    sync(&app).await;
    assert_eq!(shop_quantity(&app).await, 3);
}

async fn a_sale_the_pos_refuses_for_good_gives_its_units_back(backend: Backend) {
    let Some(app) = linked_app(backend, 2).await else {
        return;
    };
    app.catalog.refuse_sales_of("VAR-1");
    let location = app.sell("1", 2).await;
    let sale = app.wait_sale(&location).await;
    assert_eq!(sale["state"], "dead", "{sale}");
    assert_eq!(sale["attempts"], 1, "dead at once");
    assert_eq!(sale["units_given_back"], true);
    assert!(
        sale["last_error"].as_str().unwrap().contains("archived"),
        "{sale}"
    );
    assert_eq!(
        shop_quantity(&app).await,
        2,
        "the units are back in the shop"
    );

    // Sold out since (till sales): the retry cannot take the units again.
    app.catalog.set_quantity("VAR-1", 1);
    sync(&app).await;
    let (status, answer) = app.post_empty(&format!("{location}/retry")).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "not_enough_stock");
    assert_eq!(shop_quantity(&app).await, 1);
}

async fn only_dead_sales_can_be_retried(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    let location = app.sell("1", 1).await;
    app.wait_sale(&location).await;
    let (status, answer) = app.post_empty(&format!("{location}/retry")).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        stocksync_testkit::message(&answer).contains("is confirmed"),
        "{answer}"
    );
    let (status, _) = app.post_empty("/api/sales/nope/retry").await;
    assert_eq!(status, 404);
}

async fn a_slow_pos_does_not_hold_up_the_others(backend: Backend) {
    let Some(app) = linked_app(backend, 5).await else {
        return;
    };
    app.other_catalog.put("77", "Cup", None, 5);
    let (status, _) = app
        .register(serde_json::json!({ "item_pos_id": "77", "item_ecommerce_id": "2", "account_id": stocksync_testkit::OTHER_ACCOUNT }))
        .await;
    assert_eq!(status, 201);
    // The first POS takes a minute to answer (and then fails): its sale is in flight.
    app.catalog.slow_sales(std::time::Duration::from_secs(60));
    app.catalog.fail_next_sales(usize::MAX);
    let calls_before = app.catalog.calls.load(std::sync::atomic::Ordering::SeqCst);
    let stuck = app.sell("1", 1).await;
    // Wait until the slow POS has the sale in hand.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.catalog.calls.load(std::sync::atomic::Ordering::SeqCst) == calls_before {
        assert!(
            std::time::Instant::now() < deadline,
            "the sale never reached the slow POS"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let other = app.sell("2", 1).await;
    let sale = app.wait_sale(&other).await;
    assert_eq!(sale["state"], "confirmed", "{sale}");
    // The slow POS's first attempt has not even ended: the other sale did not wait for it.
    let (_, stuck) = app.get(&stuck).await;
    assert_eq!(
        (stuck["state"].as_str(), stuck["attempts"].as_i64()),
        (Some("accepted"), Some(0)),
        "{stuck}"
    );
}
