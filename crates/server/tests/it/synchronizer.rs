//! The synchronizer routes: status, start/stop surviving restarts, forceUpdate as a task that
//! brings the stock table up to date from the POS.

use crate::scheduler::eventually;
use serde_json::json;
use std::sync::atomic::Ordering;
use stocksync_domain::AccountId;
use stocksync_domain::ports::CallBudget;
use stocksync_testkit::{ACCOUNT, Backend, OTHER_ACCOUNT, TestApp, on_every_backend};

on_every_backend!(
    start_and_stop_are_idempotent_and_survive_a_restart,
    force_update_reads_the_pos_into_the_stock_table,
    a_pos_count_never_brings_back_units_sold_online,
    one_failing_account_does_not_stop_the_others,
    unknown_tasks_are_404,
    one_account_can_be_synced_alone,
    status_shows_pos_calls_and_the_hiboutik_budget,
    a_slow_account_does_not_hold_up_the_others,
);

async fn start_and_stop_are_idempotent_and_survive_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, body) = app.get("/api/synchronizer").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["running"], false,
        "a new database starts stopped, as the original"
    );
    assert_eq!(body["cron"], "* * * * *");
    assert_eq!(body["accounts"].as_array().unwrap().len(), 2);

    for _ in 0..2 {
        let (status, body) = app.post_empty("/api/synchronizer/start").await;
        assert_eq!((status, body), (200, json!({ "status": "started" })));
    }
    let (_, body) = app.get("/api/synchronizer").await;
    assert_eq!(body["running"], true);
    assert!(body["next_run"].is_string(), "{body}");

    let app = app.restart().await;
    let (_, body) = app.get("/api/synchronizer").await;
    assert_eq!(body["running"], true, "started survives a restart");

    for _ in 0..2 {
        let (status, body) = app.post_empty("/api/synchronizer/stop").await;
        assert_eq!((status, body), (200, json!({ "status": "stopped" })));
    }
    let app = app.restart().await;
    let (_, body) = app.get("/api/synchronizer").await;
    assert_eq!(body["running"], false, "stopped survives a restart");
    assert_eq!(body["next_run"], serde_json::Value::Null);
}

async fn force_update_reads_the_pos_into_the_stock_table(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.catalog.put("VAR-2", "Bowl", None, 1);
    app.catalog.put("UNLINKED", "Plate", None, 9);
    app.link("VAR-1", "1").await;
    app.link("VAR-2", "2").await;
    app.catalog.set_quantity("VAR-1", 2);

    let (status, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "pending");
    let location = answer["location"].as_str().unwrap();
    assert!(location.starts_with("/api/itemstask/"));
    let task = app.wait_task(location).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    let summary = task["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "{ACCOUNT}: 1 link(s) changed, 1 unchanged, 1 unlinked"
        )),
        "{summary}"
    );

    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(links[0]["quantity"], 2);
    assert_eq!(links[1]["quantity"], 1);
    let (_, status) = app.get("/api/synchronizer").await;
    let main = &status["accounts"][0];
    assert_eq!(main["account_id"], ACCOUNT);
    assert_eq!(main["last_sync"]["ok"], true);
}

async fn a_pos_count_never_brings_back_units_sold_online(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    // The sale cannot reach the POS: retried, then dead, its units still sold online.
    app.catalog.fail_next_sales(usize::MAX);
    let (status, _) = app
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": "1", "delta": 2, "balance": 0 }),
        )
        .await;
    assert_eq!(status, 202);
    // The POS still says 5. The shop must keep 3, not go back to 5.
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(links[0]["quantity"], 3);
    // A till sale on the POS is subtracted on top of the pending web sale.
    app.catalog.set_quantity("VAR-1", 4);
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(links[0]["quantity"], 2);
}

async fn one_failing_account_does_not_stop_the_others(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.other_catalog.put("77", "Cup", None, 5);
    app.link("VAR-1", "1").await;
    let (status, _) = app
        .register(
            json!({ "item_pos_id": "77", "item_ecommerce_id": "2", "account_id": OTHER_ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201);
    app.catalog.set_down(true);
    app.other_catalog.set_quantity("77", 1);

    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "failed", "{task}");
    let error = task["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{ACCOUNT}: POS unavailable")),
        "{error}"
    );
    assert!(
        error.contains(&format!("{OTHER_ACCOUNT}: 1 link(s) changed")),
        "{error}"
    );
    let (_, links) = app.get(&format!("/api/items/{OTHER_ACCOUNT}")).await;
    assert_eq!(links[0]["quantity"], 1);
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["accounts"][0]["last_sync"]["ok"], false);
    assert_eq!(status["accounts"][1]["last_sync"]["ok"], true);
}

