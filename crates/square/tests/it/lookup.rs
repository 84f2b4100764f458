//! Finding products for registration: by variation id, by SKU, by name.

use crate::{COUNTS, product, setup_with};
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::{PosConnector, PosError, PosRef};

fn catalog() -> Vec<stocksync_pos::simkit::SimProduct> {
    vec![
        product("Tee (Small)", "TEE-S", 4),
        product("Tee (Large)", "TEE-L", 9),
        product("Blue Mug", "MUG-B", 7),
        product("Poster (Matte)", "POSTER-M", 1),
        product("Mug rack", "RACK", 0),
    ]
}

fn names(found: &[PosProduct]) -> Vec<&str> {
    let mut names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn finds_a_variation_by_id_with_its_total_stock() {
    let t = setup_with(catalog()).await;
    let refs = t.sim.product_refs();
    t.sim.set_upc(&refs[1], "0012345678905");

    let found = t
        .connector
        .find_products(&ProductQuery::Id(PosRef::new(&refs[1])))
        .await
        .unwrap();

    assert_eq!(
        found,
        [PosProduct {
            pos_ref: PosRef::new(&refs[1]),
            name: "Tee (Large)".into(),
            sku: Some("TEE-L".into()),
            barcode: Some("0012345678905".into()),
            quantity: 9,
        }]
    );
    assert_eq!(
        t.calls
            .count(crate::ACCOUNT, "POST /v2/catalog/batch-retrieve"),
        1
    );
    assert_eq!(t.calls.count(crate::ACCOUNT, COUNTS), 1);
}

#[tokio::test]
async fn an_unknown_id_finds_nothing() {
    let t = setup_with(catalog()).await;
    let found = t
        .connector
        .find_products(&ProductQuery::Id(PosRef::new("NOSUCHVARIATION")))
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(
        t.calls.count(crate::ACCOUNT, COUNTS),
        0,
        "no stock read for nothing"
    );
}

#[tokio::test]
async fn finds_by_sku_and_names_a_lone_regular_variation_after_its_item() {
    let t = setup_with(catalog()).await;
    let refs = t.sim.product_refs();

    let mug = t
        .connector
        .find_products(&ProductQuery::Sku("MUG-B".into()))
        .await
        .unwrap();
    assert_eq!(mug.len(), 1);
    assert_eq!(
        (
            mug[0].pos_ref.as_str(),
            mug[0].name.as_str(),
            mug[0].quantity
        ),
        (refs[2].as_str(), "Blue Mug", 7)
    );

    let poster = t
        .connector
        .find_products(&ProductQuery::Sku("POSTER-M".into()))
        .await
        .unwrap();
    assert_eq!(
        poster[0].name, "Poster (Matte)",
        "a lone variation with its own name keeps it"
    );
    assert_eq!(poster[0].quantity, 1);

    let none = t
        .connector
        .find_products(&ProductQuery::Sku("NOPE".into()))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn finds_every_variation_whose_name_contains_the_text_ignoring_case() {
    let t = setup_with(catalog()).await;

    let mugs = t
        .connector
        .find_products(&ProductQuery::Name("mug".into()))
        .await
        .unwrap();
    assert_eq!(names(&mugs), ["Blue Mug", "Mug rack"]);
    let rack = mugs.iter().find(|p| p.name == "Mug rack").unwrap();
    assert_eq!(rack.quantity, 0, "never counted: no count row, 0");

    let tees = t
        .connector
        .find_products(&ProductQuery::Name("TEE".into()))
        .await
        .unwrap();
    assert_eq!(names(&tees), ["Tee (Large)", "Tee (Small)"]);
    assert_eq!(tees.iter().map(|p| p.quantity).sum::<i64>(), 13);

    let exact = t
        .connector
        .find_products(&ProductQuery::Name("Tee (Small)".into()))
        .await
        .unwrap();
    assert_eq!(names(&exact), ["Tee (Small)"]);
    // One search, one counts call for all the variations found.
    assert_eq!(
        t.calls
            .count(crate::ACCOUNT, "POST /v2/catalog/search-catalog-items"),
        3
    );
    assert_eq!(t.calls.count(crate::ACCOUNT, COUNTS), 3);
}

#[tokio::test]
async fn a_name_search_follows_every_page_and_reads_stock_in_bulk() {
    // 250 one-variation items named "… Mug …" and others: more than two pages of 100.
    let products = stocksync_pos::simkit::catalog(2_000, 3);
    let mugs = products.iter().filter(|p| p.name.contains("Mug")).count();
    assert!(mugs > 200, "{mugs}");
    let t = setup_with(products).await;

    let found = t
        .connector
        .find_products(&ProductQuery::Name("mug".into()))
        .await
        .unwrap();

    assert_eq!(found.len(), mugs);
    assert!(
        found
            .iter()
            .all(|p| Some(p.quantity) == t.sim.quantity(p.pos_ref.as_str()))
    );
    let pages = t
        .calls
        .count(crate::ACCOUNT, "POST /v2/catalog/search-catalog-items");
    assert_eq!(pages as usize, mugs.div_ceil(100));
    assert_eq!(
        t.calls.count(crate::ACCOUNT, COUNTS) as usize,
        mugs.div_ceil(500)
    );
}

#[tokio::test]
async fn a_blank_lookup_is_refused() {
    let t = setup_with(catalog()).await;
    let err = t
        .connector
        .find_products(&ProductQuery::Name("  ".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PosError::Rejected(ref m) if m.contains("empty")),
        "{err:?}"
    );
    assert_eq!(t.calls.total(crate::ACCOUNT), 0);
}
