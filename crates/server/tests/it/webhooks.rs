//! Webhooks: Square's signed `inventory.count.updated` (checked, de-duplicated, stored, synced)
//! and Hiboutik's sale notifications (secret in the URL, sold items read and applied).

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use stocksync_domain::AccountId;
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions};
use stocksync_testkit::{
    ACCOUNT, Backend, HIBOUTIK_WEBHOOK_SECRET, OTHER_ACCOUNT, Options, SQUARE_WEBHOOK_KEY,
    SQUARE_WEBHOOK_URL, TestApp, http_client, on_every_backend, send,
};

on_every_backend!(
    a_signed_square_event_syncs_once,
    a_hiboutik_sale_notification_reads_the_sold_items,
    a_hiboutik_notification_of_many_products_reads_the_account_once,
    replayed_hiboutik_notifications_join_the_waiting_read
);

/// Square's signature: base64(HMAC-SHA256(key, notification URL ‖ body)).
pub fn sign(url: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SQUARE_WEBHOOK_KEY.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn event(event_id: &str) -> String {
    json!({
        "merchant_id": "M1", "type": "inventory.count.updated", "event_id": event_id,
        "created_at": "2026-11-29T10:00:00Z",
        "data": { "type": "inventory", "id": event_id, "object": { "inventory_counts": [
            { "catalog_object_id": "VAR-1", "state": "IN_STOCK", "location_id": "L1", "quantity": "2",
              "calculated_at": "2026-11-29T10:00:00Z" }
        ]}}
    })
    .to_string()
}

pub async fn post_square(app: &TestApp, body: &str, signature: &str) -> (u16, Value) {
    let request = http_client()
        .post(app.url(&format!("/webhooks/square/{ACCOUNT}")))
        .header("content-type", "application/json")
        .header("x-square-hmacsha256-signature", signature)
        .body(body.to_owned());
    send(request).await
}

/// Polls for up to 30 s (a bound for a busy machine, not a timing).
async fn wait_quantity(app: &TestApp, account: &str, quantity: i64) {
    for _ in 0..1500 {
        let (_, links) = app.get(&format!("/api/items/{account}")).await;
        if links[0]["quantity"] == quantity {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the quantity of {account}'s link did not become {quantity} within 30 s");
}

async fn a_signed_square_event_syncs_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    app.catalog.set_quantity("VAR-1", 2);

    let body = event("evt-1");
    let (status, answer) =
        post_square(&app, &body, &sign("https://elsewhere.example/hook", &body)).await;
    assert_eq!(status, 401, "signed for another URL: {answer}");
    let (status, _) = post_square(
        &app,
        &body.replace("\"2\"", "\"9\""),
        &sign(SQUARE_WEBHOOK_URL, &body),
    )
    .await;
    assert_eq!(status, 401, "a tampered body");
    let (status, _) = post_square(&app, &body, "").await;
    assert_eq!(status, 401);
    let store = app.db.store().await;
    assert_eq!(
        store
            .webhook_count("square", &AccountId::new(ACCOUNT))
            .await
            .unwrap(),
        0,
        "refused events are not stored"
    );

    let (status, answer) = post_square(&app, &body, &sign(SQUARE_WEBHOOK_URL, &body)).await;
    assert_eq!((status, answer), (200, json!({ "status": "accepted" })));
    wait_quantity(&app, ACCOUNT, 2).await;
    let (_, jobs) = app.get("/api/jobs?kind=sync_all").await;
    assert_eq!(jobs["total"], 1, "{jobs}");
    assert_eq!(
        jobs["jobs"][0]["account_id"], ACCOUNT,
        "a sync of its account only"
    );
    let (status, answer) = post_square(&app, &body, &sign(SQUARE_WEBHOOK_URL, &body)).await;
    assert_eq!(
        (status, answer),
        (200, json!({ "status": "duplicate" })),
        "a redelivery"
    );
    assert_eq!(
        store
            .webhook_count("square", &AccountId::new(ACCOUNT))
            .await
            .unwrap(),
        1
    );

    let (status, _) = post_square(&app, "not json", &sign(SQUARE_WEBHOOK_URL, "not json")).await;
    assert_eq!(status, 400);
    let other = http_client()
        .post(app.url(&format!("/webhooks/square/{OTHER_ACCOUNT}")))
        .body(body.clone());
    assert_eq!(
        send(other).await.0,
        404,
        "no Square webhook for the Hiboutik account"
    );
}

async fn a_hiboutik_sale_notification_reads_the_sold_items(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.other_catalog.put("77", "Cup", None, 5);
    app.other_catalog.put("78/2", "Cup (M)", None, 5);
    let (status, _) = app
        .register(
            json!({ "item_pos_id": "77", "item_ecommerce_id": "2", "account_id": OTHER_ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201);
    app.other_catalog.set_quantity("77", 4);
    let form = "sale_id=91&sale_ext_ref=&line_items%5B0%5D%5Bproduct_id%5D=77&line_items%5B0%5D%5Bproduct_size%5D=0\
                &line_items%5B0%5D%5Bquantity%5D=1&line_items%5B1%5D%5Bproduct_id%5D=78&line_items%5B1%5D%5Bproduct_size%5D=2";
    let post = |secret: &str, body: &str| {
        http_client()
            .post(app.url(&format!("/webhooks/hiboutik/{OTHER_ACCOUNT}?k={secret}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    };
    assert_eq!(send(post("wrong", form)).await.0, 401);
    assert_eq!(
        send(post(
            HIBOUTIK_WEBHOOK_SECRET,
            "line_items%5B0%5D%5Bproduct_id%5D=abc"
        ))
        .await
        .0,
        400
    );
    let (status, answer) = send(post(HIBOUTIK_WEBHOOK_SECRET, form)).await;
    assert_eq!((status, answer), (200, json!({ "status": "accepted" })));
    wait_quantity(&app, OTHER_ACCOUNT, 4).await;
    // The read was a job of its own, for the items the sale named.
    let (_, jobs) = app.get("/api/jobs?kind=read_items").await;
    assert_eq!(jobs["total"], 1, "{jobs}");
    assert_eq!(jobs["jobs"][0]["account_id"], OTHER_ACCOUNT);
    assert_eq!(jobs["jobs"][0]["items"], json!(["77", "78/2"]));
    let store = app.db.store().await;
    assert_eq!(
        store
            .webhook_count("hiboutik", &AccountId::new(OTHER_ACCOUNT))
            .await
            .unwrap(),
        1
    );
}

/// A Hiboutik sale notification naming `refs` (`product` or `product/size`), form-encoded.
fn sale_form(refs: &[String]) -> String {
    refs.iter()
        .enumerate()
        .map(|(i, pos_ref)| {
            let (product, size) = pos_ref.split_once('/').unwrap_or((pos_ref, "0"));
            format!(
                "line_items%5B{i}%5D%5Bproduct_id%5D={product}&line_items%5B{i}%5D%5Bproduct_size%5D={size}"
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn post_hiboutik(app: &TestApp, account: &str, body: &str) -> (u16, Value) {
    let request = http_client()
        .post(app.url(&format!(
            "/webhooks/hiboutik/{account}?k={HIBOUTIK_WEBHOOK_SECRET}"
        )))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    send(request).await
}

/// Polls `GET path` until `done` says yes, for at most 60 s.
async fn wait_for(app: &TestApp, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = app.get(path).await;
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "waited 60 s for {what}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A big till operation (520 products in one notification) is reflected by one read of the
/// whole warehouse, a few calls, instead of 520 calls (one per product), counted by the
/// Hiboutik simulator.
async fn a_hiboutik_notification_of_many_products_reads_the_account_once(backend: Backend) {
    let sim = HiboutikSim::start(HiboutikSimOptions {
        products: stocksync_pos::simkit::catalog(600, 2),
        ..HiboutikSimOptions::default()
    })
    .await
    .unwrap();
    let mut account = sim.account_settings();
    account["WebhookSecret"] = json!(HIBOUTIK_WEBHOOK_SECRET);
    let name = account["AccountName"].as_str().unwrap().to_owned();
    let options = Options {
        config: Some(json!({ "PosAccess": { "PosConfigurations": [account] } })),
        vendor_clients: true,
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let refs: Vec<String> = sim.product_refs().into_iter().take(520).collect();
    assert_eq!(refs.len(), 520);
    let before = sim.requests();
    let (status, answer) = post_hiboutik(&app, &name, &sale_form(&refs)).await;
    assert_eq!((status, answer), (200, json!({ "status": "accepted" })));
    let jobs = wait_for(
        &app,
        "/api/jobs?kind=sync_all",
        "the account's sync",
        |jobs| jobs["jobs"][0]["state"] == "succeeded",
    )
    .await;
    assert_eq!(jobs["total"], 1, "{jobs}");
    assert_eq!(jobs["jobs"][0]["account_id"], name.as_str());
    let (_, reads) = app.get("/api/jobs?kind=read_items").await;
    assert_eq!(reads["total"], 0, "no read product by product: {reads}");
    let calls = sim.requests() - before;
    assert!(
        calls <= 5,
        "{calls} Hiboutik calls for one notification of 520 products"
    );
}

/// The same notification replayed 200 times while the account's read waits (its sync is held
/// by the POS) adds nothing: one read job, one POS read; a notification naming another product
/// joins it.
async fn replayed_hiboutik_notifications_join_the_waiting_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let catalog = &app.other_catalog;
    for pos_ref in ["77", "78/2", "79"] {
        catalog.put(pos_ref, "Cup", None, 5);
    }
    catalog.hold_reads();
    let (status, _) = app
        .post_empty(&format!(
            "/api/synchronizer/forceUpdate?account={OTHER_ACCOUNT}"
        ))
        .await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(60);
    while catalog.reads_held.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the account's sync never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let calls_before = catalog.calls.load(Ordering::SeqCst);
    let body = sale_form(&["77".into(), "78/2".into()]);
    for _ in 0..200 {
        assert_eq!(post_hiboutik(&app, OTHER_ACCOUNT, &body).await.0, 200);
    }
    let (_, reads) = app.get("/api/jobs?kind=read_items").await;
    assert_eq!(reads["total"], 1, "one waiting read");
    assert_eq!(reads["jobs"][0]["state"], "enqueued");
    assert_eq!(reads["jobs"][0]["items"], json!(["77", "78/2"]));
    assert_eq!(
        post_hiboutik(&app, OTHER_ACCOUNT, &sale_form(&["79".into()]))
            .await
            .0,
        200
    );
    let (_, reads) = app.get("/api/jobs?kind=read_items").await;
    assert_eq!(reads["total"], 1, "{reads}");
    assert_eq!(reads["jobs"][0]["items"], json!(["77", "78/2", "79"]));

    catalog.release_reads();
    wait_for(&app, "/api/jobs?kind=read_items", "the read", |jobs| {
        jobs["jobs"][0]["state"] == "succeeded"
    })
    .await;
    let calls = catalog.calls.load(Ordering::SeqCst) - calls_before;
    assert_eq!(calls, 1, "one POS read for 201 notifications");
    let store = app.db.store().await;
    assert_eq!(
        store
            .webhook_count("hiboutik", &AccountId::new(OTHER_ACCOUNT))
            .await
            .unwrap(),
        201,
        "every notification is still stored"
    );
}
