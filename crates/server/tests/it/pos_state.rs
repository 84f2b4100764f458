//! What connectors keep in the database: rotated OAuth tokens and the monthly call budget.

use chrono::{TimeZone, Utc};
use std::sync::Arc;
use stocksync_domain::AccountId;
use stocksync_domain::ports::{CallBudget, TokenPair, TokenVault};
use stocksync_testkit::{Backend, TestDb, on_every_backend};

on_every_backend!(
    tokens_are_replaced_and_survive_a_new_pool,
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
