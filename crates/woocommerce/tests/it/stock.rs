//! Writing stock: batches of at most 100, per-item errors reported one by one, and an item
//! that does not manage its stock reported `Unmanaged`, never switched to managed.

use crate::{Setup, endpoint, products, simple, variation};
use stocksync_domain::shop::{LevelWrite, WriteOutcome};
use stocksync_domain::{EcommerceId, ShopConnector, ShopError};
use stocksync_woocommerce::WooSimOptions;
use stocksync_woocommerce::sim::WriteSeen;

fn write(item: stocksync_domain::shop::ItemRef, quantity: i64) -> LevelWrite {
    LevelWrite {
        item,
        quantity,
        expected: None,
    }
}

#[tokio::test]
async fn a_batch_of_250_writes_costs_3_calls_and_item_errors_come_back_one_by_one() {
    let setup = Setup::new(products(248)).await;
    let ids = setup.sim.item_ids();
    let mut writes: Vec<LevelWrite> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| write(simple(id), i as i64 % 7))
        .collect();
    // Two items the shop does not have, in the middle of the second batch.
    for unknown in [999_001, 999_002] {
        writes.insert(150, write(simple(unknown), 1));
    }
    let outcomes = setup.client.set_quantities(&writes).await;
    assert_eq!(outcomes.len(), 250);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS_BATCH), 3);
    assert_eq!(setup.total_calls(), 3);
    for (write, outcome) in writes.iter().zip(&outcomes) {
        let id: i64 = write.item.id.as_str().parse().unwrap();
        if id > 999_000 {
            assert!(
                matches!(outcome, WriteOutcome::Refused(what) if what.contains(&id.to_string())),
                "{outcome:?}"
            );
        } else {
            assert_eq!(
                outcome,
                &WriteOutcome::Written {
                    quantity: write.quantity
                }
            );
            assert_eq!(setup.sim.stock(id), Some(write.quantity));
        }
    }
    let per_item = setup.sim.writes_per_item();
    assert_eq!(per_item.len(), 250);
    assert!(per_item.values().all(|&count| count == 1), "{per_item:?}");
}

#[tokio::test]
async fn unmanaged_items_are_reported_and_left_unmanaged() {
    let setup = Setup::new(WooSimOptions::default()).await;
    let (parent, variations) = setup
        .sim
        .add_variable("Scarf", &[("SC-1", Some(1)), ("SC-2", None)]);
    let (tote, totes) = setup.sim.add_variable("Tote", &[("TOTE-BLU", None)]);
    setup.sim.share_parent_stock(tote, 6);
    let loose = setup.sim.add_simple("MUG", None);
    let writes = [
        write(variation(parent, variations[0]), 9),
        write(simple(loose), 3),
        write(variation(parent, variations[1]), 9),
        write(variation(tote, totes[0]), 4),
    ];
    let outcomes = setup.client.set_quantities(&writes).await;
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Written { quantity: 9 },
            WriteOutcome::Unmanaged,
            WriteOutcome::Unmanaged,
            WriteOutcome::Unmanaged,
        ],
        "in the order given"
    );
    assert_eq!(setup.sim.stock(variations[0]), Some(9));
    assert_eq!(setup.sim.stock(variations[1]), None, "still unmanaged");
    assert_eq!(setup.sim.stock(loose), None, "still unmanaged");
    assert_eq!(
        setup.sim.stock(tote),
        Some(6),
        "the shared count is untouched"
    );
    assert_eq!(
        setup.sim.stock_writes(),
        [
            WriteSeen {
                id: loose,
                quantity: Some(3)
            },
            WriteSeen {
                id: variations[0],
                quantity: Some(9)
            },
            WriteSeen {
                id: variations[1],
                quantity: Some(9)
            },
            WriteSeen {
                id: totes[0],
                quantity: Some(4)
            },
        ],
        "simple products first, then each parent's variations; quantities only"
    );
    assert_eq!(
        setup.calls_to(endpoint::VARIATIONS_BATCH),
        2,
        "one per parent"
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS_BATCH), 1);
}

#[tokio::test]
async fn a_reference_that_is_not_a_woocommerce_id_is_refused_without_a_call() {
    let setup = Setup::new(products(1)).await;
    let bad = [
        write(
            stocksync_domain::shop::ItemRef {
                id: EcommerceId::new("sku-12"),
                locator: None,
            },
            1,
        ),
        write(
            stocksync_domain::shop::ItemRef {
                id: EcommerceId::new("12"),
                locator: Some("parent".into()),
            },
            1,
        ),
    ];
    let outcomes = setup.client.set_quantities(&bad).await;
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, WriteOutcome::Refused(_))),
        "{outcomes:?}"
    );
    assert_eq!(setup.sim.requests(), 0);
}

#[tokio::test]
async fn a_batch_that_fails_for_good_fails_each_of_its_writes() {
    let setup = Setup::new(products(2)).await;
    let ids = setup.sim.item_ids();
    setup.sim.faults().set(stocksync_pos::simkit::FaultPlan {
        fail_next: 10,
        ..Default::default()
    });
    let outcomes = setup
        .client
        .set_quantities(&[write(simple(ids[0]), 1), write(simple(ids[1]), 2)])
        .await;
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, WriteOutcome::Failed(ShopError::Unavailable(_)))),
        "{outcomes:?}"
    );
    assert_eq!(
        setup.calls_to(endpoint::PRODUCTS_BATCH),
        5,
        "tried 5 times, then given up"
    );
    assert!(setup.sim.stock_writes().is_empty(), "none reached the shop");
}

#[tokio::test]
async fn the_simulator_refuses_more_than_100_items_and_applies_none() {
    let setup = Setup::new(WooSimOptions {
        behind_https: true,
        ..products(101)
    })
    .await;
    let ids = setup.sim.item_ids();
    let before: Vec<_> = ids.iter().map(|&id| setup.sim.stock(id)).collect();
    let update: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "stock_quantity": 0}))
        .collect();
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/wp-json/wc/v3/products/batch",
            setup.sim.base_url()
        ))
        .basic_auth(setup.sim.consumer_key(), Some(setup.sim.consumer_secret()))
        .json(&serde_json::json!({ "update": update }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");
    assert_eq!(body["data"]["status"], 413);
    let after: Vec<_> = ids.iter().map(|&id| setup.sim.stock(id)).collect();
    assert_eq!(after, before);
    assert!(setup.sim.stock_writes().is_empty());
}
