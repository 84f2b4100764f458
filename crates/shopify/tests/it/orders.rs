//! Orders: those updated since a time, every page; Shopify commits an order's units when it
//! is created, so it counts until cancelled; refund lines restocked `RETURN`/`CANCEL` give
//! units back, `NO_RESTOCK` does not.

use crate::{Setup, products};
use stocksync_domain::ShopConnector;
use stocksync_shopify::ORDER_PAGE;
use stocksync_shopify::sim::RestockType;

#[tokio::test]
async fn orders_count_when_created_and_moves_are_committed() {
    let setup = Setup::new(products(2)).await;
    let ids = setup.sim.variant_ids();
    let before = setup.sim.available(ids[0]).unwrap();
    let order = setup.sim.place_order(&[(ids[0], 2), (ids[1], 1)]);
    assert_eq!(setup.sim.available(ids[0]), Some(before - 2));
    assert_eq!(setup.sim.committed(ids[0]), Some(2));
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(read.counts);
    assert_eq!(read.id, order.to_string());
    assert_eq!(read.lines.len(), 2);
    assert_eq!(read.lines[0].item.as_str(), ids[0].to_string());
    assert_eq!((read.lines[0].quantity, read.lines[0].restocked), (2, 0));
    assert_eq!(read.lines[0].total_cents, 2500);

    assert!(setup.sim.cancel_order(order));
    assert_eq!(setup.sim.available(ids[0]), Some(before));
    assert_eq!(setup.sim.committed(ids[0]), Some(0));
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(!read.counts);
    assert_eq!(read.status, "cancelled");

    assert_eq!(setup.client.order("999999").await.unwrap(), None);
    assert_eq!(setup.client.order("not-a-number").await.unwrap(), None);
    assert_eq!(setup.calls_to("order"), 3, "a malformed id is not sent");
}

#[tokio::test]
async fn refunds_restocked_as_return_or_cancel_give_units_back() {
    let setup = Setup::new(products(1)).await;
    let id = setup.sim.variant_ids()[0];
    let order = setup.sim.place_order(&[(id, 5)]);
    setup
        .sim
        .refund(order, &[(0, 1, RestockType::Return)])
        .unwrap();
    setup
        .sim
        .refund(order, &[(0, 1, RestockType::Cancel)])
        .unwrap();
    setup
        .sim
        .refund(order, &[(0, 2, RestockType::NoRestock)])
        .unwrap();
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(read.counts);
    assert_eq!(read.lines[0].restocked, 2);
}

#[tokio::test]
async fn orders_since_follows_every_page_and_filters_by_update_time() {
    let setup = Setup::new(products(1)).await;
    let id = setup.sim.variant_ids()[0];
    let count = ORDER_PAGE * 2 + 3;
    let orders: Vec<u64> = (0..count)
        .map(|_| setup.sim.place_order(&[(id, 1)]))
        .collect();
    let all = setup.client.orders_since(None).await.unwrap();
    assert_eq!(all.len(), count);
    assert_eq!(setup.calls_to("orders"), 3);
    let mut seen: Vec<u64> = all.iter().map(|order| order.id.parse().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, orders);

    // An hour later, one order is cancelled: only it is read again, in one call.
    setup
        .sim
        .advance_clock(std::time::Duration::from_secs(3600));
    let later = setup.sim.now();
    setup.sim.cancel_order(orders[7]);
    let changed = setup.client.orders_since(Some(later)).await.unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].id, orders[7].to_string());
    assert_eq!(setup.calls_to("orders"), 4);
}
