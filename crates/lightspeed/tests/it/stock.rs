//! Stock reads: every page, the quirks, shops and their summary rows, incremental reads.

use crate::support::{Harness, STOCK_CALL, TOKEN_CALL, options, pages};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_lightspeed::LightspeedSimOptions;

fn by_ref(read: &stocksync_domain::pos::StockRead) -> BTreeMap<String, i64> {
    read.counts
        .iter()
        .map(|c| (c.pos_ref.as_str().to_owned(), c.quantity))
        .collect()
}

#[tokio::test]
async fn a_full_read_follows_every_page_and_counts_each_call() {
    let h = Harness::start(options(250, 0)).await;
    let read = h.connector().read_stock(None).await.expect("a full read");
    let rows = h.sim.item_shop_rows(0);
    assert!(rows > 400, "two shops of 250 items: {rows} rows");
    assert_eq!(h.count(STOCK_CALL), pages(rows), "one call per page of 100");
    assert_eq!(
        h.count(TOKEN_CALL),
        0,
        "the configured access token was good"
    );
    let counts = by_ref(&read);
    assert_eq!(counts.len(), 250);
    for pos_ref in h.sim.product_refs() {
        assert_eq!(
            counts.get(&pos_ref).copied(),
            h.sim.quantity(&pos_ref),
            "item {pos_ref}"
        );
    }
    assert!(
        read.counts.iter().all(|c| c.counted_at.is_some()),
        "timeStamp is the count's time"
    );
    assert!(read.cursor.is_some());
}

