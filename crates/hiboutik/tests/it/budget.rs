//! The monthly call budget (counted in the database before each call), Hiboutik's own quota,
//! and the cap on calls in flight.

use crate::{Setup, catalog, endpoint, sized};
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::pos::ProductQuery;
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_hiboutik::{HiboutikSimOptions, MAX_IN_FLIGHT};
use stocksync_pos::simkit::FaultPlan;

#[tokio::test]
async fn a_spent_budget_refuses_calls_without_sending_them_even_after_a_restart() {
    let setup = Setup::with_budget(sized(4), 3).await;
    for _ in 0..3 {
        setup.connector.read_stock(None).await.unwrap();
    }
    assert_eq!(setup.sim.requests(), 3);

    let err = setup.connector.read_stock(None).await.unwrap_err();
    let PosError::BudgetExhausted(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("account hiboutik-sim"), "{message}");
    assert!(
        message.contains("3 of the 3 Hiboutik calls allowed"),
        "{message}"
    );
    assert!(message.contains("MaximumRequests"), "{message}");
    assert!(message.contains("1st of next month"), "{message}");
    assert!(!err.is_transient());
    assert_eq!(setup.sim.requests(), 3, "nothing sent");

    // The count lives in the database: a new connector (a restart) is refused as well.
    let restarted = setup.connector_again();
    let err = restarted
        .find_products(&ProductQuery::Id(PosRef::new("2")))
        .await
        .unwrap_err();
    assert!(matches!(err, PosError::BudgetExhausted(_)), "{err:?}");
    let err = restarted.read_items(&[PosRef::new("2")]).await.unwrap_err();
    assert!(matches!(err, PosError::BudgetExhausted(_)), "{err:?}");
    assert_eq!(setup.sim.requests(), 3, "nothing sent");
    assert_eq!(setup.budget_used().await, 3);
}

#[tokio::test]
async fn a_long_read_stops_where_the_budget_ends() {
    let setup = Setup::with_budget(sized(310), 2).await;
    let err = setup.connector.read_stock(None).await.unwrap_err();
    assert!(matches!(err, PosError::BudgetExhausted(_)), "{err:?}");
    assert_eq!(setup.sim.requests(), 2, "pages 1 and 2; page 3 not sent");
}

#[tokio::test]
async fn hiboutiks_own_quota_is_a_spent_budget_and_is_not_retried() {
    let setup = Setup::new(HiboutikSimOptions {
        quota: Some(2),
        ..sized(4)
    })
    .await;
    setup.connector.read_stock(None).await.unwrap();
    setup.connector.read_stock(None).await.unwrap();

    let err = setup.connector.read_stock(None).await.unwrap_err();
    let PosError::BudgetExhausted(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("429"), "{message}");
    assert!(message.contains("until the month ends"), "{message}");
    assert_eq!(setup.sim.requests(), 3, "no retry after a 429");
}

#[tokio::test]
async fn a_429_in_the_middle_of_a_sale_is_a_spent_budget() {
    let setup = Setup::new(sized(4)).await;
    setup.sim.faults().set(FaultPlan {
        rate_limit_next: 1,
        ..FaultPlan::default()
    });
    let sale = stocksync_domain::pos::PosSale {
        sale_key: "k".into(),
        pos_ref: PosRef::new("2"),
        quantity: 1,
        balance_cents: 0,
        sent_before: false,
    };
    let err = setup.connector.record_sale(&sale).await.unwrap_err();
    assert!(matches!(err, PosError::BudgetExhausted(_)), "{err:?}");
    assert_eq!(setup.total_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_ten_calls_are_in_flight() {
    let setup = Arc::new(
        Setup::new(HiboutikSimOptions {
            products: catalog(40),
            ..Default::default()
        })
        .await,
    );
    setup.sim.faults().set(FaultPlan {
        latency: Duration::from_millis(50),
        ..FaultPlan::default()
    });
    let mut lookups = tokio::task::JoinSet::new();
    for product in 1..=40 {
        let setup = setup.clone();
        lookups.spawn(async move {
            let query = ProductQuery::Id(PosRef::new(product.to_string()));
            setup
                .connector
                .find_products(&query)
                .await
                .map(|found| found.len())
        });
    }
    while let Some(found) = lookups.join_next().await {
        assert_eq!(found.unwrap().unwrap(), 1);
    }
    let peak = setup.sim.peak_in_flight();
    assert!(peak <= MAX_IN_FLIGHT, "{peak} calls in flight at once");
    assert!(peak > MAX_IN_FLIGHT / 2, "the calls did overlap ({peak})");
    assert_eq!(setup.calls_to(endpoint::PRODUCT), 40);
    assert_eq!(setup.calls.with_status("hiboutik-sim", 429), 0);
}
