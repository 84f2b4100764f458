//! Lookups for registration: by itemID, by SKU or barcode, by name (every page).

use crate::support::{Harness, options};
use serde_json::Value;
use stocksync_domain::pos::ProductQuery;
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_pos::simkit::catalog;

#[tokio::test]
async fn products_are_found_by_id_sku_barcode_and_name() {
    let h = Harness::start(options(250, 0)).await;
    let connector = h.connector();
    let products = catalog(250, 7);
    let find = |query: ProductQuery| {
        let connector = &connector;
        async move { connector.find_products(&query).await.expect("a lookup") }
    };

    // Item 4 has no row in shop 2: its quantity is shop 1's alone, the summary never added.
    let found = find(ProductQuery::Id(PosRef::new("4"))).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, products[3].name);
    assert_eq!(found[0].sku.as_deref(), Some(products[3].sku.as_str()));
    assert_eq!(found[0].quantity, products[3].quantity);
    assert_eq!(Some(found[0].quantity), h.sim.quantity_in("4", 1));
    assert!(
        find(ProductQuery::Id(PosRef::new("999999")))
            .await
            .is_empty()
    );
    assert!(
        find(ProductQuery::Id(PosRef::new("SKU-1")))
            .await
            .is_empty()
    );

    let by_sku = find(ProductQuery::Sku(products[10].sku.clone())).await;
    assert_eq!(
        by_sku
            .iter()
            .map(|p| p.pos_ref.as_str())
            .collect::<Vec<_>>(),
        ["11"]
    );
    assert_eq!(by_sku[0].quantity, products[10].quantity);

    // A barcode: customSku misses, upc matches.
    let item: Value = h.raw_get("Item/12.json").await.json().await.unwrap();
    let upc = item["Item"]["upc"].as_str().unwrap().to_owned();
    let before = h.count("GET Item.json");
    let by_upc = find(ProductQuery::Sku(upc.clone())).await;
    assert_eq!(
        by_upc
            .iter()
            .map(|p| p.pos_ref.as_str())
            .collect::<Vec<_>>(),
        ["12"]
    );
    assert_eq!(
        by_upc[0].barcode,
        Some(upc),
        "a found item carries its barcode"
    );
    assert_eq!(h.count("GET Item.json") - before, 2);

    // Names contain the text, without case; more than 100 matches take several pages.
    for text in ["blue MUG", "e"] {
        let expected: Vec<String> = products
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name.to_lowercase().contains(&text.to_lowercase()))
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        let before = h.count("GET Item.json");
        let found = find(ProductQuery::Name(text.to_owned())).await;
        let mut refs: Vec<String> = found
            .iter()
            .map(|p| p.pos_ref.as_str().to_owned())
            .collect();
        refs.sort_by_key(|r| r.parse::<i64>().unwrap());
        assert_eq!(refs, expected, "{text}");
        assert_eq!(
            h.count("GET Item.json") - before,
            expected.len().div_ceil(100).max(1) as u64
        );
    }
}

#[tokio::test]
async fn an_empty_lookup_is_refused() {
    let h = Harness::start(options(3, 1)).await;
    for query in [
        ProductQuery::Sku("  ".into()),
        ProductQuery::Name(String::new()),
    ] {
        let err = h.connector().find_products(&query).await.unwrap_err();
        assert!(
            matches!(&err, PosError::Rejected(m) if m.contains("must not be empty")),
            "{err}"
        );
    }
    assert_eq!(h.calls.total("83050"), 0);
}
