//! The scheduler (issue 5), with a hand-moved clock: one sync job per account per tick, each
//! account on its own schedule in the configured time zone, overlapping ticks skipped and
//! counted, schedules changed at run time (kept across restarts, bad ones refused with the
//! reason), a Hiboutik budget spacing the polls, and two processes on one database making one
//! job per tick.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use stocksync::clock::ManualClock;
use stocksync_testkit::{
    ACCOUNT, Backend, OTHER_ACCOUNT, Options, TestApp, on_every_backend, test_config,
};

on_every_backend!(
    accounts_follow_their_own_schedules_in_the_configured_time_zone,
    a_tick_that_would_overlap_a_running_sync_is_skipped_and_counted,
    a_tick_missed_while_down_runs_once_at_start,
    schedules_change_at_run_time_and_bad_ones_are_refused,
    a_spent_hiboutik_budget_spaces_its_polls,
    two_processes_make_one_job_per_tick,
    the_nightly_reconciliation_is_one_job_per_account,
);

fn utc(day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, day, hour, minute, second)
        .unwrap()
}

/// A Hiboutik monthly quota roomy enough for a poll every minute.
const ROOMY: i64 = 100_000_000;

/// Starts an app whose schedules read `clock`, with `extra` top-level config keys and `hiboutik`
/// keys on the Hiboutik account.
async fn spawn(
    backend: Backend,
    clock: &Arc<ManualClock>,
    extra: Value,
    hiboutik: Value,
) -> Option<TestApp> {
    let mut config = test_config();
    for (key, value) in hiboutik.as_object().unwrap() {
        config["PosAccess"]["PosConfigurations"][1][key] = value.clone();
    }
    // The clock jumps by minutes: leases that long keep running jobs their worker's.
    let mut keys = json!({ "PosAccess": config["PosAccess"], "JobLeaseSeconds": 3600 });
    for (key, value) in extra.as_object().unwrap() {
        keys[key] = value.clone();
    }
    TestApp::spawn_with(
        backend,
        Options {
            config: Some(keys),
            clock: Some(clock.clone()),
            ..Options::default()
        },
    )
    .await
}

/// Starts the synchronizer and waits until the scheduler has taken note of every schedule (a
/// sync and a reconciliation per account; from then on, ticks after the clock's time fire).
async fn start(app: &TestApp) {
    let (status, body) = app.post_empty("/api/synchronizer/start").await;
    assert_eq!(status, 200, "{body}");
    eventually("the schedules are begun", || async {
        app.db
            .pairs("SELECT COUNT(*), 0 FROM stocksync_schedules")
            .await[0]
            .0
            == 4
    })
    .await;
}

/// Polls `check` for up to 30 s (a bound for a busy machine, not a timing).
pub(crate) async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not within 30 s");
}

/// The sync jobs of `account`, oldest first.
async fn sync_jobs(app: &TestApp, account: &str) -> Vec<Value> {
    let (status, page) = app.get("/api/jobs?kind=sync_all&per_page=1000").await;
    assert_eq!(status, 200, "{page}");
    let mut jobs: Vec<Value> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| job["account_id"] == account)
        .cloned()
        .collect();
    jobs.reverse();
    jobs
}

async fn all_succeeded(app: &TestApp, account: &str, count: usize) -> bool {
    let jobs = sync_jobs(app, account).await;
    jobs.len() == count && jobs.iter().all(|job| job["state"] == "succeeded")
}

async fn account_schedule(app: &TestApp, index: usize) -> Value {
    let (status, body) = app.get("/api/synchronizer").await;
    assert_eq!(status, 200, "{body}");
    body["accounts"][index]["schedule"].clone()
}

