//! Web sales: balanced, completed, referenced, exactly once whatever the network does.

use crate::support::{Harness, options};
use serde_json::{Value, json};
use stocksync_domain::pos::PosSale;
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_pos::simkit::FaultPlan;

const CREATE: &str = "POST Sale.json";
const LOOKUP: &str = "GET Sale.json";

/// A sale's first attempt.
fn sale(key: &str, pos_ref: &str, quantity: i64, balance_cents: i64) -> PosSale {
    PosSale {
        sale_key: key.to_owned(),
        pos_ref: PosRef::new(pos_ref),
        quantity,
        balance_cents,
        sent_before: false,
    }
}

/// A later attempt of `sale`, after one that may have reached Lightspeed.
fn again(sale: PosSale) -> PosSale {
    PosSale {
        sent_before: true,
        ..sale
    }
}

#[tokio::test]
async fn a_web_sale_is_recorded_balanced_and_takes_stock_out() {
    let h = Harness::start(options(20, 1)).await;
    let pos_ref = h.sim.product_refs()[4].clone();
    let before = h.sim.quantity(&pos_ref).unwrap();
    let receipt = h
        .connector()
        .record_sale(&sale("order-17", &pos_ref, 3, 1000))
        .await
        .expect("recorded");
    assert!(receipt.recorded_at.is_some());
    assert_eq!(h.sim.recorded_web_sales(), 1);
    assert_eq!(h.sim.quantity(&pos_ref), Some(before - 3));
    let stored: Value = h
        .raw_get(&format!(
            "Sale/{}.json?load_relations=%5B%22SaleLines%22,%22SalePayments%22%5D",
            receipt.pos_reference
        ))
        .await
        .json()
        .await
        .unwrap();
    let stored = &stored["Sale"];
    assert_eq!(stored["referenceNumber"], "stocksync-order-17");
    assert_eq!(stored["referenceNumberSource"], "stocksync");
    assert_eq!(stored["completed"], "true");
    assert_eq!(stored["shopID"], "1");
    assert_eq!(stored["SaleLines"]["SaleLine"]["unitQuantity"], "3");
    // 10.00 over 3 units: 3.33 each, paid 10.00, one cent of change.
    assert_eq!(stored["SaleLines"]["SaleLine"]["unitPrice"], "3.33");
    assert_eq!(stored["SalePayments"]["SalePayment"]["amount"], "10.00");
    assert_eq!(stored["balance"], "0.00");
}

#[tokio::test]
async fn the_same_sale_key_is_recorded_once() {
    let h = Harness::start(options(5, 1)).await;
    let connector = h.connector();
    let pos_ref = h.sim.product_refs()[0].clone();
    let first = connector
        .record_sale(&sale("k-1", &pos_ref, 1, 500))
        .await
        .unwrap();
    assert_eq!(h.count(LOOKUP), 0, "a first attempt posts at once");
    let second = connector
        .record_sale(&again(sale("k-1", &pos_ref, 1, 500)))
        .await
        .unwrap();
    assert_eq!(first.pos_reference, second.pos_reference);
    assert_eq!(h.sim.recorded_web_sales(), 1);
    assert_eq!(h.count(CREATE), 1);
    assert_eq!(h.count(LOOKUP), 1, "a later attempt looks first");
}

#[tokio::test]
async fn a_lost_answer_is_found_by_its_reference_and_not_sold_twice() {
    let h = Harness::start(options(5, 1)).await;
    let connector = h.connector();
    let pos_ref = h.sim.product_refs()[1].clone();
    let before = h.sim.quantity(&pos_ref).unwrap();
    h.sim.write_faults().set(FaultPlan {
        lose_answer_next: 1,
        ..FaultPlan::default()
    });
    let receipt = connector
        .record_sale(&sale("lost-1", &pos_ref, 2, 800))
        .await
        .expect("found after the loss");
    assert_eq!(h.sim.recorded_web_sales(), 1);
    assert_eq!(h.sim.quantity(&pos_ref), Some(before - 2));
    assert_eq!(h.count(CREATE), 1, "posted once; its answer was lost");
    assert_eq!(h.calls.with_status("83050", 0), 1);
    assert_eq!(h.count(LOOKUP), 1, "looked up after the loss only");
    // A later retry from the outbox finds it too.
    let repeated = connector
        .record_sale(&again(sale("lost-1", &pos_ref, 2, 800)))
        .await
        .unwrap();
    assert_eq!(repeated.pos_reference, receipt.pos_reference);
    assert_eq!(h.count(CREATE), 1);
    assert_eq!(h.count(LOOKUP), 2);
    assert_eq!(h.sim.recorded_web_sales(), 1);
}

