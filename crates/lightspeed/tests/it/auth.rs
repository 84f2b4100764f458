//! Tokens: fetched when missing, refreshed before expiry and once on 401, rotated and stored
//! before use so that a restart works, refreshed once for many callers (in one process or
//! several on one database), refused cleanly.

use crate::support::{ACCOUNT, Harness, STOCK_CALL, TOKEN_CALL, options, pages};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::ports::TokenVault;
use stocksync_domain::pos::ProductQuery;
use stocksync_domain::{AccountId, PosConnector, PosError, PosRef};
use stocksync_lightspeed::LightspeedSimOptions;

fn without_access_token(settings: &mut Value) {
    settings.as_object_mut().unwrap().remove("AccessToken");
}

#[tokio::test]
async fn a_missing_access_token_is_fetched_and_stored_before_the_first_call() {
    let h = Harness::start(options(10, 0)).await;
    let connector = h.connector_for(&h.config_with(without_access_token));
    let read = connector.read_stock(None).await.expect("a read");
    assert_eq!(read.counts.len(), 10);
    assert_eq!(h.count(TOKEN_CALL), 1);
    assert_eq!(
        h.with_status(401),
        0,
        "never sent a request without a token"
    );
    let stored = h
        .store
        .load(&AccountId::new(ACCOUNT))
        .await
        .unwrap()
        .expect("the new pair is stored");
    assert_ne!(
        stored.refresh_token,
        h.settings["RefreshToken"].as_str().unwrap(),
        "rotated"
    );
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let h = Harness::start(LightspeedSimOptions {
        token_lifetime: Duration::from_secs(2),
        ..options(10, 0)
    })
    .await;
    let connector = h.connector_for(&h.config_with(without_access_token));
    connector.read_stock(None).await.expect("a first read");
    // A 2 s token is replaced in its second half: this read refreshes first, and is not refused.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    connector.read_stock(None).await.expect("a second read");
    assert_eq!(h.count(TOKEN_CALL), 2);
    assert_eq!(h.with_status(401), 0);
}

#[tokio::test]
async fn a_token_that_expires_in_the_middle_of_a_read_is_refreshed_once() {
    let h = Harness::start(options(300, 1)).await;
    h.sim.expire_access_tokens_after(1);
    let read = h
        .connector()
        .read_stock(None)
        .await
        .expect("the read goes on with a new token");
    assert_eq!(read.counts.len(), 300);
    assert_eq!(h.with_status(401), 1, "one page refused");
    assert_eq!(h.count(TOKEN_CALL), 1, "one refresh");
    assert_eq!(
        h.count(STOCK_CALL),
        pages(300) + 1,
        "the refused page asked again"
    );
}

#[tokio::test]
async fn rotated_tokens_survive_a_restart() {
    let h = Harness::start(options(10, 0)).await;
    let first = h.connector();
    h.sim.expire_access_tokens_after(0);
    first
        .read_stock(None)
        .await
        .expect("a read that refreshes on its 401");
    assert_eq!(h.count(TOKEN_CALL), 1);
    drop(first);

    // The configured refresh token was single-use: the server refuses it now.
    let old = h.settings["RefreshToken"].as_str().unwrap();
    let refused = h.raw_refresh(old).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // A restart: a new connector, same database, same (now stale) configuration.
    let second = h.connector();
    second
        .read_stock(None)
        .await
        .expect("the stored access token works");
    assert_eq!(h.count(TOKEN_CALL), 1, "no refresh needed");
    h.sim.expire_access_tokens_after(0);
    second
        .read_stock(None)
        .await
        .expect("the stored refresh token works");
    assert_eq!(h.count(TOKEN_CALL), 2);
    assert_eq!(h.with_status(400), 0);
}

#[tokio::test]
async fn many_calls_at_expiry_refresh_exactly_once() {
    let h = Harness::start(options(30, 0)).await;
    let refs = h.sim.product_refs();
    let find_all = |connector: Arc<stocksync_lightspeed::LightspeedConnector>| {
        let refs = refs.clone();
        async move {
            let tasks: Vec<_> = refs
                .into_iter()
                .map(|pos_ref| {
                    let connector = connector.clone();
                    tokio::spawn(async move {
                        connector
                            .find_products(&ProductQuery::Id(PosRef::new(pos_ref)))
                            .await
                    })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap().expect("found").len(), 1);
            }
        }
    };
    // No token yet: thirty callers, one refresh.
    find_all(Arc::new(
        h.connector_for(&h.config_with(without_access_token)),
    ))
    .await;
    assert_eq!(h.count(TOKEN_CALL), 1);
    // Every token refused at once: the first 401 refreshes, the others reuse its result.
    h.sim.expire_access_tokens_after(0);
    find_all(Arc::new(h.connector())).await;
    assert_eq!(h.count(TOKEN_CALL), 2);
    assert_eq!(h.with_status(400), 0, "no refresh token was used twice");
}

