//! Reading a WooCommerce webhook delivery (shop-apis.md §1.9), for the service's
//! `POST /webhooks/shop`: a pure function of the secret, the headers and the raw body.
//!
//! - The ping WooCommerce sends when a webhook is saved active is `webhook_id=<n>` (form
//!   encoded), unsigned and without `X-WC-Webhook-*` headers: it is accepted, never processed
//!   (anything but a 200 makes the merchant's save fail).
//! - Every other delivery carries `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw
//!   body)); with a secret configured, a missing or wrong one is refused (the route answers
//!   401), compared in constant time.
//! - Its topic (`X-WC-Webhook-Topic`) says what changed; the body is that order's or
//!   product's JSON (`{"id": n}` for a deletion): only the id is read. A delivery is a hint to
//!   read that order or item now, never the truth itself.

use axum::http::HeaderMap;
use serde_json::Value;
pub use stocksync_pos::signature::DeliveryError;
use stocksync_pos::signature::{base64_hmac_sha256_matches, body_id};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";
/// The header that names the topic (`order.updated`, `product.created`…).
pub const TOPIC_HEADER: &str = "X-WC-Webhook-Topic";

/// What a delivery asks stocksync to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// WooCommerce checking the address when a webhook is saved: answer 200, do nothing.
    Ping { webhook_id: String },
    /// `order.*`: read this order again.
    Order { id: String },
    /// `product.*`: this product or variation changed; `parent` is a variation's product
    /// (the item's locator), and `stock_quantity` what the body says the shop has now (`None`:
    /// not said, or stock not managed), when the body says.
    Product {
        id: String,
        parent: Option<String>,
        stock_quantity: Option<i64>,
    },
    /// Any other topic (coupons, customers, actions): nothing to do.
    Other { topic: String },
}

/// Reads one delivery. `secret`: the configured `WebhookSecret` (`None`: signatures are not
/// checked).
pub fn read_delivery(
    secret: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Delivery, DeliveryError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let signature = header(SIGNATURE_HEADER);
    let topic = header(TOPIC_HEADER).map(str::trim);
    if signature.is_none()
        && topic.is_none()
        && let Some(webhook_id) = ping(body)
    {
        return Ok(Delivery::Ping { webhook_id });
    }
    if let Some(secret) = secret {
        let signature = signature.ok_or(DeliveryError::Unsigned)?;
        if !verify_signature(secret, body, signature) {
            return Err(DeliveryError::BadSignature);
        }
    }
    let topic = topic
        .filter(|topic| !topic.is_empty())
        .ok_or(DeliveryError::Malformed("no X-WC-Webhook-Topic"))?;
    let resource = topic.split('.').next().unwrap_or_default();
    if !matches!(resource, "order" | "product") {
        return Ok(Delivery::Other {
            topic: topic.to_owned(),
        });
    }
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| DeliveryError::Malformed("the body is not JSON"))?;
    let id = body_id(json.get("id")).ok_or(DeliveryError::Malformed("the body has no id"))?;
    Ok(match resource {
        "order" => Delivery::Order { id },
        _ => Delivery::Product {
            id,
            parent: body_id(json.get("parent_id")),
            stock_quantity: json
                .get("manage_stock")
                .and_then(Value::as_bool)
                .filter(|managed| *managed)
                .and_then(|_| json.get("stock_quantity")?.as_i64()),
        },
    })
}

/// Whether `header` is the signature of `raw_body` under `secret`.
pub fn verify_signature(secret: &str, raw_body: &[u8], header: &str) -> bool {
    base64_hmac_sha256_matches(secret.as_bytes(), &[raw_body], header)
}

