//! Recording web sales: one adjustment per sale, whatever the network does.

use crate::{BATCH_CREATE, products, setup_with};
use stocksync_domain::pos::PosSale;
use stocksync_domain::{PosConnector, PosError, PosRef};
use stocksync_pos::simkit::FaultPlan;

/// A sale's first attempt.
fn sale(key: &str, pos_ref: &str, quantity: i64) -> PosSale {
    PosSale {
        sale_key: key.into(),
        pos_ref: PosRef::new(pos_ref),
        quantity,
        balance_cents: 1_990,
        sent_before: false,
    }
}

/// A later attempt of `sale`, after one that may have reached Square.
fn again(sale: PosSale) -> PosSale {
    PosSale {
        sent_before: true,
        ..sale
    }
}

const BATCH_RETRIEVE: &str = "POST /v2/inventory/changes/batch-retrieve";

#[tokio::test]
async fn a_sale_is_one_in_stock_to_sold_adjustment_at_the_first_location() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[2].clone();
    let before = t.sim.quantity(&pos_ref).unwrap();

    let receipt = t
        .connector
        .record_sale(&sale("order-1001", &pos_ref, 2))
        .await
        .unwrap();

    let sales = t.sim.web_sales();
    assert_eq!(sales.len(), 1);
    assert_eq!(receipt.pos_reference, sales[0].adjustment_id);
    assert_eq!(
        (
            sales[0].pos_ref.as_str(),
            sales[0].location_id.as_str(),
            sales[0].quantity.as_str()
        ),
        (pos_ref.as_str(), "L1MAIN", "2")
    );
    assert_eq!(sales[0].reference_id.as_deref(), Some("order-1001"));
    assert_eq!(t.sim.quantity(&pos_ref), Some(before - 2));
    assert!(receipt.recorded_at.is_some());
}

#[tokio::test]
async fn rate_limits_are_waited_out_with_the_same_idempotency_key() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[0].clone();
    t.connector.read_stock(None).await.unwrap(); // locations known: only sales calls follow
    t.sim.faults().set(FaultPlan {
        rate_limit_next: 3,
        ..FaultPlan::default()
    });

    t.connector
        .record_sale(&sale("order-7", &pos_ref, 1))
        .await
        .unwrap();

    assert_eq!(t.sim.recorded_web_sales(), 1);
    assert_eq!(t.calls.with_status(crate::ACCOUNT, 429), 3);
    assert_eq!(t.calls.count(crate::ACCOUNT, BATCH_CREATE), 4);
    assert_eq!(
        t.calls.with_status(crate::ACCOUNT, 400),
        0,
        "never IDEMPOTENCY_KEY_REUSED"
    );
}

#[tokio::test]
async fn a_lost_answer_is_retried_and_square_applies_the_sale_once() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[1].clone();
    let before = t.sim.quantity(&pos_ref).unwrap();
    t.connector.read_stock(None).await.unwrap();
    // The first attempt is carried out, then its connection closes before the answer: the
    // retry, same key and same body, gets Square's stored answer.
    t.sim.faults().set(FaultPlan {
        lose_answer_next: 1,
        ..FaultPlan::default()
    });

    let receipt = t
        .connector
        .record_sale(&sale("order-8", &pos_ref, 3))
        .await
        .unwrap();

    let sales = t.sim.web_sales();
    assert_eq!(sales.len(), 1, "exactly one adjustment");
    assert_eq!(receipt.pos_reference, sales[0].adjustment_id);
    assert_eq!(t.sim.quantity(&pos_ref), Some(before - 3));
    assert_eq!(
        t.calls.with_status(crate::ACCOUNT, 0),
        1,
        "one answer was lost"
    );
    assert_eq!(
        t.calls.with_status(crate::ACCOUNT, 400),
        0,
        "never IDEMPOTENCY_KEY_REUSED"
    );
}

#[tokio::test]
async fn mixed_faults_still_make_exactly_one_sale() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[1].clone();
    t.connector.read_stock(None).await.unwrap();
    t.sim.faults().set(FaultPlan {
        drop_next: 1,
        lose_answer_next: 1,
        rate_limit_next: 1,
        fail_next: 1,
        ..FaultPlan::default()
    });

    let receipt = t
        .connector
        .record_sale(&sale("order-9", &pos_ref, 1))
        .await
        .unwrap();

    assert_eq!(t.sim.recorded_web_sales(), 1);
    assert_eq!(receipt.pos_reference, t.sim.web_sales()[0].adjustment_id);
    assert_eq!(t.calls.count(crate::ACCOUNT, BATCH_CREATE), 5);
    assert_eq!(t.calls.with_status(crate::ACCOUNT, 400), 0);
}

#[tokio::test]
async fn recording_the_same_sale_again_later_finds_the_first_adjustment() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[3].clone();
    let first = t
        .connector
        .record_sale(&sale("order-10", &pos_ref, 1))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await; // a new occurred_at

    // As after a crash: a new call, a new body under the same key.
    let repeated = t
        .connector
        .record_sale(&again(sale("order-10", &pos_ref, 1)))
        .await
        .unwrap();

    assert_eq!(repeated.pos_reference, first.pos_reference);
    assert_eq!(t.sim.recorded_web_sales(), 1);
    assert_eq!(
        t.calls
            .count(crate::ACCOUNT, "POST /v2/inventory/changes/batch-retrieve"),
        1
    );
}