async fn one_account_can_be_synced_alone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, answer) = app
        .post_empty(&format!(
            "/api/synchronizer/forceUpdate?account={OTHER_ACCOUNT}"
        ))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["tasks"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["tasks"][0]["account_id"], OTHER_ACCOUNT);
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    let summary = task["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(OTHER_ACCOUNT) && !summary.contains(ACCOUNT),
        "{summary}"
    );
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(
        status["accounts"][0]["last_sync"],
        serde_json::Value::Null,
        "not synced: {status}"
    );
    assert_eq!(status["accounts"][1]["last_sync"]["ok"], true);
    let (status, _) = app
        .post_empty("/api/synchronizer/forceUpdate?account=nope")
        .await;
    assert_eq!(status, 404);
}

async fn unknown_tasks_are_404(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, body) = app.get("/api/itemstask/0b7e-unknown").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
}

async fn status_shows_pos_calls_and_the_hiboutik_budget(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Three calls counted this month against Hiboutik's quota, as its client would.
    let store = app.db.store().await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    for _ in 0..3 {
        let hiboutik = AccountId::new(OTHER_ACCOUNT);
        assert!(store.take(&hiboutik, &month, 10_000).await.unwrap());
    }
    store.close().await;

    let (status, body) = app.get("/api/synchronizer").await;
    assert_eq!(status, 200, "{body}");
    let square = &body["accounts"][0];
    assert_eq!(square["account_id"], ACCOUNT);
    assert_eq!(square["calls"], 0, "{square}");
    assert_eq!(square["rate_limited"], 0, "{square}");
    assert_eq!(
        square["budget"],
        serde_json::Value::Null,
        "Square has no quota"
    );
    let hiboutik = &body["accounts"][1];
    assert_eq!(hiboutik["account_id"], OTHER_ACCOUNT);
    assert_eq!(
        hiboutik["budget"],
        json!({ "used": 3, "limit": 10000, "month": month }),
        "{hiboutik}"
    );
}

/// Issue 11, item 5: a sync of every account is one job per account, so an account whose POS
/// answers slowly holds up only its own job. Here its read is held until released (an
/// arbitrarily slow POS): a till sale on the other account reaches its row meanwhile.
async fn a_slow_account_does_not_hold_up_the_others(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.other_catalog.put("77", "Cup", None, 5);
    app.link("VAR-1", "1").await;
    let (status, _) = app
        .register(
            json!({ "item_pos_id": "77", "item_ecommerce_id": "2", "account_id": OTHER_ACCOUNT }),
        )
        .await;
    assert_eq!(status, 201);
    app.catalog.hold_reads();

    let (status, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    assert_eq!(status, 202, "{answer}");
    let slow_read = || async { app.catalog.reads_held.load(Ordering::SeqCst) == 1 };
    eventually("the slow account's read begins", slow_read).await;
    // A till sale on the other account, and a sync of it asked for.
    app.other_catalog.set_quantity("77", 3);
    let (status, answer) = app
        .post_empty(&format!(
            "/api/synchronizer/forceUpdate?account={OTHER_ACCOUNT}"
        ))
        .await;
    assert_eq!(status, 202, "{answer}");
    eventually("the till sale reaches its row", || async {
        let (_, links) = app.get(&format!("/api/items/{OTHER_ACCOUNT}")).await;
        links[0]["quantity"] == 3
    })
    .await;
    // It got there while the slow account's job was still running, its read still held.
    assert!(slow_read().await);
    // (The other account's job may not be marked finished yet: its row is written first.)
    let (_, running) = app.get("/api/jobs?state=running").await;
    let slow_job_running = running["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|job| job["account_id"] == ACCOUNT);
    assert!(slow_job_running, "{running}");

    app.catalog.release_reads();
    eventually("every job ends", || async {
        let (_, page) = app.get("/api/jobs").await;
        page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|job| job["state"] == "succeeded")
    })
    .await;
}
