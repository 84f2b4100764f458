//! The simulator's webhook deliveries verify with `verify_signature`; quick successive events
//! for one order are merged into one delivery showing the final state.

use crate::{Setup, products};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use std::sync::Arc;
use std::time::Duration;
use stocksync_pos::simkit::SimServer;
use stocksync_woocommerce::sim::WebhookTarget;
use stocksync_woocommerce::webhook::SIGNATURE_HEADER;
use stocksync_woocommerce::{WooSimOptions, verify_signature};
use tokio::sync::mpsc;

type Delivery = (HeaderMap, Bytes);

async fn receiver() -> (SimServer, mpsc::UnboundedReceiver<Delivery>) {
    let (sender, deliveries) = mpsc::unbounded_channel();
    let router = Router::new()
        .route(
            "/webhooks/shop",
            post(
                |State(sender): State<Arc<mpsc::UnboundedSender<Delivery>>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    sender.send((headers, body)).unwrap();
                },
            ),
        )
        .with_state(Arc::new(sender));
    (SimServer::start(router, 0).await.unwrap(), deliveries)
}

async fn next(deliveries: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(30), deliveries.recv())
        .await
        .expect("a webhook within 30 s")
        .unwrap()
}

async fn setup_with(delay: Duration) -> (Setup, SimServer, mpsc::UnboundedReceiver<Delivery>) {
    let (server, deliveries) = receiver().await;
    let setup = Setup::new(WooSimOptions {
        webhook: Some(WebhookTarget {
            delivery_url: format!("{}/webhooks/shop", server.url()),
            secret: "whsec-test".into(),
            delay,
        }),
        ..products(2)
    })
    .await;
    (setup, server, deliveries)
}

#[tokio::test]
async fn the_signature_the_simulator_sends_verifies() {
    let (setup, _server, mut deliveries) = setup_with(Duration::ZERO).await;
    let ids = setup.sim.item_ids();
    let order = setup.sim.place_order(&[(ids[0], 1)], "processing").unwrap();
    let (headers, body) = next(&mut deliveries).await;
    let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
    assert!(verify_signature("whsec-test", &body, signature));
    assert!(!verify_signature("whsec-other", &body, signature));
    assert_eq!(headers["X-WC-Webhook-Topic"], "order.created");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["id"], order);
}

#[tokio::test]
async fn quick_successive_events_arrive_as_one_delivery_of_the_final_state() {
    let (setup, _server, mut deliveries) = setup_with(Duration::from_millis(300)).await;
    let ids = setup.sim.item_ids();
    let order = setup.sim.place_order(&[(ids[0], 1)], "processing").unwrap();
    setup.sim.set_order_status(order, "cancelled").unwrap();
    let (_, body) = next(&mut deliveries).await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "cancelled");
    assert_eq!(setup.sim.deliveries().1, 1, "the update was merged");
}
