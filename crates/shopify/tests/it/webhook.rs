//! The simulator's signed deliveries, received over HTTP and read by `read_delivery`: topics,
//! the order each names, the webhook id a redelivery keeps, the echo of our own writes.

use crate::{Setup, located, products};
use axum::body::Bytes;
use axum::http::HeaderMap;
use std::time::Duration;
use stocksync_domain::ShopConnector;
use stocksync_domain::shop::LevelWrite;
use stocksync_pos::simkit::SimServer;
use stocksync_shopify::sim::{RestockType, WebhookTarget};
use stocksync_shopify::{Delivery, DeliveryError, Topic, read_delivery};
use tokio::sync::mpsc;

const SECRET: &str = "shpss_test_secret";

/// A receiver on a loopback port; each delivery comes out of the channel.
async fn receiver() -> (SimServer, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                "ok"
            }
        }),
    );
    (SimServer::start(router, 0).await.unwrap(), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) -> (HeaderMap, Bytes) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery within 5 s")
        .expect("the receiver is open")
}

async fn read(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) -> Delivery {
    let (headers, body) = next(rx).await;
    read_delivery(Some(SECRET), &headers, &body).expect("a signed delivery")
}

#[tokio::test]
async fn order_events_arrive_signed_and_name_their_order() {
    let setup = Setup::new(products(2)).await;
    let (server, mut rx) = receiver().await;
    setup.sim.set_webhook(Some(WebhookTarget {
        url: format!("{}/hooks", server.url()),
        secret: SECRET.into(),
    }));
    let ids = setup.sim.variant_ids();
    let order = setup.sim.place_order(&[(ids[0], 1), (ids[1], 2)]);
    let created = read(&mut rx).await;
    assert_eq!(created.topic, Topic::OrderCreated);
    assert_eq!(created.order, Some(order.to_string()));
    setup
        .sim
        .refund(order, &[(1, 1, RestockType::Cancel)])
        .unwrap();
    let refunded = read(&mut rx).await;
    assert_eq!(
        (refunded.topic, refunded.order),
        (Topic::RefundCreated, Some(order.to_string()))
    );
    assert!(setup.sim.cancel_order(order));
    let cancelled = read(&mut rx).await;
    assert_eq!(cancelled.topic, Topic::OrderCancelled);

    // A retry keeps the webhook id: that is what de-duplicates it.
    let first = setup.sim.sent_deliveries().remove(0);
    setup.sim.redeliver(first.clone());
    let again = read(&mut rx).await;
    assert_eq!(again.webhook_id, created.webhook_id);
    assert_eq!(again.webhook_id, first.webhook_id);

    // The order the delivery names is the one the client reads.
    let read_back = setup
        .client
        .order(created.order.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!read_back.counts);
    assert_eq!(read_back.lines[1].restocked, 1);
}

#[tokio::test]
async fn our_writes_echo_as_inventory_level_updates_and_forgeries_are_refused() {
    let setup = Setup::new(products(1)).await;
    let (server, mut rx) = receiver().await;
    setup.sim.set_webhook(Some(WebhookTarget {
        url: format!("{}/hooks", server.url()),
        secret: SECRET.into(),
    }));
    let id = setup.sim.variant_ids()[0];
    let write = LevelWrite {
        item: located(&setup.sim, id),
        quantity: 12,
        expected: None,
    };
    setup.client.set_quantities(&[write]).await;
    let (headers, body) = next(&mut rx).await;
    let echo = read_delivery(Some(SECRET), &headers, &body).unwrap();
    assert_eq!(echo.topic, Topic::InventoryLevelUpdated);
    assert_eq!(
        echo.inventory_item,
        Some(setup.sim.inventory_item(id).unwrap().to_string())
    );
    assert_eq!(
        read_delivery(Some("another secret"), &headers, &body),
        Err(DeliveryError::BadSignature)
    );
    let mut tampered = body.to_vec();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        read_delivery(Some(SECRET), &headers, &tampered),
        Err(DeliveryError::BadSignature)
    );
}
