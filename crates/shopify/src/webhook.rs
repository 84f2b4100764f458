//! Reading a Shopify webhook delivery (shop-apis.md §2.8): a pure function of the secret, the
//! headers and the raw body.
//!
//! - Every delivery carries `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, raw
//!   body)); with a secret configured, a missing or wrong one is refused, compared in
//!   constant time.
//! - `X-Shopify-Topic` says what happened, `X-Shopify-Webhook-Id` names the delivery (the same
//!   on a retry: the key for de-duplication), and the body (REST-shaped) names the order
//!   (`id`, or `order_id` for a refund) or the inventory item. A delivery is a hint to read the
//!   order again, never the truth itself: Shopify delivers at least once and in any order.

use axum::http::HeaderMap;
use serde_json::Value;
pub use stocksync_pos::signature::DeliveryError;
use stocksync_pos::signature::{base64_hmac_sha256_matches, body_id};

pub const HMAC_HEADER: &str = "X-Shopify-Hmac-Sha256";
pub const TOPIC_HEADER: &str = "X-Shopify-Topic";
pub const WEBHOOK_ID_HEADER: &str = "X-Shopify-Webhook-Id";

/// The topics stocksync reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    OrderCreated,
    OrderUpdated,
    OrderCancelled,
    RefundCreated,
    InventoryLevelUpdated,
    /// Any other topic: nothing to do.
    Other(String),
}

impl Topic {
    pub fn parse(topic: &str) -> Self {
        match topic {
            "orders/create" => Self::OrderCreated,
            "orders/updated" => Self::OrderUpdated,
            "orders/cancelled" => Self::OrderCancelled,
            "refunds/create" => Self::RefundCreated,
            "inventory_levels/update" => Self::InventoryLevelUpdated,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// What a delivery asks stocksync to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub topic: Topic,
    /// `X-Shopify-Webhook-Id`: a delivery seen before (a retry) has the same.
    pub webhook_id: String,
    /// The order to read again (numeric id), for order and refund topics.
    pub order: Option<String>,
    /// The inventory item (numeric id) of an `inventory_levels/update`.
    pub inventory_item: Option<String>,
    /// The location (numeric id) and `available` quantity an `inventory_levels/update` reports.
    pub level: Option<(String, i64)>,
}

/// Reads one delivery. `secret`: the app's secret (`None`: signatures are not checked).
pub fn read_delivery(
    secret: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Delivery, DeliveryError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    if let Some(secret) = secret {
        let signature = header(HMAC_HEADER).ok_or(DeliveryError::Unsigned)?;
        if !verify_signature(secret, body, signature) {
            return Err(DeliveryError::BadSignature);
        }
    }
    let topic =
        Topic::parse(header(TOPIC_HEADER).ok_or(DeliveryError::Malformed("no X-Shopify-Topic"))?);
    let webhook_id = header(WEBHOOK_ID_HEADER)
        .ok_or(DeliveryError::Malformed("no X-Shopify-Webhook-Id"))?
        .to_owned();
    let (order_field, item_field) = match topic {
        Topic::OrderCreated | Topic::OrderUpdated | Topic::OrderCancelled => (Some("id"), None),
        Topic::RefundCreated => (Some("order_id"), None),
        Topic::InventoryLevelUpdated => (None, Some("inventory_item_id")),
        Topic::Other(_) => (None, None),
    };
    let read = |field: Option<&str>| -> Result<Option<String>, DeliveryError> {
        let Some(field) = field else { return Ok(None) };
        let json: Value = serde_json::from_slice(body)
            .map_err(|_| DeliveryError::Malformed("the body is not JSON"))?;
        body_id(json.get(field))
            .map(Some)
            .ok_or(DeliveryError::Malformed(
                "the body does not name its object",
            ))
    };
    let level = (topic == Topic::InventoryLevelUpdated)
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
        .and_then(|json| {
            Some((
                body_id(json.get("location_id"))?,
                json.get("available")?.as_i64()?,
            ))
        });
    Ok(Delivery {
        order: read(order_field)?,
        inventory_item: read(item_field)?,
        level,
        topic,
        webhook_id,
    })
}

/// Whether `header` is the base64 HMAC-SHA256 of `raw_body` under `secret`.
pub fn verify_signature(secret: &str, raw_body: &[u8], header: &str) -> bool {
    base64_hmac_sha256_matches(secret.as_bytes(), &[raw_body], header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    fn headers(topic: &str, signature: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TOPIC_HEADER, topic.parse().unwrap());
        headers.insert(WEBHOOK_ID_HEADER, "b54557e4-bdd9".parse().unwrap());
        if let Some(signature) = signature {
            headers.insert(HMAC_HEADER, signature.parse().unwrap());
        }
        headers
    }

    #[test]
    fn order_and_refund_deliveries_name_the_order() {
        let body = br#"{"id":820982911946154508,"line_items":[]}"#;
        let delivery = read_delivery(
            Some("s"),
            &headers("orders/create", Some(&sign("s", body))),
            body,
        )
        .unwrap();
        assert_eq!(delivery.topic, Topic::OrderCreated);
        assert_eq!(delivery.order.as_deref(), Some("820982911946154508"));
        assert_eq!(delivery.webhook_id, "b54557e4-bdd9");
        let body = br#"{"id":9,"order_id":450789469}"#;
        let delivery = read_delivery(
            Some("s"),
            &headers("refunds/create", Some(&sign("s", body))),
            body,
        )
        .unwrap();
        assert_eq!(delivery.order.as_deref(), Some("450789469"));
        let body = br#"{"inventory_item_id":271878346596884015,"location_id":1,"available":3}"#;
        let delivery =
            read_delivery(None, &headers("inventory_levels/update", None), body).unwrap();
        assert_eq!(
            delivery.inventory_item.as_deref(),
            Some("271878346596884015")
        );
        assert_eq!(delivery.level, Some(("1".to_owned(), 3)));
        assert_eq!(delivery.order, None);
    }

    #[test]
    fn unsigned_forged_and_malformed_deliveries_are_refused() {
        let body = br#"{"id":1}"#;
        assert_eq!(
            read_delivery(Some("s"), &headers("orders/create", None), body),
            Err(DeliveryError::Unsigned)
        );
        let forged = sign("other", body);
        assert_eq!(
            read_delivery(Some("s"), &headers("orders/create", Some(&forged)), body),
            Err(DeliveryError::BadSignature)
        );
        assert!(!verify_signature("s", body, "not base64!"));
        let body = b"<html>";
        assert_eq!(
            read_delivery(
                Some("s"),
                &headers("orders/create", Some(&sign("s", body))),
                body
            ),
            Err(DeliveryError::Malformed("the body is not JSON"))
        );
        let delivery = read_delivery(None, &headers("products/update", None), b"{}").unwrap();
        assert_eq!(delivery.topic, Topic::Other("products/update".into()));
    }
}
