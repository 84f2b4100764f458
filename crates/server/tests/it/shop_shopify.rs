//! Shopify's own side of the shop engine, against `ShopifySim` over loopback HTTP: a delivery
//! sent again (same `X-Shopify-Webhook-Id`) is a duplicate and the order is read once; an
//! `inventory_levels/update` that echoes stocksync's own write is ignored without a read, the
//! merchant's edit is read and set back; a write refused as stale (`changeFromQuantity`) is
//! read again and retried, never applied; a web order's units move from available to committed
//! and are never written back; a badly signed delivery is refused and changes nothing; a
//! variant not stocked at the location is reported, or stocked there when the configuration asks.

use crate::scheduler::eventually;
use crate::shop::{poll_now, wait_read};
use serde_json::json;
use std::sync::Arc;
use stocksync_domain::ShopKind;
use stocksync_shopify::{ShopifySim, ShopifySimOptions};
use stocksync_testkit::{Backend, Options, TestApp, on_every_backend, send};

on_every_backend!(
    a_delivery_sent_again_is_a_duplicate_and_the_order_is_read_once,
    a_level_echoing_our_write_is_ignored_and_the_merchants_edit_is_set_back,
    a_stale_write_is_refused_read_again_and_retried,
    a_web_orders_units_are_committed_by_shopify_and_never_written_back,
    a_badly_signed_delivery_is_refused_and_changes_nothing,
    a_variant_not_stocked_at_the_location_is_reported_unless_activation_is_asked,
    a_level_saying_what_stocksync_wants_is_not_read_again,
);

const SHOPIFY: ShopKind = ShopKind::Shopify;

/// A stocksync whose `Shop` is a simulated Shopify shop (no webhooks of its own: the test
/// delivers them), and that shop.
pub(crate) async fn shopify_app(backend: Backend) -> Option<(TestApp, Arc<ShopifySim>)> {
    let sim = Arc::new(
        ShopifySim::start(ShopifySimOptions::default())
            .await
            .expect("the Shopify simulator starts"),
    );
    let options = Options {
        shop: Some(sim.clone()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await?;
    Some((app, sim))
}

/// A stocksync on a simulated Shopify shop (no webhooks of its own: the test delivers them),
/// with item `MUG` linked to `VAR-1` and both at `quantity`, the shop's level read. The
/// variant's id.
async fn mug_app(backend: Backend, quantity: i64) -> Option<(TestApp, Arc<ShopifySim>, u64)> {
    let (app, sim) = shopify_app(backend).await?;
    let id = sim.add_variant("Mug", "MUG", None, Some(quantity));
    app.catalog.put("VAR-1", "Mug", None, quantity);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, quantity).await;
    Some((app, sim, id))
}

fn writes_of(sim: &ShopifySim, variant: u64) -> u64 {
    let item = sim.inventory_item(variant).expect("a variant");
    sim.writes_per_item().get(&item).copied().unwrap_or(0)
}

/// An `inventory_levels/update` body for `variant` at the primary location.
fn level(sim: &ShopifySim, variant: u64, available: i64) -> serde_json::Value {
    let location: u64 = sim
        .location_id()
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a numeric location id");
    json!({
        "inventory_item_id": sim.inventory_item(variant),
        "location_id": location,
        "available": available,
        "updated_at": sim.now(),
    })
}

async fn a_delivery_sent_again_is_a_duplicate_and_the_order_is_read_once(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 5).await else {
        return;
    };
    let order = sim.place_order(&[(id, 2)]);
    let body = json!({ "id": order });
    let (status, answer) = app
        .deliver_shopify("orders/create", "delivery-1", &body)
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );
    let (status, answer) = app
        .deliver_shopify("orders/create", "delivery-1", &body)
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("duplicate")),
        "{answer}"
    );
    assert_eq!(sim.requests_to("order"), 1, "the order was read once");
    // A refund of the same order (another delivery) is read: a hint is never the truth.
    let (status, answer) = app
        .deliver_shopify(
            "refunds/create",
            "delivery-2",
            &json!({ "order_id": order }),
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );
    assert_eq!(sim.requests_to("order"), 2);
    poll_now(&app, SHOPIFY).await;
    let sales = app.catalog.recorded_sales();
    assert_eq!(sales.len(), 1, "{sales:?}");
    assert_eq!(sales[0].quantity, 2);
}

