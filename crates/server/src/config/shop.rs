//! The top-level `Shop` object: the shop platform stocksync reaches through its API
//! (WooCommerce, Shopify or PrestaShop, by `Type`), its credentials, the secret of its webhooks,
//! and when its orders are polled. Without it, the shop is the `stock` table (and `ShopTable`),
//! as in the original.

use super::json::{Problems, Section, kind};
use super::{Schedule, parse_time_zone};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde_json::Value;
use stocksync_domain::ShopKind;
use stocksync_prestashop::OrderStates;
use stocksync_shopify::{is_api_version, location_gid};

/// Orders are polled every minute unless `Shop.Cron` says otherwise.
pub const DEFAULT_SHOP_CRON: &str = "* * * * *";
/// The Shopify Admin API version used unless `Shop.ApiVersion` says otherwise.
pub const DEFAULT_SHOPIFY_API_VERSION: &str = "2026-04";

const COMMON_KEYS: &[&str] = &["Type", "BaseUrl", "WebhookSecret", "Cron", "PollSeconds"];
const WOOCOMMERCE_KEYS: &[&str] = &["ConsumerKey", "ConsumerSecret"];
const SHOPIFY_KEYS: &[&str] = &[
    "ShopDomain",
    "AccessToken",
    "ApiVersion",
    "LocationID",
    "ActivateAtLocation",
];
const PRESTASHOP_KEYS: &[&str] = &["ApiKey", "ShopID", "TimeZone", "OrderStates"];

/// A configured shop platform. `Debug` shows secrets as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub kind: ShopKind,
    /// Where the platform's API is (WooCommerce: under `{BaseUrl}/wp-json/wc/v3`; Shopify:
    /// `BaseUrl` or `https://{ShopDomain}`; PrestaShop: under `{BaseUrl}/api`).
    pub base_url: String,
    /// What only this platform needs.
    pub access: ShopAccess,
    /// Checks the signature of `POST /webhooks/shop` deliveries; without it, deliveries are
    /// refused and orders are only polled (PrestaShop has no webhooks: always `None`).
    pub webhook_secret: Option<SecretString>,
    /// When orders are polled (unless `poll_every` says otherwise).
    pub cron: Schedule,
    /// `PollSeconds`: orders are polled this often instead of on `Cron` (a shop without
    /// webhooks, PrestaShop, whose web orders should reach the POS within seconds; an idle
    /// poll is one call).
    pub poll_every: Option<std::time::Duration>,
}

/// The platform's own settings.
#[derive(Debug, Clone)]
pub enum ShopAccess {
    WooCommerce {
        consumer_key: SecretString,
        consumer_secret: SecretString,
    },
    Shopify {
        /// `example.myshopify.com`: names the shop (and is its address without `BaseUrl`).
        shop_domain: String,
        access_token: SecretString,
        api_version: String,
        /// The location whose `available` quantity is stocksync's (`None`: the shop's primary
        /// location).
        location_id: Option<String>,
        /// `ActivateAtLocation`: a tracked variant the merchant has not stocked at the
        /// location is stocked there by stocksync's first write (by default it is reported).
        activate: bool,
    },
    PrestaShop {
        api_key: SecretString,
        /// The shop of a multistore (`None`: the default shop).
        shop_id: Option<i64>,
        /// The shop's own time zone (`PS_TIMEZONE`): the Webservice's dates carry none.
        time_zone: Tz,
        states: OrderStates,
    },
}

