//! PrestaShop's own side of the shop engine, against `PrestaSim` over loopback HTTP: no
//! webhooks (`POST /webhooks/shop` says so; its orders reach the POS by the poll alone); a
//! combination (`"7-13"`) is linked and its own stock row written, never the product's sum
//! row; `Shop.OrderStates` decides which states count as sold; an 8.x shop is written one
//! PATCH per change, a 1.7 one a PUT of the whole row.

use crate::scheduler::eventually;
use crate::shop::{poll_now, wait_read};
use serde_json::json;
use std::sync::Arc;
use stocksync::simulate::shops::SimShop;
use stocksync_domain::ShopKind;
use stocksync_prestashop::{PrestaSim, PrestaSimOptions};
use stocksync_testkit::{Backend, Options, TestApp, message, on_every_backend};

on_every_backend!(
    its_webhook_is_a_clear_404_and_orders_come_by_the_poll,
    a_combination_is_written_on_its_own_row_never_the_products_sum,
    an_order_counts_only_once_in_a_sold_state_of_the_configuration,
    an_8x_shop_is_written_one_patch_per_change_a_17_one_put,
);

const PRESTASHOP: ShopKind = ShopKind::PrestaShop;

async fn presta(options: PrestaSimOptions) -> Arc<PrestaSim> {
    Arc::new(
        PrestaSim::start(options)
            .await
            .expect("the PrestaShop simulator starts"),
    )
}

/// A stocksync on `sim`, with `Shop` extended by `extra` keys.
async fn presta_app(
    backend: Backend,
    sim: &Arc<PrestaSim>,
    extra: serde_json::Value,
) -> Option<TestApp> {
    let mut shop = sim.settings(None);
    for (key, value) in extra.as_object().expect("an object") {
        shop[key] = value.clone();
    }
    let options = Options {
        shop: Some(sim.clone()),
        config: Some(json!({ "Shop": shop })),
        ..Options::default()
    };
    TestApp::spawn_with(backend, options).await
}

/// PUTs and PATCHes of `product`'s (`combination`'s) stock row.
fn row_writes(sim: &PrestaSim, product: i64, combination: i64) -> u64 {
    let row = sim.row_id(product, combination).expect("a stock row");
    sim.writes_per_row().get(&row).copied().unwrap_or(0)
}

async fn its_webhook_is_a_clear_404_and_orders_come_by_the_poll(backend: Backend) {
    let sim = presta(PrestaSimOptions::default()).await;
    let Some(app) = presta_app(backend, &sim, json!({ "WebhookSecret": "s3cret" })).await else {
        return;
    };
    let (status, answer) = app.deliver_shop("order.created", 1).await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        message(&answer).contains("PrestaShop sends no webhooks"),
        "{answer}"
    );

    let id = sim.add_product("Mug", "MUG", "", 5);
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    SimShop::place_order(&*sim, &[(&id.to_string(), 2)]).unwrap();
    poll_now(&app, PRESTASHOP).await;
    eventually("the polled order reaches the POS", || async {
        app.catalog.recorded_sales().len() == 1
    })
    .await;
    assert_eq!(app.catalog.quantity("VAR-1"), 3);
    assert!(
        sim.requests_to("GET /orders") >= 1,
        "the poll read the orders"
    );
}

