//! Failures as the port's `ShopError`s (a refused token, 5xx, a proxy's page), never with the
//! token in them; and the simulator's own contract: unknown operations refused, idempotency
//! keys mandatory at 2026-04, a key replayed only with the same input.

use crate::{Setup, client_of, products};
use serde_json::{Value, json};
use stocksync_domain::{ShopConnector, ShopError};
use stocksync_pos::CallLog;
use stocksync_pos::simkit::FaultPlan;
use stocksync_shopify::ShopifySim;

#[tokio::test]
async fn a_refused_token_is_unauthorized_at_once_and_never_shown() {
    let setup = Setup::new(products(1)).await;
    let calls = CallLog::default();
    let client = client_of(&setup.sim, "shpat_wrong_token_123", None, &calls);
    let error = client.items().await.unwrap_err();
    assert!(matches!(error, ShopError::Unauthorized(_)), "{error:?}");
    assert!(!error.to_string().contains("shpat_wrong_token_123"));
    assert_eq!(calls.total(crate::ACCOUNT), 1, "not retried");
    assert!(!format!("{client:?}").contains("shpat_wrong_token_123"));
}

#[tokio::test]
async fn server_errors_and_proxy_pages_are_unavailable_after_retries() {
    let setup = Setup::new(products(1)).await;
    setup.client.items().await.unwrap();
    for plan in [
        FaultPlan {
            fail_next: 5,
            ..FaultPlan::default()
        },
        FaultPlan {
            foreign_next: 5,
            foreign_status: 502,
            ..FaultPlan::default()
        },
        FaultPlan {
            foreign_next: 5,
            foreign_status: 200,
            ..FaultPlan::default()
        },
        FaultPlan {
            drop_next: 5,
            ..FaultPlan::default()
        },
    ] {
        setup.sim.faults().set(plan.clone());
        let before = setup.calls_to("productVariants");
        let error = setup.client.items().await.unwrap_err();
        assert!(
            matches!(error, ShopError::Unavailable(_)),
            "{plan:?}: {error:?}"
        );
        assert_eq!(setup.calls_to("productVariants") - before, 5, "{plan:?}");
    }
    setup.sim.faults().set(FaultPlan::default());
    assert_eq!(setup.client.items().await.unwrap().len(), 1);
}

async fn post(sim: &ShopifySim, version: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!(
            "{}/admin/api/{version}/graphql.json",
            sim.base_url()
        ))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const SET: &str = "mutation S($input: InventorySetQuantitiesInput!, $key: String!) { \
    inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code field message } } }";
const SET_WITHOUT_KEY: &str = "mutation S($input: InventorySetQuantitiesInput!) { \
    inventorySetQuantities(input: $input) { userErrors { code field message } } }";

#[tokio::test]
async fn the_simulator_refuses_unknown_operations_and_enforces_idempotency_keys() {
    stocksync_pos::http::install_crypto();
    let sim = ShopifySim::start(stocksync_shopify::ShopifySimOptions::default())
        .await
        .unwrap();
    let id = sim.add_variant("Mug", "MUG", None, Some(4));
    let item = format!(
        "gid://shopify/InventoryItem/{}",
        sim.inventory_item(id).unwrap()
    );

    let answer = post(&sim, "2026-04", "query { shop { name } }", json!({})).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "undefinedField",
        "{answer}"
    );
    assert!(
        answer["extensions"]["cost"]["throttleStatus"].is_object() || answer.get("data").is_none()
    );

    let input = |quantity: i64, from: Value| {
        json!({ "name": "available", "reason": "correction",
        "quantities": [{ "inventoryItemId": item, "locationId": sim.location_id(),
        "quantity": quantity, "changeFromQuantity": from }] })
    };
    let answer = post(
        &sim,
        "2026-04",
        SET_WITHOUT_KEY,
        json!({ "input": input(5, json!(4)) }),
    )
    .await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("@idempotent"),
        "{answer}"
    );
    assert_eq!(sim.available(id), Some(4), "nothing written");

    let first = post(
        &sim,
        "2026-04",
        SET,
        json!({ "key": "k1", "input": input(5, json!(4)) }),
    )
    .await;
    let again = post(
        &sim,
        "2026-04",
        SET,
        json!({ "key": "k1", "input": input(5, json!(4)) }),
    )
    .await;
    assert_eq!(first["data"], again["data"]);
    assert_eq!(sim.writes().len(), 1);
    assert_eq!(sim.replays(), 1);
    let other = post(
        &sim,
        "2026-04",
        SET,
        json!({ "key": "k1", "input": input(6, json!(5)) }),
    )
    .await;
    assert_eq!(
        other["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    );
    let stale = post(
        &sim,
        "2026-04",
        SET,
        json!({ "key": "k2", "input": input(6, json!(4)) }),
    )
    .await;
    assert_eq!(
        stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_STALE"
    );
    let unchecked = post(
        &sim,
        "2026-04",
        SET,
        json!({ "key": "k3", "input": input(8, Value::Null) }),
    )
    .await;
    assert_eq!(
        unchecked["data"]["inventorySetQuantities"]["userErrors"],
        json!([])
    );
    assert_eq!(sim.available(id), Some(8));
    // Before 2026-04 the key may be left out.
    let old = post(
        &sim,
        "2025-10",
        SET_WITHOUT_KEY,
        json!({ "input": input(9, json!(8)) }),
    )
    .await;
    assert_eq!(
        old["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{old}"
    );
    assert_eq!(
        sim.writes_per_item().values().copied().collect::<Vec<_>>(),
        [3]
    );
}

#[tokio::test]
async fn retries_of_calls_that_got_no_answer_do_not_wait_for_the_bucket() {
    // A Standard shop's bucket (1000 points, 100 a second): a page of 250 variants requests
    // 752 points. Reserving them for each attempt that never reached Shopify, without giving
    // them back, made each retry wait up to 7.5 s.
    let setup = Setup::new(stocksync_shopify::ShopifySimOptions::default()).await;
    setup.sim.add_variant("Mug", "MUG", None, Some(1));
    setup.client.items().await.unwrap();
    setup.sim.faults().set(FaultPlan {
        drop_next: 2,
        fail_next: 2,
        ..FaultPlan::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(setup.client.items().await.unwrap().len(), 1);
    assert_eq!(setup.calls_to("productVariants"), 1 + 5);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
