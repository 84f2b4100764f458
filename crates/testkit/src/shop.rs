//! A `Shop` section for the test configuration: a WooCommerce shop at an address nothing
//! listens on, for tests of what stocksync shows about its shop (no call reaches it).

use serde_json::{Value, json};

/// The shop's address; its user and password are among [`SHOP_SECRETS`].
pub const SHOP_BASE_URL: &str = "http://shop-user:shop-url-s3cret@127.0.0.1:9";
/// Secrets of [`shop_section`], to look for in answers and logs.
pub const SHOP_SECRETS: &[&str] = &[
    "ck_shop-key-s3cret",
    "cs_shop-secret-s3cret",
    "shop-webhook-s3cret",
    "shop-url-s3cret",
];

/// The `Shop` object: `Options { config: Some(json!({ "Shop": shop_section() })), .. }`.
pub fn shop_section() -> Value {
    json!({
        "Type": "WooCommerce",
        "BaseUrl": SHOP_BASE_URL,
        "ConsumerKey": SHOP_SECRETS[0],
        "ConsumerSecret": SHOP_SECRETS[1],
        "WebhookSecret": SHOP_SECRETS[2],
    })
}
