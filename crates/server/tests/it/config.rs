//! Configuration: the original `appsettings.json` is accepted, our keys and the environment
//! apply, and every problem is reported with its JSON path and without secrets.

use serde_json::{Value, json};
use std::collections::HashMap;
use stocksync::config::{ConfigErrors, Settings, VendorConfig};
use stocksync_domain::PosKind;
use stocksync_store::Backend;

fn original() -> Value {
    serde_json::from_str(include_str!("../fixtures/original-appsettings.json")).unwrap()
}

fn load(document: &Value, env: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_json(document, &|name| env.get(name).cloned())
}

fn refusals(document: &Value) -> Vec<String> {
    load(document, &[])
        .expect_err("the configuration should be refused")
        .0
}

#[test]
fn the_original_appsettings_is_accepted_with_a_real_connection_string() {
    let mut document = original();
    document["ecommerceDatabaseConnectionString"] =
        json!("Server=127.0.0.1;Port=3306;Database=shop;Uid=root;Pwd=pw;");
    let settings = load(&document, &[]).unwrap();
    assert_eq!(settings.database.backend(), Backend::MySql);
    assert_eq!(
        settings.database.to_string(),
        "mysql://root:***@127.0.0.1:3306/shop"
    );
    assert_eq!(settings.listen.to_string(), "127.0.0.1:5000");
    assert_eq!(settings.cron.expression, "* * * * *");
    let kinds: Vec<PosKind> = settings.accounts.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [PosKind::Square, PosKind::Hiboutik, PosKind::Lightspeed]
    );
    let ids: Vec<&str> = settings.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "your_squarePOS_account_id",
            "your_hibouik_account_name",
            "your_lightspeed_account_id"
        ]
    );
    assert_eq!(
        settings.accounts[0].base_url,
        "https://connect.squareup.com"
    );
    assert_eq!(
        settings.accounts[1].base_url,
        "https://your_hibouik_account_name.hiboutik.com/api"
    );
    assert_eq!(
        settings.accounts[2].base_url,
        "https://api.lightspeedapp.com"
    );
    match &settings.accounts[2].vendor {
        VendorConfig::Lightspeed {
            auth_url,
            shop_id,
            employee_id,
            ..
        } => {
            assert_eq!(auth_url, "https://cloud.lightspeedapp.com");
            assert_eq!((*shop_id, *employee_id), (1, 1));
        }
        other => panic!("{other:?}"),
    }
    match &settings.accounts[1].vendor {
        VendorConfig::Hiboutik {
            maximum_requests,
            email,
            ..
        } => {
            assert_eq!(*maximum_requests, 10000);
            assert_eq!(email, "you@outlook.com");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        settings
            .warnings
            .iter()
            .any(|w| w.starts_with("hangfireDatabaseConnectionString")),
        "{:?}",
        settings.warnings
    );
}

