//! Writing stock: batches of at most 100, per-item errors reported one by one.

use crate::{Setup, endpoint, products};
use stocksync_woocommerce::{StockWrite, WooError, WooSimOptions};

#[tokio::test]
async fn a_batch_of_250_writes_costs_3_calls_and_item_errors_come_back_one_by_one() {
    let setup = Setup::new(products(248)).await;
    let ids = setup.sim.item_ids();
    let mut writes: Vec<StockWrite> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| StockWrite {
            product_id: id,
            variation_id: None,
            quantity: i as i64 % 7,
        })
        .collect();
    // Two items the shop does not have, in the middle of the second batch.
    for unknown in [999_001, 999_002] {
        writes.insert(
            150,
            StockWrite {
                product_id: unknown,
                variation_id: None,
                quantity: 1,
            },
        );
    }
    let results = setup.client.set_stock(&writes).await;
    assert_eq!(results.len(), 250);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS_BATCH), 3);
    assert_eq!(setup.total_calls(), 3);
    for result in &results {
        let id = result.write.product_id;
        if id > 999_000 {
            assert!(
                matches!(&result.outcome, Err(WooError::NotFound(what)) if what.contains(&id.to_string())),
                "{result:?}"
            );
        } else {
            assert_eq!(result.outcome, Ok(Some(result.write.quantity)));
            assert_eq!(setup.sim.stock(id), Some(result.write.quantity));
        }
    }
    assert_eq!(results.iter().filter(|r| r.outcome.is_err()).count(), 2);
}

#[tokio::test]
async fn variations_are_written_under_their_parent_and_start_being_managed() {
    let setup = Setup::new(WooSimOptions::default()).await;
    let (parent, variations) = setup
        .sim
        .add_variable("Scarf", &[("SC-1", Some(1)), ("SC-2", None)]);
    let simple = setup.sim.add_simple("MUG", None);
    let writes: Vec<StockWrite> = variations
        .iter()
        .map(|&id| StockWrite {
            product_id: parent,
            variation_id: Some(id),
            quantity: 9,
        })
        .chain([StockWrite {
            product_id: simple,
            variation_id: None,
            quantity: 3,
        }])
        .collect();
    let results = setup.client.set_stock(&writes).await;
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    assert_eq!(
        results[2].write.product_id, simple,
        "results in the order given"
    );
    assert_eq!(setup.sim.stock(variations[1]), Some(9));
    assert_eq!(setup.sim.stock(simple), Some(3));
    assert_eq!(setup.calls_to(endpoint::VARIATIONS_BATCH), 1);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS_BATCH), 1);
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
}
