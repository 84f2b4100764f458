//! Orders: stock taken once when an order counts as sold, given back at cancel and by restocking
//! refunds; read back by the modified-since poll (one call when nothing is new) and one by
//! one, with what WooCommerce says refunds put back in stock.

use crate::{Setup, endpoint, products};
use chrono::Utc;
use stocksync_domain::shop::{ShopOrder, line_target};
use stocksync_domain::{EcommerceId, ShopConnector};
use stocksync_woocommerce::WooSimOptions;

fn only(orders: Vec<ShopOrder>) -> ShopOrder {
    assert_eq!(orders.len(), 1, "{orders:?}");
    orders.into_iter().next().unwrap()
}

#[tokio::test]
async fn an_order_lowers_stock_once_and_is_read_since_a_time() {
    let setup = Setup::new(products(3)).await;
    let ids = setup.sim.item_ids();
    let before = setup.sim.stock(ids[1]).unwrap();
    let since = Utc::now();
    let requests = setup.sim.requests();
    assert!(
        setup
            .client
            .orders_since(Some(since))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(setup.sim.requests() - requests, 1, "nothing new: one call");

    let order = setup.sim.place_order(&[(ids[1], 1)], "pending").unwrap();
    assert_eq!(
        setup.sim.stock(ids[1]),
        Some(before),
        "pending takes nothing"
    );
    let read = only(setup.client.orders_since(Some(since)).await.unwrap());
    assert!(!read.counts);
    setup.sim.set_order_status(order, "processing").unwrap();
    assert_eq!(setup.sim.stock(ids[1]), Some(before - 1));
    setup.sim.set_order_status(order, "on-hold").unwrap();
    setup.sim.set_order_status(order, "completed").unwrap();
    assert_eq!(setup.sim.stock(ids[1]), Some(before - 1), "taken once");

    let read = only(setup.client.orders_since(Some(since)).await.unwrap());
    assert_eq!(read.id, order.to_string());
    assert_eq!(read.status, "completed");
    assert!(read.counts);
    assert!(read.modified_at >= since - chrono::Duration::seconds(1));
    let line = &read.lines[0];
    assert_eq!(line.id, setup.sim.order_lines(order)[0].to_string());
    assert_eq!(line.item, EcommerceId::new(ids[1].to_string()));
    assert_eq!(
        (line.quantity, line.restocked, line.total_cents),
        (1, 0, 1250)
    );
    assert_eq!(line_target(&read, line), 1);
    assert_eq!(setup.calls_to(endpoint::ORDERS), 3, "one call per poll");

    let later = Utc::now() + chrono::Duration::seconds(2);
    assert!(
        setup
            .client
            .orders_since(Some(later))
            .await
            .unwrap()
            .is_empty(),
        "nothing modified after a later time"
    );
    assert_eq!(setup.client.orders_since(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn orders_are_read_on_every_page_oldest_first() {
    let setup = Setup::new(WooSimOptions::default()).await;
    let item = setup.sim.add_simple("BULK", Some(1_000));
    let placed: Vec<i64> = (0..230)
        .map(|_| setup.sim.place_order(&[(item, 1)], "processing").unwrap())
        .collect();
    let read = setup.client.orders_since(None).await.unwrap();
    let ids: Vec<String> = read.iter().map(|order| order.id.clone()).collect();
    assert_eq!(ids, placed.iter().map(i64::to_string).collect::<Vec<_>>());
    assert_eq!(setup.calls_to(endpoint::ORDERS), 3);
    assert_eq!(setup.calls_to(endpoint::REFUNDS), 0);
}

#[tokio::test]
async fn a_cancel_gives_the_units_back_and_custom_statuses_do_not_count() {
    let setup = Setup::new(products(2)).await;
    let item = setup.sim.add_simple("CUSTOM", Some(10));
    let cancelled = setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    assert_eq!(setup.sim.stock(item), Some(9));
    setup.sim.set_order_status(cancelled, "cancelled").unwrap();
    assert_eq!(setup.sim.stock(item), Some(10));
    let order = setup
        .client
        .order(&cancelled.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "cancelled");
    assert!(!order.counts);

    let custom = setup
        .sim
        .place_order(&[(item, 2)], "awaiting-pickup")
        .unwrap();
    assert_eq!(
        setup.sim.stock(item),
        Some(10),
        "a plugin's status moves no stock"
    );
    let order = setup
        .client
        .order(&custom.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "awaiting-pickup");
    assert!(!order.counts, "an unknown status does not count");
}

#[tokio::test]
async fn restocked_units_are_read_from_the_order_alone() {
    let setup = Setup::new(WooSimOptions::default()).await;
    let item = setup.sim.add_simple("REFUND", Some(10));
    let order = setup.sim.place_order(&[(item, 3)], "completed").unwrap();
    let line = setup.sim.order_lines(order)[0];
    setup.sim.refund(order, &[(line, 1)], false).unwrap();
    assert_eq!(setup.sim.stock(item), Some(7), "no restock");
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.lines[0].restocked, 0);
    assert_eq!(line_target(&read, &read.lines[0]), 3);

    setup.sim.refund(order, &[(line, 2)], true).unwrap();
    assert_eq!(setup.sim.stock(item), Some(9));
    assert_eq!(
        setup.sim.order_status(order).as_deref(),
        Some("refunded"),
        "every unit refunded"
    );
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.lines[0].restocked, 2);
    assert!(
        read.counts,
        "refunded: WooCommerce keeps what was not restocked"
    );
    assert_eq!(
        line_target(&read, &read.lines[0]),
        1,
        "the unit refunded without restock stays sold"
    );
    assert_eq!(
        setup.calls_to(endpoint::REFUNDS),
        0,
        "the line's meta told: no refund read"
    );
}

#[tokio::test]
async fn an_older_woocommerce_is_read_through_its_refunds() {
    let setup = Setup::new(WooSimOptions {
        legacy_restock_meta: true,
        ..WooSimOptions::default()
    })
    .await;
    let item = setup.sim.add_simple("OLD", Some(10));
    let other = setup.sim.add_simple("KEPT", Some(10));
    let order = setup
        .sim
        .place_order(&[(item, 3), (other, 1)], "processing")
        .unwrap();
    let lines = setup.sim.order_lines(order);
    setup.sim.refund(order, &[(lines[1], 1)], false).unwrap();
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.lines[1].restocked, 0);
    assert_eq!(
        setup.calls_to(endpoint::REFUNDS),
        0,
        "`_reduced_stock` still there: nothing restocked"
    );

    setup.sim.refund(order, &[(lines[0], 2)], true).unwrap();
    assert_eq!(setup.sim.stock(item), Some(9));
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.lines[0].restocked, 2, "read from the refunds");
    assert_eq!(read.lines[1].restocked, 0);
    assert_eq!(setup.calls_to(endpoint::REFUNDS), 1);
}

