//! Failures: refused credentials, garbage, errors inside a 200, outages, bad configuration.

use crate::{ACCOUNT, COUNTS, account, connect, products, setup_with};
use std::time::Duration;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::pos::ProductQuery;
use stocksync_domain::{PosConnector, PosError, PosKind};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_square::SquareConnector;

const WRONG_TOKEN: &str = "EAAAl-wrong-but-secret-token";

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_never_shown() {
    let t = setup_with(products(3)).await;
    let calls = CallLog::default();
    let connector = connect(&t.sim, &calls, WRONG_TOKEN, &[]);

    let err = connector.read_stock(None).await.unwrap_err();

    assert!(matches!(err, PosError::Unauthorized(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(ACCOUNT) && message.contains("GET /v2/locations"),
        "{message}"
    );
    assert!(message.contains("UNAUTHORIZED"), "{message}");
    assert!(!message.contains(WRONG_TOKEN), "{message}");
    assert!(!format!("{err:?}").contains(WRONG_TOKEN));
    assert!(!format!("{connector:?}").contains(WRONG_TOKEN));
    assert_eq!(calls.with_status(ACCOUNT, 401), 1, "not retried");
}

#[tokio::test]
async fn a_garbage_answer_is_unavailable_and_names_the_call() {
    let t = setup_with(products(3)).await;
    t.connector.read_stock(None).await.unwrap();
    t.sim
        .inject_answer(200, "<html>Service temporarily overloaded</html>");

    let err = t.connector.read_stock(None).await.unwrap_err();

    assert!(matches!(err, PosError::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
    let message = err.to_string();
    assert!(
        message.contains(ACCOUNT) && message.contains(COUNTS),
        "{message}"
    );
}

#[tokio::test]
async fn a_malformed_quantity_is_unavailable() {
    let t = setup_with(products(3)).await;
    t.connector.read_stock(None).await.unwrap();
    t.sim.inject_answer(
        200,
        r#"{"counts":[{"catalog_object_id":"X","state":"IN_STOCK","location_id":"L1MAIN","quantity":"1.234567"}]}"#,
    );
    let err = t.connector.read_stock(None).await.unwrap_err();
    assert!(
        matches!(err, PosError::Unavailable(ref m) if m.contains("1.234567")),
        "{err:?}"
    );
}

#[tokio::test]
async fn errors_inside_a_200_are_a_failure() {
    let t = setup_with(products(3)).await;
    t.connector.read_stock(None).await.unwrap();
    t.sim.inject_answer(
        200,
        r#"{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"INVALID_VALUE","detail":"bad location","field":"location_ids"}],"counts":[]}"#,
    );

    let err = t.connector.read_stock(None).await.unwrap_err();

    assert!(matches!(err, PosError::Rejected(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("INVALID_VALUE") && message.contains("bad location"),
        "{message}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_unavailable() {
    let t = setup_with(products(3)).await;
    t.connector.read_stock(None).await.unwrap();
    let before = t.calls.count(ACCOUNT, COUNTS);
    for _ in 0..5 {
        t.sim.inject_answer(
            503,
            r#"{"errors":[{"category":"API_ERROR","code":"SERVICE_UNAVAILABLE","detail":"down"}]}"#,
        );
    }

    let err = t.connector.read_stock(None).await.unwrap_err();

    assert!(
        matches!(err, PosError::Unavailable(ref m) if m.contains("503")),
        "{err:?}"
    );
    assert_eq!(
        t.calls.count(ACCOUNT, COUNTS) - before,
        5,
        "the first try and 4 retries"
    );
    assert_eq!(t.calls.with_status(ACCOUNT, 503), 5);
}

#[tokio::test]
async fn reads_ride_out_a_few_faults() {
    let t = setup_with(products(3)).await;
    t.sim.faults().set(stocksync_pos::simkit::FaultPlan {
        rate_limit_next: 1,
        fail_next: 1,
        drop_next: 1,
        ..Default::default()
    });
    let found = t
        .connector
        .find_products(&ProductQuery::Sku("SKU-000001".into()))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(t.calls.with_status(ACCOUNT, 429), 1);
    assert_eq!(t.calls.with_status(ACCOUNT, 500), 1);
    assert_eq!(t.calls.with_status(ACCOUNT, 0), 1);
}

#[tokio::test]
async fn a_silent_simulator_times_out_as_unavailable() {
    let t = setup_with(products(3)).await;
    t.sim.faults().set(stocksync_pos::simkit::FaultPlan {
        latency: Duration::from_millis(400),
        ..Default::default()
    });
    let http = PosHttp::with_timeout(ACCOUNT, CallLog::default(), Duration::from_millis(100));
    let connector = SquareConnector::new(&account(&t.sim, t.sim.access_token(), &[]), http)
        .unwrap()
        .with_backoff(stocksync_pos::backoff::Backoff {
            retries: 1,
            ..crate::fast_backoff()
        });
    let err = connector.read_stock(None).await.unwrap_err();
    assert!(
        matches!(err, PosError::Unavailable(ref m) if m.contains("timed out")),
        "{err:?}"
    );
}

#[tokio::test]
async fn only_a_square_account_makes_a_square_connector() {
    let t = setup_with(products(1)).await;
    let mut config = account(&t.sim, "token", &[]);
    config.kind = PosKind::Hiboutik;
    config.vendor = VendorConfig::Hiboutik {
        access_token: "key".to_owned().into(),
        email: "a@b.c".into(),
        account_name: "shop".into(),
        maximum_requests: 10,
        store_id: 1,
        customer_id: 0,
    };
    let err = SquareConnector::new(&config, PosHttp::new(ACCOUNT, CallLog::default())).unwrap_err();
    assert!(err.contains("not a Square account"), "{err}");

    let mut config = account(&t.sim, "token", &[]);
    config.base_url = "connect.squareup.com".into();
    let err = SquareConnector::new(&config, PosHttp::new(ACCOUNT, CallLog::default())).unwrap_err();
    assert!(err.contains("http"), "{err}");
}
