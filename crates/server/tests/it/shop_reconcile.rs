//! The shop side of a reconciliation, against a simulated WooCommerce shop: a merchant's edit is
//! drift (a dry run changes nothing; a real run has the worker push the fix, one write), the
//! nightly schedule and the CLI cover the shop; and two fixes of the shop engine: a variation
//! linked by its bare id is found and pushed, and an order line read before its item was linked
//! never moves the POS, not even when the order is cancelled after the link. A Shopify shop is
//! reconciled by one job of `shop:shopify` as well.

use crate::scheduler::eventually;
use crate::shop::{wait_read, woo_app, writes_of};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use stocksync::clock::ManualClock;
use stocksync::simulate::shops::SimShop;
use stocksync_domain::EcommerceId;
use stocksync_testkit::{Backend, Options, TestApp, on_every_backend, woo_shop};
use stocksync_woocommerce::WooSim;

on_every_backend!(
    a_merchant_edit_is_drift_and_a_dry_run_changes_nothing,
    a_real_run_has_the_worker_push_the_fix_once,
    a_read_is_not_recorded_over_what_was_learnt_since,
    the_nightly_reconciliation_covers_the_shop,
    a_variation_linked_by_its_bare_id_is_located_and_pushed,
    an_order_line_read_before_its_item_was_linked_never_moves_the_pos,
    a_shopify_shop_is_reconciled_and_fixed_once,
);

/// A shop item `MUG` (9 on the shop) linked to `VAR-1` (5 on the POS), adopted (stocksync
/// wrote 5: one write), then edited by the merchant to 8; and an item no link feeds. Its id.
async fn edited_mug(app: &TestApp, sim: &WooSim) -> i64 {
    let id = sim.add_simple("MUG", Some(9));
    sim.add_simple("POSTER", Some(2));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(app, id, 5).await;
    assert_eq!((sim.stock(id), writes_of(sim, id)), (Some(5), 1), "adopted");
    sim.set_stock(id, 8);
    id
}

/// Runs a reconciliation of every account and the WooCommerce shop; its merged result.
async fn reconcile(app: &TestApp, dry_run: bool) -> Value {
    reconcile_of(app, "shop:woocommerce", dry_run).await
}

