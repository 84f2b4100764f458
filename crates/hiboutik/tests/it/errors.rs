//! Credentials, garbage and configuration errors.

use crate::{Setup, config_of, connect, sized};
use axum::Router;
use axum::routing::get;
use secrecy::SecretString;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::{AccountId, PosConnector, PosError, PosKind};
use stocksync_hiboutik::HiboutikConnector;
use stocksync_pos::simkit::SimServer;
use stocksync_pos::{CallLog, PosHttp};

fn with_key(mut config: AccountConfig, key: &str) -> AccountConfig {
    let VendorConfig::Hiboutik { access_token, .. } = &mut config.vendor else {
        unreachable!()
    };
    *access_token = SecretString::from(key);
    config
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_shown() {
    let setup = Setup::new(sized(2)).await;
    let key = "wrong-hiboutik-key-123";
    let config = with_key(config_of(&setup.sim), key);
    let connector = connect(&config, &setup.calls, setup.store.clone());

    let err = connector.read_stock(None).await.unwrap_err();

    let PosError::Unauthorized(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("account hiboutik-sim"), "{message}");
    assert!(
        message.contains("GET /stock_available/warehouse_id/{id}: HTTP 401"),
        "{message}"
    );
    assert!(!err.to_string().contains(key));
    assert!(!format!("{connector:?}").contains(key));
    assert!(!format!("{connector:?}").contains("sim-hiboutik-api-key"));
    assert_eq!(setup.sim.requests(), 1, "no retry");
}

#[tokio::test]
async fn an_answer_that_is_not_hiboutik_json_is_unavailable() {
    let garbage = Router::new()
        .route(
            "/api/stock_available/warehouse_id/{id}",
            get(|| async { "<html>maintenance</html>" }),
        )
        .route(
            "/api/products/{id}",
            get(|| async { r#"[{"product_id": "lots"}]"# }),
        );
    let server = SimServer::start(garbage, 0).await.unwrap();
    let setup = Setup::new(sized(2)).await;
    let mut config = config_of(&setup.sim);
    config.base_url = format!("{}/api", server.url());
    let connector = connect(&config, &setup.calls, setup.store.clone());

    let err = connector.read_stock(None).await.unwrap_err();
    let PosError::Unavailable(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("not the expected JSON"), "{message}");

    let query = stocksync_domain::pos::ProductQuery::Id(stocksync_domain::PosRef::new("1"));
    let err = connector.find_products(&query).await.unwrap_err();
    let PosError::Unavailable(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("GET /products/{id}"), "{message}");
    assert!(message.contains("expected an integer"), "{message}");
}

#[tokio::test]
async fn only_a_hiboutik_account_with_a_usable_address_makes_a_connector() {
    let setup = Setup::new(sized(1)).await;
    let http = || PosHttp::new("x", CallLog::default());
    let square = AccountConfig {
        id: AccountId::new("shop"),
        kind: PosKind::Square,
        base_url: "https://connect.squareup.com".into(),
        vendor: VendorConfig::Square {
            access_token: SecretString::from("t"),
            locations: vec![],
        },
    };
    let err = HiboutikConnector::new(&square, http(), setup.store.clone()).unwrap_err();
    assert_eq!(err, "account shop is not a Hiboutik account");

    let mut bad_url = config_of(&setup.sim);
    bad_url.base_url = "hiboutik.com/api".into();
    let err = HiboutikConnector::new(&bad_url, http(), setup.store.clone()).unwrap_err();
    assert!(err.contains("BaseUrl 'hiboutik.com/api'"), "{err}");

    let mut no_budget = config_of(&setup.sim);
    let VendorConfig::Hiboutik {
        maximum_requests, ..
    } = &mut no_budget.vendor
    else {
        unreachable!()
    };
    *maximum_requests = 0;
    let err = HiboutikConnector::new(&no_budget, http(), setup.store.clone()).unwrap_err();
    assert!(err.contains("MaximumRequests"), "{err}");
}
