//! Reading the shop's sellable items: paged by 100, variations under their parent, SKU look-ups.

use crate::{Setup, catalog, endpoint, products};

#[tokio::test]
async fn paging_over_250_items_costs_3_calls() {
    let setup = Setup::new(products(250)).await;
    let items = setup.client.items().await.unwrap();
    assert_eq!(items.len(), 250);
    let expected = catalog(250);
    for (item, product) in items.iter().zip(&expected) {
        assert_eq!(item.sku, product.sku);
        assert_eq!(item.stock_quantity, Some(product.quantity));
        assert!(item.manage_stock);
        assert_eq!(item.variation_id, None);
    }
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 3);
    assert_eq!(setup.total_calls(), 3);
    assert_eq!(setup.sim.requests(), 3);
}

#[tokio::test]
async fn variations_are_items_and_unmanaged_stock_is_reported_as_such() {
    let setup = Setup::new(products(2)).await;
    let (parent, variations) = setup
        .sim
        .add_variable("T-shirt", &[("TS-S", Some(4)), ("TS-M", None)]);
    let loose = setup.sim.add_simple("LOOSE", None);
    let items = setup.client.items().await.unwrap();
    assert_eq!(
        items.len(),
        5,
        "two products, two variations, one unmanaged"
    );
    let small = items.iter().find(|item| item.sku == "TS-S").unwrap();
    assert_eq!(
        (small.product_id, small.variation_id, small.stock_quantity),
        (parent, Some(variations[0]), Some(4))
    );
    assert_eq!(small.id(), variations[0]);
    let medium = items.iter().find(|item| item.sku == "TS-M").unwrap();
    assert!(!medium.manage_stock);
    assert_eq!(medium.stock_quantity, None);
    let loose = items.iter().find(|item| item.id() == loose).unwrap();
    assert!(!loose.manage_stock);
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 1);
    assert_eq!(
        setup.calls_to(endpoint::VARIATIONS),
        1,
        "one call per variable product, none per simple product"
    );
}

#[tokio::test]
async fn skus_are_found_in_one_call_per_hundred_variations_included() {
    let setup = Setup::new(products(150)).await;
    let (parent, variations) = setup.sim.add_variable("Cap", &[("CAP-1", Some(2))]);
    let wanted: Vec<String> = catalog(150).into_iter().map(|p| p.sku).collect();
    let mut asked: Vec<&str> = wanted.iter().map(String::as_str).collect();
    asked.extend(["CAP-1", "NO-SUCH-SKU", "A,B"]);
    let found = setup.client.find_by_sku(&asked).await.unwrap();
    assert_eq!(found.len(), 151);
    let cap = found.iter().find(|item| item.sku == "CAP-1").unwrap();
    assert_eq!(
        (cap.product_id, cap.variation_id),
        (parent, Some(variations[0]))
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 2, "153 SKUs: 2 calls");
}
