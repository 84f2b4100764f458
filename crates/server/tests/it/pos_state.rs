//! What connectors keep in the database: rotated OAuth tokens and the monthly call budget.

use chrono::{TimeZone, Utc};
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::AccountId;
use stocksync_domain::ports::{CallBudget, TokenPair, TokenVault};
use stocksync_testkit::{Backend, TestDb, on_every_backend};

on_every_backend!(
    tokens_are_replaced_and_survive_a_new_pool,
    the_token_refresh_lease_has_one_holder_at_a_time,
    the_call_budget_is_never_exceeded
);

async fn tokens_are_replaced_and_survive_a_new_pool(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let account = AccountId::new("ls-1");
    assert_eq!(store.load(&account).await.unwrap(), None);
    let first = TokenPair {
        access_token: "a1".into(),
        refresh_token: "r1".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap(),
    };
    store.save(&account, &first).await.unwrap();
    let second = TokenPair {
        access_token: "a2".repeat(600),
        refresh_token: "r2".repeat(300),
        expires_at: Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 0).unwrap(),
    };
    store.save(&account, &second).await.unwrap();
    store.close().await;
    let reopened = db.store().await;
    assert_eq!(
        reopened.load(&account).await.unwrap(),
        Some(second),
        "long tokens kept whole"
    );
    assert!(
        !format!("{first:?}").contains("a1"),
        "tokens are redacted in Debug"
    );
}

async fn the_token_refresh_lease_has_one_holder_at_a_time(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let (one, two) = (db.store().await, db.store().await);
    one.migrate().await.unwrap();
    let (account, other) = (AccountId::new("ls-1"), AccountId::new("ls-2"));
    let long = Duration::from_secs(60);
    assert!(one.lease_refresh(&account, "p1", long).await.unwrap());
    assert!(!two.lease_refresh(&account, "p2", long).await.unwrap());
    assert!(
        two.lease_refresh(&other, "p2", long).await.unwrap(),
        "one lease per account"
    );
    one.end_refresh(&account, "p1").await.unwrap();
    assert!(two.lease_refresh(&account, "p2", long).await.unwrap());
    two.end_refresh(&account, "p2").await.unwrap();
    // A holder that died: its lease expires.
    assert!(
        one.lease_refresh(&account, "p1", Duration::from_millis(1))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(two.lease_refresh(&account, "p2", long).await.unwrap());
}

async fn the_call_budget_is_never_exceeded(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Arc::new(db.store().await);
    store.migrate().await.unwrap();
    let account = AccountId::new("hb-1");
    let mut takers = Vec::new();
    for _ in 0..40 {
        let (store, account) = (store.clone(), account.clone());
        takers.push(tokio::spawn(async move {
            store.take(&account, "2026-11", 25).await.unwrap()
        }));
    }
    let mut granted = 0;
    for taker in takers {
        granted += usize::from(taker.await.unwrap());
    }
    assert_eq!(granted, 25, "exactly the budget was granted");
    assert_eq!(store.used(&account, "2026-11").await.unwrap(), 25);
    assert!(!store.take(&account, "2026-11", 25).await.unwrap());
    assert!(
        store.take(&account, "2026-12", 25).await.unwrap(),
        "a new month, a new budget"
    );
    assert_eq!(
        store
            .used(&AccountId::new("other"), "2026-11")
            .await
            .unwrap(),
        0
    );
}