async fn a_level_echoing_our_write_is_ignored_and_the_merchants_edit_is_set_back(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 9).await else {
        return;
    };
    // A till sale: stocksync writes 6.
    app.catalog.set_quantity("VAR-1", 6);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    eventually("the till sale is written", || async {
        sim.available(id) == Some(6)
    })
    .await;
    assert_eq!(writes_of(&sim, id), 1);
    let reads = sim.requests_to("nodes");

    // Shopify's echo of that write.
    let (status, answer) = app
        .deliver_shopify("inventory_levels/update", "echo-1", &level(&sim, id, 6))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ignored")),
        "{answer}"
    );
    poll_now(&app, SHOPIFY).await;
    assert_eq!(sim.requests_to("nodes"), reads, "an echo is not read");
    assert_eq!(writes_of(&sim, id), 1);

    // The merchant types 11 in the admin.
    sim.set_available(id, 11);
    let (status, answer) = app
        .deliver_shopify("inventory_levels/update", "edit-1", &level(&sim, id, 11))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("accepted")),
        "{answer}"
    );
    eventually("the edit is read and set back to the POS's 6", || async {
        sim.available(id) == Some(6) && writes_of(&sim, id) == 2
    })
    .await;
    assert!(sim.requests_to("nodes") > reads, "the level was read again");
    let last = sim.writes().last().cloned().expect("a write");
    assert_eq!(last.quantity, 6);
}

async fn a_stale_write_is_refused_read_again_and_retried(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 5).await else {
        return;
    };
    let attempts = sim.requests_to("inventorySetQuantities");
    // The merchant changes the level after stocksync read it (no webhook tells it)…
    sim.set_available(id, 8);
    // …and a till sale makes stocksync write 3, expecting the 5 it read.
    app.catalog.set_quantity("VAR-1", 3);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    eventually("the right value is written after a read", || async {
        sim.available(id) == Some(3)
    })
    .await;
    assert_eq!(
        sim.requests_to("inventorySetQuantities") - attempts,
        2,
        "one write refused as stale, one applied"
    );
    assert_eq!(writes_of(&sim, id), 1, "the refused write was not applied");
    wait_read(&app, id, 3).await;
    assert_eq!(sim.available(id), Some(3));
}

async fn a_web_orders_units_are_committed_by_shopify_and_never_written_back(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 5).await else {
        return;
    };
    let order = sim.place_order(&[(id, 2)]);
    assert_eq!((sim.available(id), sim.committed(id)), (Some(3), Some(2)));
    let (status, answer) = app
        .deliver_shopify("orders/create", "order-1", &json!({ "id": order }))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );
    poll_now(&app, SHOPIFY).await;
    wait_read(&app, id, 3).await;
    assert_eq!(app.catalog.quantity("VAR-1"), 3);
    assert_eq!(writes_of(&sim, id), 0, "available already says 3");

    // A till sale: available is written (2), the committed units stay Shopify's.
    app.catalog.set_quantity("VAR-1", 2);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    eventually("the till sale is written", || async {
        sim.available(id) == Some(2)
    })
    .await;
    assert_eq!(sim.committed(id), Some(2), "no double counting");
    assert_eq!(writes_of(&sim, id), 1);
    assert_eq!(app.catalog.recorded_sales().len(), 1);
}

