//! Reading the shop's sellable items: every item paged by 100 with variations under their
//! parent, items by reference in bulk (never one call per item), SKU look-ups.

use crate::{Setup, catalog, endpoint, products, simple, variation};
use stocksync_domain::ShopConnector;
use stocksync_domain::shop::ShopItem;

fn find(items: &[ShopItem], id: i64) -> &ShopItem {
    items
        .iter()
        .find(|item| item.item.id.as_str() == id.to_string())
        .unwrap_or_else(|| panic!("item {id} in {items:?}"))
}

#[tokio::test]
async fn paging_over_250_items_costs_3_calls() {
    let setup = Setup::new(products(250)).await;
    let items = setup.client.items().await.unwrap();
    assert_eq!(items.len(), 250);
    let expected = catalog(250);
    for (item, product) in items.iter().zip(&expected) {
        assert_eq!(item.sku.as_deref(), Some(product.sku.as_str()));
        assert_eq!(item.name, product.name);
        assert_eq!(item.quantity, Some(product.quantity));
        assert_eq!(item.item.locator, None);
        assert_eq!(item.barcode, None);
    }
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 3);
    assert_eq!(setup.total_calls(), 3);
    assert_eq!(setup.sim.requests(), 3);
}

#[tokio::test]
async fn variations_are_items_located_by_their_parent_and_unmanaged_stock_is_none() {
    let setup = Setup::new(products(2)).await;
    let (parent, variations) = setup
        .sim
        .add_variable("T-shirt", &[("TS-S", Some(4)), ("TS-M", None)]);
    let loose = setup.sim.add_simple("LOOSE", None);
    setup.sim.set_barcode(loose, "4006381333931");
    let items = setup.client.items().await.unwrap();
    assert_eq!(
        items.len(),
        5,
        "two products, two variations, one unmanaged"
    );
    let small = find(&items, variations[0]);
    assert_eq!(small.item, variation(parent, variations[0]));
    assert_eq!(
        (small.sku.as_deref(), small.quantity),
        (Some("TS-S"), Some(4))
    );
    assert_eq!(find(&items, variations[1]).quantity, None);
    let loose = find(&items, loose);
    assert_eq!(loose.quantity, None);
    assert_eq!(loose.barcode.as_deref(), Some("4006381333931"));
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 1);
    assert_eq!(
        setup.calls_to(endpoint::VARIATIONS),
        1,
        "one call per variable product, none per simple product"
    );
}

#[tokio::test]
async fn a_variation_selling_from_its_parents_count_has_no_quantity_of_its_own() {
    let setup = Setup::new(products(0)).await;
    let (parent, variations) = setup
        .sim
        .add_variable("Tote", &[("TOTE-RED", Some(2)), ("TOTE-BLU", None)]);
    setup.sim.share_parent_stock(parent, 9);
    let items = setup.client.items().await.unwrap();
    assert_eq!(find(&items, variations[0]).quantity, Some(2));
    assert_eq!(
        find(&items, variations[1]).quantity,
        None,
        "the parent's 9 are shared by every variation: not this item's to set"
    );
}

#[tokio::test]
async fn items_by_ref_are_read_in_bulk_and_unknown_ones_are_absent() {
    let setup = Setup::new(products(150)).await;
    let ids = setup.sim.item_ids();
    let (cap, caps) = setup
        .sim
        .add_variable("Cap", &[("CAP-1", Some(2)), ("CAP-2", Some(3))]);
    let (scarf, scarves) = setup.sim.add_variable("Scarf", &[("SC-1", Some(5))]);
    let mut refs: Vec<_> = ids.iter().map(|&id| simple(id)).collect();
    refs.extend([
        variation(cap, caps[0]),
        variation(cap, caps[1]),
        variation(scarf, scarves[0]),
        simple(999_999),
        variation(cap, 999_998),
        simple(caps[0]),
        simple(cap),
    ]);
    refs.push(refs[0].clone());
    let junk = stocksync_domain::shop::ItemRef {
        id: stocksync_domain::EcommerceId::new("abc"),
        locator: Some("x".into()),
    };
    refs.push(junk);

    let items = setup.client.items_by_ref(&refs).await.unwrap();
    assert_eq!(items.len(), 153, "150 products and 3 variations, once each");
    assert_eq!(find(&items, caps[1]).item, variation(cap, caps[1]));
    assert_eq!(find(&items, caps[1]).quantity, Some(3));
    assert_eq!(find(&items, ids[7]).quantity, setup.sim.stock(ids[7]));
    assert_eq!(
        setup.calls_to(endpoint::PRODUCTS),
        2,
        "153 product ids (a variation's and a variable product's ask for nothing): 2 calls"
    );
    assert_eq!(
        setup.calls_to(endpoint::VARIATIONS),
        2,
        "one call per parent"
    );
    assert_eq!(setup.sim.requests(), 4);
}

#[tokio::test]
async fn skus_are_found_in_one_call_per_hundred_variations_included() {
    let setup = Setup::new(products(150)).await;
    let (parent, variations) = setup.sim.add_variable("Cap", &[("CAP-1", Some(2))]);
    let mut asked: Vec<String> = catalog(150).into_iter().map(|p| p.sku).collect();
    asked.extend(["CAP-1", "NO-SUCH-SKU", "A,B", ""].map(String::from));
    let found = setup.client.items_by_sku(&asked).await.unwrap();
    assert_eq!(found.len(), 151);
    assert_eq!(
        find(&found, variations[0]).item,
        variation(parent, variations[0])
    );
    assert_eq!(setup.calls_to(endpoint::PRODUCTS), 2, "152 SKUs: 2 calls");
}
