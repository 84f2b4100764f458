//! Writing `available`: 250 quantities a call with compare-and-set and an idempotency key; a
//! stale expectation comes back `Changed` with the shop's quantity while the rest of the call
//! is written; refusals per item; a retried call never writes twice.

use crate::{Setup, located, products, variant};
use stocksync_domain::ShopConnector;
use stocksync_domain::shop::{LevelWrite, WriteOutcome};
use stocksync_pos::simkit::FaultPlan;
use stocksync_shopify::ShopifySimOptions;

fn write(
    item: stocksync_domain::shop::ItemRef,
    quantity: i64,
    expected: Option<i64>,
) -> LevelWrite {
    LevelWrite {
        item,
        quantity,
        expected,
    }
}

#[tokio::test]
async fn writes_of_260_items_cost_2_calls_each_item_written_once() {
    let setup = Setup::new(products(260)).await;
    let ids = setup.sim.variant_ids();
    let writes: Vec<_> = ids
        .iter()
        .map(|&id| write(located(&setup.sim, id), 7, setup.sim.available(id)))
        .collect();
    let outcomes = setup.client.set_quantities(&writes).await;
    assert!(
        outcomes
            .iter()
            .all(|o| *o == WriteOutcome::Written { quantity: 7 }),
        "{outcomes:?}"
    );
    assert_eq!(setup.calls_to("inventorySetQuantities"), 2);
    assert_eq!(setup.calls_to("location"), 1);
    assert_eq!(setup.total_calls(), 3);
    assert!(ids.iter().all(|&id| setup.sim.available(id) == Some(7)));
    let per_item = setup.sim.writes_per_item();
    assert_eq!(per_item.len(), 260);
    assert!(per_item.values().all(|&n| n == 1), "{per_item:?}");
}

#[tokio::test]
async fn a_stale_expectation_is_changed_and_the_rest_of_the_call_is_written() {
    let setup = Setup::new(products(3)).await;
    let ids = setup.sim.variant_ids();
    let before: Vec<i64> = ids
        .iter()
        .map(|&id| setup.sim.available(id).unwrap())
        .collect();
    // A web order lands between stocksync's read and its write.
    setup.sim.place_order(&[(ids[1], 2)]);
    let writes: Vec<_> = ids
        .iter()
        .zip(&before)
        .map(|(&id, &seen)| write(located(&setup.sim, id), 30, Some(seen)))
        .collect();
    let outcomes = setup.client.set_quantities(&writes).await;
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Written { quantity: 30 },
            WriteOutcome::Changed {
                actual: before[1] - 2
            },
            WriteOutcome::Written { quantity: 30 },
        ]
    );
    assert_eq!(
        setup.sim.available(ids[1]),
        Some(before[1] - 2),
        "not overwritten"
    );
    assert_eq!(setup.sim.committed(ids[1]), Some(2));
    // Refused whole, then sent again without the stale one; the level read once.
    assert_eq!(setup.calls_to("inventorySetQuantities"), 2);
    assert_eq!(setup.calls_to("nodes"), 1);
    let per_item = setup.sim.writes_per_item();
    assert_eq!(per_item.len(), 2);
    assert!(per_item.values().all(|&n| n == 1));
}

#[tokio::test]
async fn refusals_come_back_per_item_and_unlocated_writes_are_looked_up() {
    let setup = Setup::new(ShopifySimOptions::default()).await;
    let stocked = setup.sim.add_variant("Mug", "MUG", None, Some(4));
    let untracked = setup.sim.add_variant("Gift card", "GIFT", None, None);
    let writes = [
        write(variant(stocked), 9, None),
        write(located(&setup.sim, untracked), 3, None),
        write(variant(999_999), 1, None),
    ];
    let outcomes = setup.client.set_quantities(&writes).await;
    assert_eq!(outcomes[0], WriteOutcome::Written { quantity: 9 });
    assert_eq!(
        outcomes[1],
        WriteOutcome::Unmanaged,
        "not stocked at the location: reported as untracked, not refused"
    );
    assert!(matches!(&outcomes[2], WriteOutcome::Refused(what) if what.contains("999999")));
    assert_eq!(setup.sim.available(stocked), Some(9));
    assert_eq!(
        setup.calls_to("nodes"),
        1,
        "the unlocated writes, looked up together"
    );
    assert_eq!(setup.sim.writes().len(), 1);
}