async fn a_combination_is_written_on_its_own_row_never_the_products_sum(backend: Backend) {
    let sim = presta(PrestaSimOptions::default()).await;
    let Some(app) = presta_app(backend, &sim, json!({})).await else {
        return;
    };
    let (tee, sizes) = sim.add_combinations("Tee", &[("TEE-S", "", 4), ("TEE-M", "", 6)]);
    let (small, medium) = (sizes[0], sizes[1]);
    let item = format!("{tee}-{small}");
    assert!(sim.item_ids().contains(&item), "{:?}", sim.item_ids());
    app.catalog.put("VAR-S", "Tee S", None, 2);
    let (status, link) = app
        .post(
            "/api/items",
            json!({ "item_pos_id": "VAR-S", "item_ecommerce_id": item, "account_id": stocksync_testkit::ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["ecommerceID"], item.as_str(), "{link}");
    eventually("the combination has stocksync's 2", || async {
        sim.stock(tee, small) == Some(2)
    })
    .await;
    assert_eq!(row_writes(&sim, tee, small), 1, "its own row: one write");
    assert_eq!(row_writes(&sim, tee, 0), 0, "the product's sum row: never");
    assert_eq!(row_writes(&sim, tee, medium), 0);
    assert_eq!(sim.stock(tee, medium), Some(6));

    // A web order of the combination: one POS sale, no write back.
    SimShop::place_order(&*sim, &[(&item, 1)]).unwrap();
    poll_now(&app, PRESTASHOP).await;
    eventually("the order reaches the POS", || async {
        app.catalog.recorded_sales().len() == 1
    })
    .await;
    wait_read(&app, &item, 1).await;
    assert_eq!(app.catalog.quantity("VAR-S"), 1);
    assert_eq!(row_writes(&sim, tee, small), 1);
    assert_eq!(row_writes(&sim, tee, 0), 0);
}

async fn an_order_counts_only_once_in_a_sold_state_of_the_configuration(backend: Backend) {
    let sim = presta(PrestaSimOptions::default()).await;
    let Some(app) = presta_app(backend, &sim, json!({ "OrderStates": { "Sold": [2] } })).await
    else {
        return;
    };
    let id = sim.add_product("Mug", "MUG", "", 5);
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    // 1: awaiting check payment, sold by default but not by this configuration.
    let order = sim.place_order(&[(id, 0, 2)], 1);
    poll_now(&app, PRESTASHOP).await;
    assert!(
        app.catalog.recorded_sales().is_empty(),
        "{:?}",
        app.catalog.recorded_sales()
    );
    assert_eq!(app.catalog.quantity("VAR-1"), 5);

    assert!(sim.set_order_state(order, 2));
    poll_now(&app, PRESTASHOP).await;
    eventually("the paid order reaches the POS", || async {
        app.catalog.recorded_sales().len() == 1
    })
    .await;
    poll_now(&app, PRESTASHOP).await;
    let sales = app.catalog.recorded_sales();
    assert_eq!(sales.len(), 1, "{sales:?}");
    assert_eq!(sales[0].quantity, 2);
}

async fn an_8x_shop_is_written_one_patch_per_change_a_17_one_put(backend: Backend) {
    for (version, method, other) in [("8.1.2", "PATCH", "PUT"), ("1.7.8.11", "PUT", "PATCH")] {
        let sim = presta(PrestaSimOptions {
            version: version.into(),
            ..PrestaSimOptions::default()
        })
        .await;
        let Some(app) = presta_app(backend, &sim, json!({})).await else {
            return;
        };
        let id = sim.add_product("Mug", "MUG", "", 9);
        app.catalog.put("VAR-1", "Mug", None, 5);
        app.link("VAR-1", &id.to_string()).await;
        eventually("adopted: the shop has 5", || async {
            sim.stock(id, 0) == Some(5)
        })
        .await;
        app.catalog.set_quantity("VAR-1", 3);
        let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
        app.wait_task(task["location"].as_str().unwrap()).await;
        eventually("the till sale is written", || async {
            sim.stock(id, 0) == Some(3)
        })
        .await;
        assert_eq!(row_writes(&sim, id, 0), 2, "{version}");
        assert_eq!(
            sim.requests_to(&format!("{method} /stock_availables/{{id}}")),
            2,
            "{version}: one {method} per write"
        );
        assert_eq!(
            sim.requests_to(&format!("{other} /stock_availables/{{id}}")),
            0,
            "{version}: no {other}"
        );
        let row = sim.row(sim.row_id(id, 0).unwrap()).unwrap();
        assert_eq!(row["quantity"], "3", "{version}: {row:?}");
    }
}
