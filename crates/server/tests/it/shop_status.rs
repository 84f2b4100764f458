//! `GET /api/shop`, `GET /api/shop/events` and the shop's lines of `/metrics`: absent without a
//! `Shop`; with one, the numbers of what the real engine did against a simulated WooCommerce
//! shop ([`ShopScene`]: an item written, one the shop does not track, an oversold order line;
//! then, while the shop is down, a failing push and a poll's error, both gone once it is back),
//! and no secret of the `Shop` configuration in any answer; Shopify and PrestaShop shown as
//! themselves (PrestaShop's webhooks off, even with a `WebhookSecret`).

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::FaultPlan;
use stocksync_testkit::{
    Backend, Options, SHOP_WEBHOOK_SECRET, TestApp, on_every_backend, send, woo_shop,
};
use stocksync_woocommerce::WooSim;

on_every_backend!(
    without_a_shop_there_is_no_shop_status,
    the_status_counts_what_the_engine_did,
    shopify_and_prestashop_are_shown_as_such,
);

const KEY: &str = "shop-status-k3y-0123456789";

/// How long the engine may take to reach a state: a shop that is down costs each call its
/// retries (about 8 s), and a poll and a push are two calls.
const WAIT: Duration = Duration::from_secs(60);

/// A stocksync with the API key and a simulated WooCommerce shop, brought by its own engine to
/// a known state (see [`ShopScene::settled`]).
pub struct ShopScene {
    pub app: TestApp,
    pub sim: Arc<WooSim>,
    /// The shop item stocksync wrote 5 to (POS product `VAR-1`).
    pub written: i64,
    /// The shop item the shop does not track (`manage_stock` off; `VAR-4`).
    pub unmanaged: i64,
    /// The shop item sold once more than the POS had (`VAR-2`, 0 on the POS).
    pub oversold: i64,
    /// The order of that oversold line.
    pub order: i64,
}

impl ShopScene {
    /// Links three shop items and waits until the engine has written 5 to `written`, reported
    /// `unmanaged` and written 0 to `oversold` (which the shop had 2 of); then a shopper buys
    /// one `oversold` (checkouts concurrent, as two shoppers at once: the shop goes to -1), the
    /// shop announces the product's change, and the poll takes the order in: a sale the stock
    /// did not cover, reported, and the shop put back to 0.
    pub async fn settled(backend: Backend) -> Option<Self> {
        let sim = woo_shop().await;
        let options = Options {
            api_key: Some(KEY.into()),
            shop: Some(sim.clone()),
            ..Options::default()
        };
        let app = TestApp::spawn_with(backend, options).await?;
        let written = sim.add_simple("MUG", Some(0));
        let oversold = sim.add_simple("BOWL", Some(2));
        let unmanaged = sim.add_simple("CUP", None);
        app.catalog.put("VAR-1", "Blue mug", None, 5);
        app.catalog.put("VAR-2", "Bowl", None, 0);
        app.catalog.put("VAR-4", "Cup", None, 2);
        for (pos, shop) in [
            ("VAR-1", written),
            ("VAR-2", oversold),
            ("VAR-4", unmanaged),
        ] {
            app.link(pos, &shop.to_string()).await;
        }
        let mut scene = Self {
            app,
            sim,
            written,
            unmanaged,
            oversold,
            order: 0,
        };
        scene
            .status_when("the items written and the unmanaged one reported", |shop| {
                shop["pushes"]["items"] == 3
                    && shop["pushes"]["due"] == 0
                    && shop["pushes"]["unmanaged"] == 1
            })
            .await;
        assert_eq!(
            (scene.sim.stock(written), scene.sim.stock(oversold)),
            (Some(5), Some(0))
        );

        scene.sim.set_concurrent_checkout(true);
        scene.order = scene
            .sim
            .place_order(&[(oversold, 1)], "processing")
            .unwrap();
        assert_eq!(scene.sim.stock(oversold), Some(-1));
        let (status, answer) = scene.app.deliver_shop("product.updated", oversold).await;
        assert_eq!(status, 200, "{answer}");
        scene
            .status_when("the oversold line taken in, the shop back at 0", |shop| {
                shop["events"]["oversold"] == 1 && shop["pushes"]["due"] == 0
            })
            .await;
        assert_eq!(scene.sim.stock(oversold), Some(0));
        Some(scene)
    }

