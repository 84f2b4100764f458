//! The `stocksync` binary itself: `check-config`, `migrate`, and `serve`'s refusals and logs.

use std::process::{Command, Output};
use std::time::Duration;

fn stocksync(args: &[&str], dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut command = crate::process::stocksync_command();
    command.args(args).current_dir(dir).env_remove("RUST_LOG");
    command
        .envs(env.iter().copied())
        .output()
        .expect("stocksync runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn check_config_prints_a_redacted_summary_or_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("appsettings.json");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/original-appsettings.json"
        ),
        &config,
    )
    .unwrap();

    let output = stocksync(
        &["check-config"],
        dir.path(),
        &[(
            "STOCKSYNC_DATABASE_URL",
            "mysql://root:pw-789@127.0.0.1:3306/shop",
        )],
    );
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("your_lightspeed_account_id (lightspeed)"),
        "{shown}"
    );
    assert!(shown.contains("the configuration is valid"), "{shown}");
    for secret in [
        "pw-789",
        "your_squarePOS_access_token",
        "your_lightspeed_cient_secret",
        "your_lightspeed_refresh_token",
    ] {
        assert!(!shown.contains(secret), "'{secret}' in: {shown}");
    }

    // The placeholder connection string of the original template is refused, with its path.
    let output = stocksync(
        &["check-config", "--config", config.to_str().unwrap()],
        dir.path(),
        &[],
    );
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("ecommerceDatabaseConnectionString: the connection string is neither"),
        "{shown}"
    );

    std::fs::write(&config, "{ not json").unwrap();
    let output = stocksync(&["check-config"], dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("is not valid JSON"),
        "{}",
        text(&output)
    );
}

#[test]
fn migrate_creates_the_schema_and_can_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = stocksync(&["migrate"], dir.path(), &[]);
        assert!(output.status.success(), "{}", text(&output));
        assert!(text(&output).contains("is up to date"));
    }
    assert!(
        dir.path().join("stocksync.db").exists(),
        "the default SQLite file"
    );
}

#[test]
fn serve_refuses_a_public_address_without_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = stocksync(&["serve"], dir.path(), &[("STOCKSYNC_LISTEN", "0.0.0.0:0")]);
    assert_eq!(output.status.code(), Some(1));
    let shown = text(&output);
    assert!(shown.contains("no ApiKey is set"), "{shown}");
}

#[test]
fn serve_logs_requests_with_ids_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let config = serde_json::json!({
        "ApiKey": "log-api-key-321",
        "Listen": format!("127.0.0.1:{port}"),
        "PosAccess": { "PosConfigurations": [
            { "Type": 1, "AccessToken": "log-sq-token-654", "AccountID": "sq", "BaseUrl": "http://127.0.0.1:9" },
            { "Type": 3, "AccessToken": "log-ls-access-1", "RefreshToken": "log-ls-refresh-2", "ClientID": "c",
              "ClientSecret": "log-ls-secret-3", "AccountID": "12345", "BaseUrl": "http://127.0.0.1:9",
              "AuthUrl": "http://127.0.0.1:9" }
        ]}
    });
    std::fs::write(dir.path().join("appsettings.json"), config.to_string()).unwrap();
    // The log goes to a file: a pipe read only at the end would fill up (debug logs every
    // query) and stall the service mid-test.
    let log_path = dir.path().join("stocksync.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = crate::process::stocksync_command()
        .args(["--log-format", "json", "serve"])
        .current_dir(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let agent = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = stocksync_testkit::http_client();
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while client.get(format!("{base}/healthz")).send().await.is_err() {
                assert!(std::time::Instant::now() < deadline, "never healthy");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            let wrong = client.get(format!("{base}/api/synchronizer")).bearer_auth("guess").send().await.unwrap();
            assert_eq!(wrong.status(), 401);
            let items = client
                .post(format!("{base}/api/items"))
                .bearer_auth("log-api-key-321")
                .json(&serde_json::json!({ "item_pos_id": "X", "item_ecommerce_id": 1, "account_id": "sq" }))
                .send()
                .await
                .unwrap();
            assert_eq!(items.status(), 503, "the POS cannot be reached");
            let sync = client
                .post(format!("{base}/api/synchronizer/forceUpdate"))
                .bearer_auth("log-api-key-321")
                .send()
                .await
                .unwrap();
            assert_eq!(sync.status(), 202);
            // The sync's first attempt has failed (and logged why) before the service stops.
            let task: serde_json::Value = sync.json().await.unwrap();
            let location = format!("{base}{}", task["location"].as_str().unwrap());
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let task: serde_json::Value = client
                    .get(&location)
                    .bearer_auth("log-api-key-321")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if task["attempts"].as_i64() >= Some(1) && task["state"] != "running" {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "the sync never ended: {task}");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        });
    });
    agent.join().expect("the requests");
    unsafe_kill_term(child.id());
    let status = child.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "{logs}");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("a JSON log line: {line}"))
        })
        .collect();
    let request_lines: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "request")
        .collect();
    assert!(request_lines.len() >= 3, "{logs}");
    assert!(
        request_lines
            .iter()
            .all(|l| l["span"]["id"].as_str().is_some_and(|id| id.len() == 36)),
        "{logs}"
    );
    for secret in [
        "log-api-key-321",
        "log-sq-token-654",
        "log-ls-access-1",
        "log-ls-refresh-2",
        "log-ls-secret-3",
    ] {
        assert!(!logs.contains(secret), "'{secret}' logged:\n{logs}");
    }
}

