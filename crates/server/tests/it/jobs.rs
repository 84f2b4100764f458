//! `/api/jobs` (list, cancel, retry), `/api/sales` (list by state), and the purge of old history.

use std::sync::atomic::Ordering;
use stocksync_testkit::{Backend, TestApp, on_every_backend};

on_every_backend!(
    jobs_are_listed_cancelled_and_retried,
    sales_are_listed_by_state,
    old_history_is_purged_and_waiting_jobs_kept,
);

async fn jobs_are_listed_cancelled_and_retried(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    // A sync held in its read keeps the runner busy, so the next one waits in the queue.
    app.catalog.hold_reads();
    let (_, running) = app.post_empty("/api/synchronizer/forceUpdate").await;
    while app.catalog.reads_held.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (_, waiting) = app
        .post_empty("/api/synchronizer/reconcile?dry_run=true")
        .await;
    let waiting_id = waiting["task"]["id"].as_str().unwrap().to_owned();

    let (status, list) = app.get("/api/jobs?state=enqueued").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["jobs"][0]["kind"], "reconcile_dry_run");
    let (_, running_list) = app.get("/api/jobs?state=running&kind=sync_all").await;
    assert_eq!(running_list["jobs"][0]["id"], running["task"]["id"]);

    let (status, _) = app.delete(&format!("/api/jobs/{waiting_id}")).await;
    assert_eq!(status, 204);
    let (status, again) = app.delete(&format!("/api/jobs/{waiting_id}")).await;
    assert_eq!(status, 409, "{again}");
    let running_id = running["task"]["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/jobs/{running_id}")).await.0,
        409,
        "a running job is not cancelled"
    );
    assert_eq!(app.delete("/api/jobs/nope").await.0, 404);

    app.catalog.release_reads();
    app.wait_task(running["location"].as_str().unwrap()).await;
    let (status, retried) = app
        .post_empty(&format!("/api/jobs/{waiting_id}/retry"))
        .await;
    assert_eq!(status, 202, "{retried}");
    let task = app.wait_task(retried["location"].as_str().unwrap()).await;
    assert_eq!(
        (task["kind"].as_str(), task["state"].as_str()),
        (Some("reconcile_dry_run"), Some("succeeded"))
    );
    assert_eq!(
        app.post_empty(&format!("/api/jobs/{running_id}/retry"))
            .await
            .0,
        409,
        "it succeeded"
    );

    let (_, all) = app.get("/api/jobs?per_page=2").await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/jobs?state=sleeping").await.0, 400);
    assert_eq!(app.get("/api/jobs?kind=nap").await.0, 400);
}

async fn sales_are_listed_by_state(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    let ok = app.sell("1", 1).await;
    app.wait_sale(&ok).await;
    app.catalog.fail_next_sales(usize::MAX);
    let dead = app.sell("1", 1).await;
    app.wait_sale(&dead).await;
    let (status, list) = app.get("/api/sales?state=dead").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(
        format!("/api/sales/{}", list["sales"][0]["id"].as_str().unwrap()),
        dead
    );
    let (_, all) = app.get("/api/sales").await;
    assert_eq!(all["total"], 2);
    assert_eq!(app.get("/api/sales?state=lost").await.0, 400);
}

async fn old_history_is_purged_and_waiting_jobs_kept(backend: Backend) {
    let Some(db) = stocksync_testkit::TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let done = store
        .enqueue_task(stocksync_domain::task::TaskKind::SyncAll, None)
        .await
        .unwrap();
    let lease = chrono::Duration::seconds(30);
    store
        .claim_task("w", chrono::Utc::now(), lease, 3)
        .await
        .unwrap();
    assert!(
        store
            .finish_task(
                &done.id,
                "w",
                &stocksync_store::TaskOutcome {
                    summary: "ok".into(),
                    ..Default::default()
                },
                stocksync_store::NextStep::Done,
            )
            .await
            .unwrap()
    );
    let waiting = store
        .enqueue_task(stocksync_domain::task::TaskKind::Reconcile, None)
        .await
        .unwrap();
    let account = stocksync_domain::AccountId::new("sq");
    store
        .record_webhook("square", &account, Some("e1"), "{}")
        .await
        .unwrap();

    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    assert_eq!(
        store.purge_history(an_hour_ago).await.unwrap(),
        0,
        "nothing is that old"
    );
    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(
        store.purge_history(soon).await.unwrap(),
        2,
        "the finished job and the event"
    );
    assert!(store.task(done.id.as_str()).await.unwrap().is_none());
    assert!(
        store.task(waiting.id.as_str()).await.unwrap().is_some(),
        "a waiting job stays"
    );
    assert_eq!(store.webhook_count("square", &account).await.unwrap(), 0);
}
