//! The simulator's `inventory.count.updated` notifications: one event per count change,
//! signed as Square signs (`x-square-hmacsha256-signature` = base64 HMAC-SHA256 of the
//! notification URL followed by the body, keyed with the signature key; the HMAC is computed
//! here from SHA-256 directly, apart from the client's checker), delivered in the background,
//! kept so that a test can deliver one again (a duplicate, same `event_id`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use stocksync_pos::{CallLog, PosHttp};

/// A notification the simulator sent (or would have sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimWebhookEvent {
    pub event_id: String,
    /// The exact body, as signed.
    pub body: String,
    /// The `x-square-hmacsha256-signature` header.
    pub signature: String,
    pub created_at: String,
}

/// Where notifications go, and those sent so far.
#[derive(Debug)]
pub struct Webhooks {
    url: String,
    key: String,
    http: PosHttp,
    events: Mutex<Vec<SimWebhookEvent>>,
}

impl Webhooks {
    pub fn new(url: String, signature_key: String) -> Self {
        Self {
            url,
            key: signature_key,
            http: PosHttp::new("square-sim-webhooks", CallLog::default()),
            events: Mutex::new(Vec::new()),
        }
    }

    /// Records an event for these counts and delivers it in the background (when a tokio
    /// runtime is there to do it).
    pub fn notify(&self, counts: Vec<Value>) {
        if counts.is_empty() {
            return;
        }
        let created_at = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "merchant_id": "SIMMERCHANT01",
            "type": "inventory.count.updated",
            "event_id": event_id,
            "created_at": created_at,
            "data": {
                "type": "inventory_counts",
                "id": uuid::Uuid::new_v4().to_string(),
                "object": { "inventory_counts": counts },
            },
        })
        .to_string();
        let event = SimWebhookEvent {
            signature: sign(self.key.as_bytes(), &self.url, body.as_bytes()),
            event_id,
            body,
            created_at,
        };
        self.events
            .lock()
            .expect("webhook events")
            .push(event.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let (http, url) = (self.http.clone(), self.url.clone());
                runtime.spawn(async move { deliver(&http, &url, &event, 0).await });
            }
            Err(_) => tracing::warn!("no tokio runtime: a simulated webhook was not delivered"),
        }
    }

    pub fn events(&self) -> Vec<SimWebhookEvent> {
        self.events.lock().expect("webhook events").clone()
    }

    /// Delivers event `event_id` again, as Square's retries do; the receiver's status.
    pub async fn redeliver(&self, event_id: &str) -> Result<u16, String> {
        let event = self
            .events()
            .into_iter()
            .find(|e| e.event_id == event_id)
            .ok_or_else(|| format!("no webhook event {event_id}"))?;
        deliver(&self.http, &self.url, &event, 1).await
    }
}

async fn deliver(
    http: &PosHttp,
    url: &str,
    event: &SimWebhookEvent,
    retry: u32,
) -> Result<u16, String> {
    let mut request = http
        .client()
        .post(url)
        .header("content-type", "application/json")
        .header("x-square-hmacsha256-signature", &event.signature)
        .header("square-environment", "Sandbox")
        .header("square-initial-delivery-timestamp", &event.created_at)
        .body(event.body.clone());
    if retry > 0 {
        request = request
            .header("square-retry-number", retry.to_string())
            .header("square-retry-reason", "http_error");
    }
    match http.send("POST webhook", request).await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(err) => {
            tracing::warn!(error = %err, "a simulated webhook was not delivered");
            Err(err.to_string())
        }
    }
}

/// `base64(HMAC-SHA256(key, url ‖ body))`.
pub fn sign(key: &[u8], url: &str, body: &[u8]) -> String {
    let mut message = url.as_bytes().to_vec();
    message.extend_from_slice(body);
    STANDARD.encode(hmac_sha256(key, &message))
}

/// HMAC (RFC 2104) over SHA-256, whose blocks are 64 bytes.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6: a key longer than a block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