#[tokio::test]
async fn writes_that_did_not_happen_are_made_again() {
    let h = Harness::start(options(5, 1)).await;
    let pos_ref = h.sim.product_refs()[2].clone();
    h.sim.write_faults().set(FaultPlan {
        drop_next: 1,
        fail_next: 1,
        rate_limit_next: 1,
        ..FaultPlan::default()
    });
    h.connector()
        .record_sale(&sale("retry-1", &pos_ref, 1, 300))
        .await
        .expect("recorded in the end");
    assert_eq!(h.sim.recorded_web_sales(), 1);
    assert_eq!(h.count(CREATE), 4);
    assert_eq!(
        h.count(LOOKUP),
        3,
        "a lookup before every attempt but the first"
    );
}

#[tokio::test]
async fn a_sale_lightspeed_refuses_is_rejected() {
    let h = Harness::start(options(5, 1)).await;
    let connector = h.connector();
    let err = connector
        .record_sale(&sale("bad-item", "99999", 1, 100))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PosError::Rejected(m) if m.contains("83050") && m.contains(CREATE) && m.contains("99999")),
        "{err}"
    );
    for bad in [
        sale("q0", "1", 0, 100),
        sale("neg", "1", 1, -5),
        sale("ref", "abc", 1, 100),
    ] {
        let err = connector.record_sale(&bad).await.unwrap_err();
        assert!(matches!(err, PosError::Rejected(_)), "{err}");
    }
    assert_eq!(h.count(CREATE), 1, "the invalid sales never left");
    assert_eq!(h.sim.recorded_web_sales(), 0);

    // The simulator refuses an unbalanced completed sale as Lightspeed does.
    let client = reqwest::Client::new();
    let unbalanced = json!({
        "employeeID": 1, "registerID": 1, "shopID": 1, "completed": true,
        "SaleLines": {"SaleLine": {"itemID": 1, "unitQuantity": 2, "unitPrice": 5}},
        "SalePayments": {"SalePayment": {"amount": "9.99", "paymentTypeID": 1}},
    });
    let answer = client
        .post(format!(
            "{}/API/V3/Account/83050/Sale.json",
            h.sim.base_url()
        ))
        .bearer_auth(h.settings["AccessToken"].as_str().unwrap())
        .json(&unbalanced)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("balanced"),
        "{body}"
    );
    assert_eq!(h.sim.recorded_web_sales(), 0);
}

#[tokio::test]
async fn with_every_shop_a_sale_goes_to_the_first_shop() {
    let h = Harness::start(options(5, 0)).await;
    let connector = h.connector();
    let pos_ref = h.sim.product_refs()[0].clone();
    let (total, in_one) = (
        h.sim.quantity(&pos_ref).unwrap(),
        h.sim.quantity_in(&pos_ref, 1).unwrap(),
    );
    connector
        .record_sale(&sale("s-1", &pos_ref, 1, 100))
        .await
        .unwrap();
    connector
        .record_sale(&sale("s-2", &pos_ref, 1, 100))
        .await
        .unwrap();
    assert_eq!(h.sim.quantity_in(&pos_ref, 1), Some(in_one - 2));
    assert_eq!(h.sim.quantity(&pos_ref), Some(total - 2));
    assert_eq!(h.count("GET Shop.json"), 1, "the shop is asked once");
}

#[tokio::test]
async fn the_till_sale_route_sells_like_a_cashier() {
    let h = Harness::start(options(5, 1)).await;
    let pos_ref = h.sim.product_refs()[3].clone();
    let before = h.sim.quantity(&pos_ref).unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/_sim/sale", h.sim.base_url());
    let answer = client
        .post(&url)
        .json(&json!({"pos_ref": pos_ref, "quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(h.sim.quantity(&pos_ref), Some(before - 2));
    assert_eq!(
        h.sim.recorded_web_sales(),
        0,
        "a till sale is not a web sale"
    );
    let unknown = client
        .post(&url)
        .json(&json!({"pos_ref": "424242", "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn only_lightspeeds_documented_refusals_are_final() {
    // A proxy's 404 page, a 409 or a 423 in front of Lightspeed: retried, never a refusal for
    // good; the retry (looking first) records the sale once.
    for status in [404, 409, 423] {
        let h = Harness::start(options(5, 1)).await;
        let connector = h.connector();
        let pos_ref = h.sim.product_refs()[0].clone();
        h.sim.write_faults().set(FaultPlan {
            foreign_next: 1,
            foreign_status: status,
            ..FaultPlan::default()
        });
        connector
            .record_sale(&sale("proxied", &pos_ref, 1, 100))
            .await
            .unwrap_or_else(|err| panic!("HTTP {status}: retried, then recorded: {err}"));
        assert_eq!(h.sim.recorded_web_sales(), 1, "HTTP {status}");
        assert_eq!(h.count(CREATE), 2, "HTTP {status}: posted again");
        assert_eq!(
            h.count(LOOKUP),
            1,
            "HTTP {status}: looked up before posting again"
        );
    }
}
