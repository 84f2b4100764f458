//! Lightspeed's refresh tokens rotate: two `stocksync serve` processes on one database share one
//! pair. When one process rotates it (which revokes the other's tokens), the other takes the
//! stored pair instead of staying unauthorized until restarted. A link registration asks the POS
//! from the process that received it, so each step below runs in the process named.

use crate::process::{Stocksync, two_on_one_database};
use serde_json::json;
use stocksync_lightspeed::{LightspeedSim, LightspeedSimOptions};
use stocksync_pos::simkit::catalog;
use stocksync_testkit::{Backend, TestDb, on_every_backend};

on_every_backend!(both_processes_keep_working_after_either_rotated_the_tokens);

async fn both_processes_keep_working_after_either_rotated_the_tokens(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let lightspeed = LightspeedSim::start(LightspeedSimOptions {
        products: catalog(12, 3),
        ..LightspeedSimOptions::default()
    })
    .await
    .expect("the Lightspeed simulator");
    let settings = lightspeed.account_settings();
    let account = settings["AccountID"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let processes = two_on_one_database(
        &db,
        dir.path(),
        json!({ "PosAccess": { "PosConfigurations": [settings] } }),
    )
    .await;
    let [a, b] = &processes;
    let refs = lightspeed.product_refs();
    let mut next = 0;
    let mut link = async |via: &Stocksync, step: &str| {
        let body = json!({ "item_pos_id": refs[next], "item_ecommerce_id": format!("shop-{next}"), "account_id": account });
        next += 1;
        let (status, answer) = via.post_ok("/api/items", Some(&body)).await;
        assert_eq!(status, 201, "{step}: {answer}");
    };

    link(a, "A, with the configured tokens").await;
    link(b, "B, with the configured tokens").await;
    for (rotates, follows, names) in [(a, b, "A then B"), (b, a, "B then A")] {
        // Every access token refused: the first process rotates the pair, revoking the other's.
        lightspeed.expire_access_tokens_after(0);
        link(rotates, &format!("{names}: the one that rotates")).await;
        link(
            follows,
            &format!("{names}: the other one, after the rotation"),
        )
        .await;
        link(rotates, &format!("{names}: the first one again")).await;
    }
}
