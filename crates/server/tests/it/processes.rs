//! Two `stocksync serve` processes on one database (issue 5), against the Square and Hiboutik
//! simulators: they share the web sales (each on its POS exactly once), share the jobs without
//! ever running two syncs of one account at once, and when the process running a job is killed
//! (SIGKILL), the other takes the job over once its lease expires, and takes over the dead
//! process's outbox too.

use crate::process::{Stocksync, two_on_one_database};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions};
use stocksync_pos::simkit::{FaultPlan, catalog};
use stocksync_square::{SquareSim, SquareSimOptions};
use stocksync_testkit::{Backend, TestDb, on_every_backend};

on_every_backend!(
    two_processes_share_the_work_and_take_over_from_a_killed_one,
    a_backlog_longer_than_the_lease_reaches_the_pos_once,
);

/// Products linked per POS.
const LINKS: usize = 8;

async fn two_processes_share_the_work_and_take_over_from_a_killed_one(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let square = SquareSim::start(SquareSimOptions {
        products: catalog(20, 1),
        ..SquareSimOptions::default()
    })
    .await
    .expect("the Square simulator");
    let hiboutik = HiboutikSim::start(HiboutikSimOptions {
        products: catalog(20, 2),
        ..HiboutikSimOptions::default()
    })
    .await
    .expect("the Hiboutik simulator");
    let mut hiboutik_settings = hiboutik.account_settings();
    hiboutik_settings["MaximumRequests"] = json!(1_000_000);
    let square_account = square.account_settings()["AccountID"]
        .as_str()
        .unwrap()
        .to_owned();
    let hiboutik_account = hiboutik_settings["AccountName"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut processes = two_on_one_database(
        &db,
        dir.path(),
        json!({
            "SaleRetrySeconds": 0.05,
            "SaleRetryMaxSeconds": 0.5,
            "JobLeaseSeconds": 2,
            "PosAccess": { "PosConfigurations": [square.account_settings(), hiboutik_settings] },
        }),
    )
    .await;
    let [a, b] = &processes;
    assert_eq!(a.post_ok("/api/synchronizer/start", None).await.0, 200);
    let (_, status) = b.get_ok("/api/synchronizer").await;
    assert_eq!(
        status["running"], true,
        "B reads A's start from the database"
    );

    // Links made through either process; web sales sent to both, alternately.
    let mut items = Vec::new();
    for (vendor, refs, account) in [
        ("square", square.product_refs(), square_account.clone()),
        (
            "hiboutik",
            hiboutik.product_refs(),
            hiboutik_account.clone(),
        ),
    ] {
        for (i, pos_ref) in refs.iter().take(LINKS).enumerate() {
            let item = format!("{vendor}-{i}");
            let via = if i % 2 == 0 { a } else { b };
            let (status, link) = via
                .post_ok(
                    "/api/items",
                    Some(&json!({ "item_pos_id": pos_ref, "item_ecommerce_id": item, "account_id": account })),
                )
                .await;
            assert_eq!(status, 201, "{link}");
            items.push(item);
        }
    }
    let mut sales = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let via = if i % 2 == 0 { a } else { b };
        let (status, answer) = via
            .post_ok(
                "/api/synchronizer/sale",
                Some(
                    &json!({ "item_ecommerce_id": item, "delta": 1, "balance": 500, "order_id": format!("o-{i}") }),
                ),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        sales.push(answer["location"].as_str().unwrap().to_owned());
    }

    // Syncs asked of both processes, many times: never two of one account at once.
    for round in 0..6 {
        for process in [a, b] {
            let (status, _) = process.post_ok("/api/synchronizer/forceUpdate", None).await;
            assert_eq!(status, 202);
            for account in [&square_account, &hiboutik_account] {
                let path = format!("/api/synchronizer/forceUpdate?account={account}");
                let _ = process.post_ok(&path, None).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50 * round)).await;
    }
    wait_all_confirmed(a, &sales).await;
    assert_eq!(
        square.recorded_web_sales(),
        LINKS,
        "each sale once on Square"
    );
    assert_eq!(
        hiboutik.recorded_web_sales(),
        LINKS,
        "each sale once on Hiboutik"
    );
    let jobs = wait_jobs_done(a).await;
    assert_no_overlap(&jobs);

    // A slow POS keeps its reconciliation running; its process is killed mid-job.
    square.faults().set(FaultPlan {
        latency: Duration::from_millis(700),
        ..FaultPlan::default()
    });
    let path = format!("/api/synchronizer/reconcile?account={square_account}");
    let (_, answer) = b.post_ok(&path, None).await;
    let location = answer["location"].as_str().unwrap().to_owned();
    let holder = wait_running(a, &location).await;
    let pids: Vec<u32> = processes.iter().map(|p| p.pid().unwrap()).collect();
    let victim = pids
        .iter()
        .position(|pid| holder.contains(&format!(":{pid}:")))
        .unwrap_or_else(|| panic!("the job's worker {holder} is neither process {pids:?}"));
    processes[victim].kill();
    let survivor = &processes[1 - victim];
    // Sales sent to the survivor reach their POS although the dead process held the outbox.
    let mut late = Vec::new();
    for (i, item) in items.iter().enumerate().step_by(LINKS / 2) {
        let (status, answer) = survivor
            .post_ok(
                "/api/synchronizer/sale",
                Some(&json!({ "item_ecommerce_id": item, "delta": 1, "balance": 500, "order_id": format!("late-{i}") })),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        late.push(answer["location"].as_str().unwrap().to_owned());
    }
    let task = survivor.wait_task(&location, Duration::from_secs(60)).await;
    assert_eq!(task["state"], "succeeded", "{task}");
    assert_eq!(task["attempts"], 2, "taken over once: {task}");
    let worker = task["worker"].as_str().unwrap();
    assert!(
        worker.contains(&format!(":{}:", pids[1 - victim])),
        "finished by the survivor: {task}"
    );
    wait_all_confirmed(survivor, &late).await;
    assert_eq!(
        square.recorded_web_sales() + hiboutik.recorded_web_sales(),
        2 * LINKS + late.len(),
        "each late sale once"
    );
    assert_no_overlap(&wait_jobs_done(survivor).await);
}

/// A backlog of web sales several leases long, on a slow Hiboutik (each call answered in
/// 0.25 s, a sale five calls), pushed by two processes sharing one database: the lease of the
/// account's outbox is renewed while the backlog drains, so the second process never pushes
/// the same sales at once, and each sale is on Hiboutik once (issue 11: 56 units for 30 sales).
async fn a_backlog_longer_than_the_lease_reaches_the_pos_once(backend: Backend) {
    const SALES: usize = 30;
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let mut products = catalog(1, 3);
    products[0].quantity = 100;
    let hiboutik = HiboutikSim::start(HiboutikSimOptions {
        products,
        ..HiboutikSimOptions::default()
    })
    .await
    .expect("the Hiboutik simulator");
    let mut settings = hiboutik.account_settings();
    settings["MaximumRequests"] = json!(1_000_000);
    let account = settings["AccountName"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let processes = two_on_one_database(
        &db,
        dir.path(),
        json!({
            "SaleRetrySeconds": 0.05,
            "SaleRetryMaxSeconds": 0.5,
            "JobLeaseSeconds": 5,
            "PosAccess": { "PosConfigurations": [settings] },
        }),
    )
    .await;
    let [a, b] = &processes;
    let pos_ref = &hiboutik.product_refs()[0];
    let (status, link) = a
        .post_ok(
            "/api/items",
            Some(&json!({ "item_pos_id": pos_ref, "item_ecommerce_id": "mug", "account_id": account })),
        )
        .await;
    assert_eq!(status, 201, "{link}");

    hiboutik.faults().set(FaultPlan {
        latency: Duration::from_millis(250),
        ..FaultPlan::default()
    });
    let mut sales = Vec::new();
    for i in 0..SALES {
        let via = if i % 2 == 0 { a } else { b };
        let (status, answer) = via
            .post_ok(
                "/api/synchronizer/sale",
                Some(&json!({ "item_ecommerce_id": "mug", "delta": 1, "balance": 500, "order_id": format!("backlog-{i}") })),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        sales.push(answer["location"].as_str().unwrap().to_owned());
    }
    wait_all_confirmed_within(a, &sales, Duration::from_secs(180)).await;

    let mut lines_per_sale: HashMap<String, Vec<i64>> = HashMap::new();
    for sale in hiboutik.sales().into_iter().filter(|s| s.via_api) {
        let lines = lines_per_sale.entry(sale.ext_ref.clone()).or_default();
        lines.extend(sale.lines.iter().map(|line| line.quantity));
    }
    let units: i64 = lines_per_sale.values().flatten().sum();
    for location in &sales {
        let id = location.rsplit('/').next().unwrap();
        let ext_ref = format!("{}{id}", stocksync_hiboutik::EXT_REF_PREFIX);
        assert_eq!(
            lines_per_sale.get(&ext_ref).map(Vec::as_slice),
            Some(&[1][..]),
            "sale {id}: one line of one unit on Hiboutik ({units} units received for {SALES} sales)"
        );
    }
    assert_eq!(units, SALES as i64, "units received on Hiboutik");
}

async fn wait_all_confirmed(process: &Stocksync, sales: &[String]) {
    wait_all_confirmed_within(process, sales, Duration::from_secs(60)).await;
}

async fn wait_all_confirmed_within(process: &Stocksync, sales: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    for location in sales {
        loop {
            let (status, sale) = process.get_ok(location).await;
            assert_eq!(status, 200, "{sale}");
            if sale["state"] == "confirmed" {
                break;
            }
            assert_ne!(sale["state"], "dead", "{sale}");
            assert!(Instant::now() < deadline, "not confirmed in time: {sale}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Every job, once none is waiting or running.
async fn wait_jobs_done(process: &Stocksync) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, page) = process.get_ok("/api/jobs?per_page=1000").await;
        assert_eq!(status, 200, "{page}");
        let jobs = page["jobs"].as_array().unwrap().clone();
        let busy = jobs
            .iter()
            .filter(|j| {
                ["enqueued", "running", "scheduled"].contains(&j["state"].as_str().unwrap())
            })
            .count();
        if busy == 0 {
            return jobs;
        }
        assert!(Instant::now() < deadline, "jobs still busy: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The job's worker, once it is running.
async fn wait_running(process: &Stocksync, location: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, task) = process.get_ok(location).await;
        if task["state"] == "running" {
            return task["worker"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "never running: {task}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// No two jobs of one account (a job for every account counts for each) ran at the same time.
fn assert_no_overlap(jobs: &[Value]) {
    let time = |job: &Value, field: &str| -> DateTime<Utc> {
        serde_json::from_value(job[field].clone()).unwrap_or_else(|_| panic!("{field}: {job}"))
    };
    let ran: Vec<&Value> = jobs.iter().filter(|j| j["state"] == "succeeded").collect();
    assert!(ran.len() > 3, "jobs ran: {jobs:?}");
    let mut by_worker: HashMap<String, usize> = HashMap::new();
    for job in &ran {
        let process = job["worker"].as_str().unwrap().rsplit_once('/').unwrap().0;
        *by_worker.entry(process.to_owned()).or_default() += 1;
    }
    for (i, x) in ran.iter().enumerate() {
        for y in &ran[i + 1..] {
            let shared = x["account_id"].is_null()
                || y["account_id"].is_null()
                || x["account_id"] == y["account_id"];
            let apart = time(x, "finished_at") <= time(y, "started_at")
                || time(y, "finished_at") <= time(x, "started_at");
            assert!(!shared || apart, "ran at once:\n{x}\n{y}");
        }
    }
    println!("jobs run by each process: {by_worker:?}");
}
