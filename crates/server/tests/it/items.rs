//! Registering, listing, changing and removing links (`/api/items`).

use serde_json::json;
use stocksync_testkit::{ACCOUNT, Backend, SECRETS, TestApp, on_every_backend};

on_every_backend!(
    registers_by_pos_id_with_the_pos_quantity,
    registers_by_exact_name_and_sku,
    ambiguous_or_missing_names_list_candidates,
    the_same_pos_product_cannot_be_linked_twice,
    one_shop_item_may_have_several_pos_products,
    unknown_account_and_pos_errors_are_explained,
    bad_registration_bodies_are_refused_and_write_nothing,
    lists_links_by_page_and_by_account_without_credentials,
    changes_the_limit_and_removes_links,
    many_links_registered_at_once_each_get_their_outcome,
);

async fn registers_by_pos_id_with_the_pos_quantity(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Blue mug", Some("MUG-B"), 7);
    let (status, link) = app.register(json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": 42, "account_id": ACCOUNT, "limit_quantity": 1 })).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["posID"], "VAR-1");
    assert_eq!(link["ecommerceID"], "42");
    assert_eq!(link["quantity"], 7);
    assert_eq!(link["limitQuantitySale"], 1);
    assert_eq!(link["name"], "Blue mug");
    assert_eq!(link["accountID"], ACCOUNT);
    let (_, listed) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(listed, json!([link]));
}

async fn registers_by_exact_name_and_sku(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("A", "Tea", Some("T-1"), 3);
    app.catalog.put("B", "Tea pot", Some("T-2"), 5);
    let (status, by_name) = app
        .register(json!({ "item_name": "Tea", "item_ecommerce_id": "1", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 201, "{by_name}");
    assert_eq!(by_name["posID"], "A", "the exact name wins over 'Tea pot'");
    let (status, by_sku) = app
        .register(json!({ "item_sku": "T-2", "item_ecommerce_id": "2", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 201, "{by_sku}");
    assert_eq!(by_sku["posID"], "B");
    assert_eq!(by_sku["quantity"], 5);
}

async fn ambiguous_or_missing_names_list_candidates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("A", "Scarf", None, 1);
    app.catalog.put("B", "Scarf", None, 2);
    app.catalog.put("C", "Wool scarf", None, 2);
    let (status, body) = app
        .register(json!({ "item_name": "Scarf", "item_ecommerce_id": "9", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["status"], "error");
    let ids: Vec<&str> = body["details"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["item_pos_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A", "B"]);

    let (status, body) = app
        .register(json!({ "item_name": "scarf!", "item_ecommerce_id": "9", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(stocksync_testkit::message(&body).contains("no product with name 'scarf!'"));

    let (status, body) = app
        .register(json!({ "item_name": "wool", "item_ecommerce_id": "9", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 404, "a partial name is not a silent guess: {body}");
    assert_eq!(body["details"]["candidates"][0]["name"], "Wool scarf");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 0);
}

async fn the_same_pos_product_cannot_be_linked_twice(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 4);
    let first = app.link("VAR-1", "10").await;
    let (status, body) = app
        .register(
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "11", "account_id": ACCOUNT }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["details"]["existing"], first);
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 1);
}

async fn one_shop_item_may_have_several_pos_products(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 4);
    app.other_catalog.put("77", "Mug", None, 2);
    app.link("VAR-1", "10").await;
    let (status, body) = app.register(json!({ "item_pos_id": 77, "item_ecommerce_id": "10", "account_id": stocksync_testkit::OTHER_ACCOUNT })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["posID"], "77");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 2);
}

async fn unknown_account_and_pos_errors_are_explained(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, body) = app
        .register(json!({ "item_pos_id": "X", "item_ecommerce_id": "1", "account_id": "nope" }))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(stocksync_testkit::message(&body).contains("no POS account 'nope'"));

    let (status, body) = app
        .register(json!({ "item_pos_id": "X", "item_ecommerce_id": "1", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(stocksync_testkit::message(&body).contains("no product with id 'X'"));

    app.catalog.set_down(true);
    let (status, body) = app
        .register(json!({ "item_pos_id": "X", "item_ecommerce_id": "1", "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "pos_unavailable");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 0);
}

async fn bad_registration_bodies_are_refused_and_write_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 4);
    let cases = [
        (
            json!({ "item_ecommerce_id": "1", "account_id": ACCOUNT }),
            400,
            "item_pos_id, item_sku or item_name",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "account_id": ACCOUNT }),
            400,
            "item_ecommerce_id or item_shop_sku",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "1", "item_shop_sku": "A", "account_id": ACCOUNT }),
            400,
            "one of them",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_shop_sku": "A", "account_id": ACCOUNT }),
            400,
            "needs a shop platform",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "1" }),
            422,
            "account_id",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": true, "account_id": ACCOUNT }),
            422,
            "item_ecommerce_id",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "", "account_id": ACCOUNT }),
            422,
            "must not be empty",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "1", "account_id": ACCOUNT, "limit_quantity": -1 }),
            422,
            "limit_quantity",
        ),
        (
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": "1", "account_id": ACCOUNT, "limit_quantity": "many" }),
            422,
            "limit_quantity",
        ),
        (json!([1, 2]), 422, "expected a JSON object"),
    ];
    for (body, status, says) in cases {
        let (got, answer) = app.post("/api/items", body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(answer["status"], "error");
        let message = answer["error_message"].as_str().unwrap();
        assert!(
            message.contains(says),
            "{body}: '{message}' should mention '{says}'"
        );
    }
    let malformed = app
        .request(reqwest::Method::POST, "/api/items")
        .header("content-type", "application/json")
        .body("{\"item_pos_id\": \"VAR-1\",");
    let (status, answer) = stocksync_testkit::send(malformed).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], "invalid_json");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 0, "nothing was written");
}