async fn a_badly_signed_delivery_is_refused_and_changes_nothing(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 5).await else {
        return;
    };
    let order = sim.place_order(&[(id, 2)]);
    let body = json!({ "id": order }).to_string();
    let client = stocksync_testkit::http_client();
    for signature in [Some("bm90IGEgc2lnbmF0dXJl"), None] {
        let mut request = client
            .post(app.url("/webhooks/shop"))
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Webhook-Id", "forged-1")
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header("X-Shopify-Hmac-Sha256", signature);
        }
        let (status, answer) = send(request).await;
        assert_eq!(status, 401, "{answer}");
    }
    assert_eq!(sim.requests_to("order"), 0, "the order was not read");
    assert!(app.catalog.recorded_sales().is_empty());
    assert_eq!(app.catalog.quantity("VAR-1"), 5);
    // The refused id was not remembered: the genuine delivery under it is read.
    let (status, answer) = app
        .deliver_shopify("orders/create", "forged-1", &json!({ "id": order }))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );
}

async fn a_variant_not_stocked_at_the_location_is_reported_unless_activation_is_asked(
    backend: Backend,
) {
    for activate in [false, true] {
        let sim = Arc::new(
            ShopifySim::start(ShopifySimOptions::default())
                .await
                .expect("the Shopify simulator starts"),
        );
        let id = sim.add_variant("Scarf", "SCARF", None, Some(3));
        sim.unstock(id);
        let mut shop = stocksync_testkit::shop_config(sim.as_ref());
        if activate {
            shop["ActivateAtLocation"] = json!(true);
        }
        let options = Options {
            config: Some(json!({ "Shop": shop })),
            ..Options::default()
        };
        let Some(app) = TestApp::spawn_with(backend, options).await else {
            return;
        };
        app.catalog.put("VAR-1", "Scarf", None, 4);
        app.link("VAR-1", &id.to_string()).await;
        let store = app.db.store().await;
        if activate {
            eventually("the variant is stocked at the location with 4", || async {
                sim.available(id) == Some(4)
            })
            .await;
            assert_eq!(sim.requests_to("inventoryActivate"), 1);
        } else {
            eventually("the variant is reported as not stocked", || async {
                !store
                    .shop_events(Some("unmanaged"), 10)
                    .await
                    .unwrap()
                    .is_empty()
            })
            .await;
            let event = &store.shop_events(Some("unmanaged"), 10).await.unwrap()[0];
            assert!(
                event.detail.contains("not stocked at the location"),
                "{}",
                event.detail
            );
            assert_eq!(
                sim.available(id),
                None,
                "never stocked behind the merchant's back"
            );
            assert_eq!(sim.requests_to("inventoryActivate"), 0);
            assert_eq!(writes_of(&sim, id), 0);
        }
    }
}

/// The echo of a write can reach `/webhooks/shop` before stocksync has recorded that write
/// (Shopify sends it while answering): a level that says what stocksync wants is not read
/// again; the next write is still a compare-and-set, so nothing is taken on trust.
async fn a_level_saying_what_stocksync_wants_is_not_read_again(backend: Backend) {
    let Some((app, sim, id)) = mug_app(backend, 5).await else {
        return;
    };
    // The shop is down: the web sale's new quantity (3) is wanted but not written.
    sim.faults().set(stocksync_pos::simkit::FaultPlan {
        error_rate: 1.0,
        ..Default::default()
    });
    app.sell(&id.to_string(), 2).await;
    let store = app.db.store().await;
    let item = stocksync_domain::EcommerceId::new(id.to_string());
    eventually("3 is wanted and not yet on the shop", || async {
        let push = store
            .shop_pushes(std::slice::from_ref(&item))
            .await
            .unwrap();
        push.first()
            .is_some_and(|p| p.wanted == 3 && p.shop_quantity == Some(5))
    })
    .await;
    let (status, answer) = app
        .deliver_shopify("inventory_levels/update", "echo-1", &level(&sim, id, 3))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ignored")),
        "{answer}"
    );
    let push = store
        .shop_pushes(std::slice::from_ref(&item))
        .await
        .unwrap();
    assert_eq!(
        push[0].shop_quantity,
        Some(5),
        "not forgotten: nothing to read"
    );
    // The shop back: the write, a compare-and-set on 5, lands.
    sim.faults().set(Default::default());
    eventually("the shop shows 3", || async {
        sim.available(id) == Some(3)
    })
    .await;
    assert_eq!(writes_of(&sim, id), 1);
}
