//! Configuration: the original `appsettings.json` (unchanged), our keys (`Listen`, `ApiKey`,
//! `Cron`, `BaseUrl`, `AuthUrl`), then the `STOCKSYNC_*` environment variables on top.
//!
//! Loading either yields valid [`Settings`] or every problem found, each naming its JSON path.
//! Secrets are held as `SecretString` and shown only as `[REDACTED]`.

mod accounts;
mod json;
mod schedule;
mod shop;

pub use accounts::WebhookConfig;
pub use schedule::{Schedule, parse_time_zone};
pub use shop::{DEFAULT_SHOP_CRON, DEFAULT_SHOPIFY_API_VERSION, ShopAccess, ShopConfig};
pub use stocksync_domain::account::{AccountConfig, VendorConfig};

use chrono_tz::Tz;
use json::{Problems, Section};
use secrecy::{ExposeSecret, SecretString};
use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stocksync_domain::AccountId;
use stocksync_pos::backoff::Backoff;
use stocksync_store::{DatabaseUrl, ShopTable};

/// The schedule of the periodic sync when `Cron` is not set: every minute, as the original.
pub const DEFAULT_CRON: &str = "* * * * *";
/// The schedule of the full reconciliation when `ReconcileCron` is not set: 03:00 every night.
pub const DEFAULT_RECONCILE_CRON: &str = "0 3 * * *";
pub const DEFAULT_DATABASE: &str = "sqlite://stocksync.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5000";
/// Attempts to record a web sale on its POS before it is declared dead.
pub const DEFAULT_SALE_MAX_ATTEMPTS: i64 = 10;
/// The file read when no `--config` or `STOCKSYNC_CONFIG` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "appsettings.json";

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file they came from, if any.
    pub source: Option<PathBuf>,
    pub database: DatabaseUrl,
    pub listen: SocketAddr,
    /// When set, every route but the health checks needs `Authorization: Bearer <key>`.
    pub api_key: Option<SecretString>,
    /// When each account is synced, unless it has its own (`Cron`, every minute by default).
    pub cron: Schedule,
    /// Accounts with a schedule of their own (`PosConfigurations[].Cron`).
    pub account_crons: Vec<(AccountId, Schedule)>,
    /// When the full reconciliation runs (`ReconcileCron`, nightly by default).
    pub reconcile_cron: Schedule,
    /// The zone the schedules are read in (`TimeZone`, UTC by default).
    pub time_zone: Tz,
    /// How background jobs are run.
    pub jobs: JobSettings,
    pub accounts: Vec<AccountConfig>,
    /// Webhook settings of the accounts that have them, by account id.
    pub webhooks: Vec<(AccountId, WebhookConfig)>,
    /// How long finished jobs and webhook events are kept (`HistoryDays`, default 90).
    pub history: chrono::Duration,
    /// The shop's own stock column to keep in step (`ShopTable`), if any.
    pub shop_table: Option<ShopTable>,
    /// The shop platform reached through its API (`Shop`), if any.
    pub shop: Option<ShopConfig>,
    /// How web sales are retried on their way to the POS: `SaleMaxAttempts` attempts in all,
    /// waits from `SaleRetrySeconds` doubling up to `SaleRetryMaxSeconds`.
    pub sale_retries: Backoff,
    /// Host names the API answers for besides the listen address and loopback names
    /// (`AllowedHosts`, .NET style: `;`-separated or a list; `*` for any).
    pub allowed_hosts: Vec<String>,
    /// How long requests may take and how many run at once.
    pub limits: ServerLimits,
    /// How long a dashboard login lasts (`SessionHours`, default 12).
    pub session_lifetime: chrono::Duration,
    /// Things worth saying that do not stop the service.
    pub warnings: Vec<String>,
}

/// What protects the server from slow or too many clients (`RequestTimeoutSeconds`,
/// `HeaderReadTimeoutSeconds`, `MaxConcurrentRequests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A request not answered by then gets a 503 (its work is abandoned, its transaction rolled back).
    pub request_timeout: Duration,
    /// A connection that has not sent a whole request head by then is closed (an idle
    /// keep-alive connection too: hyper times the wait for the next request the same way).
    pub header_read_timeout: Duration,
    /// Requests handled at once; past it, a 503 at once.
    pub max_concurrent_requests: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            max_concurrent_requests: 256,
        }
    }
}

