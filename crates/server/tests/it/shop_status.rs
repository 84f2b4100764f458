//! `GET /api/shop`, `GET /api/shop/events` and the shop's lines of `/metrics`: absent without a
//! `Shop`; with one, the numbers of a store seeded directly (a push queue with an item written,
//! one due, one failing, one unmanaged; an oversold order line; a refused write; a poll), and
//! no secret of the `Shop` configuration in any answer.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use stocksync_domain::EcommerceId;
use stocksync_domain::sale::SaleRequest;
use stocksync_domain::shop::{ItemRef, ShopItem};
use stocksync_store::SaleOutcome;
use stocksync_testkit::{
    Backend, Options, SHOP_SECRETS, TestApp, on_every_backend, send, shop_section,
};

on_every_backend!(
    without_a_shop_there_is_no_shop_status,
    the_status_counts_what_the_store_holds
);

const KEY: &str = "shop-status-k3y-0123456789";

/// An app with the API key and the test `Shop` section.
pub fn with_shop() -> Options {
    Options {
        api_key: Some(KEY.into()),
        config: Some(json!({ "Shop": shop_section() })),
        ..Options::default()
    }
}

/// Links four shop items and seeds the shop side's tables: item 101 written to the shop,
/// 102 due (never read), 103 failing, 104 unmanaged; an order line of 102 (which has no
/// stock) taken anyway, so oversold; a write of 103 refused; a poll of orders that moved
/// stock. Answers the poll's watermark.
pub async fn seed_shop(app: &TestApp) -> chrono::DateTime<Utc> {
    app.catalog.put("VAR-1", "Blue mug", None, 5);
    app.catalog.put("VAR-2", "Bowl", None, 0);
    app.catalog.put("VAR-3", "Plate", None, 3);
    app.catalog.put("VAR-4", "Cup", None, 2);
    for (pos, shop) in [
        ("VAR-1", "101"),
        ("VAR-2", "102"),
        ("VAR-3", "103"),
        ("VAR-4", "104"),
    ] {
        app.link(pos, shop).await;
    }
    let store = app.db.store().await.with_shop_platform();
    store.queue_every_linked_item().await.unwrap();
    let id = EcommerceId::new;
    store.shop_item_written(&id("101"), 5).await.unwrap();
    store
        .shop_push_failed(
            &id("103"),
            "shop unavailable: 502",
            Utc::now() + Duration::hours(1),
        )
        .await
        .unwrap();
    store
        .shop_item_read(&ShopItem {
            item: ItemRef {
                id: id("104"),
                locator: None,
            },
            name: "Cup".into(),
            sku: None,
            barcode: None,
            quantity: None,
        })
        .await
        .unwrap();
    let line = SaleRequest {
        ecommerce_id: id("102"),
        delta: 1,
        balance_cents: 1200,
        idempotency_key: Some("shop-1001-1-1".into()),
    };
    let outcome = store.accept_shop_sale(&line, "1001").await.unwrap();
    assert!(matches!(outcome, SaleOutcome::Oversold(_)), "{outcome:?}");
    store
        .shop_event(
            "refused",
            "103",
            None,
            0,
            "the shop refused the write of 3".into(),
        )
        .await
        .unwrap();
    let watermark = Utc::now() - Duration::minutes(5);
    store
        .shop_polled("woocommerce", Some(watermark), true, None)
        .await
        .unwrap();
    watermark
}

fn assert_no_shop_secret(what: &str, text: &str) {
    for secret in SHOP_SECRETS {
        assert!(!text.contains(secret), "{what} shows a Shop secret: {text}");
    }
}

async fn without_a_shop_there_is_no_shop_status(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/api/shop", "/api/shop/events"] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["status"], "error", "{body}");
        assert_eq!(body["code"], "not_found", "{body}");
    }
    let metrics = app
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("stocksync_outbox_oldest_pending_seconds"),
        "{metrics}"
    );
    assert!(!metrics.contains("stocksync_shop_"), "{metrics}");
}

