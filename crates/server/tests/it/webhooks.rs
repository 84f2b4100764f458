//! Webhooks: Square's signed `inventory.count.updated` (checked, de-duplicated, stored, synced)
//! and Hiboutik's sale notifications (secret in the URL, sold items read and applied).

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use stocksync_domain::AccountId;
use stocksync_testkit::{
    ACCOUNT, Backend, HIBOUTIK_WEBHOOK_SECRET, OTHER_ACCOUNT, SQUARE_WEBHOOK_KEY,
    SQUARE_WEBHOOK_URL, TestApp, http_client, on_every_backend, send,
};

on_every_backend!(
    a_signed_square_event_syncs_once,
    a_hiboutik_sale_notification_reads_the_sold_items
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