async fn accounts_follow_their_own_schedules_in_the_configured_time_zone(backend: Backend) {
    // 02:59:30 in Paris (UTC+2 in July).
    let clock = Arc::new(ManualClock::new(utc(10, 0, 59, 30)));
    let extra = json!({ "TimeZone": "Europe/Paris" });
    let Some(app) = spawn(backend, &clock, extra, json!({ "Cron": "0 3 * * *" })).await else {
        return;
    };
    start(&app).await;
    assert!(sync_jobs(&app, ACCOUNT).await.is_empty());

    // 03:00 in Paris: the every-minute account and the 03:00 one each get one job.
    clock.set(utc(10, 1, 0, 0));
    eventually("both accounts synced once", || async {
        all_succeeded(&app, ACCOUNT, 1).await && all_succeeded(&app, OTHER_ACCOUNT, 1).await
    })
    .await;
    let job = &sync_jobs(&app, OTHER_ACCOUNT).await[0];
    assert_eq!(job["scheduled"], true, "{job}");

    // A minute later only the every-minute account is due.
    clock.set(utc(10, 1, 1, 0));
    eventually("the every-minute account synced again", || {
        all_succeeded(&app, ACCOUNT, 2)
    })
    .await;
    assert_eq!(sync_jobs(&app, OTHER_ACCOUNT).await.len(), 1);

    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["time_zone"], "Europe/Paris", "{status}");
    let own = &status["accounts"][1]["schedule"];
    assert_eq!(own["cron"], "0 3 * * *", "{status}");
    assert_eq!(own["source"], "config");
    assert_eq!(
        own["next_run"], "2026-07-11T01:00:00Z",
        "03:00 in Paris, tomorrow"
    );
    assert_eq!(status["accounts"][0]["schedule"]["cron"], "* * * * *");
    assert_eq!(
        status["next_run"], "2026-07-10T01:02:00Z",
        "the earliest account's"
    );

    // Ticks missed while stopped are not caught up when started again.
    assert_eq!(app.post_empty("/api/synchronizer/stop").await.0, 200);
    clock.set(utc(10, 1, 30, 30));
    assert_eq!(app.post_empty("/api/synchronizer/start").await.0, 200);
    clock.set(utc(10, 1, 31, 0));
    // The next tick's job proves the scheduler has gone past the start: a catch-up job would
    // be there by now, and the count would never be 3.
    eventually(
        "the next tick after the start fires, and nothing else",
        || all_succeeded(&app, ACCOUNT, 3),
    )
    .await;
}

async fn a_tick_that_would_overlap_a_running_sync_is_skipped_and_counted(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 10, 0, 30)));
    let roomy = json!({ "MaximumRequests": ROOMY });
    let Some(app) = spawn(backend, &clock, json!({}), roomy).await else {
        return;
    };
    start(&app).await;
    app.catalog.hold_reads();
    clock.set(utc(10, 10, 1, 0));
    eventually("the first sync is running", || async {
        sync_jobs(&app, ACCOUNT)
            .await
            .first()
            .is_some_and(|job| job["state"] == "running")
    })
    .await;
    // The other account's first sync must be over, or its next tick would overlap it too.
    eventually("the other account's first sync", || {
        all_succeeded(&app, OTHER_ACCOUNT, 1)
    })
    .await;
    clock.set(utc(10, 10, 2, 0));
    eventually("the overlapping tick is counted", || async {
        account_schedule(&app, 0).await["skipped_overlap"] == 1
    })
    .await;
    assert_eq!(sync_jobs(&app, ACCOUNT).await.len(), 1, "no second job");
    eventually("the other account is not held up", || {
        all_succeeded(&app, OTHER_ACCOUNT, 2)
    })
    .await;
    assert_eq!(account_schedule(&app, 1).await["skipped_overlap"], 0);
    let metrics = app
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "stocksync_schedule_skipped_total{{schedule=\"sync:{ACCOUNT}\",reason=\"overlap\"}} 1"
        )),
        "{metrics}"
    );

    app.catalog.release_reads();
    eventually("the held sync ends", || all_succeeded(&app, ACCOUNT, 1)).await;
    clock.set(utc(10, 10, 3, 0));
    eventually("the next tick runs again", || {
        all_succeeded(&app, ACCOUNT, 2)
    })
    .await;
}