/// The webhook id of a ping body: `webhook_id=<n>` (some versions send `{"webhook_id": n}`).
fn ping(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let id = match text.strip_prefix("webhook_id=") {
        Some(id) => id.to_owned(),
        None => {
            let json: Value = serde_json::from_str(text).ok()?;
            let object = json.as_object().filter(|object| object.len() == 1)?;
            body_id(object.get("webhook_id"))?
        }
    };
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    // printf '%s' '{"id":42,"status":"processing"}' \
    //   | openssl dgst -sha256 -hmac 'whsec-1' -binary | base64
    const BODY: &[u8] = br#"{"id":42,"status":"processing"}"#;
    const SIGNATURE: &str = "0Ni7BxetzzMMpVdet+EO+mE8+FoK/G3zQLX9rNyel8Y=";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn signed(topic: &str) -> HeaderMap {
        headers(&[
            (TOPIC_HEADER, topic),
            (SIGNATURE_HEADER, SIGNATURE),
            ("X-WC-Webhook-Resource", "order"),
        ])
    }

    #[test]
    fn a_signature_computed_elsewhere_verifies() {
        assert!(verify_signature("whsec-1", BODY, SIGNATURE));
    }

    #[test]
    fn another_secret_body_or_garbage_does_not() {
        assert!(!verify_signature("whsec-2", BODY, SIGNATURE));
        assert!(!verify_signature(
            "whsec-1",
            br#"{"id":43,"status":"processing"}"#,
            SIGNATURE
        ));
        assert!(!verify_signature("whsec-1", BODY, "not base64!"));
        assert!(!verify_signature("whsec-1", BODY, ""));
    }

    #[test]
    fn a_signed_order_delivery_names_its_order() {
        let delivery = read_delivery(Some("whsec-1"), &signed("order.updated"), BODY);
        assert_eq!(delivery, Ok(Delivery::Order { id: "42".into() }));
        // Without a configured secret, the signature is not looked at.
        let delivery = read_delivery(None, &headers(&[(TOPIC_HEADER, "order.created")]), BODY);
        assert_eq!(delivery, Ok(Delivery::Order { id: "42".into() }));
    }

    #[test]
    fn with_a_secret_an_unsigned_or_missigned_delivery_is_refused() {
        let unsigned = headers(&[(TOPIC_HEADER, "order.updated")]);
        let err = read_delivery(Some("whsec-1"), &unsigned, BODY).unwrap_err();
        assert_eq!(err, DeliveryError::Unsigned);
        assert!(err.is_unauthorized());
        let err = read_delivery(Some("whsec-2"), &signed("order.updated"), BODY).unwrap_err();
        assert_eq!(err, DeliveryError::BadSignature);
        assert!(err.is_unauthorized());
        // A ping's shape does not excuse a delivery that names a topic.
        let err = read_delivery(Some("whsec-1"), &unsigned, b"webhook_id=3").unwrap_err();
        assert_eq!(err, DeliveryError::Unsigned);
    }

    #[test]
    fn the_ping_is_accepted_unsigned_even_with_a_secret() {
        for body in [
            &b"webhook_id=17"[..],
            b"webhook_id=17\n",
            br#"{"webhook_id": 17}"#,
        ] {
            let delivery = read_delivery(Some("whsec-1"), &HeaderMap::new(), body);
            assert_eq!(
                delivery,
                Ok(Delivery::Ping {
                    webhook_id: "17".into()
                }),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Not a ping: refused for want of a signature.
        for body in [
            &b"webhook_id="[..],
            b"webhook_id=1&x=2",
            b"hello",
            br#"{"id": 1}"#,
        ] {
            assert_eq!(
                read_delivery(Some("whsec-1"), &HeaderMap::new(), body),
                Err(DeliveryError::Unsigned),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn products_variations_and_other_topics() {
        let variation = br#"{"id":"812","parent_id":800,"type":"variation","manage_stock":true,"stock_quantity":4}"#;
        let delivery = read_delivery(
            None,
            &headers(&[(TOPIC_HEADER, "product.updated")]),
            variation,
        );
        assert_eq!(
            delivery,
            Ok(Delivery::Product {
                id: "812".into(),
                parent: Some("800".into()),
                stock_quantity: Some(4),
            })
        );
        let simple = br#"{"id":10,"parent_id":0,"manage_stock":false,"stock_quantity":7}"#;
        let delivery = read_delivery(None, &headers(&[(TOPIC_HEADER, "product.created")]), simple);
        assert_eq!(
            delivery,
            Ok(Delivery::Product {
                id: "10".into(),
                parent: None,
                stock_quantity: None,
            })
        );
        let deleted = br#"{"id":5}"#;
        let delivery = read_delivery(None, &headers(&[(TOPIC_HEADER, "order.deleted")]), deleted);
        assert_eq!(delivery, Ok(Delivery::Order { id: "5".into() }));
        let delivery = read_delivery(None, &headers(&[(TOPIC_HEADER, "coupon.created")]), b"{}");
        assert_eq!(
            delivery,
            Ok(Delivery::Other {
                topic: "coupon.created".into()
            })
        );
    }

    #[test]
    fn unreadable_deliveries_are_malformed_not_unauthorized() {
        let no_topic = headers(&[(SIGNATURE_HEADER, SIGNATURE)]);
        let err = read_delivery(Some("whsec-1"), &no_topic, BODY).unwrap_err();
        assert!(matches!(err, DeliveryError::Malformed(_)));
        assert!(!err.is_unauthorized());
        let topic = headers(&[(TOPIC_HEADER, "order.updated")]);
        for body in [
            &b"not json"[..],
            b"[]",
            br#"{"id": "abc"}"#,
            br#"{"id": 0}"#,
            b"{}",
        ] {
            let err = read_delivery(None, &topic, body).unwrap_err();
            assert!(matches!(err, DeliveryError::Malformed(_)), "{err:?}");
        }
    }
}
