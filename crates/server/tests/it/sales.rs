//! Web sales (`POST /api/synchronizer/sale`): validated, atomic, idempotent, never oversold.

use serde_json::{Value, json};
use stocksync_testkit::{Backend, TestApp, on_every_backend};

on_every_backend!(
    accepts_a_sale_durably_and_decrements_the_shop_quantity,
    sells_down_to_the_limit_and_no_further,
    refuses_unknown_items_and_bad_sales_without_writing,
    the_same_idempotency_key_sells_once,
    concurrent_sales_never_oversell,
    a_sale_goes_to_the_link_with_most_stock,
    the_primary_link_sells_first_then_the_others,
    a_return_puts_units_back_on_both_sides_once,
);

async fn quantity(app: &TestApp, ecommerce_id: &str) -> Vec<i64> {
    let (_, all) = app.get("/api/items?per_page=1000").await;
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["ecommerceID"] == ecommerce_id)
        .map(|l| l["quantity"].as_i64().unwrap())
        .collect()
}

fn sale(item: Value, delta: Value, balance: Value) -> Value {
    json!({ "item_ecommerce_id": item, "delta": delta, "balance": balance })
}

async fn accepts_a_sale_durably_and_decrements_the_shop_quantity(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "42").await;
    let (status, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!(42), json!(2), json!(1990)),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "accepted");
    assert_eq!(answer["error_message"], Value::Null);
    let location = answer["location"].as_str().unwrap().to_owned();
    assert!(location.starts_with("/api/sales/"), "{location}");
    assert_eq!(quantity(&app, "42").await, [3]);

    // Durable, and on its way to the POS: still there after a restart.
    let app = app.restart().await;
    let stored = app.wait_sale(&location).await;
    assert_eq!(stored["state"], "confirmed", "{stored}");
    assert_eq!(stored["delta"], 2);
    assert_eq!(stored["balance"], 1990);
    assert_eq!(stored["item_pos_id"], "VAR-1");
    assert_eq!(quantity(&app, "42").await, [3]);
    let (status, _) = app.get("/api/sales/no-such-sale").await;
    assert_eq!(status, 404);
}

async fn sells_down_to_the_limit_and_no_further(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 3);
    let (status, _) = app.register(json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "7", "account_id": stocksync_testkit::ACCOUNT, "limit_quantity": 1 })).await;
    assert_eq!(status, 201);
    let (status, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!("7"), json!(2), json!(0)),
        )
        .await;
    assert_eq!(
        status, 202,
        "selling down to exactly the limit is allowed: {answer}"
    );
    assert_eq!(quantity(&app, "7").await, [1]);
    let (status, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!("7"), json!(1), json!(0)),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["status"], "error");
    assert_eq!(answer["code"], "not_enough_stock");
    assert_eq!(quantity(&app, "7").await, [1]);
}

async fn refuses_unknown_items_and_bad_sales_without_writing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "42").await;
    let cases = [
        (
            sale(json!("nope"), json!(1), json!(0)),
            404,
            "no link has shop item 'nope'",
        ),
        (
            sale(json!(42), json!(0), json!(0)),
            422,
            "delta: must be a whole number from 1 to 1000000",
        ),
        (
            sale(json!(42), json!(-2), json!(0)),
            422,
            "delta: must be a whole number from 1 to 1000000",
        ),
        (sale(json!(42), json!(1), json!(-5)), 422, "balance"),
        (sale(json!(42), json!("1"), json!(0)), 422, "delta"),
        (sale(json!(42), json!(1.5), json!(0)), 422, "delta"),
        (
            json!({ "item_ecommerce_id": 42, "delta": 1 }),
            422,
            "balance",
        ),
    ];
    for (body, status, says) in cases {
        let (got, answer) = app.post("/api/synchronizer/sale", body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        let message = answer["error_message"].as_str().unwrap();
        assert!(
            message.contains(says),
            "{body}: '{message}' should mention '{says}'"
        );
    }
    let oversized = format!(
        r#"{{"item_ecommerce_id":"{}","delta":1,"balance":0}}"#,
        "x".repeat(100_000)
    );
    let request = app
        .request(reqwest::Method::POST, "/api/synchronizer/sale")
        .header("content-type", "application/json")
        .body(oversized);
    let (status, answer) = stocksync_testkit::send(request).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["code"], "body_too_large");
    let no_type = app
        .request(reqwest::Method::POST, "/api/synchronizer/sale")
        .body("{}");
    let (status, answer) = stocksync_testkit::send(no_type).await;
    assert_eq!(status, 415, "{answer}");
    assert_eq!(quantity(&app, "42").await, [5], "nothing changed");
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["pending_sales"], 0);
}

