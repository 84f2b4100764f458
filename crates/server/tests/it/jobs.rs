//! `/api/jobs` (list, cancel, retry), `/api/sales` (list by state), the purge of old history,
//! and jobs under leases: taken over when their worker vanishes, never two of one account at
//! once, retried when they fail, dead when out of attempts.

use chrono::{Duration, Utc};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync::clock::ManualClock;
use stocksync_domain::AccountId;
use stocksync_domain::task::{TaskKind, TaskState};
use stocksync_store::{NewJob, NextStep, TaskOutcome};
use stocksync_testkit::{
    ACCOUNT, Backend, OTHER_ACCOUNT, Options, TestApp, TestDb, on_every_backend,
};

on_every_backend!(
    jobs_are_listed_cancelled_and_retried,
    sales_are_listed_by_state,
    old_history_is_purged_and_waiting_jobs_kept,
    a_job_whose_worker_vanished_is_taken_over_once_its_lease_expires,
    a_failing_reconciliation_is_retried_later_then_dead,
    a_backlog_of_one_busy_account_does_not_hold_up_the_others,
    every_account_jobs_of_an_earlier_version_become_one_job_per_account,
);

async fn jobs_are_listed_cancelled_and_retried(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    // A sync held in its read keeps the account busy, so its next job waits in the queue.
    app.catalog.hold_reads();
    let (_, running) = app
        .post_empty(&format!("/api/synchronizer/forceUpdate?account={ACCOUNT}"))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.catalog.reads_held.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "the sync never read");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (_, waiting) = app
        .post_empty(&format!(
            "/api/synchronizer/reconcile?dry_run=true&account={ACCOUNT}"
        ))
        .await;
    let waiting_id = waiting["tasks"][0]["id"].as_str().unwrap().to_owned();

    let (status, list) = app.get("/api/jobs?state=enqueued").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["jobs"][0]["kind"], "reconcile_dry_run");
    let (_, running_list) = app.get("/api/jobs?state=running&kind=sync_all").await;
    assert_eq!(running_list["jobs"][0]["id"], running["tasks"][0]["id"]);

    let (status, _) = app.delete(&format!("/api/jobs/{waiting_id}")).await;
    assert_eq!(status, 204);
    let (status, again) = app.delete(&format!("/api/jobs/{waiting_id}")).await;
    assert_eq!(status, 409, "{again}");
    let running_id = running["tasks"][0]["id"].as_str().unwrap();
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
    // Newest first, a page at a time, with and without a state.
    let listed = |page: &serde_json::Value| {
        let sales = page["sales"].as_array().unwrap();
        let ids = sales.iter().map(|s| s["id"].as_str().unwrap());
        ids.map(|id| format!("/api/sales/{id}")).collect::<Vec<_>>()
    };
    assert_eq!(listed(&all), [dead.clone(), ok.clone()]);
    let (_, second) = app.get("/api/sales?per_page=1&page=2").await;
    assert_eq!(
        (listed(&second), &second["total"]),
        (vec![ok.clone()], &json!(2))
    );
    let (_, confirmed) = app.get("/api/sales?state=confirmed&per_page=1").await;
    assert_eq!(
        (listed(&confirmed), &confirmed["total"]),
        (vec![ok], &json!(1))
    );
    assert_eq!(app.get("/api/sales?state=lost").await.0, 400);
}

