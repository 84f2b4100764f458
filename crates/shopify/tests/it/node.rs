//! Shopify's official Node library (`@shopify/shopify-api`, `shopify.webhooks.validate`) as the
//! receiver of the simulator's deliveries: the simulator must sign and label them as Shopify
//! does, not only as our `read_delivery` (written by the same hands) reads them. The library is
//! looked for in `$STOCKSYNC_TEST_SHOPIFY_API_DIR` (a directory where `npm install
//! @shopify/shopify-api` was run); skipped with a notice without it, unless
//! `STOCKSYNC_TEST_REQUIRE_SHOPIFY_API=1`.

use crate::{Setup, products};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use stocksync_shopify::sim::{RestockType, WebhookTarget};
use tokio::sync::mpsc;

const SCRIPT: &str = include_str!("validate_webhooks.mjs");
const SECRET: &str = "shpss_node_secret";

fn library_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("STOCKSYNC_TEST_SHOPIFY_API_DIR")?);
    dir.join("node_modules/@shopify/shopify-api/package.json")
        .exists()
        .then_some(dir)
}

/// Kills the receiver when the test ends, however it ends.
struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn line(lines: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), lines.recv())
        .await
        .expect("a line from the receiver within 10 s")
        .expect("the receiver is running")
}

#[tokio::test]
async fn the_official_library_validates_the_simulators_deliveries() {
    let Some(dir) = library_dir() else {
        assert!(
            std::env::var("STOCKSYNC_TEST_REQUIRE_SHOPIFY_API").is_err(),
            "STOCKSYNC_TEST_REQUIRE_SHOPIFY_API is set but STOCKSYNC_TEST_SHOPIFY_API_DIR does not \
             hold @shopify/shopify-api (npm install @shopify/shopify-api there)"
        );
        eprintln!(
            "skipped: set STOCKSYNC_TEST_SHOPIFY_API_DIR to a directory with @shopify/shopify-api"
        );
        return;
    };
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", SCRIPT, SECRET])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().expect("piped");
    let _receiver = Receiver(child);
    let (tx, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(json) = serde_json::from_str::<Value>(&line)
                && tx.send(json).is_err()
            {
                return;
            }
        }
    });
    let port = line(&mut lines).await["port"]
        .as_u64()
        .expect("the port first");
    let url = format!("http://127.0.0.1:{port}/webhooks");

    let setup = Setup::new(products(1)).await;
    setup.sim.set_webhook(Some(WebhookTarget {
        url: url.clone(),
        secret: SECRET.into(),
    }));
    let id = setup.sim.variant_ids()[0];
    let order = setup.sim.place_order(&[(id, 2)]);
    setup
        .sim
        .refund(order, &[(0, 1, RestockType::Cancel)])
        .unwrap();
    setup.sim.cancel_order(order);
    let mut checks = Vec::new();
    for _ in 0..3 {
        checks.push(line(&mut lines).await);
    }
    let sent = setup.sim.sent_deliveries();
    for check in &checks {
        assert_eq!(check["valid"], true, "{check}");
        assert!(
            sent.iter()
                .any(|delivery| check["webhookId"] == delivery.webhook_id.as_str()),
            "{check}"
        );
    }
    let mut topics: Vec<&str> = checks
        .iter()
        .map(|check| check["topic"].as_str().unwrap())
        .collect();
    topics.sort();
    assert_eq!(
        topics,
        ["ORDERS_CANCELLED", "ORDERS_CREATE", "REFUNDS_CREATE"]
    );

    // A forgery: the library refuses it, so the check above has teeth.
    let forged = reqwest::Client::new()
        .post(&url)
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Hmac-Sha256", "bm90IHRoZSBobWFj")
        .header("X-Shopify-Webhook-Id", "forged")
        .header("X-Shopify-Shop-Domain", "simulated.myshopify.com")
        .header("X-Shopify-API-Version", "2026-04")
        .body(sent[0].body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(line(&mut lines).await["valid"], false);
}