async fn the_same_idempotency_key_sells_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "42").await;
    let keyed = |key: &str, delta: i64| {
        app.request(reqwest::Method::POST, "/api/synchronizer/sale")
            .header("Idempotency-Key", key)
            .json(&sale(json!(42), json!(delta), json!(500)))
    };
    let (status, first) = stocksync_testkit::send(keyed("order-1001", 1)).await;
    assert_eq!(status, 202, "{first}");
    let (status, again) = stocksync_testkit::send(keyed("order-1001", 1)).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(
        again["location"], first["location"],
        "the first result, answered again"
    );
    assert_eq!(quantity(&app, "42").await, [4], "decremented once");

    let (status, reused) = stocksync_testkit::send(keyed("order-1001", 3)).await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["code"], "idempotency_key_reused");
    assert_eq!(quantity(&app, "42").await, [4]);

    let with_order = json!({ "item_ecommerce_id": 42, "delta": 1, "balance": 500, "order_id": 77 });
    let (_, first) = app.post("/api/synchronizer/sale", with_order.clone()).await;
    let (_, second) = app.post("/api/synchronizer/sale", with_order).await;
    assert_eq!(first["location"], second["location"]);
    assert_eq!(quantity(&app, "42").await, [3]);
    let (_, stored) = app.get(first["location"].as_str().unwrap()).await;
    assert_eq!(stored["idempotency_key"], "order:77");
}

async fn concurrent_sales_never_oversell(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 10);
    app.link("VAR-1", "42").await;
    let attempts = 30;
    let answers = futures_join(
        (0..attempts)
            .map(|i| {
                let request = app
                    .request(reqwest::Method::POST, "/api/synchronizer/sale")
                    .header("Idempotency-Key", format!("concurrent-{}", i % 25))
                    .json(&sale(json!(42), json!(1), json!(100)));
                stocksync_testkit::send(request)
            })
            .collect(),
    )
    .await;
    let mut accepted = std::collections::BTreeSet::new();
    let mut by_key: std::collections::BTreeMap<usize, Vec<u16>> = Default::default();
    let mut refused = 0;
    for (i, (status, body)) in answers.into_iter().enumerate() {
        by_key.entry(i % 25).or_default().push(status);
        match status {
            202 => {
                accepted.insert(body["location"].as_str().unwrap().to_owned());
            }
            409 => refused += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(accepted.len(), 10, "exactly the stock was sold");
    assert!(refused >= 5, "the rest were refused ({refused})");
    for (key, statuses) in by_key {
        assert!(
            statuses.windows(2).all(|pair| pair[0] == pair[1]),
            "key {key} got different answers at once: {statuses:?}"
        );
    }
    assert_eq!(quantity(&app, "42").await, [0]);
    for location in &accepted {
        app.wait_sale(location).await;
    }
    let written = app.catalog.writes_per_key();
    let sent: std::collections::BTreeMap<String, usize> = accepted
        .iter()
        .map(|location| (location.rsplit('/').next().unwrap().to_owned(), 1))
        .collect();
    assert_eq!(written, sent, "each accepted sale written on the POS once");
    assert_eq!(app.catalog.quantity("VAR-1"), 0);
}

async fn a_sale_goes_to_the_link_with_most_stock(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 2);
    app.other_catalog.put("77", "Mug", None, 6);
    app.link("VAR-1", "10").await;
    let (status, _) = app.register(json!({ "item_pos_id": "77", "item_ecommerce_id": "10", "account_id": stocksync_testkit::OTHER_ACCOUNT })).await;
    assert_eq!(status, 201);
    let (status, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!(10), json!(3), json!(0)),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let (_, stored) = app.get(answer["location"].as_str().unwrap()).await;
    assert_eq!(stored["account_id"], stocksync_testkit::OTHER_ACCOUNT);
    let mut quantities = quantity(&app, "10").await;
    quantities.sort();
    assert_eq!(quantities, [2, 3]);
}

