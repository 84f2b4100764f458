//! Stock reads: every page of our warehouse and nothing else, both type modes, retries,
//! targeted reads.

use crate::{Setup, catalog, endpoint, sized};
use std::collections::HashMap;
use stocksync_domain::pos::StockRead;
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_hiboutik::sim::OTHER_WAREHOUSE;
use stocksync_hiboutik::{HiboutikSimOptions, TypeMode};
use stocksync_pos::simkit::FaultPlan;

fn by_ref(read: &StockRead) -> HashMap<String, i64> {
    let counts: HashMap<String, i64> = (read.counts.iter())
        .map(|count| (count.pos_ref.to_string(), count.quantity))
        .collect();
    assert_eq!(counts.len(), read.counts.len(), "one count per item");
    counts
}

#[tokio::test]
async fn a_full_read_follows_every_page_of_our_warehouse_only() {
    // 155 products without sizes + 155 × 3 sizes = 620 rows: pages of 250, 250, 120.
    let setup = Setup::new(HiboutikSimOptions {
        other_warehouse: true,
        ..sized(310)
    })
    .await;
    let refs = setup.sim.product_refs();
    assert_eq!(refs.len(), 620);

    let read = setup.connector.read_stock(None).await.unwrap();

    let counts = by_ref(&read);
    assert_eq!(counts.len(), 620);
    for pos_ref in &refs {
        assert_eq!(
            counts.get(pos_ref),
            setup.sim.quantity(pos_ref).as_ref(),
            "{pos_ref}"
        );
        assert_ne!(
            counts.get(pos_ref),
            setup.sim.quantity_in(pos_ref, OTHER_WAREHOUSE).as_ref()
        );
    }
    assert!(
        counts.contains_key("1/3") && counts.contains_key("2"),
        "sizes and plain products"
    );
    assert_eq!(setup.calls_to(endpoint::WAREHOUSE_STOCK), 3);
    assert_eq!(setup.total_calls(), 3);
    assert_eq!(setup.sim.requests(), 3);
    assert_eq!(
        setup.budget_used().await,
        3,
        "every call counted in the database"
    );
    assert!(read.cursor.is_some());
}

#[tokio::test]
async fn an_incremental_read_is_the_same_bulk_read() {
    let setup = Setup::new(sized(20)).await;
    let first = setup.connector.read_stock(None).await.unwrap();
    setup.sim.till_sale("2", 1).unwrap();
    let next = setup
        .connector
        .read_stock(first.cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(by_ref(&next)["2"], by_ref(&first)["2"] - 1);
    assert_eq!(next.counts.len(), first.counts.len());
    assert_eq!(setup.calls_to(endpoint::WAREHOUSE_STOCK), 2);
}

#[tokio::test]
async fn ids_and_quantities_as_strings_read_like_numbers() {
    let mut reads = Vec::new();
    for type_mode in [TypeMode::Numbers, TypeMode::Strings] {
        let setup = Setup::new(HiboutikSimOptions {
            type_mode,
            ..sized(12)
        })
        .await;
        // Stock may go below zero on a till; the minus sign survives both modes.
        let oversold = setup.sim.quantity("2").unwrap() + 3;
        setup.sim.till_sale("2", oversold).unwrap();
        let read = by_ref(&setup.connector.read_stock(None).await.unwrap());
        assert_eq!(read["2"], -3, "{type_mode:?}");
        reads.push(read);
    }
    assert_eq!(reads[0], reads[1]);
}

#[tokio::test]
async fn a_last_page_that_is_full_ends_the_read_without_an_extra_call() {
    let setup = Setup::new(HiboutikSimOptions {
        products: catalog(500),
        ..Default::default()
    })
    .await;
    let read = setup.connector.read_stock(None).await.unwrap();
    assert_eq!(read.counts.len(), 500);
    assert_eq!(
        setup.calls_to(endpoint::WAREHOUSE_STOCK),
        2,
        "page 2's Link has no next"
    );
}

#[tokio::test]
async fn an_empty_shop_reads_as_no_counts() {
    let setup = Setup::new(HiboutikSimOptions::default()).await;
    let read = setup.connector.read_stock(None).await.unwrap();
    assert!(read.counts.is_empty());
    assert_eq!(setup.total_calls(), 1);
}

#[tokio::test]
async fn a_failed_page_is_retried_and_the_read_completes() {
    let setup = Setup::new(HiboutikSimOptions {
        products: catalog(300),
        ..Default::default()
    })
    .await;
    setup.sim.faults().set(FaultPlan {
        drop_next: 1,
        fail_next: 1,
        ..FaultPlan::default()
    });
    let read = setup.connector.read_stock(None).await.unwrap();
    assert_eq!(read.counts.len(), 300);
    assert_eq!(
        setup.calls.with_status("hiboutik-sim", 0),
        1,
        "the dropped connection"
    );
    assert_eq!(setup.calls.with_status("hiboutik-sim", 500), 1);
    assert_eq!(
        setup.calls_to(endpoint::WAREHOUSE_STOCK),
        4,
        "2 pages + 2 retries"
    );
    assert_eq!(setup.budget_used().await, 4, "retries cost budget too");
}

#[tokio::test]
async fn an_outage_outlasting_the_retries_is_unavailable_and_named() {
    let setup = Setup::new(sized(4)).await;
    setup.sim.faults().set(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let err = setup.connector.read_stock(None).await.unwrap_err();
    let PosError::Unavailable(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("account hiboutik-sim"), "{message}");
    assert!(message.contains(endpoint::WAREHOUSE_STOCK), "{message}");
    assert!(message.contains("HTTP 500"), "{message}");
    assert_eq!(setup.total_calls(), 3, "one call and two retries");
}

#[tokio::test]
async fn a_targeted_read_asks_for_each_named_item_once() {
    let setup = Setup::new(HiboutikSimOptions {
        other_warehouse: true,
        ..sized(6)
    })
    .await;
    setup.sim.till_sale("1/2", 2).unwrap();
    let refs = ["1/2", "2", "2", "1/2", "999", "4"].map(PosRef::new);

    let read = setup.connector.read_items(&refs).await.unwrap();

    let counts = by_ref(&read);
    assert_eq!(
        counts.len(),
        3,
        "unknown 999 left out, duplicates read once"
    );
    for pos_ref in ["1/2", "2", "4"] {
        assert_eq!(
            counts.get(pos_ref),
            setup.sim.quantity(pos_ref).as_ref(),
            "{pos_ref}"
        );
    }
    assert_eq!(setup.calls_to(endpoint::ITEM_STOCK), 4);
    assert_eq!(setup.total_calls(), 4, "no bulk read");
    assert_eq!(read.cursor, None);

    let err = setup
        .connector
        .read_items(&[PosRef::new("1/S")])
        .await
        .unwrap_err();
    assert!(matches!(err, PosError::Rejected(_)), "{err:?}");
    assert_eq!(setup.total_calls(), 4, "a bad reference costs no call");
}

#[tokio::test]
async fn ten_thousand_products_read_in_forty_calls() {
    let setup = Setup::new(HiboutikSimOptions {
        products: catalog(10_000),
        ..Default::default()
    })
    .await;
    let read = setup.connector.read_stock(None).await.unwrap();
    assert_eq!(read.counts.len(), 10_000);
    assert_eq!(setup.total_calls(), 40);
    let last = setup.sim.product_refs().pop().unwrap();
    assert_eq!(by_ref(&read).get(&last), setup.sim.quantity(&last).as_ref());
}
