//! The `PosAccess.PosConfigurations[]` entries of `appsettings.json`, one per POS account, with
//! the original keys and ours (`BaseUrl`, `AuthUrl`).

use super::Schedule;
use super::json::{Problems, Section, kind};
use secrecy::SecretString;
use serde_json::Value;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::{AccountId, PosKind};

/// Every key a POS entry may have, for any vendor (the original template mixes them).
const KNOWN_KEYS: &[&str] = &[
    "Type",
    "AccessToken",
    "AccountID",
    "Locations",
    "EmailAddress",
    "AccountName",
    "MaximumRequests",
    "StoreID",
    "HiboutikCustomerID",
    "RefreshToken",
    "ClientID",
    "ClientSecret",
    "EmployeeID",
    "RegisterID",
    "ShopID",
    "LightspeedCustomerID",
    "BaseUrl",
    "AuthUrl",
    "FirebaseFCMID",
    "WebhookSignatureKey",
    "WebhookUrl",
    "WebhookSecret",
    "Cron",
];

const HIBOUTIK_MONTHLY_CALLS: i64 = 10_000;

/// How an account's webhook notifications are authenticated (`POST /webhooks/{vendor}/{account}`).
#[derive(Debug, Clone)]
pub enum WebhookConfig {
    /// `WebhookSignatureKey` and the `WebhookUrl` registered with Square: the signature is an
    /// HMAC of that exact URL followed by the body.
    Square {
        signature_key: SecretString,
        notification_url: String,
    },
    /// `WebhookSecret`, which Hiboutik sends back in the URL (`?k=…`): it signs nothing.
    Hiboutik { secret: SecretString },
}

/// One `PosConfigurations[]` entry.
pub struct ParsedAccount {
    pub config: AccountConfig,
    pub webhook: Option<WebhookConfig>,
    /// Its own sync schedule (`Cron`), if it has one.
    pub cron: Option<Schedule>,
}

/// Reads `PosAccess.PosConfigurations`, with each account's webhook settings and schedule if any.
pub fn parse_accounts(root: &Section<'_>, problems: &mut Problems) -> Vec<ParsedAccount> {
    let Some(access) = root.section("PosAccess", problems) else {
        return Vec::new();
    };
    let path = access.path_of("PosConfigurations");
    let entries = match access.get("PosConfigurations") {
        None => return Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            problems.error(&path, format!("must be a list, not {}", kind(other)));
            return Vec::new();
        }
    };
    let mut accounts: Vec<ParsedAccount> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry_path = format!("{path}[{i}]");
        let Value::Object(map) = entry else {
            problems.error(
                &entry_path,
                format!("must be an object, not {}", kind(entry)),
            );
            continue;
        };
        let entry = Section::new(entry_path.clone(), map);
        let Some(account) = parse_account(&entry, problems) else {
            continue;
        };
        if accounts.iter().any(|a| a.config.id == account.id) {
            problems.error(
                &entry_path,
                format!("account '{}' is configured twice", account.id),
            );
            continue;
        }
        let webhook = parse_webhook(&entry, account.kind, problems);
        let cron = entry.string("Cron", problems).and_then(|expression| {
            Schedule::parse(&expression)
                .map_err(|e| problems.error(&entry.path_of("Cron"), e))
                .ok()
        });
        accounts.push(ParsedAccount {
            config: account,
            webhook,
            cron,
        });
    }
    accounts
}

