//! The shop side against a simulated shop of each platform (WooCommerce, Shopify, PrestaShop)
//! over loopback HTTP (the real client, the real worker, the real webhook route): till sales
//! reach the shop's item, web orders, cancellations and restocking refunds reach the POS
//! exactly once however often they are seen, oversold and untracked items are reported,
//! adoption is in the ledger, unchanged values are never written, an idle poll is one call and
//! orders from before the connection never reach the POS. WooCommerce's own deliveries (ping,
//! product, bad signatures) are WooCommerce-only here; each platform's specifics are in
//! `shop_shopify` and `shop_prestashop`.

use crate::scheduler::eventually;
use serde_json::{Value, json};
use std::sync::Arc;
use stocksync::simulate::shops::SimShop;
use stocksync_domain::ShopKind;
use stocksync_testkit::{
    ACCOUNT, Backend, Options, TestApp, on_every_backend, send, sim_shop, woo_shop,
};
use stocksync_woocommerce::WooSim;

/// One test per platform and backend (`shop::shopify::mariadb::…`) of each named
/// `async fn(Backend, ShopKind)`.
macro_rules! on_every_platform {
    ($($test:ident),* $(,)?) => {
        on_every_platform!(@platform woocommerce, WooCommerce, $($test),*);
        on_every_platform!(@platform shopify, Shopify, $($test),*);
        on_every_platform!(@platform prestashop, PrestaShop, $($test),*);
    };
    (@platform $module:ident, $kind:ident, $($test:ident),*) => {
        mod $module {
            $(
                async fn $test(backend: stocksync_testkit::Backend) {
                    super::$test(backend, stocksync_domain::ShopKind::$kind).await
                }
            )*
            stocksync_testkit::on_every_backend!($($test),*);
        }
    };
}

on_every_platform!(
    a_till_sale_reaches_the_shop_in_one_write_after_adopting_it,
    a_web_order_seen_by_webhooks_and_the_poll_is_one_sale_and_no_write,
    a_cancelled_order_and_a_restocking_refund_return_their_units_once,
    an_order_line_the_stock_does_not_cover_is_sold_and_reported,
    an_item_the_shop_does_not_track_is_reported_never_written,
    an_idle_poll_is_one_call,
    orders_from_before_the_shop_was_connected_never_reach_the_pos,
);

on_every_backend!(
    a_badly_signed_webhook_is_refused_and_changes_nothing,
    a_ping_is_answered_and_a_product_delivery_has_the_orders_read,
    a_product_delivery_echoing_our_write_is_ignored_and_the_merchants_edit_is_set_back,
    without_a_shop_its_webhook_is_a_clear_404,
);

