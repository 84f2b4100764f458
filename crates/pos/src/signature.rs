//! Webhook signatures as Square, WooCommerce and Shopify write them (the base64 of an
//! HMAC-SHA256 over the message, compared in constant time), why a delivery is refused, and
//! how a delivery's body names its object (`body_id`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` is the base64 HMAC-SHA256 of `parts` (one after the other) under `key`.
/// Anything that is not base64 does not match.
pub fn base64_hmac_sha256_matches(key: &[u8], parts: &[&[u8]], header: &str) -> bool {
    let Ok(given) = STANDARD.decode(header.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// A positive id as a delivery's body writes it, a number or a string of digits (`None` for
/// anything else, 0 included).
pub fn body_id(value: Option<&serde_json::Value>) -> Option<String> {
    let id = match value? {
        serde_json::Value::Number(n) => n.as_u64()?.to_string(),
        serde_json::Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    (!id.is_empty() && id != "0" && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Why a shop platform's webhook delivery is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A secret is configured and the delivery carries no signature (answer 401).
    #[error("the delivery is not signed")]
    Unsigned,
    /// The signature is not the body's under the configured secret (answer 401).
    #[error("the delivery's signature does not match")]
    BadSignature,
    /// Signed (or no secret configured) but not a delivery of the platform (answer 400).
    #[error("not a delivery of the shop platform: {0}")]
    Malformed(&'static str),
}

impl DeliveryError {
    /// Whether the route should answer 401 (otherwise 400).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unsigned | Self::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_signature_of_these_parts_under_this_key_matches() {
        // base64(HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")), the
        // RFC 4231-style example every HMAC library documents.
        let signature = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
        let fox: &[&[u8]] = &[b"The quick brown fox ", b"jumps over the lazy dog"];
        assert!(base64_hmac_sha256_matches(b"key", fox, signature));
        assert!(base64_hmac_sha256_matches(
            b"key",
            fox,
            &format!(" {signature}\n")
        ));
        assert!(!base64_hmac_sha256_matches(b"other", fox, signature));
        assert!(!base64_hmac_sha256_matches(
            b"key",
            &[b"The quick brown fox"],
            signature
        ));
        assert!(!base64_hmac_sha256_matches(b"key", fox, "not base64!"));
    }
}