#[test]
fn base_urls_point_accounts_at_simulators() {
    let mut document = original();
    let entries = document["PosAccess"]["PosConfigurations"]
        .as_array_mut()
        .unwrap();
    entries[0]["BaseUrl"] = json!("http://127.0.0.1:7001/");
    entries[1]["BaseUrl"] = json!("http://127.0.0.1:7002/api");
    entries[2]["BaseUrl"] = json!("http://127.0.0.1:7003");
    entries[2]["AuthUrl"] = json!("http://127.0.0.1:7004");
    let settings = load(&document, &[("STOCKSYNC_DATABASE_URL", "sqlite://test.db")]).unwrap();
    let urls: Vec<&str> = settings
        .accounts
        .iter()
        .map(|a| a.base_url.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:7001",
            "http://127.0.0.1:7002/api",
            "http://127.0.0.1:7003"
        ]
    );
    match &settings.accounts[2].vendor {
        VendorConfig::Lightspeed { auth_url, .. } => assert_eq!(auth_url, "http://127.0.0.1:7004"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_environment_overrides_the_file() {
    let mut document = original();
    document["Listen"] = json!("127.0.0.1:6000");
    document["ApiKey"] = json!("from-the-file");
    let settings = load(
        &document,
        &[
            ("STOCKSYNC_DATABASE_URL", "sqlite://elsewhere.db"),
            ("STOCKSYNC_LISTEN", "0.0.0.0:7000"),
            ("STOCKSYNC_API_KEY", "from-the-environment"),
        ],
    )
    .unwrap();
    assert_eq!(settings.database.expose(), "sqlite://elsewhere.db");
    assert_eq!(settings.listen.to_string(), "0.0.0.0:7000");
    assert_eq!(
        settings.api_key_bytes(),
        Some("from-the-environment".as_bytes())
    );
}

#[test]
fn sale_retries_follow_their_keys() {
    let settings = load(
        &json!({ "SaleMaxAttempts": 4, "SaleRetrySeconds": 0.05, "SaleRetryMaxSeconds": "0.2" }),
        &[],
    )
    .unwrap();
    let retries = settings.sale_retries;
    assert_eq!(retries.retries, 3);
    assert_eq!(retries.initial, std::time::Duration::from_millis(50));
    assert_eq!(retries.max, std::time::Duration::from_millis(200));
    let defaults = load(&json!({}), &[]).unwrap().sale_retries;
    assert_eq!(
        (
            defaults.retries,
            defaults.initial.as_secs(),
            defaults.max.as_secs()
        ),
        (9, 2, 600)
    );
}

#[test]
fn an_empty_configuration_means_the_defaults() {
    let settings = load(&json!({}), &[]).unwrap();
    assert_eq!(settings.database.expose(), "sqlite://stocksync.db");
    assert_eq!(settings.listen.to_string(), "127.0.0.1:5000");
    assert!(settings.api_key.is_none());
    assert!(settings.accounts.is_empty());
}

#[test]
fn keys_match_without_case_and_numbers_may_be_strings() {
    let document = json!({
        "PosAccess": { "posconfigurations": [
            { "type": 2, "accesstoken": "t", "emailaddress": "a@b.c", "accountname": "shop", "MaximumRequests": "500", "storeid": "3" }
        ]}
    });
    let settings = load(&document, &[]).unwrap();
    match &settings.accounts[0].vendor {
        VendorConfig::Hiboutik {
            maximum_requests,
            store_id,
            ..
        } => assert_eq!((*maximum_requests, *store_id), (500, 3)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_problem_is_listed_with_its_json_path() {
    let document = json!({
        "ecommerceDatabaseConnectionString": "Server=db;Uid=root;Pwd=hunter2",
        "Cron": "61 * * * *",
        "Listen": "localhost",
        "PosAccess": { "PosConfigurations": [
            { "Type": "7", "AccessToken": "t" },
            { "Type": "1", "AccountID": "sq" },
            { "Type": 3, "AccountID": "ls", "ClientID": "c", "RefreshToken": "r" },
            { "Type": 2, "AccessToken": "secret-token-value", "AccountName": "x", "EmailAddress": "e", "MaximumRequests": "lots" },
            { "Type": "1", "AccessToken": "a", "AccountID": "dup" },
            { "Type": "1", "AccessToken": "b", "AccountID": "dup", "BaseUrl": "ftp://x" }
        ]},
        "ShopTable": { "Table": "produit;--", "IdColumn": "id" },
        "ReconcileCron": "every night",
        "SaleRetrySeconds": "soon",
        "HistoryDays": 0
    });
    let problems = refusals(&document);
    let expected = [
        "ecommerceDatabaseConnectionString: the ADO.NET connection string lacks 'Database'",
        "Cron: '61 * * * *' is not a valid 5-field CRON expression",
        "Listen: 'localhost' is not an address:port",
        "PosAccess.PosConfigurations[0].Type: unknown POS type \"7\"",
        "PosAccess.PosConfigurations[1].AccessToken: is missing (a credential)",
        "PosAccess.PosConfigurations[2].ClientSecret: is missing (a credential)",
        "PosAccess.PosConfigurations[3].MaximumRequests: must be a whole number, not a string",
        "PosAccess.PosConfigurations[5].BaseUrl: must start with http:// or https://",
        "PosAccess.PosConfigurations[5]: account 'dup' is configured twice",
        "ShopTable.QuantityColumn: is missing",
        "ReconcileCron: 'every night' is not a valid 5-field CRON expression",
        "SaleRetrySeconds: must be a number of seconds from 0.001 to 3600",
        "HistoryDays: must be from 1 to 3650",
    ];
    for want in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "missing '{want}' in {problems:#?}"
        );
    }
    let text = problems.join("\n");
    for secret in ["hunter2", "secret-token-value"] {
        assert!(!text.contains(secret), "a secret in the problems: {text}");
    }
}

#[test]
fn without_an_api_key_only_loopback_addresses_are_allowed() {
    let problems = refusals(&json!({ "Listen": "0.0.0.0:5000" }));
    assert!(problems[0].contains("no ApiKey is set"), "{problems:?}");
    assert!(load(&json!({ "Listen": "0.0.0.0:5000", "ApiKey": "k" }), &[]).is_ok());
    assert!(load(&json!({ "Listen": "[::1]:5000" }), &[]).is_ok());
    let problems = refusals(&json!({ "ecommerceDatabaseConnectionString": "" }));
    assert!(problems[0].contains("is empty"), "{problems:?}");
    let problems = refusals(&json!({ "ApiKey": " " }));
    assert!(problems[0].starts_with("ApiKey: is empty"), "{problems:?}");
}

#[test]
fn the_summary_and_debug_output_hide_secrets() {
    let mut document = original();
    document["ecommerceDatabaseConnectionString"] = json!("mysql://u:db-pass-123@h:3306/shop");
    document["ApiKey"] = json!("api-key-456");
    let settings = load(&document, &[]).unwrap();
    let shown = format!("{}\n{:?}", settings.summary(), settings);
    for secret in [
        "db-pass-123",
        "api-key-456",
        "your_squarePOS_access_token",
        "your_hiboutik_access_token",
        "your_lightspeed_access_token",
        "your_lightspeed_refresh_token",
        "your_lightspeed_cient_secret",
    ] {
        assert!(!shown.contains(secret), "'{secret}' shown in:\n{shown}");
    }
    assert!(
        shown.contains("your_squarePOS_account_id"),
        "ids are not secret: {shown}"
    );
}

#[test]
fn schedules_and_jobs_follow_their_keys_and_bad_values_are_refused() {
    let mut document = original();
    document["ecommerceDatabaseConnectionString"] = json!("sqlite://test.db");
    document["TimeZone"] = json!("Europe/Paris");
    document["JobWorkers"] = json!("4");
    document["JobLeaseSeconds"] = json!(12.5);
    document["JobMaxAttempts"] = json!(5);
    document["PosAccess"]["PosConfigurations"][1]["Cron"] = json!("*/10 8-20 * * MON-SAT");
    let settings = load(&document, &[]).unwrap();
    assert_eq!(settings.time_zone.name(), "Europe/Paris");
    assert_eq!(settings.jobs.workers, 4);
    assert_eq!(
        settings.jobs.lease,
        std::time::Duration::from_millis(12_500)
    );
    assert_eq!(settings.jobs.max_attempts, 5);
    let own: Vec<(&str, &str)> = settings
        .account_crons
        .iter()
        .map(|(id, cron)| (id.as_str(), cron.expression.as_str()))
        .collect();
    assert_eq!(
        own,
        [("your_hibouik_account_name", "*/10 8-20 * * MON-SAT")]
    );
    assert!(
        settings.warnings.iter().all(|w| !w.contains("Cron")),
        "an account's Cron is a known key: {:?}",
        settings.warnings
    );
    let defaults = load(&json!({}), &[]).unwrap();
    assert_eq!(defaults.time_zone.name(), "UTC");
    assert_eq!(defaults.jobs, stocksync::config::JobSettings::default());

    document["TimeZone"] = json!("Paris");
    document["JobWorkers"] = json!(0);
    document["JobLeaseSeconds"] = json!(0);
    document["JobMaxAttempts"] = json!(101);
    document["PosAccess"]["PosConfigurations"][1]["Cron"] = json!("0 25 * * *");
    let problems = refusals(&document);
    for want in [
        "TimeZone: 'Paris' is not a time zone name",
        "JobWorkers: must be from 1 to 16",
        "JobLeaseSeconds: must be",
        "JobMaxAttempts: must be from 1 to 100",
        "PosAccess.PosConfigurations[1].Cron: '0 25 * * *' is not a valid 5-field CRON expression",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "missing '{want}' in {problems:#?}"
        );
    }
}

#[test]
fn a_woocommerce_shop_is_read_with_its_secrets_hidden() {
    let document = json!({
        "Shop": {
            "Type": "WooCommerce",
            "BaseUrl": "https://shop.example.com",
            "ConsumerKey": "ck_key_4242", "ConsumerSecret": "cs_secret_4242",
            "WebhookSecret": "hook_secret_4242",
            "Cron": "*/5 * * * *"
        }
    });
    let settings = load(&document, &[]).unwrap();
    let shop = settings.shop.as_ref().expect("a shop");
    assert_eq!(shop.kind, stocksync_domain::ShopKind::WooCommerce);
    assert_eq!(shop.base_url, "https://shop.example.com");
    assert_eq!(shop.cron.expression, "*/5 * * * *");
    let shown = format!("{}\n{settings:?}", settings.summary());
    assert!(
        shown.contains("woocommerce at https://shop.example.com"),
        "{shown}"
    );
    for secret in ["ck_key_4242", "cs_secret_4242", "hook_secret_4242"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }

    let without_cron = json!({"Shop": {"Type": "woocommerce", "BaseUrl": "http://127.0.0.1:8080",
        "ConsumerKey": "ck", "ConsumerSecret": "cs"}});
    let shop = load(&without_cron, &[]).unwrap().shop.unwrap();
    assert_eq!(
        shop.cron.expression, "* * * * *",
        "orders polled every minute"
    );
    assert!(shop.webhook_secret.is_none());
    assert!(load(&json!({}), &[]).unwrap().shop.is_none());
}

#[test]
fn a_shop_that_cannot_be_reached_is_refused_with_its_paths() {
    let problems = refusals(&json!({"Shop": {"Type": "Magento", "BaseUrl": "ftp://shop",
        "ConsumerKey": "ck", "Cron": "often", "WebhookSecret": " "}}));
    for expected in [
        "Shop.Type: 'Magento' is not a shop platform",
        "Shop.BaseUrl: 'ftp://shop' is not an http(s) address",
        "Shop.Cron",
        "Shop.WebhookSecret: is empty",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} not in {problems:?}"
        );
    }
}