async fn lists_links_by_page_and_by_account_without_credentials(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..5 {
        app.catalog
            .put(&format!("V{i}"), &format!("Item {i}"), None, i);
        app.link(&format!("V{i}"), &format!("{i}")).await;
    }
    let (status, page) = app.get("/api/items?page=2&per_page=2").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 2);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Item 2", "Item 3"]);
    let (status, body) = app.get("/api/items?page=0").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.get("/api/items?per_page=abc").await;
    assert_eq!(status, 400, "{body}");

    let (status, of_account) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(status, 200);
    assert_eq!(of_account.as_array().unwrap().len(), 5);
    let text = of_account.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "a credential leaked: {text}");
    }
    let (status, other) = app
        .get(&format!("/api/items/{}", stocksync_testkit::OTHER_ACCOUNT))
        .await;
    assert_eq!((status, other), (200, json!([])));
    let (status, _) = app.get("/api/items/not-an-account").await;
    assert_eq!(status, 404);
}

async fn changes_the_limit_and_removes_links(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 4);
    let link = app.link("VAR-1", "10").await;
    let id = link["id"].as_str().unwrap();
    let (status, updated) = app
        .patch(&format!("/api/items/{id}"), json!({ "limit_quantity": 2 }))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["limitQuantitySale"], 2);
    let (status, same) = app
        .patch(&format!("/api/items/{id}"), json!({ "limit_quantity": 2 }))
        .await;
    assert_eq!((status, same["limitQuantitySale"].clone()), (200, json!(2)));
    let (status, _) = app
        .patch(&format!("/api/items/{id}"), json!({ "limit_quantity": -2 }))
        .await;
    assert_eq!(status, 422, "out of its bounds");
    let (status, _) = app
        .patch(&format!("/api/items/{id}"), json!({ "quantity": 2 }))
        .await;
    assert_eq!(
        status, 422,
        "only the limit and the primary flag can be changed"
    );
    let (status, _) = app
        .patch("/api/items/999", json!({ "limit_quantity": 1 }))
        .await;
    assert_eq!(status, 404);

    let (status, _) = app.delete(&format!("/api/items/{id}")).await;
    assert_eq!(status, 204);
    let (status, body) = app.delete(&format!("/api/items/{id}")).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.delete("/api/items/abc").await;
    assert_eq!(status, 400, "{body}");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 0);
}

/// `insert_links` (what `POST /api/items/match` uses) registers many links a transaction at a
/// time; a product already linked in the middle of a chunk is reported and the others go on.
async fn many_links_registered_at_once_each_get_their_outcome(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-7", "Linked before", None, 3);
    app.link("VAR-7", "7").await;
    let new = |i: usize| stocksync_domain::link::NewLink {
        pos_ref: stocksync_domain::PosRef::new(format!("BULK-{i}")),
        ecommerce_id: stocksync_domain::EcommerceId::new(format!("bulk-{i}")),
        quantity: i as i64 % 5,
        account_id: stocksync_domain::AccountId::new(ACCOUNT),
        description: format!("Bulk {i}"),
        limit_quantity: 0,
        primary: false,
        shop_locator: None,
    };
    let mut news: Vec<_> = (0..450).map(new).collect();
    news[250].pos_ref = stocksync_domain::PosRef::new("VAR-7");
    let store = app.db.store().await;
    let outcomes = store.insert_links(&news).await.unwrap();
    assert_eq!(outcomes.len(), 450);
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (250, stocksync_store::InsertedLink::AlreadyLinked(link)) => {
                assert_eq!(link.ecommerce_id.as_str(), "7")
            }
            (250, other) => panic!("the linked product was linked again: {other:?}"),
            (_, stocksync_store::InsertedLink::Created(link)) => {
                assert_eq!(link.ecommerce_id.as_str(), format!("bulk-{i}"));
                assert_eq!(link.quantity, i as i64 % 5);
            }
            (_, other) => panic!("link {i}: {other:?}"),
        }
    }
    let (status, page) = app.get("/api/items?per_page=1000").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 450, "449 new links and the one before");
}