async fn the_status_counts_what_the_store_holds(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, with_shop()).await else {
        return;
    };
    let unauthenticated = stocksync_testkit::http_client();
    let (status, _) = send(unauthenticated.get(app.url("/api/shop"))).await;
    assert_eq!(status, 401, "behind the API key");

    let (status, empty) = app.get("/api/shop").await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["health"], "ok", "{empty}");
    assert_eq!(empty["pushes"]["items"], 0);
    assert_eq!(empty["orders"]["last_poll_at"], Value::Null);

    let watermark = seed_shop(&app).await;
    let (status, shop) = app.get("/api/shop").await;
    assert_eq!(status, 200, "{shop}");
    assert_eq!(shop["kind"], "woocommerce");
    assert_eq!(
        shop["base_url"], "http://127.0.0.1:9/",
        "no user or password"
    );
    assert_eq!(shop["webhooks"], "signed");
    assert_eq!(
        shop["pushes"],
        json!({
            "items": 4, "due": 2, "failing": 1, "unmanaged": 1,
            "oldest_due_at": shop["pushes"]["oldest_due_at"],
            "last_pushed_at": shop["pushes"]["last_pushed_at"],
        })
    );
    assert!(shop["pushes"]["oldest_due_at"].is_string(), "{shop}");
    assert!(shop["pushes"]["last_pushed_at"].is_string(), "{shop}");
    assert_eq!(
        shop["events"],
        json!({ "oversold": 1, "unlinked": 0, "unmanaged": 0, "refused": 1 })
    );
    let recent = shop["recent_events"].as_array().unwrap();
    let kinds: Vec<&str> = recent.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["refused", "oversold"], "newest first");
    assert_eq!(
        (
            &recent[1]["item_ecommerce_id"],
            &recent[1]["order_id"],
            &recent[1]["units"]
        ),
        (&json!("102"), &json!("1001"), &json!(1))
    );
    let orders = &shop["orders"];
    let read_back: chrono::DateTime<Utc> = orders["watermark"].as_str().unwrap().parse().unwrap();
    assert!(
        (read_back - watermark).num_milliseconds().abs() < 1000,
        "{orders}"
    );
    assert!(orders["last_poll_at"].is_string(), "{orders}");
    assert!(orders["last_order_at"].is_string(), "{orders}");
    assert_eq!(orders["last_error"], Value::Null);
    assert_eq!(shop["health"], "failing", "a push is failing");

    // The failing push goes through: nothing failing, the due change is recent.
    let store = app.db.store().await.with_shop_platform();
    store
        .shop_item_written(&EcommerceId::new("103"), 3)
        .await
        .unwrap();
    let (_, shop) = app.get("/api/shop").await;
    assert_eq!(
        (&shop["pushes"]["due"], &shop["pushes"]["failing"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(shop["health"], "ok", "{shop}");
    // A poll fails: failing, with its reason.
    store
        .shop_polled(
            "woocommerce",
            None,
            false,
            Some("shop unavailable: timed out"),
        )
        .await
        .unwrap();
    let (_, shop) = app.get("/api/shop").await;
    assert_eq!(shop["health"], "failing", "{shop}");
    assert_eq!(shop["orders"]["last_error"], "shop unavailable: timed out");

    let (status, oversold) = app.get("/api/shop/events?kind=oversold").await;
    assert_eq!(status, 200, "{oversold}");
    let events = oversold["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{oversold}");
    assert_eq!(events[0]["order_id"], "1001");
    let (_, newest) = app.get("/api/shop/events?limit=1").await;
    assert_eq!(newest["events"].as_array().unwrap().len(), 1);
    assert_eq!(newest["events"][0]["kind"], "refused");
    for bad in ["kind=sold", "limit=0", "limit=1001", "limit=ten"] {
        let (status, body) = app.get(&format!("/api/shop/events?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status"], "error", "{body}");
    }

    let metrics = app
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "# TYPE stocksync_shop_push_items gauge",
        "stocksync_shop_push_items 4\n",
        "stocksync_shop_push_due 1\n",
        "stocksync_shop_push_failing 0\n",
        "stocksync_shop_push_unmanaged 1\n",
        "# TYPE stocksync_shop_events_total counter",
        "stocksync_shop_events_total{kind=\"oversold\"} 1\n",
        "stocksync_shop_events_total{kind=\"unlinked\"} 0\n",
        "stocksync_shop_events_total{kind=\"refused\"} 1\n",
        "# HELP stocksync_shop_orders_last_poll_age_seconds ",
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }
    let gauge = |name: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name}: {metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let oldest = gauge("stocksync_shop_push_oldest_due_seconds");
    assert!((0.0..60.0).contains(&oldest), "{oldest}");
    let poll_age = gauge("stocksync_shop_orders_last_poll_age_seconds");
    assert!((0.0..60.0).contains(&poll_age), "{poll_age}");

    assert_no_shop_secret("/metrics", &metrics);
    for path in [
        "/api/shop",
        "/api/shop/events",
        "/dashboard/data/links",
        "/api/synchronizer",
        "/api/openapi.json",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_no_shop_secret(path, &body.to_string());
    }
    let page = app
        .request(reqwest::Method::GET, "/dashboard")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_no_shop_secret("/dashboard", &page);
}