/// Runs a reconciliation of every account and the shop, whose job account is `shop` (one job
/// of it); its merged result.
async fn reconcile_of(app: &TestApp, shop: &str, dry_run: bool) -> Value {
    let (status, answer) = app
        .post_empty(&format!("/api/synchronizer/reconcile?dry_run={dry_run}"))
        .await;
    assert_eq!(status, 202, "{answer}");
    let accounts: Vec<&str> = answer["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|task| task["account_id"].as_str())
        .collect();
    assert_eq!(
        accounts.iter().filter(|account| **account == shop).count(),
        1,
        "one job of {shop}: {answer}"
    );
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    task["result"].clone()
}

async fn a_merchant_edit_is_drift_and_a_dry_run_changes_nothing(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = edited_mug(&app, &sim).await;

    let result = reconcile(&app, true).await;
    let shop = &result["shop"];
    assert_eq!(
        shop["drifted"],
        json!([{ "item_ecommerce_id": id.to_string(), "shop_quantity": 8, "wanted": 5,
                 "why": "changed_on_shop", "detail": null }]),
        "{result}"
    );
    assert_eq!(
        (&shop["drifted_total"], &shop["unlinked"], &shop["recorded"]),
        (&json!(1), &json!(1), &json!(0)),
        "{result}"
    );
    assert_eq!(result["dry_run"], true);
    assert!(
        result["accounts"].as_array().is_some_and(|a| a.len() == 2),
        "the accounts' reports are there too: {result}"
    );

    // Nothing recorded: stocksync still believes the shop has 5, so nothing is due to push.
    let store = app.db.store().await;
    let item = EcommerceId::new(id.to_string());
    let kept = store.shop_pushes(&[item]).await.unwrap();
    assert_eq!(kept[0].shop_quantity, Some(5));
    assert!(store.due_shop_pushes(10).await.unwrap().is_empty());
    assert_eq!((sim.stock(id), writes_of(&sim, id)), (Some(8), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_command_lists_the_shops_drift() {
    const KEY: &str = "remote-cli-key-0123456789";
    let sim = woo_shop().await;
    let options = Options {
        shop: Some(sim.clone()),
        api_key: Some(KEY.into()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let id = edited_mug(&app, &sim).await;
    let (ok, out) = crate::remote::run(&app, &["reconcile", "--dry-run"], KEY).await;
    assert!(
        ok && out.contains(&format!(
            "shop: item {id} shows 8, stocksync wants 5 (changed on the shop)\n"
        )) && out.contains("shop: 1 item(s) differ, 0 in step, 1 shop item(s) not linked"),
        "{out}"
    );
    assert_eq!(sim.stock(id), Some(8));
}

async fn a_real_run_has_the_worker_push_the_fix_once(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = edited_mug(&app, &sim).await;

    let result = reconcile(&app, false).await;
    let shop = &result["shop"];
    assert_eq!(shop["drifted"][0]["why"], "changed_on_shop", "{result}");
    assert_eq!(shop["recorded"], 1, "{result}");
    let text = crate::metrics::scrape(&app).await;
    assert!(
        text.contains(
            "stocksync_reconcile_drift_total{account=\"shop:woocommerce\",kind=\"reconcile\"} 1\n"
        ),
        "the shop's drift is counted as an account's is:\n{text}"
    );
    eventually("the worker puts 5 back on the shop", || async {
        sim.stock(id) == Some(5)
    })
    .await;
    wait_read(&app, id, 5).await;
    assert_eq!(writes_of(&sim, id), 2, "the fix: exactly one write");

    let result = reconcile(&app, true).await;
    assert_eq!(
        (&result["shop"]["drifted_total"], &result["shop"]["in_sync"]),
        (&json!(0), &json!(1)),
        "{result}"
    );
    assert_eq!(writes_of(&sim, id), 2);
}

async fn a_read_is_not_recorded_over_what_was_learnt_since(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = edited_mug(&app, &sim).await;
    let store = app.db.store().await;
    let item = EcommerceId::new(id.to_string());
    let listed = store.shop_queue().await.unwrap();
    let version = listed.iter().find(|k| k.item == item).unwrap().version;
    // An order read meanwhile: the shop moved its own stock, read it again before writing.
    store
        .forget_shop_quantities(std::slice::from_ref(&item))
        .await
        .unwrap();
    let read = stocksync_domain::shop::ShopItem {
        item: stocksync_domain::shop::ItemRef {
            id: item.clone(),
            locator: None,
        },
        name: String::new(),
        sku: None,
        barcode: None,
        quantity: Some(8),
    };
    assert!(!store.shop_item_reconciled(&read, version).await.unwrap());
    let now = store.shop_queue().await.unwrap();
    let row = now.iter().find(|k| k.item == item).unwrap();
    assert!(row.version > version, "{row:?}");
    assert!(
        store
            .shop_item_reconciled(&read, row.version)
            .await
            .unwrap(),
        "with nothing learnt since, the read is recorded"
    );
}

async fn the_nightly_reconciliation_covers_the_shop(backend: Backend) {
    let sim = woo_shop().await;
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 7, 10, 2, 59, 30).unwrap(),
    ));
    let options = Options {
        shop: Some(sim.clone()),
        clock: Some(clock.clone()),
        // The clock jumps: leases that long keep running jobs their worker's.
        config: Some(
            json!({ "TimeZone": "UTC", "ReconcileCron": "0 3 * * *", "JobLeaseSeconds": 3600 }),
        ),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let (status, body) = app.post_empty("/api/synchronizer/start").await;
    assert_eq!(status, 200, "{body}");
    eventually("the schedules are begun", || async {
        app.db
            .pairs("SELECT COUNT(*), 0 FROM stocksync_schedules WHERE name LIKE 'reconcile:%'")
            .await[0]
            .0
            == 3
    })
    .await;
    clock.set(Utc.with_ymd_and_hms(2026, 7, 10, 3, 0, 0).unwrap());
    eventually("the shop is reconciled at 3", || async {
        let (_, page) = app.get("/api/jobs?kind=reconcile").await;
        page["jobs"].as_array().unwrap().iter().any(|job| {
            job["account_id"] == "shop:woocommerce"
                && job["scheduled"] == true
                && job["state"] == "succeeded"
                && job["result"]["shop"]["dry_run"] == false
        })
    })
    .await;
}

async fn a_variation_linked_by_its_bare_id_is_located_and_pushed(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let (parent, variations) = sim.add_variable("Tee", &[("TEE-M", Some(4)), ("TEE-L", Some(1))]);
    let tee = variations[0];
    app.catalog.put("VAR-1", "Tee M", None, 6);
    app.link("VAR-1", &tee.to_string()).await;
    eventually("the variation shows stocksync's 6", || async {
        sim.stock(tee) == Some(6)
    })
    .await;
    assert_eq!(writes_of(&sim, tee), 1, "one write");
    let store = app.db.store().await;
    let kept = store
        .shop_pushes(&[EcommerceId::new(tee.to_string())])
        .await
        .unwrap();
    assert_eq!(
        kept[0].item.locator.as_deref(),
        Some(parent.to_string().as_str()),
        "its parent is kept for the next reads and writes"
    );
    assert!(
        store
            .shop_events(Some("refused"), 10)
            .await
            .unwrap()
            .is_empty(),
        "never refused as missing"
    );

    app.catalog.set_quantity("VAR-1", 2);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    eventually("the till's change reaches the variation", || async {
        sim.stock(tee) == Some(2)
    })
    .await;
    assert_eq!(writes_of(&sim, tee), 2);
}

async fn an_order_line_read_before_its_item_was_linked_never_moves_the_pos(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = sim.add_simple("MUG", Some(5));
    let order = sim.place_order(&[(id, 2)], "processing").unwrap();
    let (status, answer) = app.deliver_shop("order.created", order).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );

    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    sim.set_order_status(order, "cancelled").unwrap();
    let (status, answer) = app.deliver_shop("order.updated", order).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ingested")),
        "{answer}"
    );

    // The delivery is ingested before its answer: a return would be a sale by now.
    let (status, sales) = app.get("/api/sales").await;
    assert_eq!(status, 200, "{sales}");
    assert_eq!(
        sales["sales"].as_array().map(Vec::len),
        Some(0),
        "the POS never got the sale, so it gets no return: {sales}"
    );
    let line = app
        .db
        .store()
        .await
        .shop_line(
            &order.to_string(),
            &sim.order_lines(order)[0].to_string(),
            |n| n.to_string(),
        )
        .await
        .unwrap();
    assert!(line.unlinked && line.moves == 0, "{line:?}");
    assert_eq!(app.catalog.quantity("VAR-1"), 5);
}

async fn a_shopify_shop_is_reconciled_and_fixed_once(backend: Backend) {
    let Some((app, sim)) = crate::shop_shopify::shopify_app(backend).await else {
        return;
    };
    let id = sim.add_variant("Mug", "MUG", None, Some(9));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    assert_eq!(SimShop::writes_of(&*sim, &id.to_string()), 1, "adopted");
    sim.set_available(id, 8);

    let result = reconcile_of(&app, "shop:shopify", false).await;
    let shop = &result["shop"];
    assert_eq!(
        (
            &shop["drifted"][0]["item_ecommerce_id"],
            &shop["drifted"][0]["shop_quantity"],
            &shop["drifted"][0]["why"]
        ),
        (&json!(id.to_string()), &json!(8), &json!("changed_on_shop")),
        "{result}"
    );
    assert_eq!(shop["recorded"], 1, "{result}");
    eventually("the worker puts 5 back on the shop", || async {
        sim.available(id) == Some(5)
    })
    .await;
    wait_read(&app, id, 5).await;
    assert_eq!(
        SimShop::writes_of(&*sim, &id.to_string()),
        2,
        "the fix: exactly one write"
    );
}