#[test]
fn a_shopify_shop_is_read_with_its_defaults_and_secrets_hidden() {
    use stocksync::config::ShopAccess;
    let document = json!({
        "Shop": {
            "Type": "Shopify",
            "ShopDomain": "Example.myshopify.com",
            "AccessToken": "shpat_token_4242",
            "LocationID": "77",
            "WebhookSecret": "hook_secret_4242",
        }
    });
    let settings = load(&document, &[]).unwrap();
    let shop = settings.shop.as_ref().expect("a shop");
    assert_eq!(shop.kind, stocksync_domain::ShopKind::Shopify);
    assert_eq!(
        shop.base_url, "https://example.myshopify.com",
        "the shop's own address without BaseUrl"
    );
    match &shop.access {
        ShopAccess::Shopify {
            shop_domain,
            api_version,
            location_id,
            activate,
            ..
        } => {
            assert!(
                !activate,
                "never stocked at the location behind the merchant's back"
            );
            assert_eq!(shop_domain, "example.myshopify.com");
            assert_eq!(
                api_version, "2026-04",
                "the version that has compare-and-set"
            );
            assert_eq!(location_id.as_deref(), Some("gid://shopify/Location/77"));
        }
        other => panic!("not Shopify's settings: {other:?}"),
    }
    let shown = format!("{}\n{settings:?}", settings.summary());
    for secret in ["shpat_token_4242", "hook_secret_4242"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    let simulated = json!({"Shop": {"Type": "shopify", "ShopDomain": "sim.myshopify.com",
        "AccessToken": "t", "BaseUrl": "http://127.0.0.1:9000", "ApiVersion": "2026-07"}});
    let shop = load(&simulated, &[]).unwrap().shop.unwrap();
    assert_eq!(shop.base_url, "http://127.0.0.1:9000");

    let problems = refusals(
        &json!({"Shop": {"Type": "Shopify", "ShopDomain": "no spaces allowed",
        "ApiVersion": "latest", "LocationID": "gid://shopify/Product/1", "ConsumerKey": "ck", "ActivateAtLocation": "yes"}}),
    );
    for expected in [
        "Shop.ShopDomain: 'no spaces allowed' is not a domain",
        "Shop.AccessToken: is missing",
        "Shop.ApiVersion: 'latest' is not a Shopify API version",
        "Shop.LocationID: 'gid://shopify/Product/1' is not a location id",
        "Shop.ActivateAtLocation: must be true or false",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} not in {problems:?}"
        );
    }
}

