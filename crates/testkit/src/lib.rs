//! Test support: a fresh database per test (SQLite file, or MariaDB when
//! `STOCKSYNC_TEST_MARIADB_URL` is set), the real service started on `127.0.0.1:0`, and an
//! in-process POS catalog behind the connector trait; optionally a simulated shop of any
//! platform (`Options::shop`, started by [`sim_shop`]) as the configured `Shop`, and its
//! webhook deliveries signed as each platform signs them.

mod catalog;
mod database;

pub use catalog::Catalog;
pub use database::{Backend, MARIADB_URL_VAR, REQUIRE_MARIADB_VAR, TestDb};

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use stocksync::accounts::Accounts;
use stocksync::clock::{Clock, ManualClock, SystemClock};
use stocksync::config::Settings;
use stocksync::simulate::shops::{SimShop, start_shop};
use stocksync_domain::ShopKind;
use stocksync_woocommerce::{WooSim, WooSimOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The account every test configuration has: a Square account served by [`Catalog`].
pub const ACCOUNT: &str = "sq-main";
/// A second account (Hiboutik), also served by its own [`Catalog`].
pub const OTHER_ACCOUNT: &str = "hb-shop";
/// Secrets of the test configuration, to look for in answers and logs.
pub const SECRETS: &[&str] = &[
    "sq-token-s3cret",
    "hb-key-s3cret",
    SQUARE_WEBHOOK_KEY,
    HIBOUTIK_WEBHOOK_SECRET,
    SHOP_WEBHOOK_SECRET,
];
/// The signature key of [`ACCOUNT`]'s Square webhook subscription.
pub const SQUARE_WEBHOOK_KEY: &str = "sq-webhook-key-s3cret";
/// The notification URL registered for [`ACCOUNT`] (what the signature covers).
pub const SQUARE_WEBHOOK_URL: &str = "https://shop.example/webhooks/square/sq-main";
/// The secret [`OTHER_ACCOUNT`]'s Hiboutik webhooks carry in their URL.
pub const HIBOUTIK_WEBHOOK_SECRET: &str = "hb-hook-s3cret";

/// The `Shop.WebhookSecret` of a test app with a shop.
pub const SHOP_WEBHOOK_SECRET: &str = "woo-hook-s3cret";

/// A simulated WooCommerce shop on a loopback port (OAuth 1.0a over http, as a real http site),
/// for [`Options::shop`] when a test needs WooCommerce's own controls.
pub async fn woo_shop() -> Arc<WooSim> {
    Arc::new(
        WooSim::start(WooSimOptions::default())
            .await
            .expect("the WooCommerce simulator starts"),
    )
}

/// A simulated `kind` shop on a loopback port, empty and sending no webhooks (a test delivers
/// them itself), for [`Options::shop`].
pub async fn sim_shop(kind: ShopKind) -> Arc<dyn SimShop> {
    start_shop(kind, 0, Vec::new(), None)
        .await
        .unwrap_or_else(|err| panic!("the {kind:?} simulator starts: {err}"))
}

/// The `Shop` section that points stocksync at `sim` (polling every minute), with
/// [`SHOP_WEBHOOK_SECRET`] where the platform sends webhooks.
pub fn shop_config(sim: &dyn SimShop) -> Value {
    sim.settings(Some(SHOP_WEBHOOK_SECRET))
}

/// `body` signed with [`SHOP_WEBHOOK_SECRET`] as WooCommerce and Shopify both sign a delivery
/// (base64 HMAC-SHA256 of the raw body).
pub fn shop_signature(body: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SHOP_WEBHOOK_SECRET.as_bytes())
        .expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `appsettings.json` tests run with, in the original program's shape.
pub fn test_config() -> Value {
    json!({
        "ecommerceDatabaseConnectionString": "sqlite://unused.db",
        "PosAccess": { "PosConfigurations": [
            { "Type": "1", "AccessToken": SECRETS[0], "AccountID": ACCOUNT, "BaseUrl": "http://127.0.0.1:9",
              "WebhookSignatureKey": SQUARE_WEBHOOK_KEY, "WebhookUrl": SQUARE_WEBHOOK_URL },
            { "Type": 2, "AccessToken": SECRETS[1], "EmailAddress": "owner@example.com",
              "AccountName": OTHER_ACCOUNT, "MaximumRequests": 10000, "StoreID": 1,
              "WebhookSecret": HIBOUTIK_WEBHOOK_SECRET }
        ]}
    })
}

/// A running stocksync and what it was started with.
pub struct TestApp {
    pub address: SocketAddr,
    pub db: TestDb,
    /// The POS catalog of [`ACCOUNT`].
    pub catalog: Arc<Catalog>,
    /// The POS catalog of [`OTHER_ACCOUNT`].
    pub other_catalog: Arc<Catalog>,
    pub api_key: Option<String>,
    options: Options,
    client: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// How to start the app.
#[derive(Default, Clone)]
pub struct Options {
    pub api_key: Option<String>,
    /// Keys added to (or replacing those of) [`test_config`].
    pub config: Option<Value>,
    /// SQL run on the fresh database before the service starts (a shop's own tables, say).
    pub setup_sql: Option<String>,
    /// Talk to the configured accounts with the real vendor clients (pointed at simulators by
    /// `config`) instead of the in-process catalogs.
    pub vendor_clients: bool,
    /// Listen on this port (one the caller already told a simulator about) instead of any.
    pub listen_port: Option<u16>,
    /// The clock the schedules and jobs read (the system's when `None`).
    pub clock: Option<Arc<ManualClock>>,
    /// A shop platform: this simulated shop as `Shop` ([`shop_config`]), unless `config` has
    /// its own `Shop`. Kept across restarts.
    pub shop: Option<Arc<dyn SimShop>>,
}

impl TestApp {
    /// Starts stocksync on a fresh database of `backend`; `None` when that backend is not
    /// available (MariaDB without its variable: the test is skipped, with a notice).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        if let Some(sql) = &options.setup_sql {
            db.execute(sql).await;
        }
        let app = Self::start(
            db,
            Arc::new(Catalog::default()),
            Arc::new(Catalog::default()),
            options,
        )
        .await;
        Some(app)
    }

    async fn start(
        db: TestDb,
        catalog: Arc<Catalog>,
        other_catalog: Arc<Catalog>,
        options: Options,
    ) -> Self {
        let mut config = test_config();
        if let Some(sim) = &options.shop {
            config["Shop"] = shop_config(sim.as_ref());
        }
        if let Some(Value::Object(extra)) = &options.config {
            for (key, value) in extra {
                config[key] = value.clone();
            }
        }
        let api_key = options.api_key.clone();
        let mut settings = Settings::from_json(&config, &|_| None).expect("valid test config");
        settings.database = db.url.clone();
        settings.api_key = api_key.clone().map(Into::into);
        // Retries in milliseconds, so that a sale's whole life fits in a test.
        settings.sale_retries = stocksync_pos::backoff::Backoff {
            initial: std::time::Duration::from_millis(5),
            max: std::time::Duration::from_millis(20),
            retries: 3,
        };
        let (main, other) = (catalog.clone(), other_catalog.clone());
        let configs = settings.accounts.clone();
        let connect: stocksync::app::Connect = if options.vendor_clients {
            stocksync::app::vendor_clients(&settings)
        } else {
            Box::new(move |_, _| {
                Accounts::from_configs(&configs, |config| {
                    let catalog = if config.id.as_str() == ACCOUNT {
                        &main
                    } else {
                        &other
                    };
                    Ok(catalog.clone() as Arc<dyn stocksync_domain::PosConnector>)
                })
            })
        };
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", options.listen_port.unwrap_or(0)))
                .await
                .expect("a free port");
        let address = listener.local_addr().expect("an address");
        let shutdown = CancellationToken::new();
        let clock: Arc<dyn Clock> = match &options.clock {
            Some(clock) => clock.clone(),
            None => Arc::new(SystemClock),
        };
        let server = tokio::spawn(stocksync::app::run_with_clock(
            settings,
            listener,
            connect,
            clock,
            shutdown.clone(),
        ));
        let app = Self {
            address,
            db,
            catalog,
            other_catalog,
            api_key,
            options,
            client: http_client(),
            shutdown,
            server: Some(server),
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("stocksync did not become ready on {}", self.address);
    }

    /// What it was started with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// A second stocksync on the same database and catalogs, as another process sharing it
    /// would be.
    pub async fn spawn_beside(&self, options: Options) -> Self {
        Self::start(
            self.db.share(),
            self.catalog.clone(),
            self.other_catalog.clone(),
            options,
        )
        .await
    }

    /// Stops the service (as a clean shutdown) and starts it again on the same database and
    /// catalogs.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let db = std::mem::replace(&mut self.db, TestDb::placeholder());
        Self::start(
            db,
            self.catalog.clone(),
            self.other_catalog.clone(),
            self.options.clone(),
        )
        .await
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), server)
                .await
                .expect("stocksync stops within 30 s")
                .expect("server task")
                .expect("clean shutdown");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A request with the API key, when the app has one.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        send(self.request(reqwest::Method::POST, path)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.request(reqwest::Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// `POST /api/items` with `body`.
    pub async fn register(&self, body: Value) -> (u16, Value) {
        self.post("/api/items", body).await
    }

    /// Registers `pos_ref` of [`ACCOUNT`] as shop item `ecommerce_id`; panics unless 201.
    pub async fn link(&self, pos_ref: &str, ecommerce_id: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/items",
                json!({ "item_pos_id": pos_ref, "item_ecommerce_id": ecommerce_id, "account_id": ACCOUNT }),
            )
            .await;
        assert_eq!(status, 201, "registering {pos_ref}: {body}");
        body
    }

    /// Polls a sale until it has left the `accepted` state; returns its final JSON.
    pub async fn wait_sale(&self, location: &str) -> Value {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            let (status, sale) = self.get(location).await;
            assert_eq!(status, 200, "{sale}");
            if sale["state"] != "accepted" {
                return sale;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("sale {location} was not pushed within {WAIT:?}");
    }

    /// Sells `delta` units of shop item `ecommerce_id`; panics unless accepted. Answers the
    /// sale's location.
    pub async fn sell(&self, ecommerce_id: &str, delta: i64) -> String {
        let (status, answer) = self
            .post(
                "/api/synchronizer/sale",
                json!({ "item_ecommerce_id": ecommerce_id, "delta": delta, "balance": 100 * delta }),
            )
            .await;
        assert_eq!(status, 202, "selling {ecommerce_id}: {answer}");
        answer["location"].as_str().expect("a location").to_owned()
    }

    /// Posts a WooCommerce delivery of `topic` (`order.updated`…) whose body is `{"id": id}`,
    /// signed with [`SHOP_WEBHOOK_SECRET`], to `POST /webhooks/shop`.
    pub async fn deliver_shop(&self, topic: &str, id: i64) -> (u16, Value) {
        let body = json!({ "id": id }).to_string();
        send(
            self.client
                .post(self.url("/webhooks/shop"))
                .header("Content-Type", "application/json")
                .header("X-WC-Webhook-Topic", topic)
                .header("X-WC-Webhook-Signature", shop_signature(body.as_bytes()))
                .body(body),
        )
        .await
    }

    /// Posts a Shopify delivery of `topic` (`orders/create`, `refunds/create`,
    /// `inventory_levels/update`…) with its REST-shaped `body`, webhook id `webhook_id`, signed
    /// with [`SHOP_WEBHOOK_SECRET`], to `POST /webhooks/shop`.
    pub async fn deliver_shopify(
        &self,
        topic: &str,
        webhook_id: &str,
        body: &Value,
    ) -> (u16, Value) {
        let body = body.to_string();
        send(
            self.client
                .post(self.url("/webhooks/shop"))
                .header("Content-Type", "application/json")
                .header("X-Shopify-Topic", topic)
                .header("X-Shopify-Webhook-Id", webhook_id)
                .header("X-Shopify-Shop-Domain", "simulated.myshopify.com")
                .header("X-Shopify-Hmac-Sha256", shop_signature(body.as_bytes()))
                .body(body),
        )
        .await
    }

    /// Tells stocksync, as the platform's webhook would, that shop order `order` changed (placed,
    /// cancelled or refunded), under a new delivery id; `None` for a platform without webhooks
    /// (PrestaShop: only the poll sees its orders).
    pub async fn announce_order(&self, kind: ShopKind, order: &str) -> Option<(u16, Value)> {
        let id: i64 = order.parse().expect("a numeric order id");
        match kind {
            ShopKind::WooCommerce => Some(self.deliver_shop("order.updated", id).await),
            ShopKind::Shopify => {
                let delivery = uuid::Uuid::new_v4().to_string();
                Some(
                    self.deliver_shopify("orders/updated", &delivery, &json!({ "id": id }))
                        .await,
                )
            }
            ShopKind::PrestaShop => None,
        }
    }

    /// Polls a task until it has ended (succeeded, failed or dead); returns its final JSON.
    pub async fn wait_task(&self, location: &str) -> Value {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            let (status, task) = self.get(location).await;
            assert_eq!(status, 200, "{task}");
            if ["succeeded", "failed", "dead"].contains(&task["state"].as_str().unwrap_or("")) {
                return task;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("task {location} did not finish within {WAIT:?}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The `error_message` of an error answer (empty when there is none).
pub fn message(body: &Value) -> &str {
    body["error_message"].as_str().unwrap_or_default()
}

/// An HTTP client for tests (TLS crypto installed first, as the service does).
pub fn http_client() -> reqwest::Client {
    stocksync_pos::http::install_crypto();
    reqwest::Client::new()
}

/// Sends a request; answers the status and the JSON body (`null` when empty).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the request reaches stocksync");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got: {text}"))
    };
    (status, body)
}

/// How long the waits of a test last at most: a bound for a busy 2-core machine, not a timing.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs each named `async fn(Backend)` once on SQLite and once on MariaDB (skipped with a
/// notice when `STOCKSYNC_TEST_MARIADB_URL` is unset, failed if `STOCKSYNC_TEST_REQUIRE_MARIADB`
/// is set then).
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::Backend::Sqlite).await
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if $crate::Backend::mariadb_available() {
                        super::$test($crate::Backend::MariaDb).await
                    }
                }
            )*
        }
    };
}