/// How background jobs are run (`JobWorkers`, `JobLeaseSeconds`, `JobMaxAttempts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Jobs one process runs at once (never two of the same account, across processes).
    pub workers: usize,
    /// How long a job stays its worker's without a heartbeat; after a crash, another process
    /// takes the job over once it expires.
    pub lease: Duration,
    /// Attempts before a failing job is dead (a periodic sync is not retried: its next tick is).
    pub max_attempts: i64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(30),
            max_attempts: 3,
        }
    }
}

/// Every reason the configuration was refused.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Environment variables that override the file.
pub const ENV_CONFIG: &str = "STOCKSYNC_CONFIG";
pub const ENV_DATABASE_URL: &str = "STOCKSYNC_DATABASE_URL";
pub const ENV_LISTEN: &str = "STOCKSYNC_LISTEN";
pub const ENV_API_KEY: &str = "STOCKSYNC_API_KEY";

impl Settings {
    /// Loads from `path` (or `STOCKSYNC_CONFIG`, or `./appsettings.json` if present, or nothing)
    /// and the environment, read through `env` so tests can supply their own.
    pub fn load(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| env(ENV_CONFIG).map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.exists().then_some(default)
            });
        let document = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigErrors(vec![format!("cannot read {}: {e}", path.display())])
                })?;
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
                    ConfigErrors(vec![format!("{} is not valid JSON: {e}", path.display())])
                })?
            }
            None => serde_json::Value::Object(Default::default()),
        };
        let mut settings = Self::from_json(&document, env)?;
        settings.source = path;
        Ok(settings)
    }

    /// Validates a parsed `appsettings.json` document, with the environment on top.
    pub fn from_json(
        document: &serde_json::Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let mut problems = Problems::default();
        let root = match document {
            serde_json::Value::Object(map) => Section::new("", map),
            other => {
                return Err(ConfigErrors(vec![format!(
                    "the configuration must be a JSON object, not {}",
                    json::kind(other)
                )]));
            }
        };

        let (database_path, database) = match env(ENV_DATABASE_URL) {
            Some(url) => (ENV_DATABASE_URL.to_owned(), url),
            None => (
                root.path_of("ecommerceDatabaseConnectionString"),
                root.string("ecommerceDatabaseConnectionString", &mut problems)
                    .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
            ),
        };
        if env(ENV_DATABASE_URL).is_none()
            && root
                .get("ecommerceDatabaseConnectionString")
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.trim().is_empty())
        {
            problems.error(
                &database_path,
                "is empty; remove it to use the built-in SQLite file",
            );
        }
        let database = DatabaseUrl::parse(&database)
            .map_err(|e| problems.error(&database_path, e))
            .ok();
        if root.get("hangfireDatabaseConnectionString").is_some() {
            problems.warn(
                "hangfireDatabaseConnectionString",
                "ignored: jobs and schedules now live in the main database",
            );
        }

        let (listen_path, listen) = match env(ENV_LISTEN) {
            Some(listen) => (ENV_LISTEN.to_owned(), listen),
            None => (
                root.path_of("Listen"),
                root.string("Listen", &mut problems)
                    .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            ),
        };
        let listen = listen
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.error(
                    &listen_path,
                    format!("'{listen}' is not an address:port such as 127.0.0.1:5000"),
                )
            })
            .ok();

        let api_key = match env(ENV_API_KEY) {
            Some(key) if key.trim().is_empty() => {
                problems.error(ENV_API_KEY, "is set but empty");
                None
            }
            Some(key) => Some(SecretString::from(key.trim().to_owned())),
            None => {
                if root
                    .get("ApiKey")
                    .is_some_and(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
                {
                    problems.error(
                        "ApiKey",
                        "is empty; remove it to run without a key (loopback only)",
                    );
                }
                root.string("ApiKey", &mut problems).map(SecretString::from)
            }
        };
        if let (None, Some(listen)) = (&api_key, listen)
            && !listen.ip().is_loopback()
        {
            problems.error(
                    &listen_path,
                    format!(
                        "{listen} is reachable from other machines, and no ApiKey is set: anyone could read and change \
                         your stock. Set ApiKey (or {ENV_API_KEY}), or listen on 127.0.0.1"
                    ),
                );
        }

        let mut schedule = |key: &str, default: &str| {
            let expression = root
                .string(key, &mut problems)
                .unwrap_or_else(|| default.to_owned());
            Schedule::parse(&expression)
                .map_err(|e| problems.error(key, e))
                .ok()
        };
        let cron = schedule("Cron", DEFAULT_CRON);
        let reconcile_cron = schedule("ReconcileCron", DEFAULT_RECONCILE_CRON);
        let time_zone = root
            .string("TimeZone", &mut problems)
            .map_or(Ok(Tz::UTC), |name| parse_time_zone(&name))
            .map_err(|e| problems.error("TimeZone", e))
            .unwrap_or(Tz::UTC);
        let defaults = JobSettings::default();
        let workers = root.integer("JobWorkers", &mut problems).unwrap_or(2);
        if !(1..=16).contains(&workers) {
            problems.error("JobWorkers", "must be from 1 to 16");
        }
        let lease = root
            .seconds("JobLeaseSeconds", 1.0, 3600.0, &mut problems)
            .map_or(defaults.lease, Duration::from_secs_f64);
        let job_attempts = root
            .integer("JobMaxAttempts", &mut problems)
            .unwrap_or(defaults.max_attempts);
        if !(1..=100).contains(&job_attempts) {
            problems.error("JobMaxAttempts", "must be from 1 to 100");
        }
        let jobs = JobSettings {
            workers: usize::try_from(workers.clamp(1, 16)).unwrap_or(1),
            lease,
            max_attempts: job_attempts.clamp(1, 100),
        };

        let max_attempts = root
            .integer("SaleMaxAttempts", &mut problems)
            .unwrap_or(DEFAULT_SALE_MAX_ATTEMPTS);
        if !(1..=1000).contains(&max_attempts) {
            problems.error("SaleMaxAttempts", "must be from 1 to 1000");
        }
        let history_days = root.integer("HistoryDays", &mut problems).unwrap_or(90);
        if !(1..=3650).contains(&history_days) {
            problems.error("HistoryDays", "must be from 1 to 3650");
        }
        let history = chrono::Duration::days(history_days.clamp(1, 3650));

        let first_wait = root
            .seconds("SaleRetrySeconds", 0.001, 3600.0, &mut problems)
            .unwrap_or(2.0);
        let max_wait = root
            .seconds("SaleRetryMaxSeconds", 0.001, 86_400.0, &mut problems)
            .unwrap_or(600.0);
        let sale_retries = Backoff {
            initial: Duration::from_secs_f64(first_wait),
            max: Duration::from_secs_f64(max_wait.max(first_wait)),
            retries: u32::try_from(max_attempts.clamp(1, 1000) - 1).unwrap_or(0),
        };

        let shop_table = root
            .section("ShopTable", &mut problems)
            .and_then(|section| {
                let table = section.required_string("Table", "the shop's table", &mut problems);
                let id = section.required_string(
                    "IdColumn",
                    "the column of the shop's item id",
                    &mut problems,
                );
                let quantity = section.required_string(
                    "QuantityColumn",
                    "the column of the quantity",
                    &mut problems,
                );
                ShopTable::new(&table?, &id?, &quantity?)
                    .map_err(|e| problems.error(&section.path, e))
                    .ok()
            });

        let shop = shop::parse_shop(&root, time_zone, &mut problems);
        let allowed_hosts = allowed_hosts(&root, &mut problems);
        let limits = server_limits(&root, &mut problems);
        let session_hours = root.integer("SessionHours", &mut problems).unwrap_or(12);
        if !(1..=720).contains(&session_hours) {
            problems.error("SessionHours", "must be from 1 to 720");
        }
        let session_lifetime = chrono::Duration::hours(session_hours.clamp(1, 720));

        let parsed = accounts::parse_accounts(&root, &mut problems);
        let webhooks = parsed
            .iter()
            .filter_map(|p| Some((p.config.id.clone(), p.webhook.clone()?)))
            .collect();
        let account_crons = parsed
            .iter()
            .filter_map(|p| Some((p.config.id.clone(), p.cron.clone()?)))
            .collect();
        let accounts = parsed.into_iter().map(|p| p.config).collect();
        match (
            problems.errors.is_empty(),
            database,
            listen,
            cron,
            reconcile_cron,
        ) {
            (true, Some(database), Some(listen), Some(cron), Some(reconcile_cron)) => Ok(Self {
                source: None,
                database,
                listen,
                api_key,
                cron,
                account_crons,
                reconcile_cron,
                time_zone,
                jobs,
                accounts,
                webhooks,
                shop_table,
                shop,
                history,
                sale_retries,
                allowed_hosts,
                limits,
                session_lifetime,
                warnings: problems.warnings,
            }),
            _ => Err(ConfigErrors(problems.errors)),
        }
    }

    /// The API key, for comparison with a request's; never log it.
    pub fn api_key_bytes(&self) -> Option<&[u8]> {
        self.api_key.as_ref().map(|k| k.expose_secret().as_bytes())
    }

    /// A human summary without any secret, for `check-config` and the start-up log.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let source = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none (built-in defaults)".into());
        let _ = writeln!(out, "config file: {source}");
        let _ = writeln!(out, "database:    {}", self.database);
        let _ = writeln!(out, "listen:      {}", self.listen);
        if let Some(shop_table) = &self.shop_table {
            let _ = writeln!(out, "shop table:  {shop_table}");
        }
        if let Some(shop) = &self.shop {
            let _ = writeln!(
                out,
                "shop:        {} at {} (orders polled {}, webhooks {})",
                shop.kind.as_str(),
                shop.base_url,
                match shop.poll_every {
                    Some(every) => format!("every {} s", every.as_secs_f64()),
                    None => format!("'{}'", shop.cron.expression),
                },
                if shop.webhook_secret.is_some() {
                    "signed"
                } else {
                    "off"
                }
            );
        }
        let key = if self.api_key.is_some() {
            "set"
        } else {
            "not set (loopback only)"
        };
        let _ = writeln!(out, "api key:     {key}");
        let _ = writeln!(out, "sync cron:   {}", self.cron.expression);
        for (account, cron) in &self.account_crons {
            let _ = writeln!(out, "  {account}: {}", cron.expression);
        }
        let _ = writeln!(out, "reconcile:   {}", self.reconcile_cron.expression);
        let _ = writeln!(out, "time zone:   {}", self.time_zone);
        let _ = writeln!(out, "sale tries:  {}", self.sale_retries.retries + 1);
        let _ = writeln!(out, "accounts:    {}", self.accounts.len());
        for account in &self.accounts {
            let _ = writeln!(
                out,
                "  - {} ({}) at {}{}",
                account.id,
                account.kind.as_str(),
                account.base_url,
                account_details(&account.vendor)
            );
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        out
    }
}

