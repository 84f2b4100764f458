//! The original program's `AccountID` as the location: with `Locations` empty and an
//! `AccountID` that is one of the merchant's locations, stock is read and sales recorded at that
//! location alone; otherwise every ACTIVE location counts (`stock.rs`, `sale.rs`).

use crate::{ACCOUNT, COUNTS, fast_backoff, products};
use secrecy::SecretString;
use std::collections::HashMap;
use std::time::Duration;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::pos::{PosSale, ProductQuery};
use stocksync_domain::{AccountId, PosConnector, PosKind, PosRef};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_square::{SquareConnector, SquareSim, SquareSimOptions};

/// The second of the simulator's two ACTIVE locations (the till sells at the first).
const SHOP: &str = "L2SHOP";

/// A connector whose `AccountID` is `account_id`, with no `Locations`.
fn connect_as(sim: &SquareSim, calls: &CallLog, account_id: &str) -> SquareConnector {
    let config = AccountConfig {
        id: AccountId::new(account_id),
        kind: PosKind::Square,
        base_url: sim.base_url(),
        vendor: VendorConfig::Square {
            access_token: SecretString::from(sim.access_token().to_owned()),
            locations: Vec::new(),
        },
    };
    let http = PosHttp::with_timeout(ACCOUNT, calls.clone(), Duration::from_secs(5));
    SquareConnector::new(&config, http)
        .expect("a Square account")
        .with_backoff(fast_backoff())
}

async fn two_locations() -> SquareSim {
    let sim = SquareSim::start(SquareSimOptions {
        products: products(20),
        ..SquareSimOptions::default()
    })
    .await
    .expect("the simulator starts");
    assert_eq!(sim.location_ids()[..2], ["L1MAIN", SHOP]);
    sim
}

#[tokio::test]
async fn an_account_id_naming_a_location_reads_and_sells_there_alone() {
    let sim = two_locations().await;
    let calls = CallLog::default();
    let connector = connect_as(&sim, &calls, SHOP);
    let refs = sim.product_refs();

    let read = connector.read_stock(None).await.unwrap();
    let quantities: HashMap<String, i64> = read
        .counts
        .iter()
        .map(|c| (c.pos_ref.to_string(), c.quantity))
        .collect();
    assert_eq!(quantities.len(), refs.len());
    for pos_ref in &refs {
        let here = sim.quantity_at(pos_ref, SHOP).unwrap();
        assert!(
            here < sim.quantity(pos_ref).unwrap(),
            "both locations hold some"
        );
        assert_eq!(quantities[pos_ref], here, "{pos_ref}: {SHOP}'s count only");
    }
    let found = connector
        .find_products(&ProductQuery::Id(PosRef::new(&refs[0])))
        .await
        .unwrap();
    assert_eq!(found[0].quantity, sim.quantity_at(&refs[0], SHOP).unwrap());

    // A till sale at the other location is none of this account's business.
    sim.till_sale(&refs[1], 1);
    let before = calls.count(ACCOUNT, COUNTS);
    let next = connector.read_stock(read.cursor.as_deref()).await.unwrap();
    assert!(next.counts.is_empty(), "{:?}", next.counts);
    assert_eq!(calls.count(ACCOUNT, COUNTS) - before, 1);

    let shop_before = sim.quantity_at(&refs[2], SHOP).unwrap();
    connector
        .record_sale(&PosSale {
            sale_key: "order-1".into(),
            pos_ref: PosRef::new(&refs[2]),
            quantity: 2,
            balance_cents: 990,
            sent_before: false,
        })
        .await
        .unwrap();
    let sales = sim.web_sales();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].location_id, SHOP);
    assert_eq!(sim.quantity_at(&refs[2], SHOP), Some(shop_before - 2));
}

#[tokio::test]
async fn an_account_id_that_is_no_location_keeps_every_active_location() {
    let sim = two_locations().await;
    let calls = CallLog::default();
    let connector = connect_as(&sim, &calls, "my-square-shop");
    let pos_ref = sim.product_refs()[0].clone();

    let found = connector
        .find_products(&ProductQuery::Id(PosRef::new(&pos_ref)))
        .await
        .unwrap();
    assert_eq!(Some(found[0].quantity), sim.quantity(&pos_ref), "the sum");
    connector
        .record_sale(&PosSale {
            sale_key: "order-2".into(),
            pos_ref: PosRef::new(&pos_ref),
            quantity: 1,
            balance_cents: 990,
            sent_before: false,
        })
        .await
        .unwrap();
    assert_eq!(sim.web_sales()[0].location_id, "L1MAIN", "the first");
}

/// A sale recorded before an upgrade at the first location, sent again after it at the
/// `AccountID` location: Square knows its key, and its adjustment is not where the lookup looks.
/// That is no refusal (the units must not go back to the shop): a transient failure.
#[tokio::test]
async fn a_known_key_whose_adjustment_is_elsewhere_is_not_a_refusal() {
    let sim = two_locations().await;
    let calls = CallLog::default();
    let refs = sim.product_refs();
    let sale = PosSale {
        sale_key: "order-before-upgrade".into(),
        pos_ref: PosRef::new(&refs[3]),
        quantity: 1,
        balance_cents: 500,
        sent_before: false,
    };
    // Before: the first active location (AccountID names none of them).
    connect_as(&sim, &calls, "merchant")
        .record_sale(&sale)
        .await
        .unwrap();
    // After: the AccountID is the second location.
    let err = connect_as(&sim, &calls, SHOP)
        .record_sale(&PosSale {
            sent_before: true,
            ..sale
        })
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(sim.web_sales().len(), 1, "recorded once");
}
