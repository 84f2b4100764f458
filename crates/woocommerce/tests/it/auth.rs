//! Authentication: OAuth 1.0a over http, Basic only when the site is behind https, errors mapped
//! and secrets kept out of them; transient failures told from permanent ones.

use crate::{Setup, client_of, endpoint, products};
use secrecy::SecretString;
use std::time::Duration;
use stocksync_domain::{ShopConnector, ShopError};
use stocksync_pos::backoff::Backoff;
use stocksync_pos::simkit::FaultPlan;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_woocommerce::{AuthScheme, WooClient, WooSimOptions};

#[tokio::test]
async fn oauth_with_a_wrong_secret_is_an_auth_error_that_names_no_secret() {
    let setup = Setup::new(products(1)).await;
    assert_eq!(setup.client.scheme(), AuthScheme::OAuth);
    let wrong = client_of(&setup.sim, "cs_wrong_secret_value", &setup.calls);
    let err = wrong.items().await.unwrap_err();
    assert!(
        matches!(&err, ShopError::Unauthorized(what) if what.contains("401")),
        "{err:?}"
    );
    assert!(!err.is_transient());
    let shown = format!("{err} {err:?} {wrong:?}");
    assert!(!shown.contains("cs_wrong_secret_value"), "{shown}");
    assert!(!shown.contains("oauth_signature"), "{shown}");
    assert_eq!(
        setup.calls.with_status(crate::ACCOUNT, 401),
        1,
        "a refusal is not tried again"
    );
    // The right secret gets in.
    assert_eq!(setup.client.items().await.unwrap().len(), 1);
}

#[tokio::test]
async fn basic_auth_is_taken_only_behind_https() {
    let plain = Setup::new(products(1)).await;
    let basic = |setup: &Setup, secret: &str| {
        WooClient::new(
            &setup.sim.base_url(),
            setup.sim.consumer_key(),
            SecretString::from(secret.to_owned()),
            PosHttp::with_timeout("shop", CallLog::default(), Duration::from_secs(5)),
        )
        .unwrap()
        .basic_auth_over_http()
    };
    let err = basic(&plain, plain.sim.consumer_secret())
        .items()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ShopError::Unauthorized(_)),
        "over http Basic is ignored: {err:?}"
    );

    let tls = Setup::new(WooSimOptions {
        behind_https: true,
        ..products(2)
    })
    .await;
    let client = basic(&tls, tls.sim.consumer_secret());
    assert_eq!(client.scheme(), AuthScheme::Basic);
    assert_eq!(client.items().await.unwrap().len(), 2);
    let err = basic(&tls, "cs_nope").items().await.unwrap_err();
    assert!(matches!(err, ShopError::Unauthorized(_)), "{err:?}");
}

#[test]
fn an_https_site_uses_basic_and_a_bad_base_url_is_refused() {
    let http = PosHttp::new("shop", CallLog::default());
    let client = WooClient::new(
        "https://shop.example.com/",
        "ck_1",
        SecretString::from("cs_very_secret".to_owned()),
        http.clone(),
    )
    .unwrap();
    assert_eq!(client.scheme(), AuthScheme::Basic);
    assert!(!format!("{client:?}").contains("cs_very_secret"));
    assert!(
        WooClient::new(
            "ftp://shop",
            "ck",
            SecretString::from("s".to_owned()),
            http.clone()
        )
        .is_err()
    );
    assert!(
        WooClient::new(
            "https://shop/?a=1",
            "ck",
            SecretString::from("s".to_owned()),
            http
        )
        .is_err()
    );
}

#[tokio::test]
async fn server_errors_html_pages_and_rate_limits_are_transient() {
    let setup = Setup::new(products(1)).await;
    let once = setup.client.clone().with_backoff(Backoff {
        retries: 0,
        ..crate::QUICK
    });
    setup.sim.faults().set(FaultPlan {
        rate_limit_next: 1,
        fail_next: 1,
        foreign_next: 1,
        foreign_status: 403,
        ..FaultPlan::default()
    });
    let err = once.items().await.unwrap_err();
    assert!(
        matches!(err, ShopError::RateLimited { retry_after: None }),
        "{err:?}"
    );
    for _ in 0..2 {
        let err = once.items().await.unwrap_err();
        assert!(matches!(err, ShopError::Unavailable(_)), "{err:?}");
    }
    assert_eq!(once.items().await.unwrap().len(), 1);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 4, "each tried once");
}