async fn a_tick_missed_while_down_runs_once_at_start(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 10, 0, 30)));
    let roomy = json!({ "MaximumRequests": ROOMY });
    let Some(mut app) = spawn(backend, &clock, json!({}), roomy).await else {
        return;
    };
    start(&app).await;
    clock.set(utc(10, 10, 1, 0));
    // Both accounts' first jobs are over before the stop: a job cut short by it would hold its
    // lease for JobLeaseSeconds, past this test's waits.
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        eventually("the first tick's sync", || all_succeeded(&app, account, 1)).await;
    }

    // Down from 10:01 to 10:05:30: the four ticks missed make one sync at start.
    app.stop().await;
    clock.set(utc(10, 10, 5, 30));
    let app = app.restart().await;
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        eventually("the missed tick caught up", || {
            all_succeeded(&app, account, 2)
        })
        .await;
    }
    // The next tick's job proves the start's catch-up is over: once, not once per missed tick.
    clock.set(utc(10, 10, 6, 0));
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        eventually("the next tick, after one catch-up", || {
            all_succeeded(&app, account, 3)
        })
        .await;
    }
}

async fn put_schedule(app: &TestApp, body: Value) -> (u16, Value) {
    stocksync_testkit::send(
        app.request(reqwest::Method::PUT, "/api/synchronizer/schedule")
            .json(&body),
    )
    .await
}

