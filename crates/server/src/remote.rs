//! The command-line actions on a running stocksync (`stocksync items|sync|reconcile|sales|status`):
//! each is one or a few calls of the HTTP API, with the answer printed for people. Long work shows
//! a progress bar on a terminal and plain lines otherwise.

use crate::link_csv;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

/// A running stocksync, reached over HTTP.
pub struct Remote {
    base: String,
    api_key: Option<String>,
    http: reqwest::Client,
}

/// How a link's POS product is named on the command line.
pub enum ProductRef {
    PosId(String),
    Sku(String),
    Name(String),
}

impl Remote {
    pub fn new(base: &str, api_key: Option<String>) -> Self {
        stocksync_pos::http::install_crypto();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            api_key,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach stocksync at {}", self.base))?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A call that must succeed; an error answer becomes an error with its message.
    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method, path, body).await?;
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let message = answer["error_message"].as_str().unwrap_or("no details");
        bail!("{status}: {message}")
    }

    pub async fn status(&self) -> anyhow::Result<()> {
        let status = self
            .expect(reqwest::Method::GET, "/api/synchronizer", None)
            .await?;
        let running = if status["running"] == true {
            "started"
        } else {
            "stopped"
        };
        println!(
            "synchronizer: {running} (sync {}, reconcile {})",
            status["cron"], status["reconcile_cron"]
        );
        if let Some(next) = status["next_run"].as_str() {
            println!("next sync:    {next}");
        }
        println!("sales on their way to the POS: {}", status["pending_sales"]);
        for account in status["accounts"].as_array().into_iter().flatten() {
            let last = &account["last_sync"];
            let health = match last["ok"].as_bool() {
                Some(true) => format!("ok at {}: {}", text(&last["at"]), text(&last["message"])),
                Some(false) => format!(
                    "FAILING at {}: {}",
                    text(&last["at"]),
                    text(&last["message"])
                ),
                None => "not synced yet".to_owned(),
            };
            println!(
                "  {} ({}): {health}",
                text(&account["account_id"]),
                text(&account["type"])
            );
        }
        Ok(())
    }

    pub async fn list_items(&self, account: Option<&str>) -> anyhow::Result<()> {
        let links: Vec<Value> = match account {
            Some(account) => self
                .expect(reqwest::Method::GET, &format!("/api/items/{account}"), None)
                .await?
                .as_array()
                .cloned()
                .unwrap_or_default(),
            None => {
                let mut all = Vec::new();
                for page in 1.. {
                    let answer = self
                        .expect(
                            reqwest::Method::GET,
                            &format!("/api/items?page={page}&per_page=1000"),
                            None,
                        )
                        .await?;
                    let items = answer["items"].as_array().cloned().unwrap_or_default();
                    let done = items.len() < 1000;
                    all.extend(items);
                    if done {
                        break;
                    }
                }
                all
            }
        };
        println!(
            "{:>6}  {:<14} {:<16} {:<26} {:>8}  name",
            "id", "shop item", "account", "POS product", "quantity"
        );
        for link in &links {
            println!(
                "{:>6}  {:<14} {:<16} {:<26} {:>8}  {}",
                text(&link["id"]),
                text(&link["ecommerceID"]),
                text(&link["accountID"]),
                text(&link["posID"]),
                link["quantity"],
                text(&link["name"])
            );
        }
        println!("{} link(s)", links.len());
        Ok(())
    }

    pub async fn add_item(
        &self,
        shop_item: &str,
        account: &str,
        product: &ProductRef,
        limit: i64,
    ) -> anyhow::Result<()> {
        let link = self
            .expect(
                reqwest::Method::POST,
                "/api/items",
                Some(registration(shop_item, account, product, limit)),
            )
            .await?;
        println!(
            "linked shop item {} to {} on {} (link {}), quantity {}",
            text(&link["ecommerceID"]),
            text(&link["posID"]),
            text(&link["accountID"]),
            text(&link["id"]),
            link["quantity"]
        );
        Ok(())
    }

    pub async fn remove_item(&self, id: i64) -> anyhow::Result<()> {
        self.expect(reqwest::Method::DELETE, &format!("/api/items/{id}"), None)
            .await?;
        println!("link {id} removed");
        Ok(())
    }

    /// Links every line of a CSV file `item_ecommerce_id,account_id,item_pos_id` (or `…,item_sku`,
    /// as the header says; see `link_csv` for the forms read); a line that fails is reported
    /// with its number in the file and the others go on.
    pub async fn import_items(&self, file: &Path) -> anyhow::Result<()> {
        let content = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let links =
            link_csv::parse(&content).map_err(|why| anyhow!("{}: {why}", file.display()))?;
        let mut progress = Progress::new("linking", links.lines.len());
        let (mut linked, mut failed) = (0, 0);
        for line in &links.lines {
            let outcome = match &line.link {
                Ok(link) => {
                    let product = if links.by_sku {
                        ProductRef::Sku(link.product.clone())
                    } else {
                        ProductRef::PosId(link.product.clone())
                    };
                    let body = registration(&link.shop_item, &link.account, &product, 0);
                    self.expect(reqwest::Method::POST, "/api/items", Some(body))
                        .await
                        .map(drop)
                }
                Err(why) => Err(anyhow!("{why}")),
            };
            match outcome {
                Ok(()) => linked += 1,
                Err(err) => {
                    failed += 1;
                    progress.note(&format!("line {}: {err}", line.number));
                }
            }
            progress.advance();
        }
        progress.finish();
        println!("{linked} linked, {failed} failed");
        if failed > 0 {
            bail!("{failed} line(s) could not be linked");
        }
        Ok(())
    }

    /// Matches the shop's items to an account's POS products by SKU (or barcode), with a
    /// progress indicator while both catalogues are read, then lists what was linked, what was
    /// not, and what is ambiguous.
    pub async fn match_items(&self, account: &str, by: &str, dry_run: bool) -> anyhow::Result<()> {
        let body = json!({ "account_id": account, "by": by, "dry_run": dry_run });
        let request = self.expect(reqwest::Method::POST, "/api/items/match", Some(body));
        tokio::pin!(request);
        let mut progress = Progress::new("reading the shop and the POS", 0);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let answer = loop {
            tokio::select! {
                answer = &mut request => break answer?,
                _ = tick.tick() => progress.advance(),
            }
        };
        progress.finish();
        let list = |key: &str| answer[key].as_array().cloned().unwrap_or_default();
        let verb = if dry_run { "would link" } else { "linked" };
        for pair in list("matched") {
            println!(
                "{verb} shop item {} (SKU {}) to POS product {}",
                text(&pair["item_ecommerce_id"]),
                text(&pair["sku"]),
                text(&pair["item_pos_id"])
            );
        }
        for ambiguous in list("ambiguous") {
            println!(
                "ambiguous SKU {}: shop items {}, POS products {}",
                text(&ambiguous["sku"]),
                ambiguous["item_ecommerce_ids"],
                ambiguous["item_pos_ids"]
            );
        }
        println!(
            "{} {verb}, {} already linked, {} without a match, {} ambiguous",
            list("matched").len(),
            list("already_linked").len(),
            list("unmatched").len(),
            list("ambiguous").len()
        );
        Ok(())
    }

    /// Runs a task (sync, reconciliation), following it until it ends.
    async fn run_task(&self, path: &str, what: &'static str) -> anyhow::Result<Value> {
        let answer = self.expect(reqwest::Method::POST, path, None).await?;
        let location = answer["location"]
            .as_str()
            .ok_or_else(|| anyhow!("no task location in {answer}"))?
            .to_owned();
        let mut progress = Progress::new(what, 0);
        loop {
            let task = self.expect(reqwest::Method::GET, &location, None).await?;
            // One job per account: `location` follows them together until all have ended.
            if ["succeeded", "failed", "dead"].contains(&task["state"].as_str().unwrap_or("")) {
                progress.finish();
                return Ok(task);
            }
            progress.advance();
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Syncs every account, or only `account`.
    pub async fn sync(&self, account: Option<&str>) -> anyhow::Result<()> {
        let path = match account {
            Some(account) => format!(
                "/api/synchronizer/forceUpdate?account={}",
                percent_encoding::utf8_percent_encode(account, percent_encoding::NON_ALPHANUMERIC)
            ),
            None => "/api/synchronizer/forceUpdate".to_owned(),
        };
        let task = self.run_task(&path, "syncing").await?;
        report_task(&task)
    }

    pub async fn reconcile(&self, dry_run: bool) -> anyhow::Result<()> {
        let path = format!("/api/synchronizer/reconcile?dry_run={dry_run}");
        let task = self
            .run_task(&path, if dry_run { "checking" } else { "reconciling" })
            .await?;
        for account in task["result"]["accounts"].as_array().into_iter().flatten() {
            let id = text(&account["account_id"]);
            for drift in account["report"]["drifted"]
                .as_array()
                .into_iter()
                .flatten()
            {
                println!(
                    "{id}: shop item {} ({}) shows {}, the POS says {}{}",
                    text(&drift["item_ecommerce_id"]),
                    text(&drift["item_pos_id"]),
                    drift["shop_quantity"],
                    drift["expected"],
                    if dry_run { "" } else { ": fixed" }
                );
            }
            for gone in account["report"]["missing"]
                .as_array()
                .into_iter()
                .flatten()
            {
                println!(
                    "{id}: shop item {} ({}) is no longer on the POS",
                    text(&gone["item_ecommerce_id"]),
                    text(&gone["item_pos_id"])
                );
            }
        }
        let shop = &task["result"]["shop"];
        for drift in shop["drifted"].as_array().into_iter().flatten() {
            println!("{}", shop_drift_line(drift, dry_run));
        }
        if shop["drifted_total"].as_u64()
            > Some(shop["drifted"].as_array().map_or(0, Vec::len) as u64)
        {
            println!(
                "shop: {} drifted item(s) in all (the first are listed)",
                shop["drifted_total"]
            );
        }
        report_task(&task)
    }

    pub async fn show_sale(&self, id: &str) -> anyhow::Result<()> {
        let sale = self
            .expect(reqwest::Method::GET, &format!("/api/sales/{id}"), None)
            .await?;
        println!("{}", serde_json::to_string_pretty(&sale)?);
        Ok(())
    }

    pub async fn retry_sale(&self, id: &str) -> anyhow::Result<()> {
        self.expect(
            reqwest::Method::POST,
            &format!("/api/sales/{id}/retry"),
            None,
        )
        .await?;
        println!("sale {id} is back in the outbox");
        Ok(())
    }
}

fn registration(shop_item: &str, account: &str, product: &ProductRef, limit: i64) -> Value {
    let mut body =
        json!({ "item_ecommerce_id": shop_item, "account_id": account, "limit_quantity": limit });
    match product {
        ProductRef::PosId(id) => body["item_pos_id"] = json!(id),
        ProductRef::Sku(sku) => body["item_sku"] = json!(sku),
        ProductRef::Name(name) => body["item_name"] = json!(name),
    }
    body
}

/// One drifted item of the shop's reconciliation, for people.
fn shop_drift_line(drift: &Value, dry_run: bool) -> String {
    let item = text(&drift["item_ecommerce_id"]);
    let wants = &drift["wanted"];
    let has = match drift["shop_quantity"].as_i64() {
        Some(has) => format!("shows {has}"),
        None => "shows nothing".to_owned(),
    };
    let why = match drift["why"].as_str().unwrap_or("") {
        "never_pushed" => "never pushed yet".to_owned(),
        "changed_on_shop" => "changed on the shop".to_owned(),
        "push_pending" => match drift["detail"].as_str() {
            Some(error) => format!("push failing: {error}"),
            None => "push pending".to_owned(),
        },
        "unmanaged" => "the shop does not track its stock: never written".to_owned(),
        "not_on_shop" => {
            return format!("shop: item {item} is not on the shop (stocksync wants {wants})");
        }
        other => other.to_owned(),
    };
    let fixed = if dry_run || drift["why"] == "unmanaged" {
        ""
    } else {
        ": push queued"
    };
    format!("shop: item {item} {has}, stocksync wants {wants} ({why}){fixed}")
}

fn report_task(task: &Value) -> anyhow::Result<()> {
    match task["state"].as_str() {
        Some("succeeded") => {
            println!("{}", text(&task["summary"]));
            Ok(())
        }
        _ => bail!("{}", text(&task["error"])),
    }
}

/// A JSON value as plain text (strings without their quotes).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A progress bar on a terminal; on anything else, only notes and a last line.
struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    terminal: bool,
}

impl Progress {
    fn new(what: &'static str, total: usize) -> Self {
        Self {
            what,
            total,
            done: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self) {
        self.done += 1;
        if !self.terminal {
            return;
        }
        let line = match (self.done * 30).checked_div(self.total) {
            Some(filled) => format!(
                "{} [{}{}] {}/{}",
                self.what,
                "#".repeat(filled),
                " ".repeat(30 - filled),
                self.done,
                self.total
            ),
            None => format!("{} {}", self.what, ['|', '/', '-', '\\'][self.done % 4]),
        };
        let mut err = std::io::stderr();
        let _ = write!(err, "\r{line}");
        let _ = err.flush();
    }

    /// A line that stays (an error on one row, say).
    fn note(&self, line: &str) {
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
        eprintln!("{line}");
    }

    fn finish(&self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
    }
}
