//! The top-level `Shop` object: the shop platform stocksync reaches through its API
//! (WooCommerce today), its credentials, the secret of its webhooks, and when its orders are
//! polled. Without it, the shop is the `stock` table (and `ShopTable`), as in the original.

use super::Schedule;
use super::json::{Problems, Section};
use secrecy::SecretString;
use stocksync_domain::ShopKind;

/// Orders are polled every minute unless `Shop.Cron` says otherwise.
pub const DEFAULT_SHOP_CRON: &str = "* * * * *";

const KNOWN_KEYS: &[&str] = &[
    "Type",
    "BaseUrl",
    "ConsumerKey",
    "ConsumerSecret",
    "WebhookSecret",
    "Cron",
];

/// A configured shop platform. `Debug` shows secrets as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub kind: ShopKind,
    /// The site (WooCommerce: the API is under `{BaseUrl}/wp-json/wc/v3`).
    pub base_url: String,
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    /// Checks the signature of `POST /webhooks/shop` deliveries; without it, deliveries are
    /// refused and orders are only polled.
    pub webhook_secret: Option<SecretString>,
    /// When orders are polled.
    pub cron: Schedule,
}

/// Reads `Shop`, if present.
pub fn parse_shop(root: &Section<'_>, problems: &mut Problems) -> Option<ShopConfig> {
    let shop = root.section("Shop", problems)?;
    for key in shop.unknown_keys(KNOWN_KEYS) {
        problems.warn(&shop.path_of(key), "is not a key stocksync knows; ignored");
    }
    let kind = shop
        .required_string("Type", "the shop platform", problems)
        .and_then(|name| {
            let kind = match name.to_ascii_lowercase().as_str() {
                "woocommerce" => Some(ShopKind::WooCommerce),
                _ => None,
            };
            if kind.is_none() {
                problems.error(
                    &shop.path_of("Type"),
                    format!("'{name}' is not a shop platform stocksync knows (WooCommerce)"),
                );
            }
            kind
        });
    let base_url = shop
        .required_string("BaseUrl", "the shop's address", problems)
        .and_then(|url| {
            let ok = reqwest::Url::parse(&url).is_ok_and(|parsed| {
                matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some()
            });
            if !ok {
                problems.error(
                    &shop.path_of("BaseUrl"),
                    format!("'{url}' is not an http(s) address"),
                );
            }
            ok.then_some(url)
        });
    let secret = |key: &str, problems: &mut Problems| {
        shop.required_string(key, "a credential", problems)
            .map(SecretString::from)
    };
    let consumer_key = secret("ConsumerKey", problems);
    let consumer_secret = secret("ConsumerSecret", problems);
    if shop
        .get("WebhookSecret")
        .is_some_and(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
    {
        problems.error(
            &shop.path_of("WebhookSecret"),
            "is empty; remove it to poll orders only",
        );
    }
    let webhook_secret = shop
        .string("WebhookSecret", problems)
        .map(SecretString::from);
    let cron = Schedule::parse(
        &shop
            .string("Cron", problems)
            .unwrap_or_else(|| DEFAULT_SHOP_CRON.to_owned()),
    )
    .map_err(|e| problems.error(&shop.path_of("Cron"), e))
    .ok();
    Some(ShopConfig {
        kind: kind?,
        base_url: base_url?,
        consumer_key: consumer_key?,
        consumer_secret: consumer_secret?,
        webhook_secret,
        cron: cron?,
    })
}
