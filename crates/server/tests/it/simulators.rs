//! The service with the real vendor clients against the three POS simulators: registration,
//! till sales reaching the shop, web sales and returns reaching the POS once; the simulated
//! shops of `stocksync simulate` (WooCommerce, Shopify and PrestaShop described, the chosen
//! one's `Shop` section loaded; WooCommerce's items with the POS catalog's SKUs, its signed
//! webhooks to stocksync); and the original program's `appsettings.json` (only
//! `BaseUrl`s added) accepted as it is.

use crate::scheduler::eventually;
use serde_json::{Value, json};
use stocksync::config::Settings;
use stocksync::simulate::{SHOP_KINDS, Simulators};
use stocksync_domain::ShopKind;
use stocksync_testkit::{Backend, Options, TestApp, on_every_backend};

on_every_backend!(each_pos_round_trips_through_its_simulator);

/// `stocksync simulate`'s configuration, loaded as the service loads it, runs the shop side:
/// the shop's products match the POS catalog by SKU, and an order placed on the shop reaches
/// Square through the shop's signed webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_shop_matches_the_pos_catalog_and_its_webhooks_reach_stocksync() {
    // A port for stocksync, told to the shop before either starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sims = Simulators::start_for(&format!("http://127.0.0.1:{port}"), 6, 0)
        .await
        .unwrap();
    for kind in SHOP_KINDS {
        let settings = Settings::from_json(&sims.appsettings(kind), &|_| None).unwrap();
        let shop = settings.shop.as_ref().expect("a Shop section");
        assert_eq!(shop.kind, kind);
        assert_eq!(shop.base_url, sims.shop(kind).base_url());
        // Every shop is described, the chosen one in the appsettings, the others beside it.
        let described = sims.describe(kind);
        for shown in [
            sims.woocommerce.base_url(),
            sims.shopify.base_url(),
            sims.prestashop.base_url(),
            format!("127.0.0.1:{port}/webhooks/shop"),
        ] {
            assert!(described.contains(&shown), "{shown} not in:\n{described}");
        }
        let (chosen, alternatives) = described
            .split_once("The other shops")
            .expect("the alternatives");
        assert!(
            chosen.contains(&format!("\"Type\": \"{}\"", kind.display_name())),
            "{described}"
        );
        for other in SHOP_KINDS.into_iter().filter(|other| *other != kind) {
            assert!(
                alternatives.contains(&format!("\"Type\": \"{}\"", other.display_name())),
                "{described}"
            );
        }
    }
    let shop = sims.woocommerce.as_ref();

    let options = Options {
        config: Some(sims.appsettings(ShopKind::WooCommerce)),
        vendor_clients: true,
        listen_port: Some(port),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (status, matched) = app
        .post("/api/items/match", json!({ "account_id": "square-sim" }))
        .await;
    assert_eq!(status, 200, "{matched}");
    assert_eq!(matched["matched"].as_array().unwrap().len(), 6, "{matched}");
    for (at, item) in shop.item_ids().iter().enumerate() {
        let wanted = sims.square.quantity(&sims.square.product_refs()[at]);
        eventually("the shop shows Square's count", || async {
            shop.quantity(item) == wanted
        })
        .await;
    }
    let item = shop
        .item_ids()
        .into_iter()
        .find(|item| shop.quantity(item) >= Some(1))
        .expect("a stocked product");
    shop.place_order(&[(&item, 1)]).unwrap();
    eventually("the order reaches Square", || async {
        sims.square.recorded_web_sales() == 1
    })
    .await;
    eventually("the shop's webhook answered", || async {
        shop.deliveries() >= 1
    })
    .await;
    let metrics = stocksync_testkit::http_client()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("stocksync_webhook_events_total")
                && l.contains("\"shop\"")
                && l.contains("accepted")),
        "the shop's signed webhook was accepted:\n{metrics}"
    );
}

/// A product the simulator counts at least `at_least`, and its count.
fn stocked(
    refs: Vec<String>,
    quantity: impl Fn(&str) -> Option<i64>,
    at_least: i64,
) -> (String, i64) {
    refs.into_iter()
        .find_map(|r| quantity(&r).filter(|q| *q >= at_least).map(|q| (r, q)))
        .expect("a stocked product")
}

async fn shop_quantity(app: &TestApp, account: &str) -> i64 {
    let (_, links) = app.get(&format!("/api/items/{account}")).await;
    links[0]["quantity"].as_i64().unwrap()
}

