//! `stocksync demo`: the whole product on one machine with nothing installed but Rust. It
//! starts the three POS simulators, the simulated shops, an SQLite database and the service
//! (with the shop of `--shop` as its `Shop`: WooCommerce, Shopify or PrestaShop), links the
//! shop's items to each POS by SKU through the HTTP API, then tells a short story in the
//! terminal: a till sale reaching the shop's item, a web sale sent twice reaching Square once,
//! a Hiboutik outage the outbox rides out, a web order placed on the shop reaching the POS once
//! however often it is announced, its cancellation giving the units back on both sides, and a
//! reconciliation that finds and fixes a drift. The story is the same on every platform (told
//! through [`SimShop`]); where a platform differs (PrestaShop sends no webhooks: its orders are
//! polled, every second in the demo), the story says so. Every step waits for what it announces (with a deadline), never
//! for a set time. It then keeps running (or ends, with `--once`).
//! The service's own log lines go to a file in the demo's folder (kept when it ends), unless
//! `RUST_LOG` is set: the story tells what happens, an outage's warnings do not interrupt it.

use crate::app;
use crate::config::Settings;
use crate::logging::{self, LogFormat};
use crate::simulate::Simulators;
use crate::simulate::shops::SimShop;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::FaultPlan;
use tokio_util::sync::CancellationToken;

/// How often the orders of a shop without webhooks are polled in the demo (`Shop.PollSeconds`).
const POLL_SECONDS: u64 = 1;

/// How long the demo waits for one step before it gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run.
pub struct DemoOptions {
    pub port: u16,
    pub products: usize,
    /// End after the story instead of running until Ctrl-C.
    pub once: bool,
    /// The shop platform the story is told on.
    pub shop: ShopKind,
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
        until(path, || async {
            let value = self.get(path).await?;
            Ok(done(&value).then_some(value))
        })
        .await
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

    /// The links of `account`.
    async fn links_of(&self, account: &str) -> anyhow::Result<Vec<Value>> {
        let links = self.get(&format!("/api/items/{account}")).await?;
        Ok(links.as_array().cloned().unwrap_or_default())
    }

    /// The link of POS product `pos_ref` on `account`.
    async fn link_of(&self, account: &str, pos_ref: &str) -> anyhow::Result<Value> {
        self.links_of(account)
            .await?
            .into_iter()
            .find(|link| link["posID"] == pos_ref)
            .ok_or_else(|| anyhow!("POS product {pos_ref} is not linked on {account}"))
    }

    /// What stocksync wants each shop item to show: the sum over its links of
    /// max(0, quantity − limit).
    async fn wanted(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        let page = self.get("/api/items?per_page=1000").await?;
        let mut wanted = BTreeMap::new();
        for link in page["items"].as_array().into_iter().flatten() {
            let item = text(&link["ecommerceID"]);
            let units = quantity(link) - link["limitQuantitySale"].as_i64().unwrap_or(0);
            *wanted.entry(item).or_insert(0) += units.max(0);
        }
        Ok(wanted)
    }

    /// Waits until the shop's item `id` shows what stocksync wants of it; that quantity.
    async fn shop_agrees(&self, shop: &dyn SimShop, id: &str) -> anyhow::Result<i64> {
        until(&format!("the shop's item {id}"), || async {
            let wanted = self.wanted().await?.get(id).copied();
            Ok(wanted.filter(|wanted| shop.quantity(id) == Some(*wanted)))
        })
        .await
    }

    /// Waits until a poll of the shop's orders has ended, then another: the second began after
    /// this call (a poll in progress may have read the orders just before; polls never overlap).
    async fn two_polls(&self) -> anyhow::Result<()> {
        for _ in 0..2 {
            let before = self.get("/api/shop").await?["orders"]["last_poll_at"].clone();
            self.wait_for("/api/shop", |shop| shop["orders"]["last_poll_at"] != before)
                .await?;
        }
        Ok(())
    }

    /// Waits until no web sale is waiting for its POS.
    async fn sales_settled(&self) -> anyhow::Result<()> {
        self.wait_for("/api/synchronizer", |status| status["pending_sales"] == 0)
            .await
            .map(drop)
    }

    /// Makes `link` its shop item's primary link: its web sales go there first.
    async fn make_primary(&self, link: &Value) -> anyhow::Result<()> {
        let path = format!("/api/items/{}", text(&link["id"]));
        let (status, answer) = self
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(json!({ "primary": true })),
                None,
            )
            .await?;
        if status != 200 {
            bail!("PATCH {path}: {status} {answer}");
        }
        Ok(())
    }
}

