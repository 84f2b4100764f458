//! Webhooks, as WooCommerce runs them (shop-apis.md §1.9, `class-wc-webhook.php`):
//! - saving a webhook active pings its address: `POST` of the form body `webhook_id=<n>`,
//!   unsigned, without `X-WC-Webhook-*` headers;
//! - each order event queues a delivery (`order.created`, `order.updated`); one for a
//!   (webhook, order) already pending is merged into it, and the body, the order's JSON, is
//!   built when the delivery runs; it is signed with base64(HMAC-SHA256(secret, body)) in
//!   `X-WC-Webhook-Signature`;
//! - a delivery answered 200–302 resets the webhook's failure count; any other answer or none
//!   counts a failure, is never retried, and once the count already exceeds 5 the webhook is
//!   disabled: nothing more is delivered until it is set active again.

use super::Shared;
use super::orders::order_json;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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

/// A webhook's status, as WooCommerce names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookStatus {
    Active,
    Paused,
    Disabled,
}

/// Failures a webhook may already have before the next one disables it
/// (`woocommerce_max_webhook_delivery_failures`).
const MAX_FAILURES: u32 = 5;

#[derive(Debug)]
struct Hook {
    id: i64,
    target: WebhookTarget,
    status: WebhookStatus,
    failures: u32,
}

/// The shop's webhooks and the deliveries waiting to run.
#[derive(Debug, Default)]
pub struct Hooks {
    hooks: Mutex<Vec<Hook>>,
    /// (webhook, order) with a delivery queued.
    pending: Mutex<HashSet<(i64, i64)>>,
}

impl Hooks {
    fn hooks(&self) -> MutexGuard<'_, Vec<Hook>> {
        self.hooks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an active webhook (without the ping); its id.
    pub fn add(&self, id: i64, target: WebhookTarget) {
        self.hooks().push(Hook {
            id,
            target,
            status: WebhookStatus::Active,
            failures: 0,
        });
    }

    pub fn status(&self, id: i64) -> Option<WebhookStatus> {
        self.hooks()
            .iter()
            .find(|hook| hook.id == id)
            .map(|hook| hook.status)
    }

    /// Sets a webhook's status (the merchant's `PUT`); making it active clears its failures.
    pub fn set_status(&self, id: i64, status: WebhookStatus) -> bool {
        let mut hooks = self.hooks();
        let Some(hook) = hooks.iter_mut().find(|hook| hook.id == id) else {
            return false;
        };
        hook.status = status;
        if status == WebhookStatus::Active {
            hook.failures = 0;
        }
        true
    }

    fn target(&self, id: i64) -> Option<WebhookTarget> {
        self.hooks()
            .iter()
            .find(|hook| hook.id == id && hook.status == WebhookStatus::Active)
            .map(|hook| hook.target.clone())
    }

    /// Counts a delivery's outcome: a success resets the failures, a failure disables the
    /// webhook once they already exceed the limit.
    fn delivered(&self, id: i64, success: bool) {
        let mut hooks = self.hooks();
        let Some(hook) = hooks.iter_mut().find(|hook| hook.id == id) else {
            return;
        };
        if success {
            hook.failures = 0;
        } else if hook.failures > MAX_FAILURES {
            hook.status = WebhookStatus::Disabled;
        } else {
            hook.failures += 1;
        }
    }
}

/// Pings a webhook's address as WooCommerce does when it is saved active: the status it
/// answered (`None`: no answer).
pub async fn ping(shared: &Shared, target: &WebhookTarget, id: i64) -> Option<u16> {
    shared
        .http
        .post(&target.delivery_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("User-Agent", "WooCommerce/9.0.0 Hookshot (WordPress/6.5)")
        .body(format!("webhook_id={id}"))
        .send()
        .await
        .ok()
        .map(|answer| answer.status().as_u16())
}

/// Queues a delivery of `topic` for `order_id` to every active webhook, unless one is already
/// pending for that webhook and order.
pub fn queue(shared: &Arc<Shared>, order_id: i64, topic: &'static str) {
    let active: Vec<(i64, Duration)> = shared
        .hooks
        .hooks()
        .iter()
        .filter(|hook| hook.status == WebhookStatus::Active)
        .map(|hook| (hook.id, hook.target.delay))
        .collect();
    for (hook, delay) in active {
        if !shared
            .hooks
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((hook, order_id))
        {
            shared.merged_deliveries.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            shared
                .hooks
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&(hook, order_id));
            deliver(&shared, hook, order_id, topic).await;
        });
    }
}

async fn deliver(shared: &Shared, hook: i64, order_id: i64, topic: &str) {
    let Some(target) = shared.hooks.target(hook) else {
        return; // disabled or paused while the delivery waited
    };
    let body = match shared.shop().orders.get(&order_id) {
        Some(order) => order_json(order).to_string(),
        None => return,
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(target.secret.as_bytes()).expect("any key length");
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
        .header("X-WC-Webhook-ID", hook.to_string())
        .header(
            "X-WC-Webhook-Delivery-ID",
            chrono::Utc::now().timestamp().to_string(),
        )
        .body(body)
        .send()
        .await;
    let success = match sent {
        Ok(answer) => (200..=302).contains(&answer.status().as_u16()),
        Err(err) => {
            tracing::info!(error = %err.without_url(), "a WooCommerce simulator webhook was lost (never retried)");
            false
        }
    };
    shared.hooks.delivered(hook, success);
    // Counted once its outcome is: a test that sees the count sees the webhook's status.
    shared.deliveries.fetch_add(1, Ordering::SeqCst);
}