    /// The shop goes down (every call answered 5xx) and a web sale of `written` makes its push
    /// due: waits until that push is failing and the poll's error is recorded.
    pub async fn shop_down(&self) -> Value {
        self.sim.faults().set(FaultPlan {
            error_rate: 1.0,
            ..FaultPlan::default()
        });
        self.app.sell(&self.written.to_string(), 1).await;
        self.status_when("a failing push and a failed poll", |shop| {
            shop["pushes"]["failing"] == 1 && shop["orders"]["last_error"].is_string()
        })
        .await
    }

    /// The shop is back: waits until the push went through and a poll succeeded.
    pub async fn shop_back(&self) -> Value {
        self.sim.faults().set(FaultPlan::default());
        let shop = self
            .status_when("the push through, the poll answered", |shop| {
                shop["pushes"]["failing"] == 0
                    && shop["pushes"]["due"] == 0
                    && shop["orders"]["last_error"].is_null()
            })
            .await;
        assert_eq!(
            self.sim.stock(self.written),
            Some(4),
            "the sale reached the shop"
        );
        shop
    }

    /// `GET /api/shop`, asked until `check` holds (at most [`WAIT`]).
    pub async fn status_when(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, shop) = self.app.get("/api/shop").await;
            assert_eq!(status, 200, "{shop}");
            if check(&shop) {
                return shop;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {WAIT:?}: {shop}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Panics if `text` (an answer, a page, the metrics) shows a secret of the `Shop` section.
    pub fn assert_no_secret(&self, what: &str, text: &str) {
        for secret in [
            self.sim.consumer_key(),
            self.sim.consumer_secret(),
            SHOP_WEBHOOK_SECRET,
        ] {
            assert!(!text.contains(secret), "{what} shows a Shop secret: {text}");
        }
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
    let metrics = metrics(&app).await;
    assert!(
        metrics.contains("stocksync_outbox_oldest_pending_seconds"),
        "{metrics}"
    );
    assert!(!metrics.contains("stocksync_shop_"), "{metrics}");
}

async fn metrics(app: &TestApp) -> String {
    app.request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn the_status_counts_what_the_engine_did(backend: Backend) {
    let Some(scene) = ShopScene::settled(backend).await else {
        return;
    };
    let app = &scene.app;
    let (status, _) = send(stocksync_testkit::http_client().get(app.url("/api/shop"))).await;
    assert_eq!(status, 401, "behind the API key");

    let (status, shop) = app.get("/api/shop").await;
    assert_eq!(status, 200, "{shop}");
    assert_eq!(shop["kind"], "woocommerce");
    assert_eq!(shop["base_url"], format!("{}/", scene.sim.base_url()));
    assert_eq!(shop["webhooks"], "signed");
    assert_eq!(
        shop["pushes"],
        json!({
            "items": 3, "due": 0, "failing": 0, "unmanaged": 1,
            "oldest_due_at": null,
            "last_pushed_at": shop["pushes"]["last_pushed_at"],
        })
    );
    assert!(shop["pushes"]["last_pushed_at"].is_string(), "{shop}");
    assert_eq!(
        shop["events"],
        json!({ "oversold": 1, "unlinked": 0, "unmanaged": 1, "refused": 0 })
    );
    let recent = shop["recent_events"].as_array().unwrap();
    let kinds: Vec<&str> = recent.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["oversold", "unmanaged"], "newest first");
    assert_eq!(
        (
            &recent[0]["item_ecommerce_id"],
            &recent[0]["order_id"],
            &recent[0]["units"]
        ),
        (
            &json!(scene.oversold.to_string()),
            &json!(scene.order.to_string()),
            &json!(1)
        )
    );
    assert_eq!(
        recent[1]["item_ecommerce_id"],
        json!(scene.unmanaged.to_string())
    );
    let orders = &shop["orders"];
    assert!(orders["watermark"].is_string(), "{orders}");
    assert!(orders["last_poll_at"].is_string(), "{orders}");
    assert!(
        orders["last_order_at"].is_string(),
        "the poll took the order: {orders}"
    );
    assert_eq!(orders["last_error"], Value::Null);
    assert_eq!(shop["health"], "ok", "{shop}");

    // The shop goes down: the push of a sale fails, and so does the poll, with its reason.
    let shop = scene.shop_down().await;
    assert_eq!(shop["health"], "failing", "{shop}");
    assert_eq!(
        (&shop["pushes"]["due"], &shop["pushes"]["failing"]),
        (&json!(1), &json!(1))
    );
    assert!(shop["pushes"]["oldest_due_at"].is_string(), "{shop}");
    let error = shop["orders"]["last_error"].as_str().unwrap();
    assert!(error.contains("unavailable"), "{error}");
    scene.assert_no_secret("the poll's error", error);

    let metrics = metrics(app).await;
    for line in [
        "# TYPE stocksync_shop_push_items gauge",
        "stocksync_shop_push_items 3\n",
        "stocksync_shop_push_due 1\n",
        "stocksync_shop_push_failing 1\n",
        "stocksync_shop_push_unmanaged 1\n",
        "# TYPE stocksync_shop_events_total counter",
        "stocksync_shop_events_total{kind=\"oversold\"} 1\n",
        "stocksync_shop_events_total{kind=\"unlinked\"} 0\n",
        "stocksync_shop_events_total{kind=\"unmanaged\"} 1\n",
        "stocksync_shop_events_total{kind=\"refused\"} 0\n",
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
    assert!((0.0..120.0).contains(&oldest), "{oldest}");
    let poll_age = gauge("stocksync_shop_orders_last_poll_age_seconds");
    assert!((0.0..120.0).contains(&poll_age), "{poll_age}");
    // The oversold order line took its unit from the POS.
    assert!(
        gauge("stocksync_shop_order_lines_total") >= 1.0,
        "{metrics}"
    );
    assert!(gauge("stocksync_shop_order_units") >= 1.0, "{metrics}");
    scene.assert_no_secret("/metrics", &metrics);

    // Back up: the push goes through and the poll answers; healthy again.
    let shop = scene.shop_back().await;
    assert_eq!(shop["health"], "ok", "{shop}");

    let (status, oversold) = app.get("/api/shop/events?kind=oversold").await;
    assert_eq!(status, 200, "{oversold}");
    let events = oversold["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{oversold}");
    assert_eq!(events[0]["order_id"], scene.order.to_string());
    let (_, newest) = app.get("/api/shop/events?limit=1").await;
    assert_eq!(newest["events"].as_array().unwrap().len(), 1);
    assert_eq!(newest["events"][0]["kind"], "oversold");
    for bad in ["kind=sold", "limit=0", "limit=1001", "limit=ten"] {
        let (status, body) = app.get(&format!("/api/shop/events?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status"], "error", "{body}");
    }

    for path in [
        "/api/shop",
        "/api/shop/events",
        "/dashboard/data/links",
        "/api/synchronizer",
        "/api/openapi.json",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        scene.assert_no_secret(path, &body.to_string());
    }
    let page = app
        .request(reqwest::Method::GET, "/dashboard")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    scene.assert_no_secret("/dashboard", &page);
}

async fn shopify_and_prestashop_are_shown_as_such(backend: Backend) {
    for (kind, name, webhooks, secret) in [
        (ShopKind::Shopify, "shopify", "signed", "AccessToken"),
        (ShopKind::PrestaShop, "prestashop", "off", "ApiKey"),
    ] {
        let sim = stocksync_testkit::sim_shop(kind).await;
        let mut config = stocksync_testkit::shop_config(sim.as_ref());
        // PrestaShop sends none: its secret is ignored (with a warning).
        config["WebhookSecret"] = json!(SHOP_WEBHOOK_SECRET);
        let options = Options {
            api_key: Some(KEY.into()),
            shop: Some(sim.clone()),
            config: Some(json!({ "Shop": config })),
            ..Options::default()
        };
        let Some(app) = TestApp::spawn_with(backend, options).await else {
            return;
        };
        let id = sim.add_item("MUG", Some(9));
        app.catalog.put("VAR-1", "Mug", None, 5);
        app.link("VAR-1", &id).await;
        let deadline = Instant::now() + WAIT;
        let shop = loop {
            let (status, shop) = app.get("/api/shop").await;
            assert_eq!(status, 200, "{shop}");
            if shop["pushes"]["items"] == 1
                && shop["pushes"]["due"] == 0
                && shop["orders"]["last_poll_at"].is_string()
            {
                break shop;
            }
            assert!(Instant::now() < deadline, "{name}: not settled: {shop}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(sim.quantity(&id), Some(5), "{name}");
        assert_eq!(shop["kind"], name, "{shop}");
        assert_eq!(shop["base_url"], format!("{}/", sim.base_url()), "{shop}");
        assert_eq!(shop["webhooks"], webhooks, "{shop}");
        assert_eq!(shop["health"], "ok", "{shop}");
        let secret = config[secret].as_str().expect("a secret");
        assert!(!shop.to_string().contains(secret), "{name}: {shop}");
    }
}