/// Asks the process to stop as an operator would (SIGTERM), without an extra crate.
fn unsafe_kill_term(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_demo_tells_its_story_and_ends_with_once() {
    demo_on(None, "WooCommerce", "order.updated");
}

#[test]
fn the_demo_tells_its_story_on_shopify() {
    demo_on(Some("shopify"), "Shopify", "orders/create again");
}

#[test]
fn the_demo_tells_its_story_on_prestashop_whose_orders_are_polled() {
    demo_on(
        Some("prestashop"),
        "PrestaShop",
        "PrestaShop has no webhooks",
    );
}

/// `stocksync demo --once` (with `--shop shop` when given) tells the whole story on the
/// platform `name`, its way of telling of an order (`news`) included, and keeps its log apart.
fn demo_on(shop: Option<&str>, name: &str, news: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().to_str().unwrap();
    let mut args = vec!["demo", "--once", "--port", "0", "--products", "20"];
    args.extend(shop.iter().flat_map(|shop| ["--shop", shop]));
    let output = stocksync(&args, dir.path(), &[("TMPDIR", tmp)]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    let (shop_line, order_line, item_line) = (
        format!("a {name} shop"),
        format!("▶ A web order on {name}"),
        format!("{name}'s item"),
    );
    for step in [
        &shop_line,
        "Square (square-sim): 20 linked",
        "the shop now shows what stocksync would sell of each of its 20 linked products",
        "▶ A till sale on Lightspeed",
        &item_line,
        "Square recorded 1 web sale(s)",
        "the sale waits in the outbox",
        &order_line,
        news,
        "its line is a sale on Square: 2 web sale(s) recorded",
        "Square still recorded 2 web sale(s): each order line reaches the POS once",
        "▶ The order is cancelled",
        "the units are back",
        "reconciliation (dry run) finds shop item",
        "▶ The end",
    ] {
        assert!(shown.contains(step), "'{step}' missing from:\n{shown}");
    }
    // The story tells the outage; the service's own lines go to the file it names.
    for line in shown.lines() {
        assert!(
            !line.contains("WARN") && !line.contains("ERROR"),
            "a log line among the story: {line}\n{shown}"
        );
    }
    let log = shown
        .lines()
        .find_map(|line| line.trim().strip_prefix("the service's log: "))
        .unwrap_or_else(|| panic!("the log file is named:\n{shown}"));
    assert!(log.starts_with(tmp), "{log}");
    let logged = std::fs::read_to_string(log).expect("the log file is kept");
    assert!(
        logged.contains("WARN") && logged.contains("hiboutik-sim"),
        "the outage's warnings are in the log:\n{logged}"
    );
}