#[tokio::test]
async fn a_refused_refresh_token_is_unauthorized_and_names_no_secret() {
    let h = Harness::start(options(5, 0)).await;
    let bogus = "def50200this-refresh-token-was-revoked";
    let config = h.config_with(|s| {
        without_access_token(s);
        s["RefreshToken"] = bogus.into();
    });
    let connector = h.connector_for(&config);
    let err = connector.read_stock(None).await.unwrap_err();
    let PosError::Unauthorized(message) = &err else {
        panic!("expected Unauthorized, got {err:?}");
    };
    assert!(
        message.contains(ACCOUNT) && message.contains("re-authorised"),
        "{message}"
    );
    let secret = h.settings["ClientSecret"].as_str().unwrap();
    let access = h.settings["AccessToken"].as_str().unwrap();
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        format!("{connector:?}"),
        format!("{:?}", h.connector()),
    ] {
        for hidden in [
            secret,
            bogus,
            access,
            h.settings["RefreshToken"].as_str().unwrap(),
        ] {
            assert!(!shown.contains(hidden), "a secret in: {shown}");
        }
    }
    assert_eq!(h.count(STOCK_CALL), 0);
}

#[tokio::test]
async fn a_new_refresh_token_in_the_configuration_replaces_a_dead_stored_one() {
    let h = Harness::start(options(5, 0)).await;
    // The connector stores a rotated pair…
    h.connector_for(&h.config_with(without_access_token))
        .read_stock(None)
        .await
        .unwrap();
    let stored = h
        .store
        .load(&AccountId::new(ACCOUNT))
        .await
        .unwrap()
        .unwrap();
    // …which dies elsewhere (revoked by another use), and the merchant authorises again.
    assert_eq!(h.raw_refresh(&stored.refresh_token).await.status(), 200);
    let again = h.sim.account_settings();
    let config = h.config_with(|s| {
        without_access_token(s);
        s["RefreshToken"] = again["RefreshToken"].clone();
    });
    let read = h
        .connector_for(&config)
        .read_stock(None)
        .await
        .expect("the configured token is tried");
    assert_eq!(read.counts.len(), 5);
}

#[tokio::test]
async fn a_pair_rotated_by_another_process_is_taken_instead_of_refreshing() {
    let h = Harness::start(options(5, 0)).await;
    let (one, two) = (h.connector(), h.connector_of_another_process().await);
    one.read_stock(None)
        .await
        .expect("the configured tokens work");
    two.read_stock(None).await.expect("in both processes");
    let mut rotations = 0;
    for (rotates, follows) in [(&one, &two), (&two, &one), (&one, &two)] {
        // One process is refused and rotates the pair, which revokes the other's tokens…
        h.sim.expire_access_tokens_after(0);
        rotates.read_stock(None).await.expect("a read that rotates");
        rotations += 1;
        assert_eq!(h.count(TOKEN_CALL), rotations);
        // …and the other, refused too, takes the stored pair: no refresh, no revoked token sent.
        follows
            .read_stock(None)
            .await
            .expect("the other process goes on with the rotated pair");
        assert_eq!(h.count(TOKEN_CALL), rotations, "no second refresh");
        rotates.read_stock(None).await.expect("both keep working");
    }
    assert_eq!(h.with_status(400), 0, "no refresh token was used twice");
}

#[tokio::test]
async fn processes_refused_at_once_refresh_once() {
    let h = Harness::start(options(5, 0)).await;
    let connectors = [
        h.connector(),
        h.connector_of_another_process().await,
        h.connector_of_another_process().await,
    ];
    for connector in &connectors {
        connector.read_stock(None).await.expect("a first read");
    }
    h.sim.expire_access_tokens_after(0);
    let [a, b, c] = &connectors;
    let reads = tokio::join!(a.read_stock(None), b.read_stock(None), c.read_stock(None));
    for read in [reads.0, reads.1, reads.2] {
        read.expect("every process reads with the one new pair");
    }
    assert_eq!(h.count(TOKEN_CALL), 1, "one refresh across the processes");
    assert_eq!(h.with_status(400), 0, "no refresh token was used twice");
}