fn parse_account(entry: &Section<'_>, problems: &mut Problems) -> Option<AccountConfig> {
    for key in entry.unknown_keys(KNOWN_KEYS) {
        problems.warn(&entry.path_of(key), "is not a key stocksync knows; ignored");
    }
    let kind = parse_type(entry, problems)?;
    let secret = |key: &str, problems: &mut Problems| {
        entry
            .required_string(key, "a credential", problems)
            .map(SecretString::from)
    };
    let base_url = |default: String, problems: &mut Problems| -> String {
        let url = entry.string("BaseUrl", problems).unwrap_or(default);
        check_url(entry, "BaseUrl", &url, problems);
        url.trim_end_matches('/').to_owned()
    };
    let integer_or = |key: &str, default: i64, problems: &mut Problems| {
        entry.integer(key, problems).unwrap_or(default)
    };
    match kind {
        PosKind::Square => {
            let access_token = secret("AccessToken", problems);
            let id = entry.required_string("AccountID", "the account's id", problems);
            let locations = entry.string_list("Locations", problems);
            let base_url = base_url("https://connect.squareup.com".into(), problems);
            Some(AccountConfig {
                id: AccountId::new(id?),
                kind,
                base_url,
                vendor: VendorConfig::Square {
                    access_token: access_token?,
                    locations,
                },
            })
        }
        PosKind::Hiboutik => {
            let access_token = secret("AccessToken", problems);
            let email = entry.required_string("EmailAddress", "the API login", problems);
            let account_name =
                entry.required_string("AccountName", "the Hiboutik sub-domain", problems);
            let maximum_requests = integer_or("MaximumRequests", HIBOUTIK_MONTHLY_CALLS, problems);
            if maximum_requests <= 0 {
                problems.error(&entry.path_of("MaximumRequests"), "must be more than 0");
            }
            let store_id = integer_or("StoreID", 1, problems);
            let customer_id = integer_or("HiboutikCustomerID", 0, problems);
            let account_name = account_name?;
            let id = entry
                .string("AccountID", problems)
                .unwrap_or_else(|| account_name.clone());
            let base_url = base_url(format!("https://{account_name}.hiboutik.com/api"), problems);
            Some(AccountConfig {
                id: AccountId::new(id),
                kind,
                base_url,
                vendor: VendorConfig::Hiboutik {
                    access_token: access_token?,
                    email: email?,
                    account_name,
                    maximum_requests,
                    store_id,
                    customer_id,
                },
            })
        }
        PosKind::Lightspeed => {
            let access_token = entry
                .string("AccessToken", problems)
                .map(SecretString::from);
            let refresh_token = secret("RefreshToken", problems);
            let client_id = entry.required_string("ClientID", "the OAuth client id", problems);
            let client_secret = secret("ClientSecret", problems);
            let id = entry.required_string("AccountID", "the Lightspeed account number", problems);
            let base_url = base_url("https://api.lightspeedapp.com".into(), problems);
            let auth_url = entry
                .string("AuthUrl", problems)
                .unwrap_or_else(|| "https://cloud.lightspeedapp.com".into());
            check_url(entry, "AuthUrl", &auth_url, problems);
            let employee_id = integer_or("EmployeeID", 1, problems);
            let register_id = integer_or("RegisterID", 1, problems);
            let shop_id = integer_or("ShopID", 1, problems);
            let customer_id = integer_or("LightspeedCustomerID", 0, problems);
            Some(AccountConfig {
                id: AccountId::new(id?),
                kind,
                base_url,
                vendor: VendorConfig::Lightspeed {
                    access_token,
                    refresh_token: refresh_token?,
                    client_id: client_id?,
                    client_secret: client_secret?,
                    auth_url: auth_url.trim_end_matches('/').to_owned(),
                    employee_id,
                    register_id,
                    shop_id,
                    customer_id,
                },
            })
        }
    }
}

fn parse_webhook(
    entry: &Section<'_>,
    kind: PosKind,
    problems: &mut Problems,
) -> Option<WebhookConfig> {
    match kind {
        PosKind::Square => {
            let key = entry.string("WebhookSignatureKey", problems);
            let url = entry.string("WebhookUrl", problems);
            match (key, url) {
                (Some(key), Some(url)) => {
                    check_url(entry, "WebhookUrl", &url, problems);
                    Some(WebhookConfig::Square {
                        signature_key: SecretString::from(key),
                        notification_url: url,
                    })
                }
                (None, None) => None,
                (Some(_), None) => {
                    problems.error(
                        &entry.path_of("WebhookUrl"),
                        "is missing (the notification URL registered with Square, exactly)",
                    );
                    None
                }
                (None, Some(_)) => {
                    problems.error(
                        &entry.path_of("WebhookSignatureKey"),
                        "is missing (the subscription's signature key)",
                    );
                    None
                }
            }
        }
        PosKind::Hiboutik => {
            entry
                .string("WebhookSecret", problems)
                .map(|secret| WebhookConfig::Hiboutik {
                    secret: SecretString::from(secret),
                })
        }
        PosKind::Lightspeed => None,
    }
}

/// `Type`: `1` Square, `2` Hiboutik, `3` Lightspeed, as a number or a string. The names are
/// accepted too, as .NET's binder accepts an enum's member names.
fn parse_type(entry: &Section<'_>, problems: &mut Problems) -> Option<PosKind> {
    let path = entry.path_of("Type");
    let parsed = match entry.get("Type") {
        None => {
            problems.error(&path, "is missing (1 Square, 2 Hiboutik, 3 Lightspeed)");
            return None;
        }
        Some(Value::Number(n)) => n.as_i64().and_then(PosKind::from_type_code),
        Some(Value::String(s)) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(code) => PosKind::from_type_code(code),
                Err(_) => match s.to_ascii_lowercase().as_str() {
                    "squarepos" | "square" => Some(PosKind::Square),
                    "hiboutik" => Some(PosKind::Hiboutik),
                    "lightspeed" => Some(PosKind::Lightspeed),
                    _ => None,
                },
            }
        }
        Some(_) => None,
    };
    if parsed.is_none() {
        let shown = entry.get("Type").map(|v| v.to_string()).unwrap_or_default();
        problems.error(
            &path,
            format!("unknown POS type {shown} (1 Square, 2 Hiboutik, 3 Lightspeed)"),
        );
    }
    parsed
}

fn check_url(entry: &Section<'_>, key: &str, url: &str, problems: &mut Problems) {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        problems.error(&entry.path_of(key), "must start with http:// or https://");
    }
}