async fn each_pos_round_trips_through_its_simulator(backend: Backend) {
    let sims = Simulators::start(30, 0).await.unwrap();
    let options = Options {
        config: Some(json!({ "PosAccess": sims.pos_settings() })),
        vendor_clients: true,
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let square = stocked(sims.square.product_refs(), |r| sims.square.quantity(r), 4);
    let hiboutik = stocked(
        sims.hiboutik.product_refs(),
        |r| sims.hiboutik.quantity(r),
        4,
    );
    let lightspeed = stocked(
        sims.lightspeed.product_refs(),
        |r| sims.lightspeed.quantity(r),
        4,
    );
    let accounts = [
        ("square-sim", &square, "1"),
        ("hiboutik-sim", &hiboutik, "2"),
        ("83050", &lightspeed, "3"),
    ];
    for (account, (pos_ref, quantity), item) in accounts {
        let (status, link) = app
            .post(
                "/api/items",
                json!({ "item_pos_id": pos_ref, "item_ecommerce_id": item, "account_id": account }),
            )
            .await;
        assert_eq!(status, 201, "{account}: {link}");
        assert_eq!(
            link["quantity"], *quantity,
            "{account} registered with the POS count"
        );
    }

    // Till sales reach the shop with the next sync.
    sims.square.till_sale(&square.0, 2);
    sims.hiboutik.till_sale(&hiboutik.0, 1);
    sims.lightspeed.till_sale(&lightspeed.0, 3);
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    assert_eq!(shop_quantity(&app, "square-sim").await, square.1 - 2);
    assert_eq!(shop_quantity(&app, "hiboutik-sim").await, hiboutik.1 - 1);
    assert_eq!(shop_quantity(&app, "83050").await, lightspeed.1 - 3);

    // A web sale of each, sent twice by the shop, is recorded once on its POS.
    for (_, _, item) in accounts {
        let body = json!({ "item_ecommerce_id": item, "delta": 1, "balance": 1250, "order_id": format!("web-{item}") });
        let (_, first) = app.post("/api/synchronizer/sale", body.clone()).await;
        let (_, again) = app.post("/api/synchronizer/sale", body).await;
        assert_eq!(first["location"], again["location"]);
        let sale = app.wait_sale(first["location"].as_str().unwrap()).await;
        assert_eq!(sale["state"], "confirmed", "{sale}");
    }
    assert_eq!(sims.square.recorded_web_sales(), 1);
    assert_eq!(sims.hiboutik.recorded_web_sales(), 1);
    assert_eq!(sims.lightspeed.recorded_web_sales(), 1);
    assert_eq!(sims.square.quantity(&square.0), Some(square.1 - 3));
    assert_eq!(sims.hiboutik.quantity(&hiboutik.0), Some(hiboutik.1 - 2));
    assert_eq!(
        sims.lightspeed.quantity(&lightspeed.0),
        Some(lightspeed.1 - 4)
    );

    // A return of each, also sent twice, puts one unit back on both sides.
    for (account, _, item) in accounts {
        let body = json!({ "item_ecommerce_id": item, "delta": 1, "balance": 1250, "order_id": format!("web-{item}") });
        let before = shop_quantity(&app, account).await;
        let (status, first) = app.post("/api/synchronizer/return", body.clone()).await;
        assert_eq!(status, 202, "{first}");
        let (_, again) = app.post("/api/synchronizer/return", body).await;
        assert_eq!(first["location"], again["location"]);
        let back = app.wait_sale(first["location"].as_str().unwrap()).await;
        assert_eq!(
            (back["state"].as_str(), back["kind"].as_str()),
            (Some("confirmed"), Some("return")),
            "{back}"
        );
        assert_eq!(shop_quantity(&app, account).await, before + 1);
    }
    assert_eq!(sims.square.quantity(&square.0), Some(square.1 - 2));
    assert_eq!(sims.hiboutik.quantity(&hiboutik.0), Some(hiboutik.1 - 1));
    assert_eq!(
        sims.lightspeed.quantity(&lightspeed.0),
        Some(lightspeed.1 - 3)
    );

    // The next read agrees with what the shop already shows.
    let (_, answer) = app
        .post_empty("/api/synchronizer/reconcile?dry_run=true")
        .await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    for account in task["result"]["accounts"].as_array().unwrap() {
        assert_eq!(account["ok"], true, "{task}");
        assert_eq!(account["report"]["drifted"], json!([]), "{task}");
    }
}

/// The seed README's `appsettings.json`, with `BaseUrl`s and `AuthUrl` pointing at the
/// simulators: accepted; its placeholder credentials are refused by the POS, visibly, and
/// never shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_appsettings_is_accepted_and_its_bad_credentials_reported() {
    let sims = Simulators::start(5, 0).await.unwrap();
    let mut original: Value =
        serde_json::from_str(include_str!("../fixtures/original-appsettings.json")).unwrap();
    let entries = original["PosAccess"]["PosConfigurations"]
        .as_array_mut()
        .unwrap();
    entries[0]["BaseUrl"] = json!(sims.square.base_url());
    entries[1]["BaseUrl"] = json!(sims.hiboutik.base_url());
    entries[2]["BaseUrl"] = json!(sims.lightspeed.base_url());
    entries[2]["AuthUrl"] = json!(sims.lightspeed.auth_url());
    let options = Options {
        config: Some(json!({ "PosAccess": original["PosAccess"].clone() })),
        vendor_clients: true,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (_, status) = app.get("/api/synchronizer").await;
    let ids: Vec<&str> = status["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "your_squarePOS_account_id",
            "your_hibouik_account_name",
            "your_lightspeed_account_id"
        ]
    );

    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "failed", "{task}");
    let error = task["error"].as_str().unwrap();
    for id in ids {
        assert!(
            error.contains(id),
            "every account's failure is named: {error}"
        );
    }
    let (_, status) = app.get("/api/synchronizer").await;
    let shown = format!("{task}{status}");
    for secret in [
        "your_squarePOS_access_token",
        "your_hiboutik_access_token",
        "your_lightspeed_access_token",
        "your_lightspeed_refresh_token",
        "your_lightspeed_cient_secret",
    ] {
        assert!(!shown.contains(secret), "'{secret}' shown: {shown}");
    }
}