async fn old_history_is_purged_and_waiting_jobs_kept(backend: Backend) {
    let Some(db) = stocksync_testkit::TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let done = store
        .enqueue_job(
            NewJob::new(TaskKind::SyncAll, &AccountId::new("a")),
            Utc::now(),
        )
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
        .enqueue_job(
            NewJob::new(TaskKind::Reconcile, &AccountId::new("a")),
            Utc::now(),
        )
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

async fn a_job_whose_worker_vanished_is_taken_over_once_its_lease_expires(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let (account, lease, t0) = (AccountId::new("a"), Duration::seconds(30), Utc::now());
    let at = |seconds: i64| t0 + Duration::seconds(seconds);
    let ok = TaskOutcome {
        summary: "ok".into(),
        ..TaskOutcome::default()
    };
    let sync = store
        .enqueue_job(NewJob::new(TaskKind::SyncAll, &account), t0)
        .await
        .unwrap();
    let read = store
        .enqueue_job(
            NewJob {
                payload: Some(r#"["p-1"]"#),
                ..NewJob::new(TaskKind::ReadItems, &account)
            },
            at(1),
        )
        .await
        .unwrap();
    let reconcile = store
        .enqueue_job(NewJob::new(TaskKind::Reconcile, &account), at(2))
        .await
        .unwrap();

    let claimed = store
        .claim_task("w1", at(3), lease, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.id.clone(), claimed.attempts), (sync.id.clone(), 1));
    assert_eq!(claimed.worker.as_deref(), Some("w1"));
    assert!(
        store
            .claim_task("w2", at(10), lease, 3)
            .await
            .unwrap()
            .is_none(),
        "the account is busy"
    );
    assert!(
        store
            .renew_task_lease(&sync.id, "w1", at(40))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_task("w2", at(39), lease, 3)
            .await
            .unwrap()
            .is_none(),
        "a renewed lease holds"
    );

    // w1 stops renewing: once its lease is over, w2 takes the same job over.
    let taken = store
        .claim_task("w2", at(41), lease, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.clone(), taken.attempts), (sync.id.clone(), 2));
    assert!(
        !store
            .renew_task_lease(&sync.id, "w1", at(42))
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_task(&sync.id, "w1", &ok, NextStep::Done)
            .await
            .unwrap(),
        "the old worker's outcome is dropped"
    );
    assert!(
        store
            .finish_task(&sync.id, "w2", &ok, NextStep::Done)
            .await
            .unwrap()
    );
    let done = store.task(sync.id.as_str()).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.worker.as_deref()),
        (TaskState::Succeeded, Some("w2"))
    );

    for (expected, worker) in [(&read, "w1"), (&reconcile, "w2")] {
        let next = store
            .claim_task(worker, at(43), lease, 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.id, expected.id);
        assert!(
            store
                .finish_task(&next.id, worker, &ok, NextStep::Done)
                .await
                .unwrap()
        );
    }

    // A job whose worker vanishes at every attempt is dead after the last.
    let poison = store
        .enqueue_job(NewJob::new(TaskKind::ReconcileDryRun, &account), at(44))
        .await
        .unwrap();
    for attempt in 0..3 {
        let again = store
            .claim_task("doomed", at(45 + 31 * attempt), lease, 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.id.clone(), again.attempts),
            (poison.id.clone(), attempt + 1)
        );
    }
    assert!(
        store
            .claim_task("w3", at(45 + 31 * 3), lease, 3)
            .await
            .unwrap()
            .is_none()
    );
    let dead = store.task(poison.id.as_str()).await.unwrap().unwrap();
    assert_eq!(dead.state, TaskState::Dead);
    assert!(dead.error.unwrap().contains("lease expired"));
}

