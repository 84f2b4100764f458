//! Listing every item of the account (`PosConnector::products`): `Item.json` with its
//! `ItemShops`, 100 items a call, every page, paced by the bucket like every read.

use crate::support::{Harness, options, pages};
use serde_json::Value;
use std::collections::HashMap;
use stocksync_domain::PosConnector;
use stocksync_domain::pos::PosProduct;
use stocksync_lightspeed::{LightspeedSimOptions, RateLimit};

const ITEMS: &str = "GET Item.json";

#[tokio::test]
async fn every_item_is_listed_100_a_call_with_skus_barcodes_and_totals() {
    // 1 200 items over 2 shops (`ShopID` 0: both), under a bucket of 5 drips (20 a second, 8
    // requests a second at most).
    let h = Harness::start(LightspeedSimOptions {
        rate_limit: RateLimit {
            size: 5.0,
            drip: 20.0,
            burst: Some(8),
            legacy_costs: false,
        },
        ..options(1_200, 0)
    })
    .await;
    let products = options(1_200, 0).products;
    h.sim.set_barcodes("2", "012345678905", "");
    h.sim.set_barcodes("3", "", "4006381333931");
    h.sim.set_barcodes("4", "", "");

    let listed = h.connector().products().await.expect("the listing");

    let by_ref: HashMap<&str, &PosProduct> =
        listed.iter().map(|p| (p.pos_ref.as_str(), p)).collect();
    assert_eq!((listed.len(), by_ref.len()), (1_200, 1_200));
    for (i, pos_ref) in h.sim.product_refs().iter().enumerate() {
        let product = by_ref[pos_ref.as_str()];
        assert_eq!(product.name, products[i].name, "{pos_ref}");
        assert_eq!(product.sku.as_deref(), Some(products[i].sku.as_str()));
        assert_eq!(Some(product.quantity), h.sim.quantity(pos_ref), "{pos_ref}");
    }
    assert_eq!(
        by_ref["2"].barcode.as_deref(),
        Some("012345678905"),
        "the UPC"
    );
    assert_eq!(
        by_ref["3"].barcode.as_deref(),
        Some("4006381333931"),
        "no UPC: the EAN"
    );
    assert_eq!(by_ref["4"].barcode, None, "neither");

    assert_eq!(h.count(ITEMS), pages(1_200));
    assert_eq!(
        h.sim.requests(),
        pages(1_200),
        "12 calls reached the simulator"
    );
    assert_eq!(h.with_status(429), 0, "paced by the bucket's headers");
}

#[tokio::test]
async fn an_item_without_a_custom_sku_is_listed_with_its_system_sku() {
    let mut options = options(3, 1);
    options.products[1].sku = String::new();
    let h = Harness::start(options).await;
    let connector = h.connector();
    let item: Value = h.raw_get("Item/2.json").await.json().await.unwrap();
    let system_sku = item["Item"]["systemSku"].as_str().unwrap().to_owned();
    assert!(!system_sku.is_empty(), "Lightspeed gives every item one");

    let listed = connector.products().await.unwrap();

    let item_2 = listed.iter().find(|p| p.pos_ref.as_str() == "2").unwrap();
    assert_eq!(item_2.sku.as_deref(), Some(system_sku.as_str()));
    let found = connector
        .find_products(&stocksync_domain::pos::ProductQuery::Sku(system_sku))
        .await
        .unwrap();
    assert_eq!(
        found,
        std::slice::from_ref(item_2),
        "a lookup describes it the same way"
    );
}

#[tokio::test]
async fn an_empty_account_is_one_call() {
    let h = Harness::start(options(0, 1)).await;
    assert!(h.connector().products().await.unwrap().is_empty());
    assert_eq!(h.sim.requests(), 1);
    assert_eq!(h.count(ITEMS), 1);
}
