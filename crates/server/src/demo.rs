//! `stocksync demo`: the whole product on one machine with nothing installed but Rust. It
//! starts the three POS simulators, an SQLite database and the service, links items on each POS
//! through the HTTP API, then tells a short story in the terminal: a till sale reaching the shop,
//! a web sale sent twice reaching Square once, a Hiboutik outage the outbox rides out, and a
//! reconciliation that finds and fixes a drift. It then keeps running (or ends, with `--once`).
//! The service's own log lines go to a file in the demo's folder (kept when it ends), unless
//! `RUST_LOG` is set: the story tells what happens, an outage's warnings do not interrupt it.

use crate::app;
use crate::config::Settings;
use crate::logging::{self, LogFormat};
use crate::simulate::Simulators;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use stocksync_pos::simkit::FaultPlan;
use tokio_util::sync::CancellationToken;

/// Links made on each POS.
const LINKS_PER_POS: usize = 12;
/// How long the demo waits for one step before it gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run.
pub struct DemoOptions {
    pub port: u16,
    pub products: usize,
    /// End after the story instead of running until Ctrl-C.
    pub once: bool,
    pub log_format: LogFormat,
}

/// The service as the demo talks to it: over HTTP, as a web shop would.
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.send(reqwest::Method::GET, path, None, None).await?.1)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        self.send(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    /// Polls `path` until `done` says so.
    async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let value = self.get(path).await?;
            if done(&value) {
                return Ok(value);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("gave up waiting on {path}: {value}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs a task (forceUpdate, reconcile) and waits for its end.
    async fn run_task(&self, path: &str) -> anyhow::Result<Value> {
        let (_, answer) = self.post(path, json!({})).await?;
        let location = answer["location"]
            .as_str()
            .ok_or_else(|| anyhow!("no task location: {answer}"))?;
        self.wait_for(location, |task| {
            task["state"] == "succeeded" || task["state"] == "failed"
        })
        .await
    }

    async fn shop_quantity(&self, item: &str, account: &str) -> anyhow::Result<i64> {
        let links = self.get(&format!("/api/items/{account}")).await?;
        links
            .as_array()
            .and_then(|links| links.iter().find(|l| l["ecommerceID"] == item))
            .and_then(|l| l["quantity"].as_i64())
            .ok_or_else(|| anyhow!("shop item {item} is not linked on {account}"))
    }
}

fn say(step: &str, text: &str) {
    println!("\n▶ {step}\n  {text}");
}

fn detail(text: &str) {
    println!("    {text}");
}

pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("stocksync-demo-{}", std::process::id()));
    let log = logging::init_demo(options.log_format, &dir);
    let outcome = stage(&options, &dir, log.as_deref()).await;
    if let Err(err) = &outcome {
        println!("\n✗ the demo stopped: {err:#}");
    }
    match &log {
        // The database goes; the log stays to be read (the system's temporary files go with it).
        Some(log) => {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.path() != *log {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            println!("\nThe service's log stays at {}", log.display());
        }
        None => {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    outcome
}

/// Everything but the logs: simulators, service, story, and the wait for Ctrl-C.
async fn stage(options: &DemoOptions, dir: &Path, log: Option<&Path>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let database = format!("sqlite://{}", dir.join("stocksync-demo.db").display());
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await {
        Ok(listener) => listener,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    };
    let address = listener.local_addr()?;

    say(
        "Starting",
        "three POS simulators, an SQLite database and stocksync",
    );
    let sims = Simulators::start(options.products, 0)
        .await
        .context("cannot start the simulators")?;
    let mut config = sims.appsettings();
    config["ecommerceDatabaseConnectionString"] = json!(database);
    config["Listen"] = json!(address.to_string());
    config["SaleRetrySeconds"] = json!(0.5);
    config["SaleRetryMaxSeconds"] = json!(2);
    config["SaleMaxAttempts"] = json!(30);
    let settings = Settings::from_json(&config, &|_| None).map_err(|e| anyhow!("{e}"))?;
    detail(&format!("Square at {}", sims.square.base_url()));
    detail(&format!("Hiboutik at {}", sims.hiboutik.base_url()));
    detail(&format!("Lightspeed at {}", sims.lightspeed.base_url()));
    detail(&format!(
        "database {}",
        dir.join("stocksync-demo.db").display()
    ));
    if let Some(log) = log {
        detail(&format!("the service's log: {}", log.display()));
    }
    let shutdown = CancellationToken::new();
    let connect = app::vendor_clients(&settings);
    let service = tokio::spawn(app::run(settings, listener, connect, shutdown.clone()));
    stocksync_pos::http::install_crypto();
    let client = Client {
        base: format!("http://{address}"),
        http: reqwest::Client::new(),
    };
    client
        .wait_for("/readyz", |ready| ready["status"] == "ready")
        .await?;
    detail(&format!(
        "stocksync at http://{address} (dashboard: http://{address}/dashboard)"
    ));

    let story = tell(&client, &sims).await;
    if story.is_ok() {
        say("The end", "every step behaved as it should.");
    }
    if story.is_ok() && !options.once {
        println!(
            "\nstocksync keeps running at http://{address} — try the API or the dashboard. Ctrl-C to stop."
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    shutdown.cancel();
    let _ = service.await;
    story
}

async fn tell(client: &Client, sims: &Simulators) -> anyhow::Result<()> {
    let accounts = [
        ("square-sim", sims.square.product_refs(), 1001),
        ("hiboutik-sim", sims.hiboutik.product_refs(), 2001),
        ("83050", sims.lightspeed.product_refs(), 3001),
    ];
    say(
        "Linking",
        &format!("{LINKS_PER_POS} web-shop items to products on each POS (POST /api/items)"),
    );
    for (account, refs, first_item) in &accounts {
        for (i, pos_ref) in refs.iter().take(LINKS_PER_POS).enumerate() {
            let body = json!({ "item_pos_id": pos_ref, "item_ecommerce_id": first_item + i, "account_id": account });
            let (status, answer) = client.post("/api/items", body).await?;
            if status != 201 {
                bail!("linking {pos_ref} on {account}: {status} {answer}");
            }
        }
        detail(&format!(
            "{account}: shop items {first_item}–{}",
            first_item + LINKS_PER_POS - 1
        ));
    }
    client.post("/api/synchronizer/start", json!({})).await?;
    client.run_task("/api/synchronizer/forceUpdate").await?;

    // 1. A till sale reaches the shop.
    let (ls_ref, ls_item) = (&accounts[2].1[0], "3001");
    let before = client.shop_quantity(ls_item, "83050").await?;
    say(
        "A till sale on Lightspeed",
        &format!("a cashier sells 2 of item {ls_ref}; the shop shows {before}"),
    );
    sims.lightspeed.till_sale(ls_ref, 2);
    let task = client.run_task("/api/synchronizer/forceUpdate").await?;
    detail(&format!(
        "sync: {}",
        task["summary"]
            .as_str()
            .or(task["error"].as_str())
            .unwrap_or("?")
    ));
    let after = client.shop_quantity(ls_item, "83050").await?;
    detail(&format!(
        "the shop now shows {after} (the Lightspeed count: {:?})",
        sims.lightspeed.quantity(ls_ref)
    ));
    if after != before - 2 {
        bail!("expected {} in the shop, found {after}", before - 2);
    }

    // 2. A web sale sent twice reaches Square once.
    let sq_item = first_stocked(client, "square-sim", 1001).await?;
    say(
        "A web sale on Square, sent twice",
        &format!("the shop's client retries its request for item {sq_item}"),
    );
    let body = json!({ "item_ecommerce_id": sq_item, "delta": 1, "balance": 1990 });
    let key = "demo-order-1";
    let (_, first) = client
        .send(
            reqwest::Method::POST,
            "/api/synchronizer/sale",
            Some(body.clone()),
            Some(key),
        )
        .await?;
    let (_, again) = client
        .send(
            reqwest::Method::POST,
            "/api/synchronizer/sale",
            Some(body),
            Some(key),
        )
        .await?;
    detail(&format!(
        "both answers point at {}",
        first["location"].as_str().unwrap_or("?")
    ));
    let location = first["location"]
        .as_str()
        .ok_or_else(|| anyhow!("refused: {first}"))?;
    if again["location"] != first["location"] {
        bail!("the retry made a second sale: {again}");
    }
    let sale = client
        .wait_for(location, |sale| sale["state"] != "accepted")
        .await?;
    detail(&format!(
        "the sale is {} on Square as {}",
        sale["state"], sale["pos_reference"]
    ));
    detail(&format!(
        "Square recorded {} web sale(s)",
        sims.square.recorded_web_sales()
    ));

    // 3. A Hiboutik outage that the outbox rides out.
    let hb_item = first_stocked(client, "hiboutik-sim", 2001).await?;
    say(
        "A Hiboutik outage",
        &format!("Hiboutik answers errors while item {hb_item} sells online"),
    );
    sims.hiboutik.faults().set(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let (status, answer) = client
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": hb_item, "delta": 1, "balance": 850 }),
        )
        .await?;
    if status != 202 {
        bail!("the sale was refused: {answer}");
    }
    let location = answer["location"].as_str().unwrap_or_default().to_owned();
    let waiting = client
        .wait_for(&location, |sale| {
            sale["attempts"].as_i64().unwrap_or(0) >= 2
        })
        .await?;
    detail(&format!(
        "the sale waits in the outbox: {} attempts, last error: {}",
        waiting["attempts"],
        waiting["last_error"].as_str().unwrap_or("")
    ));
    sims.hiboutik.faults().set(FaultPlan::default());
    detail("Hiboutik is back");
    let sale = client
        .wait_for(&location, |sale| sale["state"] != "accepted")
        .await?;
    detail(&format!(
        "the sale is {} on Hiboutik (sale {}), after {} attempts",
        sale["state"], sale["pos_reference"], sale["attempts"]
    ));

    // 4. A reconciliation finds and fixes a drift.
    let sq_ref = &accounts[0].1[1];
    say(
        "A drift",
        &format!("the synchronizer is stopped while a cashier sells 3 of Square item {sq_ref}"),
    );
    client.post("/api/synchronizer/stop", json!({})).await?;
    sims.square.till_sale(sq_ref, 3);
    let dry = client
        .run_task("/api/synchronizer/reconcile?dry_run=true")
        .await?;
    let drifted = dry["result"]["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| {
            a["report"]["drifted"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect::<Vec<_>>();
    for drift in &drifted {
        detail(&format!(
            "reconciliation (dry run) finds shop item {}: shop {}, POS says {}",
            drift["item_ecommerce_id"], drift["shop_quantity"], drift["expected"]
        ));
    }
    if drifted.is_empty() {
        bail!("the dry run found no drift: {dry}");
    }
    let fixed = client.run_task("/api/synchronizer/reconcile").await?;
    detail(&format!(
        "reconciliation: {}",
        fixed["summary"].as_str().unwrap_or("?")
    ));
    let again = client
        .run_task("/api/synchronizer/reconcile?dry_run=true")
        .await?;
    detail(&format!(
        "checked again: {}",
        again["summary"].as_str().unwrap_or("?")
    ));
    client.post("/api/synchronizer/start", json!({})).await?;
    Ok(())
}

/// The first linked shop item of `account` with at least 2 units to sell.
async fn first_stocked(
    client: &Client,
    account: &str,
    first_item: usize,
) -> anyhow::Result<String> {
    for i in 0..LINKS_PER_POS {
        let item = (first_item + i).to_string();
        if client.shop_quantity(&item, account).await? >= 2 {
            return Ok(item);
        }
    }
    bail!("no linked item of {account} has stock")
}