async fn a_failing_reconciliation_is_retried_later_then_dead(backend: Backend) {
    let start = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0);
    let clock = Arc::new(ManualClock::new(start));
    let Some(app) = TestApp::spawn_with(
        backend,
        Options {
            clock: Some(clock.clone()),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    app.catalog.set_down(true);
    let (_, answer) = app.post_empty("/api/synchronizer/reconcile").await;
    let location = answer["location"].as_str().unwrap().to_owned();
    // The failing account's job (the other account's succeeds).
    let id = answer["tasks"][0]["id"].as_str().unwrap().to_owned();
    let job_state = || async {
        let (_, job) = app.get(&location).await;
        (
            job["state"].as_str().unwrap_or("").to_owned(),
            job["attempts"].as_i64().unwrap_or(0),
            job,
        )
    };
    // Retries wait 30 s, then 60 s (on the job's clock), and the third failure is the last.
    for (attempt, wait) in [(1, 30), (2, 60)] {
        let mut job = json!(null);
        // Up to 30 s: the suite runs beside two real processes and the chaos test.
        for _ in 0..1200 {
            let (state, attempts, seen) = job_state().await;
            job = seen;
            if state == "scheduled" && attempts == attempt {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(job["state"], "scheduled", "{job}");
        assert!(job["error"].as_str().unwrap().contains("down"), "{job}");
        let run_at: chrono::DateTime<Utc> = serde_json::from_value(job["run_at"].clone()).unwrap();
        assert_eq!((run_at - clock_now(&clock)).num_seconds(), wait, "{job}");
        clock.set(run_at + Duration::seconds(1));
    }
    let dead = app.wait_task(&location).await;
    assert_eq!(
        (dead["state"].clone(), dead["attempts"].clone()),
        (json!("dead"), json!(3)),
        "{dead}"
    );
    let (_, listed) = app.get("/api/jobs?state=dead").await;
    assert_eq!(listed["total"], 1, "{listed}");

    app.catalog.set_down(false);
    let (status, again) = app.post_empty(&format!("/api/jobs/{id}/retry")).await;
    assert_eq!(status, 202, "{again}");
    let done = app.wait_task(again["location"].as_str().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    use stocksync::clock::Clock;
    clock.now()
}

async fn a_backlog_of_one_busy_account_does_not_hold_up_the_others(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = db.store().await;
    store.migrate().await.unwrap();
    let (busy, other, t0) = (AccountId::new("busy"), AccountId::new("other"), Utc::now());
    let lease = Duration::seconds(30);
    store
        .enqueue_job(NewJob::new(TaskKind::SyncAll, &busy), t0)
        .await
        .unwrap();
    let running = store.claim_task("w1", t0, lease, 3).await.unwrap().unwrap();
    assert_eq!(running.account.as_ref(), Some(&busy));
    // A burst of webhooks for the busy account, older than the other account's job.
    for i in 0..150 {
        let payload = format!(r#"["p-{i}"]"#);
        store
            .enqueue_job(
                NewJob {
                    payload: Some(&payload),
                    ..NewJob::new(TaskKind::ReadItems, &busy)
                },
                t0 + Duration::milliseconds(i + 1),
            )
            .await
            .unwrap();
    }
    let waiting = store
        .enqueue_job(
            NewJob::new(TaskKind::SyncAll, &other),
            t0 + Duration::seconds(1),
        )
        .await
        .unwrap();
    let next = store
        .claim_task("w2", t0 + Duration::seconds(2), lease, 3)
        .await
        .unwrap();
    assert_eq!(next.map(|t| t.id), Some(waiting.id));
}

/// Issue 11, item 5: an earlier version made one job for every account (no `account_id`). One
/// left waiting at the upgrade, or retried after it, becomes one job per account, each run on
/// its own (and the original says so).
async fn every_account_jobs_of_an_earlier_version_become_one_job_per_account(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.db
        .execute(
            "INSERT INTO stocksync_tasks (id, kind, account_id, state, attempts, created_at, finished_at) VALUES \
             ('legacy-waiting', 'reconcile_dry_run', NULL, 'enqueued', 0, '2026-01-01 00:00:00', NULL), \
             ('legacy-failed', 'sync_all', NULL, 'failed', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:01')",
        )
        .await;
    let mut both = vec![ACCOUNT.to_owned(), OTHER_ACCOUNT.to_owned()];
    both.sort();

    let legacy = app.wait_task("/api/itemstask/legacy-waiting").await;
    assert_eq!(legacy["state"], "succeeded", "{legacy}");
    assert!(
        legacy["summary"]
            .as_str()
            .unwrap()
            .contains("one job per account"),
        "{legacy}"
    );
    crate::scheduler::eventually("each account's dry run", || async {
        succeeded_accounts(&app, "reconcile_dry_run").await == both
    })
    .await;

    let (status, retried) = app.post_empty("/api/jobs/legacy-failed/retry").await;
    assert_eq!(status, 202, "{retried}");
    crate::scheduler::eventually("each account's sync", || async {
        succeeded_accounts(&app, "sync_all").await == both
    })
    .await;
}

/// The accounts of the jobs of `kind` that succeeded, sorted.
async fn succeeded_accounts(app: &TestApp, kind: &str) -> Vec<String> {
    let (_, page) = app.get(&format!("/api/jobs?kind={kind}")).await;
    let mut accounts: Vec<String> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| job["state"] == "succeeded")
        .filter_map(|job| job["account_id"].as_str().map(str::to_owned))
        .collect();
    accounts.sort();
    accounts
}
