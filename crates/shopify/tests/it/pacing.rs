//! Pacing on the cost bucket: the client waits for the points a query needs, as the last
//! answer's `throttleStatus` says, instead of being throttled; a THROTTLED answer (200 or 429)
//! is waited out and sent again.

use crate::{Setup, products};
use std::time::{Duration, Instant};
use stocksync_domain::{ShopConnector, ShopError};
use stocksync_pos::simkit::FaultPlan;
use stocksync_shopify::sim::BucketSpec;

#[tokio::test]
async fn a_long_read_waits_for_the_bucket_and_is_never_throttled() {
    let mut options = products(2000);
    // 250 variants request 752 points: the bucket holds one page; 5000 points a second.
    options.bucket = BucketSpec {
        maximum: 1000.0,
        restore_rate: 5000.0,
    };
    let setup = Setup::new(options).await;
    let started = Instant::now();
    let items = setup.client.items().await.unwrap();
    assert_eq!(items.len(), 2000);
    assert_eq!(setup.sim.throttled(), 0, "no THROTTLED answer");
    assert_eq!(setup.calls_to("productVariants"), 8, "no call sent again");
    // 8 pages of 752 points, 1000 in the bucket at the start: the rest took restoring.
    let needed = (8.0 * 752.0 - 1000.0) / 5000.0;
    assert!(
        started.elapsed() >= Duration::from_secs_f64(needed * 0.9),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn throttled_answers_are_waited_out_with_status_200_or_429() {
    for with_429 in [false, true] {
        let mut options = products(3);
        options.throttle_with_429 = with_429;
        let setup = Setup::new(options).await;
        setup.client.items().await.unwrap();
        setup.sim.faults().set(FaultPlan {
            rate_limit_next: 2,
            ..FaultPlan::default()
        });
        assert_eq!(setup.client.items().await.unwrap().len(), 3);
        assert_eq!(setup.sim.throttled(), 2);
        assert_eq!(setup.calls_to("productVariants"), 4);

        setup.sim.faults().set(FaultPlan {
            rate_limit_next: 100,
            ..FaultPlan::default()
        });
        let error = setup.client.items().await.unwrap_err();
        assert!(matches!(error, ShopError::RateLimited { .. }), "{error:?}");
        assert_eq!(setup.calls_to("productVariants"), 4 + 5, "4 retries");
    }
}

#[tokio::test]
async fn clients_sharing_a_bucket_without_knowing_it_wait_out_their_throttled_answers() {
    let mut options = products(300);
    options.bucket = BucketSpec {
        maximum: 1000.0,
        restore_rate: 2000.0,
    };
    let setup = Setup::new(options).await;
    // Another app's client (same shop, same bucket) drains it first.
    let calls = stocksync_pos::CallLog::default();
    let other = crate::client_of(&setup.sim, setup.sim.access_token(), None, &calls);
    let (mine, theirs) = tokio::join!(setup.client.items(), other.items());
    assert_eq!(mine.unwrap().len(), 300);
    assert_eq!(theirs.unwrap().len(), 300);
    // Neither sees the other's reservations, so they may collide; each THROTTLED answer is
    // waited out (its refill time) and costs exactly one more call, never an error.
    assert_eq!(
        setup.calls_to("productVariants") + calls.count(crate::ACCOUNT, "productVariants"),
        4 + setup.sim.throttled()
    );
}
