//! Orders: stock taken once when an order counts as sold, given back at cancel and by restocking
//! refunds; read back by the modified-since poll and one by one.

use crate::{Setup, endpoint, products};
use chrono::Utc;
use stocksync_woocommerce::DEFAULT_OVERLAP;

#[tokio::test]
async fn an_order_lowers_stock_once_and_is_read_since_the_watermark() {
    let setup = Setup::new(products(3)).await;
    let ids = setup.sim.item_ids();
    let before = setup.sim.stock(ids[1]).unwrap();
    let watermark = Utc::now();
    assert!(
        setup
            .client
            .orders_modified_since(watermark, DEFAULT_OVERLAP)
            .await
            .unwrap()
            .is_empty()
    );

    let pending = setup.sim.place_order(&[(ids[1], 2)], "pending").unwrap();
    assert_eq!(
        setup.sim.stock(ids[1]),
        Some(before),
        "pending takes nothing"
    );
    setup.sim.set_order_status(pending, "processing").unwrap();
    assert_eq!(setup.sim.stock(ids[1]), Some(before - 2));
    setup.sim.set_order_status(pending, "on-hold").unwrap();
    setup.sim.set_order_status(pending, "completed").unwrap();
    assert_eq!(setup.sim.stock(ids[1]), Some(before - 2), "taken once");

    let orders = setup
        .client
        .orders_modified_since(watermark, DEFAULT_OVERLAP)
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].id, pending);
    assert_eq!(orders[0].status, "completed");
    assert_eq!(orders[0].line_items[0].product_id, ids[1]);
    assert_eq!(orders[0].line_items[0].quantity, 2);
    assert_eq!(setup.calls_to(endpoint::ORDERS), 2, "one call per poll");

    let later = Utc::now() + chrono::Duration::seconds(2);
    assert!(
        setup
            .client
            .orders_modified_since(later, std::time::Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "nothing modified after a later watermark"
    );
}

#[tokio::test]
async fn a_cancel_gives_the_units_back_and_a_restocking_refund_its_quantity() {
    let setup = Setup::new(products(2)).await;
    let ids = setup.sim.item_ids();
    let (a, b) = (
        setup.sim.stock(ids[0]).unwrap(),
        setup.sim.stock(ids[1]).unwrap(),
    );
    let cancelled = setup.sim.place_order(&[(ids[0], 1)], "processing").unwrap();
    assert_eq!(setup.sim.stock(ids[0]), Some(a - 1));
    setup.sim.set_order_status(cancelled, "cancelled").unwrap();
    assert_eq!(setup.sim.stock(ids[0]), Some(a));
    let order = setup.client.order(cancelled).await.unwrap();
    assert_eq!(order.status, "cancelled");

    let refunded = setup.sim.place_order(&[(ids[1], 3)], "completed").unwrap();
    let line = setup.sim.order_lines(refunded)[0];
    let refund = setup.sim.refund(refunded, &[(line, 2)], true).unwrap();
    assert_eq!(setup.sim.stock(ids[1]), Some(b - 1));
    let order = setup.client.order(refunded).await.unwrap();
    assert_eq!(order.refunds[0].id, refund);
    let refunds = setup.client.refunds(refunded).await.unwrap();
    assert_eq!(refunds[0].line_items[0].quantity, -2);
    assert_eq!(refunds[0].line_items[0].id, line);
    assert_eq!(setup.calls_to(endpoint::ORDER), 2);
    assert_eq!(setup.calls_to(endpoint::REFUNDS), 1);
}

#[tokio::test]
async fn an_unknown_order_is_not_found() {
    let setup = Setup::new(products(1)).await;
    let err = setup.client.order(424_242).await.unwrap_err();
    assert!(
        matches!(&err, stocksync_woocommerce::WooError::NotFound(what) if what.contains("woocommerce_rest_shop_order_invalid_id")),
        "{err:?}"
    );
}