#[tokio::test]
async fn a_call_whose_answer_was_lost_is_sent_again_with_its_key_and_written_once() {
    let setup = Setup::new(products(2)).await;
    let ids = setup.sim.variant_ids();
    let writes: Vec<_> = ids
        .iter()
        .map(|&id| write(located(&setup.sim, id), 11, setup.sim.available(id)))
        .collect();
    // The location first, so that the fault hits the write.
    setup.client.items_by_ref(&[variant(ids[0])]).await.unwrap();
    setup.sim.faults().set(FaultPlan {
        lose_answer_next: 1,
        ..FaultPlan::default()
    });
    let outcomes = setup.client.set_quantities(&writes).await;
    assert!(
        outcomes
            .iter()
            .all(|o| *o == WriteOutcome::Written { quantity: 11 }),
        "{outcomes:?}"
    );
    assert_eq!(
        setup.calls_to("inventorySetQuantities"),
        2,
        "sent, then sent again"
    );
    assert_eq!(setup.sim.replays(), 1, "the second answered from its key");
    assert_eq!(setup.sim.writes().len(), 2, "one write per item");
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_a_permanent_refusal_is_not() {
    let setup = Setup::new(products(1)).await;
    let id = setup.sim.variant_ids()[0];
    setup.client.items().await.unwrap();
    setup.sim.faults().set(FaultPlan {
        fail_next: 2,
        ..FaultPlan::default()
    });
    let outcomes = setup
        .client
        .set_quantities(&[write(located(&setup.sim, id), 5, None)])
        .await;
    assert_eq!(outcomes, [WriteOutcome::Written { quantity: 5 }]);
    assert_eq!(setup.calls_to("inventorySetQuantities"), 3);
    setup.sim.faults().set(FaultPlan {
        fail_next: 10,
        ..FaultPlan::default()
    });
    let outcomes = setup
        .client
        .set_quantities(&[write(located(&setup.sim, id), 6, None)])
        .await;
    assert!(
        matches!(&outcomes[0], WriteOutcome::Failed(error) if error.is_transient()),
        "{outcomes:?}"
    );
    assert_eq!(setup.sim.available(id), Some(5));
}

#[tokio::test]
async fn a_tracked_variant_not_stocked_at_the_location_is_activated_only_when_asked() {
    let setup = Setup::new(ShopifySimOptions::default()).await;
    let moved = setup.sim.add_variant("Scarf", "SCARF", None, Some(5));
    setup.sim.unstock(moved);
    let read = |client: &stocksync_shopify::ShopifyClient| {
        let client = client.clone();
        async move {
            client
                .items_by_ref(&[variant(moved)])
                .await
                .unwrap()
                .pop()
                .expect("the variant")
        }
    };
    // By default: reported as untracked, and a write is not stocked behind the merchant's back.
    assert_eq!(read(&setup.client).await.quantity, None);
    let item = read(&setup.client).await.item;
    let outcomes = setup
        .client
        .set_quantities(&[write(item.clone(), 4, Some(0))])
        .await;
    assert_eq!(outcomes, [WriteOutcome::Unmanaged]);
    assert_eq!(setup.sim.available(moved), None, "still not stocked");
    assert_eq!(setup.calls_to("inventoryActivate"), 0);

    let activating = setup.client.clone().with_activation(true);
    assert_eq!(
        read(&activating).await.quantity,
        Some(0),
        "stockable: 0 until written"
    );
    let outcomes = activating.set_quantities(&[write(item, 4, Some(0))]).await;
    assert_eq!(outcomes, [WriteOutcome::Written { quantity: 4 }]);
    assert_eq!(setup.sim.available(moved), Some(4));
    assert_eq!(setup.calls_to("inventoryActivate"), 1);
    let untracked = setup.sim.add_variant("Gift card", "GIFT", None, None);
    assert_eq!(
        activating
            .items_by_ref(&[variant(untracked)])
            .await
            .unwrap()[0]
            .quantity,
        None,
        "tracking is the merchant's choice: never turned on"
    );
}