#[tokio::test]
async fn lightspeed_quirks_read_the_same_as_plain_json() {
    for quirks in [true, false] {
        // 101 rows in shop 1: the second page has one row, which the quirks send as an object.
        let h = Harness::start(LightspeedSimOptions {
            quirks,
            ..options(101, 1)
        })
        .await;
        let first = h.raw_get("ItemShop.json?shopID=1&sort=timeStamp").await;
        let first: Value = first.json().await.unwrap();
        let next = first["@attributes"]["next"].as_str().unwrap().to_owned();
        let last: Value = reqwest::Client::new()
            .get(&next)
            .bearer_auth(h.settings["AccessToken"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(last["ItemShop"].is_object(), quirks, "{last}");
        assert_eq!(first["ItemShop"][0]["qoh"].is_string(), quirks, "{first}");

        let connector = h.connector();
        let read = connector.read_stock(None).await.expect("a full read");
        assert_eq!(h.count(STOCK_CALL), 2);
        let counts = by_ref(&read);
        assert_eq!(counts.len(), 101);
        for pos_ref in h.sim.product_refs() {
            assert_eq!(counts.get(&pos_ref).copied(), h.sim.quantity(&pos_ref));
        }

        // Nothing changed: the page is empty, and with the quirks its key is left out.
        let since = read.cursor.clone().unwrap();
        let empty = connector
            .read_stock(Some(&since))
            .await
            .expect("an empty incremental read");
        assert!(empty.counts.is_empty(), "{:?}", empty.counts);
        assert_eq!(empty.cursor.as_deref(), Some(since.as_str()));
        let time = since.split('|').next().unwrap();
        let raw: Value = h
            .raw_get(&format!(
                "ItemShop.json?timeStamp=%3E,{}",
                time.replace('+', "%2B")
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(raw.get("ItemShop").is_none(), quirks, "{raw}");
    }
}

#[tokio::test]
async fn the_shop_summary_is_never_added_to_the_shops() {
    let h = Harness::start(options(60, 0)).await;
    let read = |shop: i64| {
        let connector = h.connector_for(&h.config_with(|s| s["ShopID"] = shop.into()));
        async move { by_ref(&connector.read_stock(None).await.expect("a full read")) }
    };
    let (all, one, two) = (read(0).await, read(1).await, read(2).await);
    assert_eq!(all.len(), 60);
    let catalog = stocksync_pos::simkit::catalog(60, 7);
    for (i, pos_ref) in h.sim.product_refs().iter().enumerate() {
        assert_eq!(
            all[pos_ref], catalog[i].quantity,
            "ShopID 0: the sum of the real shops"
        );
        assert_eq!(one.get(pos_ref).copied(), h.sim.quantity_in(pos_ref, 1));
        let in_two = two.get(pos_ref).copied().unwrap_or(0);
        assert_eq!(in_two, h.sim.quantity_in(pos_ref, 2).unwrap());
        assert_eq!(all[pos_ref], one[pos_ref] + in_two);
    }
    assert!(
        two.len() < 60,
        "items without a row in shop 2 are not reported there"
    );
}

#[tokio::test]
async fn an_incremental_read_after_ten_till_sales_returns_exactly_those_items() {
    for shop in [0, 1] {
        let h = Harness::start(options(300, shop)).await;
        let connector = h.connector();
        let full = connector.read_stock(None).await.expect("a full read");
        let refs = h.sim.product_refs();
        let sold: BTreeSet<String> = refs.iter().step_by(29).take(10).cloned().collect();
        assert_eq!(sold.len(), 10);
        for pos_ref in &sold {
            h.sim.till_sale(pos_ref, 1);
        }
        let before = h.count(STOCK_CALL);
        let read = connector
            .read_stock(full.cursor.as_deref())
            .await
            .expect("an incremental read");
        let counts = by_ref(&read);
        assert_eq!(
            counts.keys().cloned().collect::<BTreeSet<_>>(),
            sold,
            "ShopID {shop}"
        );
        for (pos_ref, quantity) in &counts {
            assert_eq!(
                Some(*quantity),
                h.sim.quantity(pos_ref),
                "ShopID {shop}, item {pos_ref}"
            );
        }
        // One page of changes; with every shop, one batched call for the other shops' rows.
        let expected = if shop == 0 { 2 } else { 1 };
        assert_eq!(h.count(STOCK_CALL) - before, expected, "ShopID {shop}");

        // A sale in the very second of the cursor is not missed, and nothing else comes back.
        let again = sold.iter().next().unwrap();
        h.sim.till_sale(again, 2);
        let read = connector
            .read_stock(read.cursor.as_deref())
            .await
            .expect("another incremental read");
        assert_eq!(
            by_ref(&read),
            BTreeMap::from([(again.clone(), h.sim.quantity(again).unwrap())])
        );
    }
}

#[tokio::test]
async fn an_idle_cycle_after_a_bulk_import_is_one_call() {
    // 10 000 rows in shop 1, all stamped within 3 s, a little before the first read.
    let h = Harness::start(options(10_000, 1)).await;
    h.sim
        .stamp_all_stock(chrono::Utc::now() - chrono::Duration::seconds(10), 3);
    let connector = h.connector();
    let full = connector.read_stock(None).await.expect("a full read");
    assert_eq!(full.counts.len(), 10_000);
    assert_eq!(h.count(STOCK_CALL), pages(10_000));

    let before = h.count(STOCK_CALL);
    let idle = connector
        .read_stock(full.cursor.as_deref())
        .await
        .expect("an idle incremental read");
    assert!(idle.counts.is_empty(), "{} counts", idle.counts.len());
    assert_eq!(
        h.count(STOCK_CALL) - before,
        1,
        "the rows of the cursor's second are not read again"
    );

    let sold = &h.sim.product_refs()[4_321];
    h.sim.till_sale(sold, 1);
    let read = connector
        .read_stock(idle.cursor.as_deref())
        .await
        .expect("the next incremental read");
    assert_eq!(
        by_ref(&read),
        BTreeMap::from([(sold.clone(), h.sim.quantity(sold).unwrap())])
    );
}

#[tokio::test]
async fn a_cursor_this_connector_did_not_make_is_refused() {
    let h = Harness::start(options(5, 0)).await;
    let err = h
        .connector()
        .read_stock(Some("yesterday"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PosError::Rejected(m) if m.contains("83050") && m.contains("yesterday")),
        "{err}"
    );
    assert_eq!(h.calls.total("83050"), 0);
}

#[tokio::test]
async fn named_items_are_read_in_batches_of_a_hundred() {
    let h = Harness::start(options(250, 1)).await;
    let mut refs: Vec<PosRef> = h.sim.product_refs().into_iter().map(PosRef::new).collect();
    refs.extend([PosRef::new("999999"), PosRef::new("not-an-id")]);
    let read = h
        .connector()
        .read_items(&refs)
        .await
        .expect("a targeted read");
    let counts = by_ref(&read);
    assert_eq!(counts.len(), 250, "unknown refs name nothing");
    for pos_ref in h.sim.product_refs() {
        assert_eq!(counts.get(&pos_ref).copied(), h.sim.quantity(&pos_ref));
    }
    assert!(read.cursor.is_none());
    // One row per item in shop 1: 100, 100 and 50 items, one call each.
    assert_eq!(h.count(STOCK_CALL), 3);
}

#[tokio::test]
async fn the_simulator_refuses_what_lightspeed_refuses() {
    let h = Harness::start(options(5, 1)).await;
    let message = |answer: reqwest::Response| async move {
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        (
            status,
            body["message"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (status, said) = message(h.raw_get("ItemShop.json?limit=101").await).await;
    assert_eq!(status, 400, "{said}");
    let (status, said) = message(h.raw_get("ItemShop.json?sort=qoh").await).await;
    assert_eq!(
        (status, said.contains("itemShopID, timeStamp")),
        (400, true),
        "{said}"
    );
    let (status, said) = message(h.raw_get("Item/999.json").await).await;
    assert_eq!(status, 404, "{said}");
    let other = reqwest::Client::new()
        .get(format!("{}/API/V3/Account/1/Item.json", h.sim.base_url()))
        .bearer_auth(h.settings["AccessToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403, "another account's data");
    let anonymous = reqwest::Client::new()
        .get(format!(
            "{}/API/V3/Account/83050/Item.json",
            h.sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "access_denied");
    assert_eq!(body["hint"], "Access token could not be verified");
}
