//! Who may call the simulator, decided as WooCommerce's REST authentication does
//! (shop-apis.md §1.2): Basic (header, or `consumer_key`/`consumer_secret` in the query) only
//! when the site is "behind https"; otherwise OAuth 1.0a one-legged with its parameters in the
//! query, an HMAC-SHA256 signature, a timestamp within 15 minutes and a nonce used once.
//! Written apart from the client's signing code (its own encoder and base string).

use super::model::Refusal;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;

/// What the gate needs of a request.
pub struct Request<'a> {
    pub method: &'a str,
    /// The site's home URL joined with the request's path, no query.
    pub url: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    pub authorization: Option<&'a str>,
}

pub struct Keys {
    pub key: String,
    pub secret: String,
    pub behind_https: bool,
}

const OAUTH_REQUIRED: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

fn denied(message: &str) -> Refusal {
    Refusal::new(401, "woocommerce_rest_authentication_error", message)
}

/// `Ok` when the request is let in; `nonces` remembers the nonces seen.
pub fn check(
    keys: &Keys,
    request: &Request,
    nonces: &mut HashSet<String>,
    now: i64,
) -> Result<(), Refusal> {
    if keys.behind_https {
        let given = request
            .authorization
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(k, s)| (k.to_owned(), s.to_owned()))
            })
            .or_else(|| {
                let find = |name: &str| {
                    request
                        .query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                Some((find("consumer_key")?, find("consumer_secret")?))
            });
        if let Some((key, secret)) = given {
            if key != keys.key {
                return Err(denied("Consumer key is invalid."));
            }
            if secret != keys.secret {
                return Err(denied("Consumer secret is invalid."));
            }
            return Ok(());
        }
    }
    let param = |name: &str| {
        request
            .query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let present = OAUTH_REQUIRED
        .iter()
        .filter(|name| param(name).is_some())
        .count();
    if present == 0 {
        return Err(Refusal::new(
            401,
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        ));
    }
    if present < OAUTH_REQUIRED.len() {
        return Err(Refusal::new(
            401,
            "woocommerce_rest_authentication_missing_parameter",
            "Missing OAuth parameter(s).",
        ));
    }
    if param("oauth_consumer_key") != Some(keys.key.as_str()) {
        return Err(denied("Consumer key is invalid."));
    }
    if param("oauth_signature_method") != Some("HMAC-SHA256") {
        return Err(denied(
            "Signature method is invalid (this simulator takes HMAC-SHA256).",
        ));
    }
    let timestamp: i64 = param("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if (now - timestamp).abs() > 15 * 60 {
        return Err(denied("Invalid timestamp."));
    }
    let expected = sign(request, &keys.secret);
    if param("oauth_signature") != Some(expected.as_str()) {
        return Err(denied(
            "Invalid signature - provided signature does not match.",
        ));
    }
    let nonce = format!("{}:{}", keys.key, param("oauth_nonce").unwrap_or_default());
    if !nonces.insert(nonce) {
        return Err(denied("Invalid nonce - nonce has already been used."));
    }
    Ok(())
}

/// The signature WooCommerce expects: every parameter but the signature, keys and values
/// encoded, sorted by key, `key=value` each encoded again, joined with `%26`.
fn sign(request: &Request, secret: &str) -> String {
    let mut pairs: Vec<(String, String)> = request
        .query
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (rawurlencode(k), rawurlencode(v)))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let joined: Vec<String> = pairs
        .iter()
        .map(|(k, v)| rawurlencode(&format!("{k}={v}")))
        .collect();
    let base = format!(
        "{}&{}&{}",
        request.method.to_uppercase(),
        rawurlencode(&request.url),
        joined.join("%26")
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(format!("{secret}&").as_bytes()).expect("any key length");
    mac.update(base.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// PHP's `rawurlencode`: everything but `A-Z a-z 0-9 - _ . ~` as `%XX`.
fn rawurlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