#[tokio::test]
async fn an_unknown_order_is_none() {
    let setup = Setup::new(products(1)).await;
    assert_eq!(setup.client.order("424242").await.unwrap(), None);
    assert_eq!(setup.calls_to(endpoint::ORDER), 1);
    for not_an_id in ["", "abc", "-3", "0"] {
        assert_eq!(setup.client.order(not_an_id).await.unwrap(), None);
    }
    assert_eq!(setup.calls_to(endpoint::ORDER), 1, "not an id: no call");
}

#[tokio::test]
async fn a_checkout_takes_no_more_than_there_is_unless_two_happen_at_once() {
    let setup = Setup::new(WooSimOptions::default()).await;
    let item = setup.sim.add_simple("LAST", Some(1));
    setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    let refused = setup
        .sim
        .place_order(&[(item, 1)], "processing")
        .unwrap_err();
    assert_eq!(refused.code, "woocommerce_not_enough_stock");
    assert_eq!(setup.sim.stock(item), Some(0));

    let item = setup.sim.add_simple("RACE", Some(1));
    setup.sim.set_concurrent_checkout(true);
    setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    assert_eq!(setup.sim.stock(item), Some(-1), "both took the last unit");
}

#[tokio::test]
async fn the_status_filter_takes_a_list() {
    let setup = Setup::new(WooSimOptions {
        behind_https: true,
        ..WooSimOptions::default()
    })
    .await;
    let item = setup.sim.add_simple("S", Some(10));
    let processing = setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    let on_hold = setup.sim.place_order(&[(item, 1)], "on-hold").unwrap();
    setup.sim.place_order(&[(item, 1)], "pending").unwrap();
    let list = |status: &str| {
        let url = format!(
            "{}/wp-json/wc/v3/orders?status={status}",
            setup.sim.base_url()
        );
        let (key, secret) = (setup.sim.consumer_key(), setup.sim.consumer_secret());
        async move {
            let orders: Vec<serde_json::Value> = reqwest::Client::new()
                .get(url)
                .basic_auth(key, Some(secret))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            orders
                .iter()
                .map(|order| order["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("processing,on-hold").await, [processing, on_hold]);
    assert_eq!(list("any").await.len(), 3);
}