#[test]
fn a_prestashop_shop_takes_its_time_zone_and_order_states() {
    use stocksync::config::ShopAccess;
    let document = json!({
        "TimeZone": "Europe/Brussels",
        "Shop": {
            "Type": "PrestaShop",
            "BaseUrl": "https://shop.example.be",
            "ApiKey": "KEY_4242",
            "ShopID": 2,
            "OrderStates": {"Sold": [2, 3, 4, 5], "Cancelled": [6]},
            "WebhookSecret": "unused",
        }
    });
    let settings = load(&document, &[]).unwrap();
    let shop = settings.shop.as_ref().expect("a shop");
    assert!(
        shop.webhook_secret.is_none(),
        "PrestaShop sends no webhooks"
    );
    assert!(
        settings
            .warnings
            .iter()
            .any(|w| w.starts_with("Shop.WebhookSecret: PrestaShop sends no webhooks")),
        "{:?}",
        settings.warnings
    );
    match &shop.access {
        ShopAccess::PrestaShop {
            shop_id,
            time_zone,
            states,
            ..
        } => {
            assert_eq!(*shop_id, Some(2));
            assert_eq!(time_zone.name(), "Europe/Brussels", "the top-level zone");
            assert_eq!(states.sold, Some(vec![2, 3, 4, 5]));
            assert_eq!(states.cancelled, vec![6]);
            assert_eq!(states.refunded, vec![7], "PrestaShop's default");
        }
        other => panic!("not PrestaShop's settings: {other:?}"),
    }
    let shown = format!("{}\n{settings:?}", settings.summary());
    assert!(!shown.contains("KEY_4242"), "{shown}");

    let problems = refusals(
        &json!({"Shop": {"Type": "PrestaShop", "BaseUrl": "https://s.example",
        "ShopID": 0, "TimeZone": "Mars/Olympus",
        "OrderStates": {"Sold": [2, "paid"], "Cancelled": [6], "Refunded": [6]}}}),
    );
    for expected in [
        "Shop.ApiKey: is missing",
        "Shop.ShopID: must be a shop id",
        "Shop.TimeZone",
        "Shop.OrderStates.Sold: must be a list of order state ids",
        "Shop.OrderStates: state 6 is listed twice",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} not in {problems:?}"
        );
    }
}
