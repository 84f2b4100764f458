//! The simulator's webhooks read with `read_delivery`: the ping of a webhook saved active,
//! signed order deliveries, quick successive events merged into one delivery of the final
//! state, and a webhook disabled after more than 5 failed deliveries in a row.

use crate::{Setup, products};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};
use stocksync_pos::simkit::SimServer;
use stocksync_woocommerce::sim::{WebhookStatus, WebhookTarget};
use stocksync_woocommerce::webhook::SIGNATURE_HEADER;
use stocksync_woocommerce::{Delivery, DeliveryError, WooSimOptions, read_delivery};
use tokio::sync::mpsc;

const SECRET: &str = "whsec-test";

type Received = (HeaderMap, Bytes);

/// A receiver of deliveries that answers `status` (200 unless changed).
struct Receiver {
    server: SimServer,
    received: mpsc::UnboundedReceiver<Received>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let (sender, received) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(200));
        let state = (Arc::new(sender), status.clone());
        let router = Router::new()
            .route(
                "/webhooks/shop",
                post(
                    |State((sender, status)): State<(
                        Arc<mpsc::UnboundedSender<Received>>,
                        Arc<AtomicU16>,
                    )>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        sender.send((headers, body)).unwrap();
                        StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
                    },
                ),
            )
            .with_state(state);
        Self {
            server: SimServer::start(router, 0).await.unwrap(),
            received,
            status,
        }
    }

    fn target(&self, delay: Duration) -> WebhookTarget {
        WebhookTarget {
            delivery_url: format!("{}/webhooks/shop", self.server.url()),
            secret: SECRET.into(),
            delay,
        }
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(30), self.received.recv())
            .await
            .expect("a delivery within 30 s")
            .unwrap()
    }
}

async fn setup_with(delay: Duration) -> (Setup, Receiver) {
    let receiver = Receiver::start().await;
    let setup = Setup::new(WooSimOptions {
        webhook: Some(receiver.target(delay)),
        ..products(2)
    })
    .await;
    (setup, receiver)
}

/// Waits until `done` holds, for at most 30 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "still waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_simulators_signed_delivery_reads_as_its_order() {
    let (setup, mut receiver) = setup_with(Duration::ZERO).await;
    let ids = setup.sim.item_ids();
    let order = setup.sim.place_order(&[(ids[0], 1)], "processing").unwrap();
    let (headers, body) = receiver.next().await;
    assert_eq!(headers["X-WC-Webhook-Topic"], "order.created");
    assert_eq!(
        read_delivery(Some(SECRET), &headers, &body),
        Ok(Delivery::Order {
            id: order.to_string()
        })
    );
    assert_eq!(
        read_delivery(Some("whsec-other"), &headers, &body),
        Err(DeliveryError::BadSignature)
    );
    let mut unsigned = headers.clone();
    unsigned.remove(SIGNATURE_HEADER);
    assert_eq!(
        read_delivery(Some(SECRET), &unsigned, &body),
        Err(DeliveryError::Unsigned)
    );
}

#[tokio::test]
async fn a_webhook_saved_active_is_pinged_and_the_ping_reads_as_such() {
    let receiver = Receiver::start().await;
    let mut receiver = receiver;
    let setup = Setup::new(products(1)).await;
    let (id, answered) = setup
        .sim
        .create_webhook(receiver.target(Duration::ZERO))
        .await;
    assert_eq!(answered, Some(200));
    let (headers, body) = receiver.next().await;
    assert_eq!(body, format!("webhook_id={id}").as_bytes());
    assert!(
        headers
            .keys()
            .all(|name| !name.as_str().starts_with("x-wc-webhook")),
        "{headers:?}"
    );
    assert_eq!(
        read_delivery(Some(SECRET), &headers, &body),
        Ok(Delivery::Ping {
            webhook_id: id.to_string()
        })
    );
    // The new webhook delivers orders.
    let order = setup
        .sim
        .place_order(&[(setup.sim.item_ids()[0], 1)], "processing")
        .unwrap();
    let (headers, body) = receiver.next().await;
    assert_eq!(headers["X-WC-Webhook-ID"], id.to_string().as_str());
    assert_eq!(
        read_delivery(Some(SECRET), &headers, &body),
        Ok(Delivery::Order {
            id: order.to_string()
        })
    );
}

#[tokio::test]
async fn quick_successive_events_arrive_as_one_delivery_of_the_final_state() {
    let (setup, mut receiver) = setup_with(Duration::from_millis(300)).await;
    let ids = setup.sim.item_ids();
    let order = setup.sim.place_order(&[(ids[0], 1)], "processing").unwrap();
    setup.sim.set_order_status(order, "cancelled").unwrap();
    let (_, body) = receiver.next().await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "cancelled");
    assert_eq!(setup.sim.deliveries().1, 1, "the update was merged");
}

#[tokio::test]
async fn a_webhook_failing_more_than_5_times_in_a_row_is_disabled_until_set_active() {
    let (setup, mut receiver) = setup_with(Duration::ZERO).await;
    receiver.status.store(500, Ordering::SeqCst);
    let item = setup.sim.add_simple("HOOK", Some(100));
    let hook = 1;
    for failure in 1..=7 {
        let order = setup.sim.place_order(&[(item, 1)], "processing").unwrap();
        let (_, body) = receiver.next().await;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["id"], order);
        until("the delivery's outcome", || {
            setup.sim.deliveries().0 == failure
        })
        .await;
        let expected = if failure <= 6 {
            WebhookStatus::Active
        } else {
            WebhookStatus::Disabled
        };
        assert_eq!(
            setup.sim.webhook_status(hook),
            Some(expected),
            "after {failure}"
        );
    }
    let lost = setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    receiver.status.store(200, Ordering::SeqCst);
    assert!(setup.sim.set_webhook_status(hook, WebhookStatus::Active));
    let next = setup.sim.place_order(&[(item, 1)], "processing").unwrap();
    let (_, body) = receiver.next().await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        json["id"], next,
        "order {lost}, placed while disabled, was never delivered"
    );
}
