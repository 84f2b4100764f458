//! Reconciliation: a full read that reports every link whose shop quantity differs from the
//! POS, and every linked product gone from the POS, and fixes the drift unless it is a dry run.

use crate::scheduler::eventually;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync::clock::{Clock, ManualClock};
use stocksync_testkit::{ACCOUNT, Backend, OTHER_ACCOUNT, Options, TestApp, on_every_backend};

on_every_backend!(
    a_dry_run_reports_drift_and_changes_nothing,
    reconciling_fixes_drift_and_reports_vanished_products,
    a_failing_account_is_retried_alone,
);

async fn drifted_app(backend: Backend) -> Option<TestApp> {
    let app = TestApp::spawn(backend).await?;
    for (pos_ref, quantity) in [("KEEP", 4), ("DRIFT", 5), ("GONE", 3), ("UNCOUNTED", 0)] {
        app.catalog.put(pos_ref, pos_ref, None, quantity);
        app.link(pos_ref, &pos_ref.to_lowercase()).await;
    }
    // Changes the synchronizer has not seen: a till sale, an archived product, and a product
    // that bulk reads leave out although it still exists.
    app.catalog.set_quantity("DRIFT", 2);
    app.catalog.remove("GONE");
    app.catalog.leave_out_of_reads("UNCOUNTED");
    Some(app)
}

async fn reconcile(app: &TestApp, query: &str) -> Value {
    let (status, answer) = app
        .post_empty(&format!("/api/synchronizer/reconcile{query}"))
        .await;
    assert_eq!(status, 202, "{answer}");
    let task = app.wait_task(answer["location"].as_str().unwrap()).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    task
}

async fn quantities(app: &TestApp) -> Vec<(String, i64)> {
    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["posID"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn refs(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["item_pos_id"].as_str().unwrap())
        .collect()
}

async fn a_dry_run_reports_drift_and_changes_nothing(backend: Backend) {
    let Some(app) = drifted_app(backend).await else {
        return;
    };
    let before = quantities(&app).await;
    let task = reconcile(&app, "?dry_run=true").await;
    assert_eq!(task["kind"], "reconcile_dry_run");
    let report = &task["result"]["accounts"][0]["report"];
    assert_eq!(task["result"]["dry_run"], true);
    assert_eq!(refs(&report["drifted"]), ["DRIFT"]);
    let drift = &report["drifted"][0];
    assert_eq!(
        (drift["shop_quantity"].as_i64(), drift["expected"].as_i64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        refs(&report["missing"]),
        ["GONE"],
        "a product left out of reads is looked up, not reported"
    );
    assert_eq!(
        (
            report["drifted_total"].as_u64(),
            report["missing_total"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        task["summary"]
            .as_str()
            .unwrap()
            .contains("1 link(s) differ"),
        "{task}"
    );
    assert_eq!(quantities(&app).await, before, "a dry run changes nothing");
    let id = drift["link_id"].as_i64().unwrap();
    let (_, history) = app.get(&format!("/api/items/{id}/history")).await;
    assert_eq!(history["total"], 1, "only the registration: {history}");
}

async fn reconciling_fixes_drift_and_reports_vanished_products(backend: Backend) {
    let Some(app) = drifted_app(backend).await else {
        return;
    };
    let task = reconcile(&app, "").await;
    assert_eq!(task["kind"], "reconcile");
    let report = &task["result"]["accounts"][0]["report"];
    assert_eq!(refs(&report["drifted"]), ["DRIFT"]);
    assert_eq!(refs(&report["missing"]), ["GONE"]);
    let fixed: Vec<(String, i64)> = quantities(&app).await;
    assert_eq!(
        fixed,
        [
            ("KEEP".into(), 4),
            ("DRIFT".into(), 2),
            ("GONE".into(), 0),
            ("UNCOUNTED".into(), 0)
        ],
        "drift fixed; a vanished product is reported and no longer sold"
    );
    let gone = report["missing"][0]["link_id"].as_i64().unwrap();
    let (_, history) = app.get(&format!("/api/items/{gone}/history")).await;
    assert_eq!(history["entries"][0]["reason"], "pos_gone");
    let again = reconcile(&app, "?dry_run=true").await;
    assert_eq!(
        again["result"]["accounts"][0]["report"]["drifted"],
        serde_json::json!([])
    );
    let (_, status) = app.get("/api/synchronizer").await;
    assert_eq!(status["reconcile_cron"], "0 3 * * *");
}

/// Issue 11, item 5: a reconciliation of every account is one job per account, so the retry
/// of a failed account reads that account alone: the others are not read again (their POS
/// calls are counted), which would spend Hiboutik's monthly budget for nothing.
async fn a_failing_account_is_retried_alone(backend: Backend) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let options = Options {
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    app.catalog.set_down(true);
    let (status, answer) = app.post_empty("/api/synchronizer/reconcile").await;
    assert_eq!(status, 202, "{answer}");

    eventually(
        "the failed account waits for its retry, nothing else runs",
        || async {
            jobs(&app, "scheduled").await.len() == 1
                && jobs(&app, "running").await.is_empty()
                && jobs(&app, "enqueued").await.is_empty()
        },
    )
    .await;
    let retry = jobs(&app, "scheduled").await.remove(0);
    assert!(
        retry["error"].as_str().unwrap().contains(ACCOUNT),
        "{retry}"
    );
    let other_reads = app.other_catalog.calls.load(Ordering::SeqCst);
    assert!(other_reads > 0, "{OTHER_ACCOUNT} was read once");

    app.catalog.set_down(false);
    let run_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(retry["run_at"].clone()).unwrap();
    clock.set(run_at.max(clock.now()) + chrono::Duration::seconds(1));
    let done = app
        .wait_task(&format!("/api/itemstask/{}", retry["id"].as_str().unwrap()))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    assert_eq!(
        app.other_catalog.calls.load(Ordering::SeqCst),
        other_reads,
        "the retry did not read {OTHER_ACCOUNT} again"
    );
}

async fn jobs(app: &TestApp, state: &str) -> Vec<Value> {
    let (_, page) = app.get(&format!("/api/jobs?state={state}")).await;
    page["jobs"].as_array().unwrap().clone()
}
