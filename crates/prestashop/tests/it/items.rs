//! Reading items: products without combinations and combinations (never a product with
//! combinations itself), their quantities from their own `stock_availables` rows, pages read
//! until a short one, and bulk reads by id and by SKU.

use crate::{Setup, endpoint, item, products};
use stocksync_domain::ShopConnector;
use stocksync_prestashop::PrestaSimOptions;

#[tokio::test]
async fn every_item_is_read_page_by_page_until_a_short_page() {
    // 250 products and 2 combinations: 3 pages of products, 1 of combinations, 3 of rows.
    let setup = Setup::new(products(250)).await;
    let (scarf, combinations) = setup.sim.add_combinations(
        "Scarf",
        &[("SC-RED", "4006381333931", 4), ("SC-BLU", "", 6)],
    );
    let items = setup.client.items().await.unwrap();
    assert_eq!(
        items.len(),
        252,
        "250 products and 2 combinations, not the scarf itself"
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 3);
    assert_eq!(setup.calls_to(endpoint::COMBINATIONS), 1);
    assert_eq!(setup.calls_to(endpoint::STOCK_AVAILABLES), 3, "253 rows");
    assert_eq!(setup.total_calls(), 7);
    let red = items
        .iter()
        .find(|i| i.sku.as_deref() == Some("SC-RED"))
        .unwrap();
    assert_eq!(red.item.id.as_str(), format!("{scarf}-{}", combinations[0]));
    assert_eq!(red.quantity, Some(4));
    assert_eq!(red.barcode.as_deref(), Some("4006381333931"));
    assert_eq!(red.name, "Scarf");
    assert_eq!(
        red.item.locator,
        setup
            .sim
            .row_id(scarf, combinations[0])
            .map(|id| id.to_string())
    );
    assert!(
        items
            .iter()
            .all(|i| i.item.id.as_str() != scarf.to_string())
    );
    assert_eq!(
        setup.sim.stock(scarf, 0),
        Some(10),
        "the sum row is the shop's, not an item"
    );
    let first = &items[0];
    assert_eq!(first.item.id.as_str(), "1");
    assert_eq!(
        first.sku.as_deref(),
        Some(stocksync_pos::simkit::catalog(1, 7)[0].sku.as_str())
    );
}

#[tokio::test]
async fn an_empty_shop_is_three_calls_and_no_items() {
    let setup = Setup::new(PrestaSimOptions::default()).await;
    assert!(setup.client.items().await.unwrap().is_empty());
    assert_eq!(setup.total_calls(), 3);
}

#[tokio::test]
async fn items_by_ref_read_in_bulk_and_leave_out_what_is_unknown() {
    let setup = Setup::new(products(5)).await;
    let (scarf, combinations) = setup.sim.add_combinations("Scarf", &[("SC-RED", "", 4)]);
    let red = format!("{scarf}-{}", combinations[0]);
    let refs = [
        item("2"),
        item(&red),
        item("999"),
        item(&scarf.to_string()),
        item("x-1"),
    ];
    let items = setup.client.items_by_ref(&refs).await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.item.id.as_str()).collect();
    assert_eq!(
        ids,
        ["2", red.as_str()],
        "999 is unknown, the scarf itself is not an item"
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 1);
    assert_eq!(setup.calls_to(endpoint::COMBINATIONS), 1);
    assert_eq!(setup.calls_to(endpoint::STOCK_AVAILABLES), 1);
    assert_eq!(setup.sim.requests_to("GET /products"), 1);
}

#[tokio::test]
async fn items_by_sku_are_found_exactly_in_bulk() {
    let setup = Setup::new(PrestaSimOptions::default()).await;
    setup.sim.add_product("Mug", "MUG", "", 3);
    setup.sim.add_product("Mug, big", "mug", "", 3);
    setup.sim.add_product("Pot", "POT|X", "", 3);
    let (_, combinations) = setup
        .sim
        .add_combinations("Scarf", &[("SC-RED", "", 4), ("SC-BLU", "", 2)]);
    let skus = [
        "MUG".to_owned(),
        "SC-BLU".to_owned(),
        "NONE".to_owned(),
        "POT|X".to_owned(),
    ];
    let items = setup.client.items_by_sku(&skus).await.unwrap();
    let found: Vec<(&str, Option<i64>)> = items
        .iter()
        .map(|i| (i.sku.as_deref().unwrap(), i.quantity))
        .collect();
    assert_eq!(
        found,
        [("MUG", Some(3)), ("SC-BLU", Some(2))],
        "case counts; '|' cannot be filtered"
    );
    assert!(
        items[1]
            .item
            .id
            .as_str()
            .ends_with(&format!("-{}", combinations[1]))
    );
    assert_eq!(
        setup.total_calls(),
        5,
        "2 searches, then the 3 reads of the products found"
    );
}
