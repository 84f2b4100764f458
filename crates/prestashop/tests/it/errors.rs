//! Failures: a wrong key, a disabled Webservice, an unknown shop, PHP's HTML 500 and dropped
//! connections, each turned into the right `ShopError` (retried when transient), never
//! showing the key.

use crate::{Setup, V1_7, V8, client_of, products};
use stocksync_domain::shop::{LevelWrite, WriteOutcome};
use stocksync_domain::{ShopConnector, ShopError};
use stocksync_pos::CallLog;
use stocksync_pos::simkit::FaultPlan;
use stocksync_prestashop::PrestaSimOptions;

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_not_shown() {
    let setup = Setup::new(products(1)).await;
    let key = "WRONGKEYWRONGKEYWRONGKEYWRONGKEY";
    let client = client_of(&setup.sim, key, None, &CallLog::default());
    let err = client.items().await.unwrap_err();
    assert!(
        matches!(&err, ShopError::Unauthorized(what) if what.contains("20")),
        "{err:?}"
    );
    assert!(!err.to_string().contains(key));
    assert!(!format!("{client:?}").contains(key));
    assert_eq!(setup.sim.requests(), 1, "not retried");
}

#[tokio::test]
async fn an_unknown_shop_is_not_found_and_a_disabled_webservice_unavailable() {
    let setup = Setup::new(products(1)).await;
    let client = client_of(&setup.sim, setup.sim.key(), Some(7), &CallLog::default());
    assert!(matches!(client.items().await, Err(ShopError::NotFound(what)) if what.contains("999")));
    setup.sim.set_enabled(false);
    assert!(
        matches!(setup.client.items().await, Err(ShopError::Unavailable(what)) if what.contains("code 22"))
    );
}

#[tokio::test]
async fn html_errors_and_dropped_connections_are_retried() {
    let setup = Setup::new(products(3)).await;
    setup.sim.set_faults(FaultPlan {
        fail_next: 2,
        drop_next: 1,
        ..FaultPlan::default()
    });
    assert_eq!(setup.client.items().await.unwrap().len(), 3);
    assert_eq!(setup.sim.requests(), 6, "3 failures, then the 3 lists");

    setup.sim.set_faults(FaultPlan {
        fail_next: 100,
        ..FaultPlan::default()
    });
    let err = setup.client.items().await.unwrap_err();
    assert!(
        matches!(&err, ShopError::Unavailable(what) if what.contains("500")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_sent_again_and_lands_once_per_attempt() {
    // The bulk read (and on 1.7 the row's GET) go through; the PUT or PATCH is carried out,
    // its answer lost.
    for (version, reads) in [(V1_7, 2), (V8, 1)] {
        let setup = Setup::new(PrestaSimOptions {
            version: version.into(),
            ..products(1)
        })
        .await;
        setup.sim.set_faults(FaultPlan {
            pass_next: reads,
            lose_answer_next: 1,
            ..FaultPlan::default()
        });
        let outcomes = setup
            .client
            .set_quantities(&[LevelWrite {
                item: crate::item("1"),
                quantity: 30,
                expected: None,
            }])
            .await;
        assert_eq!(outcomes, [WriteOutcome::Written { quantity: 30 }]);
        assert_eq!(setup.sim.stock(1, 0), Some(30));
        let row = setup.sim.row_id(1, 0).unwrap();
        assert_eq!(
            setup.sim.writes_per_row()[&row],
            2,
            "{version}: every write counted, never merged"
        );
    }
}
