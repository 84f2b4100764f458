//! Registration look-ups by id, barcode and name.

use crate::{Setup, endpoint, sized};
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_hiboutik::{HiboutikSimOptions, TypeMode};

// `sized(6)`: products 1, 3, 5 come in sizes 1 S, 2 M, 3 L; products 2, 4, 6 have none.
// Names "Red Mug 00000", "Blue Mug 00001", …; barcodes "SKU-000000", sizes "SKU-000000-M".

fn id(pos_ref: &str) -> ProductQuery {
    ProductQuery::Id(PosRef::new(pos_ref))
}

fn refs(found: &[PosProduct]) -> Vec<&str> {
    found
        .iter()
        .map(|product| product.pos_ref.as_str())
        .collect()
}

#[tokio::test]
async fn finds_by_id_a_product_a_size_or_every_size() {
    for type_mode in [TypeMode::Numbers, TypeMode::Strings] {
        let setup = Setup::new(HiboutikSimOptions {
            type_mode,
            other_warehouse: true,
            ..sized(6)
        })
        .await;
        let plain = setup.connector.find_products(&id("2")).await.unwrap();
        assert_eq!(
            plain,
            [PosProduct {
                pos_ref: PosRef::new("2"),
                name: "Blue Mug 00001".into(),
                sku: Some("SKU-000001".into()),
                barcode: Some("SKU-000001".into()),
                quantity: setup.sim.quantity("2").unwrap(),
            }],
            "{type_mode:?}"
        );
        assert_eq!(setup.calls_to(endpoint::PRODUCT), 1);
        assert_eq!(setup.calls_to(endpoint::PRODUCT_STOCK), 1);

        let size = setup.connector.find_products(&id("1/2")).await.unwrap();
        assert_eq!(refs(&size), ["1/2"]);
        assert_eq!(size[0].name, "Red Mug 00000 (M)");
        assert_eq!(size[0].sku.as_deref(), Some("SKU-000000-M"));
        assert_eq!(size[0].barcode.as_deref(), Some("SKU-000000-M"));
        assert_eq!(size[0].quantity, setup.sim.quantity("1/2").unwrap());

        let every_size = setup.connector.find_products(&id("3")).await.unwrap();
        assert_eq!(refs(&every_size), ["3/1", "3/2", "3/3"]);
        assert_eq!(every_size[2].name, "Green Mug 00002 (L)");
    }
}

#[tokio::test]
async fn unknown_ids_find_nothing_whether_answered_empty_or_404() {
    for unknown_id_404 in [false, true] {
        let setup = Setup::new(HiboutikSimOptions {
            unknown_id_404,
            ..sized(6)
        })
        .await;
        for unknown in ["99", "2/1", "1/7"] {
            let found = setup.connector.find_products(&id(unknown)).await.unwrap();
            assert!(
                found.is_empty(),
                "{unknown} with 404 = {unknown_id_404}: {found:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_malformed_id_is_refused_without_a_call() {
    let setup = Setup::new(sized(2)).await;
    let err = setup
        .connector
        .find_products(&id("SKU-1"))
        .await
        .unwrap_err();
    let PosError::Rejected(message) = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("'SKU-1' is not a Hiboutik product reference"),
        "{message}"
    );
    assert_eq!(setup.total_calls(), 0);
}

#[tokio::test]
async fn finds_a_product_or_a_size_by_barcode() {
    let setup = Setup::new(HiboutikSimOptions {
        type_mode: TypeMode::Strings,
        ..sized(6)
    })
    .await;
    let size = setup
        .connector
        .find_products(&ProductQuery::Sku("SKU-000002-L".into()))
        .await
        .unwrap();
    assert_eq!(refs(&size), ["3/3"]);
    assert_eq!(size[0].quantity, setup.sim.quantity("3/3").unwrap());

    let plain = setup
        .connector
        .find_products(&ProductQuery::Sku("SKU-000003".into()))
        .await
        .unwrap();
    assert_eq!(refs(&plain), ["4"]);
    assert_eq!(plain[0].name, "Black Mug 00003");

    let none = setup
        .connector
        .find_products(&ProductQuery::Sku("SKU-999999".into()))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn finds_by_name_ignoring_case_with_sizes_named_after_them() {
    let setup = Setup::new(sized(6)).await;
    let found = setup
        .connector
        .find_products(&ProductQuery::Name("RED mug".into()))
        .await
        .unwrap();
    assert_eq!(refs(&found), ["1/1", "1/2", "1/3"]);
    assert_eq!(found[0].name, "Red Mug 00000 (S)");
    assert_eq!(found[1].quantity, setup.sim.quantity("1/2").unwrap());

    let plain = setup
        .connector
        .find_products(&ProductQuery::Name("blue".into()))
        .await
        .unwrap();
    assert_eq!(refs(&plain), ["2"]);

    let none = setup
        .connector
        .find_products(&ProductQuery::Name("teapot".into()))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_broad_name_search_takes_counts_from_the_bulk_read() {
    let setup = Setup::new(HiboutikSimOptions {
        other_warehouse: true,
        ..sized(40)
    })
    .await;
    let found = setup
        .connector
        .find_products(&ProductQuery::Name("mug".into()))
        .await
        .unwrap();
    // The mugs are products 1 to 6: 3 in sizes (3 × 3 items) and 3 plain.
    assert_eq!(found.len(), 12);
    for product in &found {
        assert_eq!(
            Some(product.quantity),
            setup.sim.quantity(product.pos_ref.as_str()),
            "{}",
            product.pos_ref
        );
    }
    assert_eq!(
        setup.calls_to(endpoint::PRODUCT_STOCK),
        0,
        "not one call per product"
    );
    assert_eq!(setup.calls_to(endpoint::WAREHOUSE_STOCK), 1);
}