/// Reads `Shop`, if present. `time_zone` (the top-level `TimeZone`) is a PrestaShop shop's
/// zone unless `Shop.TimeZone` names another.
pub fn parse_shop(
    root: &Section<'_>,
    time_zone: Tz,
    problems: &mut Problems,
) -> Option<ShopConfig> {
    let shop = root.section("Shop", problems)?;
    let kind = shop
        .required_string("Type", "the shop platform", problems)
        .and_then(|name| {
            let kind = ShopKind::parse(&name.to_ascii_lowercase());
            if kind.is_none() {
                problems.error(
                    &shop.path_of("Type"),
                    format!(
                        "'{name}' is not a shop platform stocksync knows (WooCommerce, Shopify, PrestaShop)"
                    ),
                );
            }
            kind
        });
    let own_keys = match kind {
        Some(ShopKind::WooCommerce) => WOOCOMMERCE_KEYS,
        Some(ShopKind::Shopify) => SHOPIFY_KEYS,
        Some(ShopKind::PrestaShop) => PRESTASHOP_KEYS,
        None => &[],
    };
    let known: Vec<&str> = COMMON_KEYS.iter().chain(own_keys).copied().collect();
    for key in shop.unknown_keys(&known) {
        let why = match kind {
            Some(kind) => format!("is not a key of a {} shop; ignored", kind.display_name()),
            None => "is not a key stocksync knows; ignored".to_owned(),
        };
        problems.warn(&shop.path_of(key), why);
    }
    let secret = |key: &str, problems: &mut Problems| {
        shop.required_string(key, "a credential", problems)
            .map(SecretString::from)
    };
    let (base_url, access) = match kind {
        Some(ShopKind::WooCommerce) => (
            required_url(&shop, problems),
            secret("ConsumerKey", problems)
                .zip(secret("ConsumerSecret", problems))
                .map(|(consumer_key, consumer_secret)| ShopAccess::WooCommerce {
                    consumer_key,
                    consumer_secret,
                }),
        ),
        Some(ShopKind::Shopify) => shopify(&shop, problems),
        Some(ShopKind::PrestaShop) => (
            required_url(&shop, problems),
            prestashop(&shop, time_zone, problems),
        ),
        // The rest is still checked, so that one pass shows every problem.
        None => (url(&shop, problems), None),
    };
    let webhook_secret = webhook_secret(&shop, kind, problems);
    let cron = Schedule::parse(
        &shop
            .string("Cron", problems)
            .unwrap_or_else(|| DEFAULT_SHOP_CRON.to_owned()),
    )
    .map_err(|e| problems.error(&shop.path_of("Cron"), e))
    .ok();
    let poll_every = shop
        .seconds("PollSeconds", 1.0, 3600.0, problems)
        .map(std::time::Duration::from_secs_f64);
    if poll_every.is_some() && shop.get("Cron").is_some() {
        problems.error(
            &shop.path_of("PollSeconds"),
            "and Shop.Cron both say when orders are polled; keep one",
        );
    }
    Some(ShopConfig {
        kind: kind?,
        base_url: base_url?,
        access: access?,
        webhook_secret,
        cron: cron?,
        poll_every,
    })
}

/// `BaseUrl`, when it is an http(s) address.
fn url(shop: &Section<'_>, problems: &mut Problems) -> Option<String> {
    let url = shop.string("BaseUrl", problems)?;
    let ok = reqwest::Url::parse(&url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some());
    if !ok {
        problems.error(
            &shop.path_of("BaseUrl"),
            format!("'{url}' is not an http(s) address"),
        );
    }
    ok.then_some(url)
}

fn required_url(shop: &Section<'_>, problems: &mut Problems) -> Option<String> {
    if shop.get("BaseUrl").is_none() {
        problems.error(&shop.path_of("BaseUrl"), "is missing (the shop's address)");
    }
    url(shop, problems)
}