async fn schedules_change_at_run_time_and_bad_ones_are_refused(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 12, 0, 30)));
    let Some(app) = spawn(backend, &clock, json!({}), json!({})).await else {
        return;
    };
    let (status, body) = put_schedule(&app, json!({ "cron": "*/5 * * * *" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cron"], "*/5 * * * *");
    assert_eq!(body["cron_source"], "api");
    assert_eq!(body["accounts"][ACCOUNT]["cron"], "*/5 * * * *");
    let (status, body) = put_schedule(
        &app,
        json!({ "account_id": OTHER_ACCOUNT, "cron": "0 */2 * * MON-FRI" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accounts"][OTHER_ACCOUNT]["cron"], "0 */2 * * MON-FRI");
    assert_eq!(body["accounts"][OTHER_ACCOUNT]["source"], "api");
    assert_eq!(body["accounts"][ACCOUNT]["cron"], "*/5 * * * *");
    let (status, body) = put_schedule(
        &app,
        json!({ "reconcile_cron": "30 4 * * 7", "time_zone": "America/New_York" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reconcile"]["cron"], "30 4 * * 7");
    assert_eq!(body["time_zone"], "America/New_York");

    // Refused, with the reason, and nothing changed.
    for (bad, code, says) in [
        (
            json!({ "cron": "61 * * * *" }),
            400,
            "not a valid 5-field CRON",
        ),
        (
            json!({ "cron": "* * * * * *" }),
            400,
            "not a valid 5-field CRON",
        ),
        (
            json!({ "cron": "* * * * *", "time_zone": "Mars/Olympus" }),
            400,
            "Mars/Olympus",
        ),
        (json!({}), 400, "nothing to change"),
        (
            json!({ "account_id": OTHER_ACCOUNT, "time_zone": "UTC" }),
            400,
            "without account_id",
        ),
        (
            json!({ "account_id": "nope", "cron": "* * * * *" }),
            404,
            "nope",
        ),
        (json!({ "cron": 5 }), 422, "cron"),
        (json!({ "crons": "* * * * *" }), 422, "crons"),
    ] {
        let (status, body) = put_schedule(&app, bad.clone()).await;
        assert_eq!(status, code, "{bad}: {body}");
        assert!(
            body["error_message"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{bad}: {body}"
        );
    }

    // Kept across a restart.
    let app = app.restart().await;
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["cron"], "*/5 * * * *", "{status}");
    assert_eq!(status["time_zone"], "America/New_York");
    assert_eq!(status["reconcile_cron"], "30 4 * * 7");
    assert_eq!(
        status["accounts"][1]["schedule"]["cron"],
        "0 */2 * * MON-FRI"
    );

    // `null` goes back to the configuration's.
    let (status, body) = put_schedule(&app, json!({ "cron": null, "time_zone": null })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cron"], "* * * * *");
    assert_eq!(body["cron_source"], "config");
    assert_eq!(body["time_zone"], "UTC");
    assert_eq!(body["accounts"][ACCOUNT]["cron"], "* * * * *");
    assert_eq!(
        body["accounts"][OTHER_ACCOUNT]["cron"], "0 */2 * * MON-FRI",
        "the account's own stays"
    );
}

async fn a_spent_hiboutik_budget_spaces_its_polls(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 10, 0, 30)));
    let Some(app) = spawn(backend, &clock, json!({}), json!({})).await else {
        return;
    };
    // 9 500 of the month's 10 000 calls are spent: with the reserve kept for webhooks and
    // sales, no poll is left before the month ends.
    app.db
        .execute(&format!(
            "INSERT INTO stocksync_pos_calls (account_id, month, calls) VALUES ('{OTHER_ACCOUNT}', '2026-07', 9500)"
        ))
        .await;
    start(&app).await;
    clock.set(utc(10, 10, 1, 0));
    // Both first syncs over before the next tick: a Square sync still running then would have
    // that tick skipped as an overlap (under load it was), not spaced.
    for account in [OTHER_ACCOUNT, ACCOUNT] {
        eventually("the first poll runs", || all_succeeded(&app, account, 1)).await;
    }
    clock.set(utc(10, 10, 2, 0));
    eventually("the next tick is skipped for the budget", || async {
        account_schedule(&app, 1).await["skipped_budget"] == 1
    })
    .await;
    assert_eq!(sync_jobs(&app, OTHER_ACCOUNT).await.len(), 1);
    eventually("Square is not spaced", || all_succeeded(&app, ACCOUNT, 2)).await;
    let (_, status) = app.get("/api/synchronizer").await;
    let spacing = &status["accounts"][1]["poll_spacing"];
    assert_eq!(spacing["polls_left"], 0, "{status}");
    assert_eq!(spacing["month_end"], "2026-08-01T00:00:00Z");
    assert_eq!(status["accounts"][0]["poll_spacing"], Value::Null);
}

async fn two_processes_make_one_job_per_tick(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 10, 0, 30)));
    let roomy = json!({ "MaximumRequests": ROOMY });
    let Some(first) = spawn(backend, &clock, json!({}), roomy).await else {
        return;
    };
    let second = first
        .spawn_beside(Options {
            config: first.options().config.clone(),
            clock: Some(clock.clone()),
            ..Options::default()
        })
        .await;
    start(&first).await;
    // The second process learns of the start from the database.
    eventually("the second process sees the start", || async {
        second.get("/api/synchronizer").await.1["running"] == true
    })
    .await;
    // Each tick's count is waited for before the next tick, and `all_succeeded` wants it exact:
    // a second job for a tick would keep the count from ever matching.
    for minute in 1..=4 {
        clock.set(utc(10, 10, minute, 0));
        for account in [ACCOUNT, OTHER_ACCOUNT] {
            eventually("each tick's job done, once", || {
                all_succeeded(&second, account, minute as usize)
            })
            .await;
        }
    }
}

/// Issue 11, item 5: the `ReconcileCron` tick makes one reconciliation job per account, so one
/// slow or failing account neither holds up nor re-reads the others.
async fn the_nightly_reconciliation_is_one_job_per_account(backend: Backend) {
    let clock = Arc::new(ManualClock::new(utc(10, 2, 59, 30)));
    let extra = json!({ "TimeZone": "UTC", "ReconcileCron": "0 3 * * *" });
    let roomy = json!({ "MaximumRequests": ROOMY });
    let Some(app) = spawn(backend, &clock, extra, roomy).await else {
        return;
    };
    start(&app).await;
    clock.set(utc(10, 3, 0, 0));
    let reconciliations = || async {
        let (_, page) = app.get("/api/jobs?kind=reconcile").await;
        page["jobs"].as_array().unwrap().clone()
    };
    eventually("each account reconciled once", || async {
        let jobs = reconciliations().await;
        let mut accounts: Vec<&str> = jobs
            .iter()
            .filter(|job| job["state"] == "succeeded" && job["scheduled"] == true)
            .filter_map(|job| job["account_id"].as_str())
            .collect();
        accounts.sort();
        jobs.len() == 2 && accounts == [OTHER_ACCOUNT, ACCOUNT]
    })
    .await;
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["reconcile_cron"], "0 3 * * *", "{status}");
    assert_eq!(status["next_reconcile"], "2026-07-11T03:00:00Z", "{status}");
}
