//! The client rides out what hosts in front of WooCommerce do (shop-apis.md §1.10): 429s with
//! or without `Retry-After`, 503 bursts, PHP fatals' HTML 500s, dropped connections and lost
//! answers all end in success within the attempts; a refusal is not tried again; a
//! `Retry-After` longer than the client waits is handed to the caller; and no more than
//! `MAX_IN_FLIGHT` requests are in flight at once.

use crate::{Setup, endpoint, products, simple};
use std::time::{Duration, Instant};
use stocksync_domain::shop::{LevelWrite, WriteOutcome};
use stocksync_domain::{ShopConnector, ShopError};
use stocksync_pos::simkit::FaultPlan;
use stocksync_woocommerce::MAX_IN_FLIGHT;
use stocksync_woocommerce::sim::RetryAfter;

#[tokio::test]
async fn a_429_is_waited_out_as_long_as_retry_after_says_in_seconds_or_as_a_date() {
    let setup = Setup::new(products(3)).await;
    for retry_after in [
        RetryAfter::Seconds(1),
        RetryAfter::Date(Duration::from_secs(2)),
    ] {
        setup.sim.set_retry_after(Some(retry_after));
        setup.sim.faults().set(FaultPlan {
            rate_limit_next: 1,
            ..FaultPlan::default()
        });
        let calls = setup.calls_to(endpoint::PRODUCTS);
        let started = Instant::now();
        assert_eq!(setup.client.items().await.unwrap().len(), 3);
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "{retry_after:?}: waited only {:?}",
            started.elapsed()
        );
        assert_eq!(setup.calls_to(endpoint::PRODUCTS) - calls, 2);
    }
}

#[tokio::test]
async fn a_retry_after_longer_than_the_client_waits_is_handed_to_the_caller() {
    let setup = Setup::new(products(1)).await;
    setup.sim.set_retry_after(Some(RetryAfter::Seconds(600)));
    setup.sim.faults().set(FaultPlan {
        rate_limit_next: 1,
        ..FaultPlan::default()
    });
    let err = setup.client.items().await.unwrap_err();
    assert_eq!(
        err,
        ShopError::RateLimited {
            retry_after: Some(Duration::from_secs(600))
        }
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 1, "not waited for here");
}

#[tokio::test]
async fn bursts_of_503_html_500_and_dropped_connections_end_in_success() {
    let setup = Setup::new(products(2)).await;
    let faults = [
        FaultPlan {
            foreign_next: 4,
            foreign_status: 503,
            ..FaultPlan::default()
        },
        FaultPlan {
            fail_next: 4,
            ..FaultPlan::default()
        },
        FaultPlan {
            drop_next: 4,
            ..FaultPlan::default()
        },
        FaultPlan {
            rate_limit_next: 2,
            fail_next: 1,
            drop_next: 1,
            ..FaultPlan::default()
        },
    ];
    for fault in faults {
        let calls = setup.calls_to(endpoint::PRODUCTS);
        setup.sim.faults().set(fault.clone());
        assert_eq!(setup.client.items().await.unwrap().len(), 2, "{fault:?}");
        assert_eq!(
            setup.calls_to(endpoint::PRODUCTS) - calls,
            5,
            "4 failures and the 5th attempt: {fault:?}"
        );
    }
}

#[tokio::test]
async fn five_failures_in_a_row_are_given_up_and_a_refusal_is_not_retried() {
    let setup = Setup::new(products(1)).await;
    setup.sim.faults().set(FaultPlan {
        fail_next: 5,
        ..FaultPlan::default()
    });
    let err = setup.client.items().await.unwrap_err();
    assert!(matches!(err, ShopError::Unavailable(_)), "{err:?}");
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 5);

    let wrong = crate::client_of(&setup.sim, "cs_wrong", &setup.calls);
    let calls = setup.total_calls();
    let err = wrong.orders_since(None).await.unwrap_err();
    assert!(matches!(err, ShopError::Unauthorized(_)), "{err:?}");
    assert_eq!(setup.total_calls() - calls, 1);
}

#[tokio::test]
async fn a_write_whose_answer_was_lost_is_sent_again_and_lands_once_in_value() {
    let setup = Setup::new(products(2)).await;
    let ids = setup.sim.item_ids();
    setup.sim.faults().set(FaultPlan {
        lose_answer_next: 1,
        ..FaultPlan::default()
    });
    let writes: Vec<LevelWrite> = ids
        .iter()
        .map(|&id| LevelWrite {
            item: simple(id),
            quantity: 5,
            expected: None,
        })
        .collect();
    let outcomes = setup.client.set_quantities(&writes).await;
    assert_eq!(outcomes, vec![WriteOutcome::Written { quantity: 5 }; 2]);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS_BATCH), 2);
    let per_item = setup.sim.writes_per_item();
    assert_eq!(
        (per_item[&ids[0]], per_item[&ids[1]]),
        (2, 2),
        "the shop received each write twice (absolute: the same value)"
    );
    assert_eq!(
        (setup.sim.stock(ids[0]), setup.sim.stock(ids[1])),
        (Some(5), Some(5))
    );
}

#[tokio::test]
async fn no_more_than_four_requests_are_in_flight_per_client() {
    let setup = Setup::new(products(1)).await;
    setup.sim.faults().set(FaultPlan {
        latency: Duration::from_millis(150),
        ..FaultPlan::default()
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let client = setup.client.clone();
        tasks.spawn(async move { client.items().await.map(|items| items.len()) });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap(), Ok(1));
    }
    assert_eq!(setup.sim.requests(), 12);
    assert_eq!(setup.sim.max_in_flight(), MAX_IN_FLIGHT as u64);
}