#[tokio::test]
async fn a_sale_that_gave_up_on_rate_limits_can_be_made_later_once() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[0].clone();
    t.connector.read_stock(None).await.unwrap();
    t.sim.faults().set(FaultPlan {
        rate_limit_next: 5,
        ..FaultPlan::default()
    });

    let err = t
        .connector
        .record_sale(&sale("order-11", &pos_ref, 1))
        .await
        .unwrap_err();
    assert_eq!(err, PosError::RateLimited { retry_after: None });
    assert!(err.is_transient());
    assert_eq!(
        t.calls.count(crate::ACCOUNT, BATCH_CREATE),
        5,
        "the first try and 4 retries"
    );
    assert_eq!(t.sim.recorded_web_sales(), 0);

    t.connector
        .record_sale(&again(sale("order-11", &pos_ref, 1)))
        .await
        .unwrap();
    assert_eq!(t.sim.recorded_web_sales(), 1);
}

#[tokio::test]
async fn selling_an_unknown_variation_is_not_found() {
    let t = setup_with(products(2)).await;
    let err = t
        .connector
        .record_sale(&sale("order-12", "GONEVARIATION", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, PosError::NotFound(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(crate::ACCOUNT) && message.contains(BATCH_CREATE),
        "{message}"
    );
    assert_eq!(
        t.calls.count(crate::ACCOUNT, BATCH_CREATE),
        1,
        "not retried"
    );
}

#[tokio::test]
async fn a_sale_of_no_units_is_refused_before_any_call() {
    let t = setup_with(products(2)).await;
    let pos_ref = t.sim.product_refs()[0].clone();
    let err = t
        .connector
        .record_sale(&sale("order-13", &pos_ref, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, PosError::Rejected(_)), "{err:?}");
    assert_eq!(t.calls.total(crate::ACCOUNT), 0);
}

#[tokio::test]
async fn a_long_sale_key_still_makes_one_sale() {
    let t = setup_with(products(2)).await;
    let pos_ref = t.sim.product_refs()[0].clone();
    let key = "k".repeat(128);
    t.connector.read_stock(None).await.unwrap();
    t.sim.faults().set(FaultPlan {
        lose_answer_next: 1,
        ..FaultPlan::default()
    });
    let receipt = t
        .connector
        .record_sale(&sale(&key, &pos_ref, 1))
        .await
        .unwrap();
    assert_eq!(
        t.sim.web_sales()[0].reference_id.as_deref(),
        Some(key.as_str())
    );
    assert_eq!(receipt.pos_reference, t.sim.web_sales()[0].adjustment_id);
    assert_eq!(t.sim.recorded_web_sales(), 1);
}

#[tokio::test]
/// Square needs no `sent_before`: its idempotency key makes a second write of the same sale
/// answer `IDEMPOTENCY_KEY_REUSED`, and only then is the sale looked up.
async fn a_later_attempt_after_a_lost_answer_finds_the_sale_by_its_key() {
    let t = setup_with(products(5)).await;
    let pos_ref = t.sim.product_refs()[1].clone();
    t.connector.read_stock(None).await.unwrap();
    // Every try of the first attempt is carried out and its answer lost.
    t.sim.faults().set(FaultPlan {
        lose_answer_next: 5,
        ..FaultPlan::default()
    });
    let err = t
        .connector
        .record_sale(&sale("order-20", &pos_ref, 1))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(
        t.calls.count(crate::ACCOUNT, BATCH_RETRIEVE),
        0,
        "no lookup"
    );
    assert_eq!(t.sim.recorded_web_sales(), 1, "applied once, under its key");

    let receipt = t
        .connector
        .record_sale(&sale("order-20", &pos_ref, 1))
        .await
        .unwrap();
    assert_eq!(
        t.calls.count(crate::ACCOUNT, BATCH_RETRIEVE),
        1,
        "looked up"
    );
    assert_eq!(receipt.pos_reference, t.sim.web_sales()[0].adjustment_id);
    assert_eq!(t.sim.recorded_web_sales(), 1);
}

#[tokio::test]
async fn only_squares_documented_refusals_are_final() {
    // A proxy's page (404, 409, 423: not Square's error JSON) is no refusal: the sale is
    // retried, and made once.
    for status in [404, 409, 423] {
        let t = setup_with(products(5)).await;
        let pos_ref = t.sim.product_refs()[1].clone();
        t.connector.read_stock(None).await.unwrap();
        t.sim.faults().set(FaultPlan {
            foreign_next: 1,
            foreign_status: status,
            ..FaultPlan::default()
        });
        let err = t
            .connector
            .record_sale(&sale("proxied", &pos_ref, 1))
            .await
            .unwrap_err();
        assert!(err.is_transient(), "HTTP {status}: {err:?}");
        t.connector
            .record_sale(&again(sale("proxied", &pos_ref, 1)))
            .await
            .unwrap();
        assert_eq!(t.sim.recorded_web_sales(), 1, "HTTP {status}");
    }
}