/// Runs the futures concurrently and gathers their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("a request task"));
    }
    outputs
}

async fn the_primary_link_sells_first_then_the_others(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 2);
    app.other_catalog.put("77", "Mug", None, 6);
    app.link("VAR-1", "10").await;
    let (status, other) = app.register(json!({ "item_pos_id": "77", "item_ecommerce_id": "10", "account_id": stocksync_testkit::OTHER_ACCOUNT })).await;
    assert_eq!(status, 201);
    assert_eq!(other["primary"], false);
    let (_, links) = app.get("/api/items").await;
    let small = links["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, patched) = app
        .patch(&format!("/api/items/{small}"), json!({ "primary": true }))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["primary"], true);

    let (_, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!(10), json!(2), json!(0)),
        )
        .await;
    let (_, stored) = app.get(answer["location"].as_str().unwrap()).await;
    assert_eq!(
        stored["account_id"],
        stocksync_testkit::ACCOUNT,
        "the primary link, though it has less"
    );
    let (_, answer) = app
        .post(
            "/api/synchronizer/sale",
            sale(json!(10), json!(1), json!(0)),
        )
        .await;
    let (_, stored) = app.get(answer["location"].as_str().unwrap()).await;
    assert_eq!(
        stored["account_id"],
        stocksync_testkit::OTHER_ACCOUNT,
        "the primary is sold out"
    );

    // Making the other link primary takes the flag from the first.
    let (_, patched) = app
        .patch(
            &format!("/api/items/{}", other["id"].as_str().unwrap()),
            json!({ "primary": true }),
        )
        .await;
    assert_eq!(patched["primary"], true);
    let (_, first) = app.get(&format!("/api/items/{small}")).await;
    assert_eq!(first["primary"], false);
    let (status, _) = app.patch(&format!("/api/items/{small}"), json!({})).await;
    assert_eq!(status, 400);
}

async fn a_return_puts_units_back_on_both_sides_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 3);
    app.register(json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "7", "account_id": stocksync_testkit::ACCOUNT, "limit_quantity": 2 }))
        .await;
    let sold = json!({ "item_ecommerce_id": 7, "delta": 1, "balance": 500, "order_id": 31 });
    let (status, sale) = app.post("/api/synchronizer/sale", sold).await;
    assert_eq!(status, 202, "{sale}");
    app.wait_sale(sale["location"].as_str().unwrap()).await;
    assert_eq!(quantity(&app, "7").await, [2]);

    // The same order id: a return is not taken for a replay of the sale.
    let returned = json!({ "item_ecommerce_id": 7, "delta": 2, "balance": 1000, "order_id": 31 });
    let (status, back) = app.post("/api/synchronizer/return", returned.clone()).await;
    assert_eq!(status, 202, "{back}");
    assert_ne!(back["location"], sale["location"]);
    let (_, again) = app.post("/api/synchronizer/return", returned).await;
    assert_eq!(
        again["location"], back["location"],
        "a retried return answers the first"
    );
    let stored = app.wait_sale(back["location"].as_str().unwrap()).await;
    assert_eq!(
        (stored["kind"].as_str(), stored["delta"].as_i64()),
        (Some("return"), Some(2)),
        "{stored}"
    );
    assert_eq!(stored["state"], "confirmed");
    assert_eq!(
        quantity(&app, "7").await,
        [4],
        "back on the shop side, above the limit or not"
    );
    assert_eq!(app.catalog.quantity("VAR-1"), 4, "and on the POS, once");

    for (body, status) in [
        (
            json!({ "item_ecommerce_id": 7, "delta": 0, "balance": 0 }),
            422,
        ),
        (
            json!({ "item_ecommerce_id": 7, "delta": -1, "balance": 0 }),
            422,
        ),
        (
            json!({ "item_ecommerce_id": "nope", "delta": 1, "balance": 0 }),
            404,
        ),
    ] {
        assert_eq!(app.post("/api/synchronizer/return", body).await.0, status);
    }
    let link = &app.get("/api/items").await.1["items"][0];
    let (_, history) = app
        .get(&format!(
            "/api/items/{}/history",
            link["id"].as_str().unwrap()
        ))
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
            "sale_confirmed",
            "web_return",
            "sale_confirmed",
            "web_sale",
            "registered"
        ]
    );
}
