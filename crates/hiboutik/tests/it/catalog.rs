//! Listing every product of the account (`PosConnector::products`): the product pages and the
//! warehouse's stock pages, 250 rows a call, each call one unit of the monthly budget.

use crate::{Setup, endpoint, sized};
use std::collections::HashMap;
use stocksync_domain::pos::PosProduct;
use stocksync_domain::{PosConnector, PosError};
use stocksync_hiboutik::{HiboutikSimOptions, TypeMode};

const PRODUCTS: &str = "GET /products";

/// 400 products, the odd ones (1, 3, …) in sizes S, M, L: 200 × 3 + 200 = 800 items. Product 2
/// has no barcode, nor do the sizes of product 3.
fn options(type_mode: TypeMode) -> HiboutikSimOptions {
    let mut options = HiboutikSimOptions {
        type_mode,
        other_warehouse: true,
        ..sized(400)
    };
    options.products[1].sku = String::new();
    options.products[2].sku = String::new();
    options
}

#[tokio::test]
async fn every_item_is_listed_from_two_paged_reads_with_its_barcode() {
    for type_mode in [TypeMode::Numbers, TypeMode::Strings] {
        let setup = Setup::new(options(type_mode)).await;

        let listed = setup.connector.products().await.unwrap();

        let by_ref: HashMap<&str, &PosProduct> =
            listed.iter().map(|p| (p.pos_ref.as_str(), p)).collect();
        assert_eq!((listed.len(), by_ref.len()), (800, 800), "{type_mode:?}");
        for pos_ref in setup.sim.product_refs() {
            let product = by_ref[pos_ref.as_str()];
            assert_eq!(
                Some(product.quantity),
                setup.sim.quantity(&pos_ref),
                "{pos_ref}"
            );
        }
        let plain = by_ref["4"];
        assert_eq!(plain.name, "Black Mug 00003");
        assert_eq!(plain.sku.as_deref(), Some("SKU-000003"));
        assert_eq!(plain.barcode.as_deref(), Some("SKU-000003"));
        let size = by_ref["1/2"];
        assert_eq!(size.name, "Red Mug 00000 (M)");
        assert_eq!(size.barcode.as_deref(), Some("SKU-000000-M"));
        assert_eq!(
            (by_ref["2"].sku.as_ref(), by_ref["2"].barcode.as_ref()),
            (None, None)
        );
        assert_eq!(by_ref["3/1"].barcode, None);

        // 400 products: 2 pages; 800 stock rows of warehouse 1: 4 pages.
        assert_eq!(setup.calls_to(PRODUCTS), 2);
        assert_eq!(setup.calls_to(endpoint::WAREHOUSE_STOCK), 4);
        assert_eq!(setup.sim.requests(), 6, "the simulator served 6 calls");
        assert_eq!(setup.budget_used().await, 6, "one unit of budget a call");
    }
}

#[tokio::test]
async fn a_listing_stops_where_the_budget_ends() {
    let setup = Setup::with_budget(options(TypeMode::Numbers), 4).await;
    let err = setup.connector.products().await.unwrap_err();
    assert!(matches!(err, PosError::BudgetExhausted(_)), "{err:?}");
    assert_eq!(
        setup.sim.requests(),
        4,
        "2 product pages, 2 stock pages; then nothing sent"
    );
    assert_eq!(setup.budget_used().await, 4);
}
