//! Reading variants: every page, by id in bulk, by SKU exactly; the quantity is `available` at
//! the client's location, `None` when not tracked or not stocked there.

use crate::{Setup, located, products, variant};
use stocksync_domain::ShopConnector;
use stocksync_shopify::ShopifySimOptions;

#[tokio::test]
async fn every_variant_is_read_in_pages_of_250_with_its_available_quantity() {
    let setup = Setup::new(products(600)).await;
    let items = setup.client.items().await.unwrap();
    assert_eq!(items.len(), 600);
    assert_eq!(
        setup.calls_to("productVariants"),
        3,
        "600 variants: 3 pages"
    );
    assert_eq!(
        setup.calls_to("location"),
        1,
        "the primary location, asked once"
    );
    for item in &items {
        let id: u64 = item.item.id.as_str().parse().unwrap();
        assert_eq!(item.quantity, setup.sim.available(id));
        assert_eq!(item.item, located(&setup.sim, id));
        assert!(item.sku.as_deref().unwrap().starts_with("SKU-"));
    }
    setup.client.items().await.unwrap();
    assert_eq!(setup.calls_to("location"), 1, "still once");
}

#[tokio::test]
async fn untracked_and_unstocked_items_have_no_quantity() {
    let setup = Setup::at(ShopifySimOptions::default(), None).await;
    let tracked = setup
        .sim
        .add_variant("Mug - Red", "MUG-R", Some("4006381333931"), Some(5));
    let untracked = setup.sim.add_variant("Gift card", "GIFT", None, None);
    let items = setup.client.items().await.unwrap();
    let quantity = |id: u64| {
        items
            .iter()
            .find(|item| item.item.id.as_str() == id.to_string())
            .unwrap()
            .quantity
    };
    assert_eq!(quantity(tracked), Some(5));
    assert_eq!(quantity(untracked), None);
    let mug = items
        .iter()
        .find(|item| item.sku.as_deref() == Some("MUG-R"))
        .unwrap();
    assert_eq!(mug.barcode.as_deref(), Some("4006381333931"));
    assert_eq!(mug.name, "Mug - Red");

    // At another location, where nothing is stocked: no quantity for anyone.
    let elsewhere = Setup::at(
        ShopifySimOptions::default(),
        Some(setup.sim.other_location_id()),
    )
    .await;
    elsewhere.sim.add_variant("Mug", "MUG", None, Some(5));
    let items = elsewhere.client.items().await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].quantity, None);
    assert_eq!(elsewhere.calls_to("location"), 0, "configured: never asked");
}

#[tokio::test]
async fn items_by_ref_reads_300_ids_in_2_calls_and_skips_unknown_ones() {
    let setup = Setup::new(products(300)).await;
    let mut refs: Vec<_> = setup.sim.variant_ids().into_iter().map(variant).collect();
    refs.push(variant(999_999));
    refs.push(variant(0));
    let items = setup.client.items_by_ref(&refs).await.unwrap();
    assert_eq!(items.len(), 300);
    assert_eq!(setup.calls_to("nodes"), 2);
    assert_eq!(setup.calls_to("productVariants"), 0);
}

#[tokio::test]
async fn items_by_sku_finds_exact_matches_in_bulk() {
    let setup = Setup::new(products(120)).await;
    let mut skus: Vec<String> = (0..60).map(|i| format!("SKU-{i:06}")).collect();
    skus.push("NOPE".into());
    skus.push("sku-000001".into());
    let items = setup.client.items_by_sku(&skus).await.unwrap();
    let mut found: Vec<_> = items.iter().map(|item| item.sku.clone().unwrap()).collect();
    found.sort();
    assert_eq!(found.len(), 60, "exact SKUs only: {found:?}");
    assert_eq!(
        setup.calls_to("productVariants"),
        2,
        "62 SKUs: 2 searches of at most 50"
    );
}