/// Calls `check` until it answers something, for at most [`STEP_TIMEOUT`].
async fn until<T, F, Fut>(what: &str, check: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(done) = check().await? {
            return Ok(done);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("gave up waiting on {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A JSON id as text (`"7"` or `7`).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A simulator's count, or `?` when it has none.
fn shown(count: Option<i64>) -> String {
    count.map_or_else(|| "?".to_owned(), |count| count.to_string())
}

fn quantity(link: &Value) -> i64 {
    link["quantity"].as_i64().unwrap_or(0)
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
        &format!(
            "three POS simulators, a {} shop, an SQLite database and stocksync",
            options.shop.display_name()
        ),
    );
    let sims = Simulators::start_for(&format!("http://{address}"), options.products, 0)
        .await
        .context("cannot start the simulators")?;
    let shop = sims.shop(options.shop);
    let mut config = sims.appsettings(options.shop);
    config["ecommerceDatabaseConnectionString"] = json!(database);
    config["Listen"] = json!(address.to_string());
    config["SaleRetrySeconds"] = json!(0.5);
    config["SaleRetryMaxSeconds"] = json!(2);
    config["SaleMaxAttempts"] = json!(30);
    if !shop.sends_webhooks() {
        // Its web orders reach stocksync by the poll alone: every second rather than every
        // minute, so that the story does not wait.
        config["Shop"]["PollSeconds"] = json!(POLL_SECONDS);
    }
    let settings = Settings::from_json(&config, &|_| None).map_err(|e| anyhow!("{e}"))?;
    detail(&format!("Square at {}", sims.square.base_url()));
    detail(&format!("Hiboutik at {}", sims.hiboutik.base_url()));
    detail(&format!("Lightspeed at {}", sims.lightspeed.base_url()));
    detail(&format!(
        "{} at {} ({} products; {})",
        options.shop.display_name(),
        shop.base_url(),
        shop.item_ids().len(),
        if shop.sends_webhooks() {
            "its order webhooks go to stocksync".to_owned()
        } else {
            format!(
                "no webhooks: stocksync polls its orders every {POLL_SECONDS} s here (Shop.PollSeconds)"
            )
        }
    ));
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

    let story = tell(&client, &sims, shop).await;
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

/// The POS accounts of [`Simulators::appsettings`], with their names in the story.
const ACCOUNTS: [(&str, &str); 3] = [
    ("square-sim", "Square"),
    ("hiboutik-sim", "Hiboutik"),
    ("83050", "Lightspeed"),
];

async fn tell(client: &Client, sims: &Simulators, shop: &dyn SimShop) -> anyhow::Result<()> {
    link_by_sku(client, shop).await?;
    till_sale(client, sims, shop).await?;
    let sq_link = web_sale_sent_twice(client, sims).await?;
    outage(client, sims).await?;
    web_order(client, sims, shop, &sq_link).await?;
    drift(client, sims).await
}

/// The shop's items linked to each POS by SKU, and the shop brought to stocksync's numbers.
async fn link_by_sku(client: &Client, shop: &dyn SimShop) -> anyhow::Result<()> {
    say(
        "Linking by SKU",
        &format!(
            "every {} item to the POS product with its SKU, on each POS (POST /api/items/match)",
            shop.kind().display_name()
        ),
    );
    let (status, dry) = client
        .post(
            "/api/items/match",
            json!({ "account_id": ACCOUNTS[0].0, "dry_run": true }),
        )
        .await?;
    if status != 200 {
        bail!("matching (dry run): {status} {dry}");
    }
    let count = |answer: &Value, key: &str| answer[key].as_array().map_or(0, Vec::len);
    detail(&format!(
        "dry run on {}: would link {}, {} without a match",
        ACCOUNTS[0].0,
        count(&dry, "matched"),
        count(&dry, "unmatched")
    ));
    for (account, name) in ACCOUNTS {
        let (status, answer) = client
            .post("/api/items/match", json!({ "account_id": account }))
            .await?;
        if status != 200 {
            bail!("matching on {account}: {status} {answer}");
        }
        detail(&format!(
            "{name} ({account}): {} linked, {} without a match, {} ambiguous",
            count(&answer, "matched"),
            count(&answer, "unmatched"),
            count(&answer, "ambiguous")
        ));
    }
    client.post("/api/synchronizer/start", json!({})).await?;
    client.run_task("/api/synchronizer/forceUpdate").await?;
    let wanted = client.wanted().await?;
    for id in wanted.keys() {
        client.shop_agrees(shop, id).await?;
    }
    let (first, shows) = wanted
        .first_key_value()
        .ok_or_else(|| anyhow!("nothing was linked"))?;
    detail(&format!(
        "the shop now shows what stocksync would sell of each of its {} linked products: item {first} shows {shows}, the sum of its links",
        wanted.len()
    ));
    Ok(())
}

/// A till sale on Lightspeed reaches its link and the shop's product.
async fn till_sale(client: &Client, sims: &Simulators, shop: &dyn SimShop) -> anyhow::Result<()> {
    let account = ACCOUNTS[2].0;
    let link = client
        .links_of(account)
        .await?
        .into_iter()
        .find(|link| quantity(link) >= 2)
        .ok_or_else(|| anyhow!("no linked Lightspeed product has 2 units"))?;
    let (ls_ref, id) = (text(&link["posID"]), text(&link["ecommerceID"]));
    let (before, shop_before) = (quantity(&link), shop.quantity(&id).unwrap_or(0));
    say(
        "A till sale on Lightspeed",
        &format!(
            "a cashier sells 2 of item {ls_ref}; its link shows {before}, the shop's item {id} shows {shop_before}"
        ),
    );
    sims.lightspeed.till_sale(&ls_ref, 2);
    let task = client.run_task("/api/synchronizer/forceUpdate").await?;
    detail(&format!(
        "sync: {}",
        task["summary"]
            .as_str()
            .or(task["error"].as_str())
            .unwrap_or("?")
    ));
    let after = quantity(&client.link_of(account, &ls_ref).await?);
    detail(&format!(
        "the link now shows {after} (the Lightspeed count: {})",
        shown(sims.lightspeed.quantity(&ls_ref))
    ));
    if after != before - 2 {
        bail!("expected {} on the link, found {after}", before - 2);
    }
    let shop_after = client.shop_agrees(shop, &id).await?;
    detail(&format!(
        "{}'s item {id} now shows {shop_after} (was {shop_before})",
        shop.kind().display_name()
    ));
    if shop_after != shop_before - 2 {
        bail!(
            "expected {} in the shop, found {shop_after}",
            shop_before - 2
        );
    }
    Ok(())
}

/// A linked product of `account` with at least `units` units, its link made its shop item's
/// primary one (so that the item's web sales go there), not on the shop items of `taken`.
async fn primary_link(
    client: &Client,
    account: &str,
    units: i64,
    taken: &[&Value],
) -> anyhow::Result<Value> {
    let link = client
        .links_of(account)
        .await?
        .into_iter()
        .find(|link| {
            quantity(link) >= units
                && taken
                    .iter()
                    .all(|other| other["ecommerceID"] != link["ecommerceID"])
        })
        .ok_or_else(|| anyhow!("no linked product of {account} has {units} units"))?;
    client.make_primary(&link).await?;
    detail(&format!(
        "shop item {} sells first from its link to {} (PATCH /api/items/{} with \"primary\": true)",
        text(&link["ecommerceID"]),
        text(&link["posID"]),
        text(&link["id"])
    ));
    Ok(link)
}

/// A web sale sent twice through the API reaches Square once; the Square link it sold from.
async fn web_sale_sent_twice(client: &Client, sims: &Simulators) -> anyhow::Result<Value> {
    say(
        "A web sale on Square, sent twice",
        "the shop's client retries its request (POST /api/synchronizer/sale, one Idempotency-Key)",
    );
    let link = primary_link(client, ACCOUNTS[0].0, 4, &[]).await?;
    let body = json!({ "item_ecommerce_id": link["ecommerceID"], "delta": 1, "balance": 1990 });
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
    Ok(link)
}

/// A Hiboutik outage that the outbox rides out.
async fn outage(client: &Client, sims: &Simulators) -> anyhow::Result<()> {
    say(
        "A Hiboutik outage",
        "Hiboutik answers errors while one of its products sells online",
    );
    let link = primary_link(client, ACCOUNTS[1].0, 2, &[]).await?;
    sims.hiboutik.faults().set(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let (status, answer) = client
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": link["ecommerceID"], "delta": 1, "balance": 850 }),
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
    Ok(())
}

/// How the shop tells stocksync of an order, in the story's words.
struct News {
    /// Once the order is placed.
    placed: &'static str,
    /// When the shop tells of it again ([`SimShop::announce_again`]).
    again: &'static str,
    /// Once it is cancelled.
    cancelled: &'static str,
}

fn news(kind: ShopKind) -> News {
    match kind {
        ShopKind::WooCommerce => News {
            placed: "and tells stocksync (order.created)",
            again: "the merchant completes the order: WooCommerce announces it again (order.updated)",
            cancelled: "WooCommerce tells stocksync (order.updated)",
        },
        ShopKind::Shopify => News {
            placed: "and tells stocksync (orders/create)",
            again: "Shopify delivers orders/create again (its webhooks come at least once)",
            cancelled: "Shopify tells stocksync (orders/cancelled)",
        },
        ShopKind::PrestaShop => News {
            placed: "and tells no one: PrestaShop has no webhooks; stocksync reads the order at \
                     its next poll of the orders (Shop.PollSeconds: every second here)",
            again: "the merchant marks the order shipped: the next poll reads it again",
            cancelled: "the next poll reads the cancellation",
        },
    }
}

/// Waits until stocksync has taken in what the shop said of an order since it had sent
/// `delivered` webhook deliveries: one more delivery answered (stocksync answers once it has
/// counted the order); without webhooks, a poll of the orders begun after the news.
async fn told(client: &Client, shop: &dyn SimShop, delivered: u64) -> anyhow::Result<()> {
    if shop.sends_webhooks() {
        return until("a webhook delivery", || async {
            Ok((shop.deliveries() > delivered).then_some(()))
        })
        .await;
    }
    client.two_polls().await
}

/// A web order placed on the shop reaches the POS once, however often the shop announces it;
/// its cancellation gives the units back on both sides. `link`: the Square link its item sells
/// from first.
async fn web_order(
    client: &Client,
    sims: &Simulators,
    shop: &dyn SimShop,
    link: &Value,
) -> anyhow::Result<()> {
    let (pos_ref, id) = (text(&link["posID"]), text(&link["ecommerceID"]));
    let (name, news) = (shop.kind().display_name(), news(shop.kind()));
    let shop_before = client.shop_agrees(shop, &id).await?;
    let square_before = sims.square.quantity(&pos_ref);
    let sales_before = sims.square.recorded_web_sales();
    say(
        &format!("A web order on {name}"),
        &format!("a shopper buys 2 of item {id}, which shows {shop_before}; the order is paid"),
    );
    let delivered = shop.deliveries();
    let order = shop
        .place_order(&[(&id, 2)])
        .map_err(|refusal| anyhow!("the shop refused the order: {refusal}"))?;
    detail(&format!(
        "{name} takes the 2 units from its own stock (now {}) {}",
        shown(shop.quantity(&id)),
        news.placed
    ));
    told(client, shop, delivered).await?;
    client.sales_settled().await?;
    let recorded = sims.square.recorded_web_sales();
    detail(&format!(
        "its line is a sale on Square: {} web sale(s) recorded (Square counts {})",
        recorded,
        shown(sims.square.quantity(&pos_ref))
    ));
    if recorded != sales_before + 1 {
        bail!(
            "expected {} sales on Square, found {recorded}",
            sales_before + 1
        );
    }
    let delivered = shop.deliveries();
    if !shop.announce_again(&order) {
        bail!("the shop cannot tell of order {order} again");
    }
    detail(news.again);
    told(client, shop, delivered).await?;
    client.sales_settled().await?;
    let recorded = sims.square.recorded_web_sales();
    detail(&format!(
        "Square still recorded {recorded} web sale(s): each order line reaches the POS once"
    ));
    if recorded != sales_before + 1 {
        bail!("the order reached Square twice: {recorded} sales");
    }
    let shows = client.shop_agrees(shop, &id).await?;
    detail(&format!(
        "the shop's item {id} shows {shows}, as stocksync wants"
    ));

    say(
        "The order is cancelled",
        &format!("the merchant cancels order {order}; {}", news.cancelled),
    );
    let delivered = shop.deliveries();
    if !shop.cancel_order(&order) {
        bail!("the order {order} cannot be cancelled");
    }
    told(client, shop, delivered).await?;
    client.sales_settled().await?;
    until("Square's count back", || async {
        Ok((sims.square.quantity(&pos_ref) == square_before).then_some(()))
    })
    .await?;
    let shows = client.shop_agrees(shop, &id).await?;
    detail(&format!(
        "the units are back: Square counts {} again, the shop's item {id} shows {shows}",
        shown(sims.square.quantity(&pos_ref))
    ));
    if shows != shop_before {
        bail!("the shop shows {shows}, not {shop_before} as before the order");
    }
    Ok(())
}

/// A reconciliation finds and fixes a drift.
async fn drift(client: &Client, sims: &Simulators) -> anyhow::Result<()> {
    let sq_ref = client
        .links_of(ACCOUNTS[0].0)
        .await?
        .iter()
        .find(|link| quantity(link) >= 3)
        .map(|link| text(&link["posID"]))
        .ok_or_else(|| anyhow!("no linked Square product has 3 units"))?;
    say(
        "A drift",
        &format!("the synchronizer is stopped while a cashier sells 3 of Square item {sq_ref}"),
    );
    client.post("/api/synchronizer/stop", json!({})).await?;
    sims.square.till_sale(&sq_ref, 3);
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
