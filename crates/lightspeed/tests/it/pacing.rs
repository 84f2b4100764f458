//! Pacing: a long read under a small bucket gets no 429; the simulated bucket does refuse
//! unpaced calls; a 429 is waited out; failed reads are retried.

use crate::support::{Harness, STOCK_CALL, options, pages};
use std::time::{Duration, Instant};
use stocksync_domain::PosConnector;
use stocksync_lightspeed::{LightspeedSimOptions, RateLimit};
use stocksync_pos::simkit::FaultPlan;

/// A bucket of 5 drips, 20 drips a second, 8 requests a second at most.
fn small_bucket(count: usize, shop_id: i64) -> LightspeedSimOptions {
    LightspeedSimOptions {
        rate_limit: RateLimit {
            size: 5.0,
            drip: 20.0,
            burst: Some(8),
            legacy_costs: false,
        },
        ..options(count, shop_id)
    }
}

#[tokio::test]
async fn a_long_read_under_a_small_bucket_gets_no_429() {
    let h = Harness::start(small_bucket(1_200, 1)).await;
    let read = h.connector().read_stock(None).await.expect("a full read");
    assert_eq!(read.counts.len(), 1_200);
    assert_eq!(h.count(STOCK_CALL), pages(1_200));
    assert!(pages(1_200) >= 12);
    assert_eq!(h.with_status(429), 0, "paced by the bucket's headers");
    for pos_ref in h.sim.product_refs().iter().step_by(97) {
        let count = read
            .counts
            .iter()
            .find(|c| c.pos_ref.as_str() == pos_ref)
            .unwrap();
        assert_eq!(Some(count.quantity), h.sim.quantity(pos_ref));
    }
}

#[tokio::test]
async fn the_simulated_bucket_refuses_unpaced_calls() {
    let h = Harness::start(small_bucket(10, 1)).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let answer = h.raw_get("ItemShop.json").await;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert!(header("X-LS-API-Bucket-Level").is_some_and(|v| v.ends_with("/5")));
        assert_eq!(header("x-ls-api-drip-rate").as_deref(), Some("20"));
        if answer.status() == 429 {
            assert!(header("retry-after").is_some());
            assert!(header("x-ls-api-ratelimit-type").is_some_and(|t| t.starts_with("api-")));
        }
        statuses.push(answer.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_429_is_waited_out_and_retried() {
    let h = Harness::start(options(10, 1)).await;
    h.sim.faults().set(FaultPlan {
        rate_limit_next: 1,
        ..FaultPlan::default()
    });
    let started = Instant::now();
    let read = h
        .connector()
        .read_stock(None)
        .await
        .expect("the read is retried");
    assert_eq!(read.counts.len(), 10);
    assert_eq!(h.with_status(429), 1);
    assert_eq!(h.count(STOCK_CALL), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
}

#[tokio::test]
async fn server_errors_and_dropped_connections_on_reads_are_retried() {
    let h = Harness::start(options(150, 1)).await;
    h.sim.faults().set(FaultPlan {
        fail_next: 1,
        drop_next: 1,
        ..FaultPlan::default()
    });
    let read = h
        .connector()
        .read_stock(None)
        .await
        .expect("the read is retried");
    assert_eq!(read.counts.len(), 150);
    assert_eq!(h.with_status(503), 1);
    assert_eq!(h.with_status(0), 1, "the dropped connection");
    assert_eq!(h.count(STOCK_CALL), pages(150) + 2);
}
