//! Webhook deliveries, as WooCommerce makes them (shop-apis.md §1.9): `POST` of the order's
//! JSON built at delivery time, signed with base64(HMAC-SHA256(secret, body)) in
//! `X-WC-Webhook-Signature`; a delivery for an order that already has one pending is merged
//! into it; a failed delivery is never retried.

use super::Shared;
use super::model::order_json;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Where deliveries go and how.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub delivery_url: String,
    pub secret: String,
    /// How long a delivery waits in the queue (WooCommerce's Action Scheduler): events for the
    /// same order within it are merged into one delivery.
    pub delay: Duration,
}

#[derive(Debug, Default)]
pub struct Pending(Mutex<HashSet<i64>>);

/// Queues a delivery of `topic` for `order_id`, unless one is already pending for that order.
pub fn queue(shared: &Arc<Shared>, order_id: i64, topic: &'static str) {
    let Some(target) = shared.webhook.clone() else {
        return;
    };
    if !shared
        .pending
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(order_id)
    {
        shared.merged_deliveries.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(target.delay).await;
        shared
            .pending
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&order_id);
        let body = match shared.shop().orders.get(&order_id) {
            Some(order) => order_json(order).to_string(),
            None => return,
        };
        let mut mac =
            Hmac::<Sha256>::new_from_slice(target.secret.as_bytes()).expect("any key length");
        mac.update(body.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        let sent = shared
            .http
            .post(&target.delivery_url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "WooCommerce/9.0.0 Hookshot (WordPress/6.5)")
            .header("X-WC-Webhook-Source", format!("{}/", shared.home()))
            .header("X-WC-Webhook-Topic", topic)
            .header("X-WC-Webhook-Resource", resource)
            .header("X-WC-Webhook-Event", event)
            .header("X-WC-Webhook-Signature", signature)
            .header("X-WC-Webhook-ID", "1")
            .header(
                "X-WC-Webhook-Delivery-ID",
                chrono::Utc::now().timestamp().to_string(),
            )
            .body(body)
            .send()
            .await;
        shared.deliveries.fetch_add(1, Ordering::SeqCst);
        if let Err(err) = sent {
            tracing::info!(error = %err.without_url(), "a WooCommerce simulator webhook was lost (never retried)");
        }
    });
}
