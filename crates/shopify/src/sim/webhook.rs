//! Webhooks as Shopify sends them (shop-apis.md §2.8): a `POST` of the REST-shaped object with
//! `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body under the
//! app's secret), `X-Shopify-Webhook-Id` (kept on a redelivery), `X-Shopify-Shop-Domain`,
//! `X-Shopify-API-Version` and `X-Shopify-Triggered-At`. Orders created, cancelled, refunded,
//! and `inventory_levels/update` for every write, our own included (the echo). Deliveries are
//! sent in the background; a test can send one again as Shopify's retries do.

use super::Shared;
use super::model::{PRIMARY_LOCATION, WriteSeen};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Where deliveries go, signed with `secret`.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}

/// One delivery sent, as a test can read it back or send it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentDelivery {
    pub topic: String,
    pub webhook_id: String,
    pub body: Vec<u8>,
}

pub(super) fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Sends a new delivery of `topic` with `payload`, when a webhook is set.
pub(super) fn deliver(sim: &Arc<Shared>, topic: &str, payload: &Value) {
    let delivery = SentDelivery {
        topic: topic.to_owned(),
        webhook_id: uuid::Uuid::new_v4().to_string(),
        body: serde_json::to_vec(payload).expect("JSON"),
    };
    send(sim, delivery);
}

/// Sends `delivery` (again, for a retry) to the webhook's address.
pub(super) fn send(sim: &Arc<Shared>, delivery: SentDelivery) {
    let Some(target) = sim.target() else { return };
    sim.sent().push(delivery.clone());
    let sim = sim.clone();
    tokio::spawn(async move {
        let answer = sim
            .http
            .post(&target.url)
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", &delivery.topic)
            .header(
                "X-Shopify-Hmac-Sha256",
                sign(&target.secret, &delivery.body),
            )
            .header("X-Shopify-Webhook-Id", &delivery.webhook_id)
            .header("X-Shopify-Event-Id", uuid::Uuid::new_v4().to_string())
            .header("X-Shopify-Shop-Domain", "simulated.myshopify.com")
            .header("X-Shopify-API-Version", "2026-04")
            .header("X-Shopify-Triggered-At", sim.now().to_rfc3339())
            .body(delivery.body)
            .send()
            .await;
        if answer.is_ok_and(|answer| answer.status().is_success()) {
            sim.delivered.fetch_add(1, Ordering::SeqCst);
        }
    });
}

/// `inventory_levels/update` for each write.
pub(super) fn inventory_echoes(sim: &Arc<Shared>, writes: &[WriteSeen]) {
    for write in writes {
        let payload = json!({
            "inventory_item_id": write.item,
            "location_id": write.location,
            "available": write.quantity,
            "updated_at": sim.now(),
            "admin_graphql_api_id": format!(
                "gid://shopify/InventoryLevel/{}?inventory_item_id={}",
                PRIMARY_LOCATION, write.item
            ),
        });
        deliver(sim, "inventory_levels/update", &payload);
    }
}
