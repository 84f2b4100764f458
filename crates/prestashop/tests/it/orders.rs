//! Orders in: polled by `date_upd` in the shop's timezone (`date=1`), with their rows and
//! states; cancelled and error states do not count, a refund state gives its lines back.

use crate::{Setup, client_of, endpoint};
use chrono::{Duration, FixedOffset};
use stocksync_domain::ShopConnector;
use stocksync_pos::CallLog;
use stocksync_prestashop::PrestaSimOptions;

#[tokio::test]
async fn orders_updated_since_a_time_come_with_their_lines_and_states() {
    let options = PrestaSimOptions {
        utc_offset: FixedOffset::east_opt(2 * 3600).unwrap(),
        ..PrestaSimOptions::default()
    };
    let setup = Setup::new(options).await;
    let client = setup
        .client
        .clone()
        .with_time_zone(chrono_tz::Etc::GMTMinus2);
    let mug = setup.sim.add_product("Mug", "MUG", "", 10);
    let (scarf, combinations) = setup.sim.add_combinations("Scarf", &[("SC-RED", "", 4)]);
    let old = setup.sim.place_order(&[(mug, 0, 1)], 2);
    setup.sim.advance(Duration::minutes(10));
    let since = setup.sim.now();
    let paid = setup
        .sim
        .place_order(&[(mug, 0, 2), (scarf, combinations[0], 1)], 2);
    let cancelled = setup.sim.place_order(&[(mug, 0, 3)], 1);
    assert!(setup.sim.set_order_state(cancelled, 6));
    assert_eq!(
        setup.sim.stock(mug, 0),
        Some(7),
        "10 - 1 - 2; the cancelled 3 came back"
    );

    let orders = ShopConnector::orders_since(&client, Some(since))
        .await
        .unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [paid.to_string(), cancelled.to_string()],
        "{old} is older"
    );
    assert_eq!(setup.calls_to(endpoint::ORDERS), 1);
    let paid = &orders[0];
    assert!(paid.counts);
    assert_eq!(
        paid.modified_at,
        since + Duration::seconds(1),
        "local time read in the shop's zone"
    );
    let lines: Vec<(&str, i64, i64)> = paid
        .lines
        .iter()
        .map(|l| (l.item.as_str(), l.quantity, l.total_cents))
        .collect();
    assert_eq!(
        lines,
        [
            (mug.to_string().as_str(), 2, 2500),
            (format!("{scarf}-{}", combinations[0]).as_str(), 1, 1250)
        ]
    );
    assert!(!orders[1].counts);
    assert!(orders[1].status.contains("cancelled"));

    let all = ShopConnector::orders_since(&client, None).await.unwrap();
    assert_eq!(all.len(), 3);

    // Read as UTC, the shop's local times look two hours later: the old order passes the
    // watermark and every date is off. The offset matters.
    let utc = client_of(&setup.sim, setup.sim.key(), None, &CallLog::default());
    let wrong = ShopConnector::orders_since(&utc, Some(since))
        .await
        .unwrap();
    assert_eq!(wrong.len(), 3);
    assert_eq!(
        wrong[1].modified_at,
        since + Duration::hours(2) + Duration::seconds(1)
    );
}

#[tokio::test]
async fn a_refund_gives_the_lines_back_and_nothing_new_is_one_call() {
    let setup = Setup::new(PrestaSimOptions::default()).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 10);
    let order = setup.sim.place_order(&[(mug, 0, 2)], 2);
    setup.sim.set_order_state(order, 7);
    let read = setup
        .client
        .order(&order.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(read.lines.iter().all(|l| l.restocked == l.quantity));
    assert_eq!(
        stocksync_domain::shop::line_target(&read, &read.lines[0]),
        0
    );
    assert_eq!(setup.client.order("999").await.unwrap(), None);
    assert_eq!(setup.client.order("abc").await.unwrap(), None);
    assert_eq!(setup.calls_to(endpoint::ORDER), 2, "'abc' is not asked");

    setup.sim.advance(Duration::minutes(5));
    let later = setup.sim.now() + Duration::seconds(1);
    let before = setup.total_calls();
    let none = ShopConnector::orders_since(&setup.client, Some(later))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(setup.total_calls() - before, 1);
}

#[tokio::test]
async fn many_orders_are_read_page_by_page_until_a_short_page() {
    let setup = Setup::new(PrestaSimOptions::default()).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 1000);
    let since = setup.sim.now();
    let placed: Vec<i64> = (0..230)
        .map(|_| setup.sim.place_order(&[(mug, 0, 1)], 2))
        .collect();
    let orders = ShopConnector::orders_since(&setup.client, Some(since))
        .await
        .unwrap();
    let read: Vec<i64> = orders.iter().map(|o| o.id.parse().unwrap()).collect();
    assert_eq!(read, placed);
    assert_eq!(setup.calls_to(endpoint::ORDERS), 3, "100, 100, 30");
}