/// `AllowedHosts`: host names (`shop.example`, `shop.example:8443`, `*.shop.example`) or `*`,
/// `;`- or `,`-separated, or a list.
fn allowed_hosts(root: &Section, problems: &mut Problems) -> Vec<String> {
    let mut hosts = Vec::new();
    for entry in root.string_list("AllowedHosts", problems) {
        for host in entry.split(';').map(str::trim).filter(|h| !h.is_empty()) {
            let bad = host.contains(['/', '@', ' ', '?', '#'])
                || (host.contains('*') && host != "*" && !host.starts_with("*."));
            if bad {
                problems.error(
                    "AllowedHosts",
                    format!(
                        "'{host}' is not a host name such as shop.example, *.shop.example or *"
                    ),
                );
            } else {
                hosts.push(host.to_ascii_lowercase());
            }
        }
    }
    hosts
}

fn server_limits(root: &Section, problems: &mut Problems) -> ServerLimits {
    let defaults = ServerLimits::default();
    let seconds = |key: &str, default: Duration, problems: &mut Problems| {
        root.seconds(key, 0.1, 3600.0, problems)
            .map_or(default, Duration::from_secs_f64)
    };
    let request_timeout = seconds("RequestTimeoutSeconds", defaults.request_timeout, problems);
    let header_read_timeout = seconds(
        "HeaderReadTimeoutSeconds",
        defaults.header_read_timeout,
        problems,
    );
    let concurrent = root
        .integer("MaxConcurrentRequests", problems)
        .unwrap_or(defaults.max_concurrent_requests as i64);
    if !(1..=100_000).contains(&concurrent) {
        problems.error("MaxConcurrentRequests", "must be from 1 to 100000");
    }
    ServerLimits {
        request_timeout,
        header_read_timeout,
        max_concurrent_requests: usize::try_from(concurrent.clamp(1, 100_000)).unwrap_or(1),
    }
}

fn account_details(vendor: &VendorConfig) -> String {
    match vendor {
        VendorConfig::Square { locations, .. } if locations.is_empty() => {
            ", the location named by AccountID if there is one, else every active location".into()
        }
        VendorConfig::Square { locations, .. } => format!(", locations {}", locations.join(", ")),
        VendorConfig::Hiboutik {
            email,
            maximum_requests,
            store_id,
            ..
        } => {
            format!(", login {email}, store {store_id}, budget {maximum_requests} calls/month")
        }
        VendorConfig::Lightspeed {
            shop_id,
            register_id,
            employee_id,
            ..
        } => {
            format!(", shop {shop_id}, register {register_id}, employee {employee_id}")
        }
    }
}
