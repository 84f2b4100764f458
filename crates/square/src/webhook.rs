//! Checking Square webhook notifications (`inventory.count.updated`): the
//! `x-square-hmacsha256-signature` header is the base64 HMAC-SHA256, keyed with the
//! subscription's signature key, of the notification URL exactly as registered followed by the
//! raw body. Pure: the HTTP endpoint that receives notifications lives in the server.

use stocksync_pos::signature::base64_hmac_sha256_matches;

/// The header Square signs notifications with.
pub const SIGNATURE_HEADER: &str = "x-square-hmacsha256-signature";

/// Whether `header_value` is Square's signature of `body` sent to `notification_url` with
/// `signature_key`. The comparison takes the same time whatever the value.
pub fn verify_signature(
    signature_key: &[u8],
    notification_url: &str,
    body: &[u8],
    header_value: &str,
) -> bool {
    base64_hmac_sha256_matches(
        signature_key,
        &[notification_url.as_bytes(), body],
        header_value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"asdf1234";
    const URL: &str = "https://example.com/webhook";
    const BODY: &[u8] = br#"{"hello":"world"}"#;
    /// `base64(HMAC-SHA256("asdf1234", URL ‖ BODY))`, computed apart (Python's `hmac`).
    const SIGNATURE: &str = "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og=";

    #[test]
    fn a_genuine_signature_is_accepted() {
        assert!(verify_signature(KEY, URL, BODY, SIGNATURE));
        assert!(verify_signature(KEY, URL, BODY, &format!(" {SIGNATURE} ")));
    }

    #[test]
    fn anything_changed_is_refused() {
        assert!(!verify_signature(
            KEY,
            URL,
            br#"{"hello":"world!"}"#,
            SIGNATURE
        ));
        assert!(!verify_signature(
            KEY,
            "https://example.com/webhook/",
            BODY,
            SIGNATURE
        ));
        assert!(!verify_signature(b"asdf1235", URL, BODY, SIGNATURE));
        assert!(!verify_signature(KEY, URL, BODY, "not base64!"));
        assert!(!verify_signature(KEY, URL, BODY, ""));
    }
}
