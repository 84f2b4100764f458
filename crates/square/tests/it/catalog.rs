//! Listing every product of the account (`PosConnector::products`): the whole catalog in pages
//! of 1 000 variations, then one full counts read, never a call per product.

use crate::{COUNTS, LOCATIONS, products, setup_with};
use std::collections::HashMap;
use stocksync_domain::PosConnector;
use stocksync_domain::pos::PosProduct;

const SEARCH: &str = "POST /v2/catalog/search";

#[tokio::test]
async fn the_whole_catalog_is_read_in_bulk_with_skus_barcodes_and_totals() {
    // 2 500 variations: 3 catalog pages of 1 000. Every one but the last is counted at both
    // locations: 4 998 count rows, 5 counts pages of 1 000.
    let mut catalog = products(2_500);
    catalog[7].sku = String::new();
    catalog[2_499].quantity = 0;
    let t = setup_with(catalog.clone()).await;
    let refs = t.sim.product_refs();
    t.sim.set_upc(&refs[3], "0012345678905");
    t.sim.set_upc(&refs[2_100], "4006381333931");

    let listed = t.connector.products().await.unwrap();

    let by_ref: HashMap<&str, &PosProduct> =
        listed.iter().map(|p| (p.pos_ref.as_str(), p)).collect();
    assert_eq!((listed.len(), by_ref.len()), (2_500, 2_500));
    for (i, pos_ref) in refs.iter().enumerate() {
        let product = by_ref[pos_ref.as_str()];
        assert_eq!(product.name, catalog[i].name, "{pos_ref}");
        assert_eq!(Some(product.quantity), t.sim.quantity(pos_ref), "{pos_ref}");
    }
    let product = |i: usize| by_ref[refs[i].as_str()];
    assert_eq!(product(0).sku.as_deref(), Some(catalog[0].sku.as_str()));
    assert_eq!(product(7).sku, None, "a variation without a SKU is listed");
    assert_eq!(product(3).barcode.as_deref(), Some("0012345678905"));
    assert_eq!(product(2_100).barcode.as_deref(), Some("4006381333931"));
    assert_eq!(product(0).barcode, None);
    assert_eq!(product(2_499).quantity, 0, "never counted: listed with 0");

    assert_eq!(t.calls.count(crate::ACCOUNT, SEARCH), 3);
    assert_eq!(t.calls.count(crate::ACCOUNT, COUNTS), 5);
    assert_eq!(t.calls.count(crate::ACCOUNT, LOCATIONS), 1, "asked once");
    assert_eq!(t.sim.requests(), 9, "the simulator served 3 + 5 + 1 calls");
}

#[tokio::test]
async fn an_empty_catalog_is_one_call() {
    let t = setup_with(Vec::new()).await;
    assert!(t.connector.products().await.unwrap().is_empty());
    assert_eq!(t.sim.requests(), 1, "one catalog page; no counts read");
    assert_eq!(t.calls.count(crate::ACCOUNT, SEARCH), 1);
}