/// A stocksync whose `Shop` is a simulated `kind` shop (sending no webhooks of its own: a test
/// delivers them), and that shop.
pub(crate) async fn shop_app(
    backend: Backend,
    kind: ShopKind,
) -> Option<(TestApp, Arc<dyn SimShop>)> {
    let sim = sim_shop(kind).await;
    let options = Options {
        shop: Some(sim.clone()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await?;
    Some((app, sim))
}

/// [`shop_app`] on WooCommerce, with the simulator's own controls.
pub(crate) async fn woo_app(backend: Backend) -> Option<(TestApp, Arc<WooSim>)> {
    let sim = woo_shop().await;
    let options = Options {
        shop: Some(sim.clone()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await?;
    Some((app, sim))
}

pub(crate) fn writes_of(sim: &WooSim, id: i64) -> u64 {
    sim.writes_per_item().get(&id).copied().unwrap_or(0)
}

/// The history of the link of `pos_ref`, as the API shows it.
async fn history(app: &TestApp, link: &Value) -> String {
    let (status, page) = app
        .get(&format!(
            "/api/items/{}/history",
            link["id"].as_str().expect("a link id")
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page.to_string()
}

/// Waits until stocksync has read the shop's quantity of `id` (adopted it).
pub(crate) async fn wait_read(app: &TestApp, id: impl std::fmt::Display, quantity: i64) {
    let store = app.db.store().await;
    let item = stocksync_domain::EcommerceId::new(id.to_string());
    eventually(&format!("the shop's {quantity} of {id} is read"), || {
        let (store, item) = (store.clone(), item.clone());
        async move {
            let pushes = store.shop_pushes(&[item]).await.unwrap();
            pushes.first().and_then(|p| p.shop_quantity) == Some(quantity)
        }
    })
    .await;
}

/// When the shop's orders were last polled.
async fn last_poll(app: &TestApp, kind: ShopKind) -> Option<chrono::DateTime<chrono::Utc>> {
    app.db
        .store()
        .await
        .shop_read_state(kind.as_str())
        .await
        .unwrap()
        .last_poll_at
}

/// Has the shop worker poll the orders now (a real matching run wakes it; PrestaShop sends no
/// webhooks and `Shop.Cron` is a minute), and waits until a whole poll begun after this call
/// has ended: two polls in a row, the first of which may have been under way already.
pub(crate) async fn poll_now(app: &TestApp, kind: ShopKind) {
    for _ in 0..2 {
        let before = last_poll(app, kind).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        'poll: loop {
            let (status, answer) = app
                .post("/api/items/match", json!({ "account_id": ACCOUNT }))
                .await;
            assert_eq!(status, 200, "{answer}");
            for _ in 0..20 {
                if last_poll(app, kind).await > before {
                    break 'poll;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no poll of the {kind:?} shop within 30 s"
            );
        }
    }
}

/// Tells stocksync that `order` changed as the platform's webhook would (none on PrestaShop);
/// the delivery has the order read at once.
async fn announce(app: &TestApp, kind: ShopKind, order: &str) {
    if let Some((status, answer)) = app.announce_order(kind, order).await {
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], "ingested", "{answer}");
    }
}

async fn wait_pos_sales(app: &TestApp, n: usize) {
    eventually(&format!("{n} sales on the POS"), || async {
        app.catalog.recorded_sales().len() >= n
    })
    .await;
}

async fn events(app: &TestApp, kind: &str) -> Vec<stocksync_store::ShopEventView> {
    app.db
        .store()
        .await
        .shop_events(Some(kind), 100)
        .await
        .unwrap()
}

async fn a_till_sale_reaches_the_shop_in_one_write_after_adopting_it(
    backend: Backend,
    kind: ShopKind,
) {
    let Some((app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("MUG", Some(9));
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", &id).await;
    eventually("the shop has stocksync's 5", || async {
        sim.quantity(&id) == Some(5)
    })
    .await;
    assert_eq!(sim.writes_of(&id), 1, "adopting: one write");
    let history = history(&app, &link).await;
    assert!(
        history.contains("shop_adopted") && history.contains("the shop showed 9"),
        "the shop's old number is in the ledger: {history}"
    );

    app.catalog.set_quantity("VAR-1", 3);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    eventually("the till sale reaches the shop", || async {
        sim.quantity(&id) == Some(3)
    })
    .await;
    assert_eq!(sim.writes_of(&id), 2, "the till sale: exactly one write");
    assert_eq!(sim.writes(), 2, "no other item written");
}

async fn a_web_order_seen_by_webhooks_and_the_poll_is_one_sale_and_no_write(
    backend: Backend,
    kind: ShopKind,
) {
    let Some((app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("MUG", Some(5));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id).await;
    wait_read(&app, &id, 5).await;
    let order = sim.place_order(&[(&id, 2)]).unwrap();
    assert_eq!(sim.quantity(&id), Some(3), "the shop lowered its own stock");
    for _ in 0..2 {
        announce(&app, kind, &order).await;
    }
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 1).await;
    wait_read(&app, &id, 3).await;
    poll_now(&app, kind).await;
    let sales = app.catalog.recorded_sales();
    assert_eq!(sales.len(), 1, "one sale: {sales:?}");
    assert_eq!((sales[0].pos_ref.as_str(), sales[0].quantity), ("VAR-1", 2));
    assert_eq!(app.catalog.quantity("VAR-1"), 3);
    assert_eq!(
        sim.writes_of(&id),
        0,
        "the shop already had 3: nothing was written, ever"
    );
    assert_eq!(sim.quantity(&id), Some(3));
}

async fn a_cancelled_order_and_a_restocking_refund_return_their_units_once(
    backend: Backend,
    kind: ShopKind,
) {
    let Some((app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("MUG", Some(10));
    app.catalog.put("VAR-1", "Mug", None, 10);
    app.link("VAR-1", &id).await;
    wait_read(&app, &id, 10).await;

    let refunded = sim.place_order(&[(&id, 2)]).unwrap();
    announce(&app, kind, &refunded).await;
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 1).await;
    assert!(sim.refund_order(&refunded));
    for _ in 0..2 {
        announce(&app, kind, &refunded).await;
    }
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 2).await;

    let cancelled = sim.place_order(&[(&id, 3)]).unwrap();
    announce(&app, kind, &cancelled).await;
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 3).await;
    assert!(sim.cancel_order(&cancelled));
    for _ in 0..2 {
        announce(&app, kind, &cancelled).await;
    }
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 4).await;
    // Seen again by a last poll: nothing moves twice.
    poll_now(&app, kind).await;
    let deltas: Vec<i64> = app
        .catalog
        .recorded_sales()
        .iter()
        .map(|s| s.quantity)
        .collect();
    assert_eq!(
        deltas,
        [2, -2, 3, -3],
        "sold, refunded, sold, cancelled: each once"
    );
    assert_eq!(app.catalog.quantity("VAR-1"), 10);
    assert!(app.catalog.writes_per_key().values().all(|&n| n == 1));
    wait_read(&app, &id, 10).await;
    assert_eq!(sim.quantity(&id), Some(10));
    // WooCommerce and Shopify restock both themselves; PrestaShop's Refunded state does not
    // restock, so the two units the POS got back are written to the shop once.
    let restocks_refunds = kind != ShopKind::PrestaShop;
    assert_eq!(
        sim.writes_of(&id),
        u64::from(!restocks_refunds),
        "the shop restocked itself, or stocksync gave it the refunded units once"
    );
}

async fn an_order_line_the_stock_does_not_cover_is_sold_and_reported(
    backend: Backend,
    kind: ShopKind,
) {
    let Some((app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("MUG", Some(1));
    app.catalog.put("VAR-1", "Mug", None, 1);
    app.link("VAR-1", &id).await;
    wait_read(&app, &id, 1).await;
    // The merchant types 5 in the shop's admin, unseen by stocksync, and a shopper buys 3
    // before stocksync sets it back: the POS had only 1.
    sim.set_quantity(&id, 5);
    let order = sim.place_order(&[(&id, 3)]).unwrap();
    announce(&app, kind, &order).await;
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 1).await;
    assert_eq!(
        app.catalog.recorded_sales()[0].quantity,
        3,
        "the money is taken"
    );
    let oversold = events(&app, "oversold").await;
    assert_eq!(oversold.len(), 1, "{oversold:?}");
    assert_eq!(oversold[0].item_ecommerce_id, id);
    assert_eq!(oversold[0].order_id.as_deref(), Some(&*order));
}

async fn an_item_the_shop_does_not_track_is_reported_never_written(
    backend: Backend,
    kind: ShopKind,
) {
    let Some((app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("TEA", None);
    let shown = sim.quantity(&id);
    app.catalog.put("VAR-2", "Tea", None, 4);
    app.link("VAR-2", &id).await;
    eventually("the untracked item is reported", || async {
        !events(&app, "unmanaged").await.is_empty()
    })
    .await;
    let reported = events(&app, "unmanaged").await;
    assert_eq!(reported[0].item_ecommerce_id, id, "{reported:?}");
    let stats = app.db.store().await.shop_push_stats().await.unwrap();
    assert_eq!(stats.unmanaged, 1);
    // A till sale does not write it either.
    app.catalog.set_quantity("VAR-2", 3);
    let (_, task) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(task["location"].as_str().unwrap()).await;
    poll_now(&app, kind).await;
    assert_eq!(sim.writes(), 0);
    assert_eq!(sim.quantity(&id), shown);
}

async fn an_idle_poll_is_one_call(backend: Backend, kind: ShopKind) {
    let Some((mut app, sim)) = shop_app(backend, kind).await else {
        return;
    };
    let id = sim.add_item("MUG", Some(4));
    sim.place_order(&[(&id, 1)]).unwrap();
    let store = app.db.store().await;
    eventually("the first poll reads the order", || async {
        store
            .shop_read_state(kind.as_str())
            .await
            .unwrap()
            .watermark
            .is_some()
    })
    .await;
    app.stop().await;
    let polled_at = last_poll(&app, kind).await;
    let before = sim.requests();
    // The next process polls at once, from the watermark less the overlap: the same order.
    let app = app.restart().await;
    eventually("the restarted process polls", || async {
        last_poll(&app, kind).await > polled_at
    })
    .await;
    assert_eq!(sim.requests() - before, 1, "an idle poll is one call");
    assert_eq!(
        events(&app, "unlinked").await.len(),
        1,
        "an unlinked line is reported on its first sight only"
    );
}

async fn orders_from_before_the_shop_was_connected_never_reach_the_pos(
    backend: Backend,
    kind: ShopKind,
) {
    let sim = sim_shop(kind).await;
    let id = sim.add_item("OLD", Some(10));
    let old = sim
        .place_past_order(&[(&id, 2)], chrono::Duration::days(30))
        .unwrap();
    let options = Options {
        shop: Some(sim.clone()),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    app.catalog.put("VAR-1", "Old mug", None, 8);
    app.link("VAR-1", &id).await;
    wait_read(&app, &id, 8).await;
    let new = sim.place_order(&[(&id, 1)]).unwrap();
    announce(&app, kind, &new).await;
    poll_now(&app, kind).await;
    wait_pos_sales(&app, 1).await;
    announce(&app, kind, &old).await;
    poll_now(&app, kind).await;
    let sales = app.catalog.recorded_sales();
    assert_eq!(sales.len(), 1, "only the order placed since: {sales:?}");
    assert_eq!(sales[0].quantity, 1);

    // Cancelled after the connection, the old order is still not stocksync's: nothing reaches
    // the POS, and the stock the shop gave back is read and set back to what stocksync allows.
    let writes = sim.writes_of(&id);
    assert_eq!(sim.quantity(&id), Some(7));
    assert!(sim.cancel_order(&old));
    assert_eq!(sim.quantity(&id), Some(9), "the shop gave the 2 units back");
    announce(&app, kind, &old).await;
    poll_now(&app, kind).await;
    eventually("the shop set back to what stocksync allows", || async {
        sim.writes_of(&id) == writes + 1 && sim.quantity(&id) == Some(7)
    })
    .await;
    assert_eq!(app.catalog.recorded_sales().len(), 1, "no sale, no return");
}

async fn a_badly_signed_webhook_is_refused_and_changes_nothing(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = sim.add_simple("MUG", Some(5));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    let order = sim.place_order(&[(id, 2)], "processing").unwrap();
    let body = serde_json::json!({ "id": order }).to_string();
    let client = stocksync_testkit::http_client();
    for signature in [Some("bm90IGEgc2lnbmF0dXJl"), None] {
        let mut request = client
            .post(app.url("/webhooks/shop"))
            .header("X-WC-Webhook-Topic", "order.created")
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header("X-WC-Webhook-Signature", signature);
        }
        let (status, answer) = send(request).await;
        assert_eq!(status, 401, "{answer}");
    }
    assert_eq!(
        sim.requests_to("GET /orders/{id}"),
        0,
        "the order was not read"
    );
    assert!(app.catalog.recorded_sales().is_empty());
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
    assert_eq!(line, stocksync_store::LineSeen::default());
    assert_eq!(app.catalog.quantity("VAR-1"), 5);
}

async fn a_ping_is_answered_and_a_product_delivery_has_the_orders_read(backend: Backend) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let (status, answer) = send(
        stocksync_testkit::http_client()
            .post(app.url("/webhooks/shop"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("webhook_id=1"),
    )
    .await;
    assert_eq!((status, &answer["status"]), (200, &Value::from("ping")));

    let id = sim.add_simple("MUG", Some(5));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", &id.to_string()).await;
    wait_read(&app, id, 5).await;
    // An order no webhook announces: only the poll can see it.
    sim.place_order(&[(id, 1)], "processing").unwrap();
    let (status, answer) = app.deliver_shop("product.updated", id).await;
    assert_eq!((status, &answer["status"]), (200, &Value::from("accepted")));
    wait_pos_sales(&app, 1).await;
    wait_read(&app, id, 4).await;
    assert_eq!(app.catalog.recorded_sales().len(), 1);
    assert_eq!(writes_of(&sim, id), 0);

    let (status, answer) = app.deliver_shop("coupon.created", 7).await;
    assert_eq!((status, &answer["status"]), (200, &Value::from("ignored")));
    let (status, answer) = send(
        stocksync_testkit::http_client()
            .post(app.url("/webhooks/shop"))
            .header("X-WC-Webhook-Topic", "order.created")
            .header(
                "X-WC-Webhook-Signature",
                stocksync_testkit::shop_signature(b"not json"),
            )
            .body("not json"),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
}

async fn without_a_shop_its_webhook_is_a_clear_404(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, answer) = app.deliver_shop("order.created", 1).await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        stocksync_testkit::message(&answer).contains("no shop platform is configured"),
        "{answer}"
    );
}

/// A signed `product.updated` delivery saying the shop has `quantity` of product `id`.
async fn product_updated(app: &TestApp, id: i64, quantity: i64) -> (u16, Value) {
    let body =
        serde_json::json!({ "id": id, "parent_id": 0, "manage_stock": true, "stock_quantity": quantity })
            .to_string();
    send(
        stocksync_testkit::http_client()
            .post(app.url("/webhooks/shop"))
            .header("Content-Type", "application/json")
            .header("X-WC-Webhook-Topic", "product.updated")
            .header(
                "X-WC-Webhook-Signature",
                stocksync_testkit::shop_signature(body.as_bytes()),
            )
            .body(body),
    )
    .await
}

async fn a_product_delivery_echoing_our_write_is_ignored_and_the_merchants_edit_is_set_back(
    backend: Backend,
) {
    let Some((app, sim)) = woo_app(backend).await else {
        return;
    };
    let id = sim.add_simple("MUG", Some(5));
    app.catalog.put("VAR-1", "Mug", None, 4);
    app.link("VAR-1", &id.to_string()).await;
    eventually("stocksync writes 4", || async { sim.stock(id) == Some(4) }).await;
    // WooCommerce announces our own write back to us: nothing to read.
    let (status, answer) = product_updated(&app, id, 4).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &Value::from("ignored")),
        "{answer}"
    );
    // The merchant types 9 in the admin: read again and set back to 4, once.
    sim.set_stock(id, 9);
    let (status, answer) = product_updated(&app, id, 9).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &Value::from("accepted")),
        "{answer}"
    );
    eventually("the merchant's edit is set back", || async {
        sim.stock(id) == Some(4) && writes_of(&sim, id) == 2
    })
    .await;
}
