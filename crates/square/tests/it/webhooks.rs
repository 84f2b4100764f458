//! `inventory.count.updated` notifications: the simulator signs them as Square does, and
//! `verify_signature` accepts exactly those.

use crate::products;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stocksync_pos::simkit::SimServer;
use stocksync_square::{SquareSim, SquareSimOptions, verify_signature};

const KEY: &str = "sim-signature-key";

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that keeps every notification.
async fn receiver() -> (SimServer, Received) {
    let received = Received::default();
    let router = Router::new()
        .route(
            "/hooks/square",
            post(
                |State(seen): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    seen.lock().unwrap().push((headers, body));
                },
            ),
        )
        .with_state(received.clone());
    (SimServer::start(router, 0).await.unwrap(), received)
}

async fn wait_for(received: &Received, count: usize) -> Vec<(HeaderMap, Bytes)> {
    for _ in 0..500 {
        if received.lock().unwrap().len() >= count {
            return received.lock().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{count} notifications expected, {} came",
        received.lock().unwrap().len()
    );
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_till_sale_sends_a_signed_count_update_that_verifies() {
    let (server, received) = receiver().await;
    let url = format!("{}/hooks/square", server.url());
    let sim = SquareSim::start(SquareSimOptions {
        products: products(3),
        webhook: Some((url.clone(), KEY.into())),
        ..SquareSimOptions::default()
    })
    .await
    .unwrap();
    let pos_ref = sim.product_refs()[1].clone();

    sim.till_sale(&pos_ref, 1);
    let got = wait_for(&received, 1).await;

    let (headers, body) = &got[0];
    let signature = header(headers, "x-square-hmacsha256-signature");
    assert!(verify_signature(KEY.as_bytes(), &url, body, signature));
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["type"], "inventory.count.updated");
    let count = &event["data"]["object"]["inventory_counts"][0];
    assert_eq!(count["catalog_object_id"], pos_ref.as_str());
    assert_eq!(count["location_id"], "L1MAIN");
    assert!(
        count["quantity"].is_string(),
        "quantities are decimal strings"
    );
    assert!(!header(headers, "square-initial-delivery-timestamp").is_empty());
    assert_eq!(
        sim.webhook_events()[0].event_id,
        event["event_id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_tampered_body_a_wrong_url_or_key_do_not_verify() {
    let (server, received) = receiver().await;
    let url = format!("{}/hooks/square", server.url());
    let sim = SquareSim::start(SquareSimOptions {
        products: products(2),
        webhook: Some((url.clone(), KEY.into())),
        ..SquareSimOptions::default()
    })
    .await
    .unwrap();
    sim.set_count(&sim.product_refs()[0], "L2SHOP", "12.5");
    let got = wait_for(&received, 1).await;
    let (headers, body) = &got[0];
    let signature = header(headers, "x-square-hmacsha256-signature");
    assert!(verify_signature(KEY.as_bytes(), &url, body, signature));

    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("12.5", "99");
    assert!(!verify_signature(
        KEY.as_bytes(),
        &url,
        tampered.as_bytes(),
        signature
    ));
    let other_url = url.replace("/hooks/square", "/hooks/square/");
    assert!(!verify_signature(
        KEY.as_bytes(),
        &other_url,
        body,
        signature
    ));
    assert!(!verify_signature(b"another-key", &url, body, signature));
}

#[tokio::test]
async fn an_event_can_be_delivered_twice_with_the_same_id() {
    let (server, received) = receiver().await;
    let url = format!("{}/hooks/square", server.url());
    let sim = SquareSim::start(SquareSimOptions {
        products: products(2),
        webhook: Some((url.clone(), KEY.into())),
        ..SquareSimOptions::default()
    })
    .await
    .unwrap();
    sim.till_sale(&sim.product_refs()[0], 2);
    wait_for(&received, 1).await;
    let event_id = sim.webhook_events()[0].event_id.clone();

    assert_eq!(sim.redeliver(&event_id).await, Ok(200));
    let got = wait_for(&received, 2).await;

    let ids: Vec<String> = got
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, [event_id.clone(), event_id]);
    assert_eq!(got[0].1, got[1].1, "the very same body");
    assert_eq!(header(&got[1].0, "square-retry-number"), "1");
    assert!(verify_signature(
        KEY.as_bytes(),
        &url,
        &got[1].1,
        header(&got[1].0, "x-square-hmacsha256-signature")
    ));
}
