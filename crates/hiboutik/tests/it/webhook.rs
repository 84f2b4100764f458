//! Sale webhooks from the simulator, and the targeted read they lead to.

use crate::{Setup, sized};
use axum::extract::State;
use axum::routing::post;
use axum::{Form, Router};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::pos::PosSale;
use stocksync_domain::{PosConnector, PosRef};
use stocksync_hiboutik::HiboutikSimOptions;
use stocksync_pos::simkit::SimServer;
use tokio::sync::mpsc;

type Delivery = HashMap<String, String>;

/// A receiver that passes every form it gets (and the query's secret) on.
async fn receiver() -> (SimServer, mpsc::UnboundedReceiver<Delivery>) {
    let (sender, deliveries) = mpsc::unbounded_channel();
    let router = Router::new()
        .route(
            "/hooks/hiboutik",
            post(
                |State(sender): State<Arc<mpsc::UnboundedSender<Delivery>>>,
                 query: axum::extract::Query<Delivery>,
                 Form(mut form): Form<Delivery>| async move {
                    form.extend(
                        query
                            .0
                            .into_iter()
                            .map(|(key, value)| (format!("query.{key}"), value)),
                    );
                    sender.send(form).unwrap();
                },
            ),
        )
        .with_state(Arc::new(sender));
    (SimServer::start(router, 0).await.unwrap(), deliveries)
}

async fn next(deliveries: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(5), deliveries.recv())
        .await
        .expect("a webhook")
        .unwrap()
}

#[tokio::test]
async fn closed_sales_are_announced_and_the_lines_read_back() {
    let (server, mut deliveries) = receiver().await;
    let webhook_url = format!("{}/hooks/hiboutik?k=secret", server.url());
    let setup = Setup::new(HiboutikSimOptions {
        webhook_url: Some(webhook_url),
        ..sized(4)
    })
    .await;

    let sale_id = setup.sim.till_sale("3/2", 2).unwrap();
    let till = next(&mut deliveries).await;
    assert_eq!(till["sale_id"], sale_id.to_string());
    assert_eq!(till["sale_ext_ref"], "");
    assert_eq!(till["query.k"], "secret", "the secret travels in the URL");
    assert_eq!(
        (
            till["line_items[0][product_id]"].as_str(),
            till["line_items[0][product_size]"].as_str(),
            till["line_items[0][quantity]"].as_str()
        ),
        ("3", "2", "2")
    );

    // What the webhook engine will do: read only the items named.
    let named = PosRef::new(format!(
        "{}/{}",
        till["line_items[0][product_id]"], till["line_items[0][product_size]"]
    ));
    let read = setup.connector.read_items(&[named]).await.unwrap();
    assert_eq!(read.counts[0].quantity, setup.sim.quantity("3/2").unwrap());
    assert_eq!(setup.total_calls(), 1);

    let web = PosSale {
        sale_key: "w1".into(),
        pos_ref: PosRef::new("2"),
        quantity: 1,
        balance_cents: 0,
        sent_before: false,
    };
    setup.connector.record_sale(&web).await.unwrap();
    let closed = next(&mut deliveries).await;
    assert_eq!(
        closed["sale_ext_ref"], "stocksync-w1",
        "our own sales can be told apart"
    );
    assert_eq!(closed["line_items[0][product_size]"], "0");
}
