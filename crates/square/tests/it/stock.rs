//! Reading stock: full reads over many pages, incremental reads, locations, decimal quantities.

use crate::{COUNTS, LOCATIONS, connect, product, products, setup_with};
use std::collections::{HashMap, HashSet};
use stocksync_domain::PosConnector;
use stocksync_domain::pos::StockRead;

fn by_ref(read: &StockRead) -> HashMap<String, i64> {
    read.counts
        .iter()
        .map(|c| (c.pos_ref.to_string(), c.quantity))
        .collect()
}

#[tokio::test]
async fn a_full_read_follows_every_page_with_one_call_per_thousand_rows() {
    // 2 500 variations × 2 locations = 5 000 count rows: 5 pages of 1 000.
    let t = setup_with(products(2_500)).await;
    let read = t.connector.read_stock(None).await.unwrap();

    let quantities = by_ref(&read);
    assert_eq!(quantities.len(), 2_500);
    for pos_ref in t.sim.product_refs() {
        assert_eq!(
            quantities.get(&pos_ref).copied(),
            t.sim.quantity(&pos_ref),
            "{pos_ref}"
        );
    }
    assert!(read.counts.iter().all(|c| c.counted_at.is_some()));
    assert!(read.cursor.is_some());
    assert_eq!(t.calls.count(crate::ACCOUNT, COUNTS), 5);
    assert_eq!(t.calls.count(crate::ACCOUNT, LOCATIONS), 1);
    assert_eq!(t.calls.total(crate::ACCOUNT), 6);

    t.connector.read_stock(None).await.unwrap();
    assert_eq!(
        t.calls.count(crate::ACCOUNT, LOCATIONS),
        1,
        "locations are asked once"
    );
}

#[tokio::test]
async fn an_incremental_read_returns_exactly_the_sold_products_with_totals_over_locations() {
    let t = setup_with(products(300)).await;
    let full = t.connector.read_stock(None).await.unwrap();
    let refs = t.sim.product_refs();
    let sold: HashSet<String> = refs.iter().step_by(29).take(10).cloned().collect();
    assert_eq!(sold.len(), 10);
    for pos_ref in &sold {
        t.sim.till_sale(pos_ref, 1);
    }
    let before = t.calls.count(crate::ACCOUNT, COUNTS);

    let read = t
        .connector
        .read_stock(full.cursor.as_deref())
        .await
        .unwrap();

    let quantities = by_ref(&read);
    assert_eq!(quantities.keys().cloned().collect::<HashSet<_>>(), sold);
    for pos_ref in &sold {
        // The till is at the first location; the total includes the second one's units.
        assert_eq!(
            quantities[pos_ref],
            t.sim.quantity(pos_ref).unwrap(),
            "{pos_ref}"
        );
        assert_eq!(quantities[pos_ref], by_ref(&full)[pos_ref] - 1);
    }
    // One call for the changed rows, one batched call for those variations' other locations.
    assert_eq!(t.calls.count(crate::ACCOUNT, COUNTS) - before, 2);
    assert!(read.cursor >= full.cursor, "the cursor never goes back");
}

#[tokio::test]
async fn every_change_after_a_cursor_is_seen_again_never_lost() {
    let t = setup_with(products(50)).await;
    let refs = t.sim.product_refs();
    let first = t.connector.read_stock(None).await.unwrap();
    t.sim.till_sale(&refs[3], 2);
    let second = t
        .connector
        .read_stock(first.cursor.as_deref())
        .await
        .unwrap();
    t.sim.till_sale(&refs[4], 1);
    let third = t
        .connector
        .read_stock(second.cursor.as_deref())
        .await
        .unwrap();

    let seen = by_ref(&third);
    assert_eq!(seen.get(&refs[4]).copied(), t.sim.quantity(&refs[4]));
    // A change from just before the previous read may be reported again: counts are absolute,
    // so that is harmless, and the value is the current one.
    assert!(
        seen.keys().all(|r| *r == refs[3] || *r == refs[4]),
        "{seen:?}"
    );
    assert!(seen.iter().all(|(r, q)| Some(*q) == t.sim.quantity(r)));
}

#[tokio::test]
async fn quantities_are_exact_decimal_sums_rounded_down() {
    let t = setup_with(vec![
        product("Flour (kg)", "FLOUR", 4),
        product("Rope (m)", "ROPE", 4),
    ])
    .await;
    let refs = t.sim.product_refs();
    t.sim.set_count(&refs[0], "L1MAIN", "2.5");
    t.sim.set_count(&refs[0], "L2SHOP", "0.75");
    t.sim.set_count(&refs[1], "L1MAIN", "-0.5");
    t.sim.set_count(&refs[1], "L2SHOP", "0.00001");

    let read = by_ref(&t.connector.read_stock(None).await.unwrap());
    assert_eq!(read[&refs[0]], 3, "2.5 + 0.75 = 3.25, three whole units");
    assert_eq!(read[&refs[1]], -1, "-0.49999 rounds down to -1");
    assert_eq!(t.sim.quantity(&refs[0]), Some(3));
}

#[tokio::test]
async fn inactive_locations_are_not_counted() {
    let t = setup_with(products(5)).await;
    let refs = t.sim.product_refs();
    let expected = t.sim.quantity(&refs[0]).unwrap();
    t.sim.set_count(&refs[0], "L9CLOSED", "100");

    let read = by_ref(&t.connector.read_stock(None).await.unwrap());
    assert_eq!(read[&refs[0]], expected);
}

#[tokio::test]
async fn configured_locations_are_the_only_ones_read() {
    let t = setup_with(products(20)).await;
    let refs = t.sim.product_refs();
    t.sim.set_count(&refs[0], "L1MAIN", "5");
    t.sim.set_count(&refs[0], "L2SHOP", "7");
    let calls = stocksync_pos::CallLog::default();
    let main_only = connect(&t.sim, &calls, t.sim.access_token(), &["L1MAIN"]);

    let full = main_only.read_stock(None).await.unwrap();
    assert_eq!(by_ref(&full)[&refs[0]], 5);
    assert_eq!(
        calls.count(crate::ACCOUNT, LOCATIONS),
        0,
        "no need to ask for locations"
    );

    t.sim.till_sale(&refs[0], 2);
    let incremental = main_only.read_stock(full.cursor.as_deref()).await.unwrap();
    assert_eq!(by_ref(&incremental), HashMap::from([(refs[0].clone(), 3)]));
    assert_eq!(
        calls.count(crate::ACCOUNT, COUNTS),
        2,
        "one location: the changed rows are the totals"
    );
}

#[tokio::test]
async fn never_counted_variations_are_absent_from_reads() {
    let t = setup_with(vec![product("Mug", "MUG", 3), product("Bowl", "BOWL", 0)]).await;
    let read = by_ref(&t.connector.read_stock(None).await.unwrap());
    let refs = t.sim.product_refs();
    assert_eq!(read.get(&refs[0]), Some(&3));
    assert_eq!(read.get(&refs[1]), None);
}

#[tokio::test]
async fn a_cursor_that_is_not_ours_is_refused_clearly() {
    let t = setup_with(products(3)).await;
    let err = t.connector.read_stock(Some("page-7")).await.unwrap_err();
    assert!(
        matches!(err, stocksync_domain::PosError::Rejected(_)),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(crate::ACCOUNT) && message.contains("'page-7'"),
        "{message}"
    );
    assert_eq!(t.calls.total(crate::ACCOUNT), 0);
}