/// `WebhookSecret`: absent means orders are polled only; PrestaShop sends no webhooks.
fn webhook_secret(
    shop: &Section<'_>,
    kind: Option<ShopKind>,
    problems: &mut Problems,
) -> Option<SecretString> {
    shop.get("WebhookSecret")?;
    if kind == Some(ShopKind::PrestaShop) {
        problems.warn(
            &shop.path_of("WebhookSecret"),
            "PrestaShop sends no webhooks (its orders are polled); ignored",
        );
        return None;
    }
    if shop
        .get("WebhookSecret")
        .is_some_and(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
    {
        problems.error(
            &shop.path_of("WebhookSecret"),
            "is empty; remove it to poll orders only",
        );
    }
    shop.string("WebhookSecret", problems)
        .map(SecretString::from)
}

fn shopify(shop: &Section<'_>, problems: &mut Problems) -> (Option<String>, Option<ShopAccess>) {
    let domain = shop
        .required_string("ShopDomain", "the shop's myshopify.com domain", problems)
        .and_then(|domain| {
            let domain = domain.to_ascii_lowercase();
            let ok = !domain.is_empty()
                && domain.contains('.')
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                problems.error(
                    &shop.path_of("ShopDomain"),
                    format!("'{domain}' is not a domain such as example.myshopify.com"),
                );
            }
            ok.then_some(domain)
        });
    let base_url = match shop.get("BaseUrl") {
        Some(_) => url(shop, problems),
        None => domain.as_ref().map(|domain| format!("https://{domain}")),
    };
    let token = shop
        .required_string("AccessToken", "a credential", problems)
        .map(SecretString::from);
    let api_version = shop
        .string("ApiVersion", problems)
        .unwrap_or_else(|| DEFAULT_SHOPIFY_API_VERSION.to_owned());
    if !is_api_version(&api_version) {
        problems.error(
            &shop.path_of("ApiVersion"),
            format!("'{api_version}' is not a Shopify API version (YYYY-MM, such as {DEFAULT_SHOPIFY_API_VERSION})"),
        );
    }
    let location_id = shop.string("LocationID", problems).and_then(|id| {
        let gid = location_gid(&id);
        if gid.is_none() {
            problems.error(
                &shop.path_of("LocationID"),
                format!("'{id}' is not a location id (gid://shopify/Location/123 or 123)"),
            );
        }
        gid
    });
    let activate = match shop.get("ActivateAtLocation") {
        None => Some(false),
        Some(Value::Bool(on)) => Some(*on),
        Some(other) => {
            problems.error(
                &shop.path_of("ActivateAtLocation"),
                format!("must be true or false, not {}", kind(other)),
            );
            None
        }
    };
    let access = match (domain, token, activate) {
        (Some(shop_domain), Some(access_token), Some(activate)) if is_api_version(&api_version) => {
            Some(ShopAccess::Shopify {
                shop_domain,
                access_token,
                api_version,
                location_id,
                activate,
            })
        }
        _ => None,
    };
    (base_url, access)
}

fn prestashop(shop: &Section<'_>, time_zone: Tz, problems: &mut Problems) -> Option<ShopAccess> {
    let api_key = shop
        .required_string("ApiKey", "the Webservice key", problems)
        .map(SecretString::from);
    let shop_id = shop.integer("ShopID", problems).filter(|&id| {
        let ok = id >= 1;
        if !ok {
            problems.error(&shop.path_of("ShopID"), "must be a shop id (1 or more)");
        }
        ok
    });
    let zone = match shop.string("TimeZone", problems) {
        None => Some(time_zone),
        Some(name) => parse_time_zone(&name)
            .map_err(|e| problems.error(&shop.path_of("TimeZone"), e))
            .ok(),
    };
    let states = order_states(shop, problems);
    Some(ShopAccess::PrestaShop {
        api_key: api_key?,
        shop_id,
        time_zone: zone?,
        states: states?,
    })
}

/// `OrderStates`: `{"Sold": [...], "Cancelled": [...], "Refunded": [...]}`, each optional
/// (PrestaShop's defaults: cancelled 6 and 8, refunded 7, every other state sold).
fn order_states(shop: &Section<'_>, problems: &mut Problems) -> Option<OrderStates> {
    let mut states = OrderStates::default();
    let Some(section) = shop.section("OrderStates", problems) else {
        return shop.get("OrderStates").is_none().then_some(states);
    };
    for key in section.unknown_keys(&["Sold", "Cancelled", "Refunded"]) {
        problems.warn(
            &section.path_of(key),
            "is not a key stocksync knows (Sold, Cancelled, Refunded); ignored",
        );
    }
    let mut ok = true;
    let mut ids = |key: &str, problems: &mut Problems| -> Option<Vec<i64>> {
        let value = section.get(key)?;
        let read = match value {
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_i64().filter(|&id| id >= 1))
                .collect::<Option<Vec<i64>>>(),
            _ => None,
        };
        if read.is_none() {
            ok = false;
            problems.error(
                &section.path_of(key),
                format!("must be a list of order state ids, not {}", kind(value)),
            );
        }
        read
    };
    states.sold = ids("Sold", problems);
    if let Some(cancelled) = ids("Cancelled", problems) {
        states.cancelled = cancelled;
    }
    if let Some(refunded) = ids("Refunded", problems) {
        states.refunded = refunded;
    }
    let mut all: Vec<i64> = states
        .cancelled
        .iter()
        .chain(&states.refunded)
        .chain(states.sold.iter().flatten())
        .copied()
        .collect();
    all.sort_unstable();
    let listed_twice = all
        .windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| pair[0]);
    if let Some(id) = listed_twice {
        ok = false;
        problems.error(
            &section.path,
            format!("state {id} is listed twice: a state means one thing"),
        );
    }
    ok.then_some(states)
}
