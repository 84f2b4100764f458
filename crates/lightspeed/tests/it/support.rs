//! A simulator, a database and connectors wired to them.

use secrecy::SecretString;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::account::{AccountConfig, VendorConfig};
use stocksync_domain::{AccountId, PosKind};
use stocksync_lightspeed::{LightspeedConnector, LightspeedSim, LightspeedSimOptions};
use stocksync_pos::backoff::Backoff;
use stocksync_pos::{CallLog, PosHttp};
use stocksync_store::{DatabaseUrl, Store};

/// The simulator's default account number.
pub const ACCOUNT: &str = "83050";
pub const TOKEN_CALL: &str = "POST /auth/oauth/token";
pub const STOCK_CALL: &str = "GET ItemShop.json";

pub struct Harness {
    pub sim: LightspeedSim,
    pub store: Store,
    /// The database's URL, for a second pool on it (as another process would open).
    pub database: DatabaseUrl,
    pub calls: CallLog,
    /// The entry `account_settings` gave, with its first token pair.
    pub settings: Value,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start(options: LightspeedSimOptions) -> Self {
        let sim = LightspeedSim::start(options)
            .await
            .expect("the simulator starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("stocksync.db").display());
        let database = DatabaseUrl::parse(&url).expect("a database URL");
        let store = Store::connect(&database).await.expect("the database opens");
        store.migrate().await.expect("the schema is created");
        let settings = sim.account_settings();
        Self {
            sim,
            store,
            database,
            calls: CallLog::default(),
            settings,
            _dir: dir,
        }
    }

    /// The account as the server would configure it from `settings`.
    pub fn config(&self) -> AccountConfig {
        config_from(&self.settings)
    }

    /// The account, with some settings changed first.
    pub fn config_with(&self, edit: impl FnOnce(&mut Value)) -> AccountConfig {
        let mut settings = self.settings.clone();
        edit(&mut settings);
        config_from(&settings)
    }

    pub fn connector(&self) -> LightspeedConnector {
        self.connector_for(&self.config())
    }

    /// A connector as the server would build it, on this harness's database and call log,
    /// with short retry waits.
    pub fn connector_for(&self, config: &AccountConfig) -> LightspeedConnector {
        self.connector_on(config, self.store.clone())
    }

    /// A connector of another process: its own pool on the same database.
    pub async fn connector_of_another_process(&self) -> LightspeedConnector {
        let store = Store::connect(&self.database)
            .await
            .expect("a second pool on the database");
        self.connector_on(&self.config(), store)
    }

    fn connector_on(&self, config: &AccountConfig, store: Store) -> LightspeedConnector {
        let http = PosHttp::with_timeout(
            config.id.as_str(),
            self.calls.clone(),
            Duration::from_secs(5),
        );
        LightspeedConnector::new(config, http, Arc::new(store))
            .expect("a Lightspeed account")
            .with_backoff(Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(100),
                retries: 3,
            })
    }

    pub fn count(&self, endpoint: &str) -> u64 {
        self.calls.count(ACCOUNT, endpoint)
    }

    pub fn with_status(&self, status: u16) -> u64 {
        self.calls.with_status(ACCOUNT, status)
    }
}

fn config_from(settings: &Value) -> AccountConfig {
    let text = |key: &str| {
        settings[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is text"))
            .to_owned()
    };
    let int = |key: &str| {
        settings[key]
            .as_i64()
            .unwrap_or_else(|| panic!("{key} is a number"))
    };
    AccountConfig {
        id: AccountId::new(text("AccountID")),
        kind: PosKind::Lightspeed,
        base_url: text("BaseUrl"),
        vendor: VendorConfig::Lightspeed {
            access_token: settings["AccessToken"].as_str().map(SecretString::from),
            refresh_token: text("RefreshToken").into(),
            client_id: text("ClientID"),
            client_secret: text("ClientSecret").into(),
            auth_url: text("AuthUrl"),
            employee_id: int("EmployeeID"),
            register_id: int("RegisterID"),
            shop_id: int("ShopID"),
            customer_id: int("LightspeedCustomerID"),
        },
    }
}

/// Options with `count` generated products and the given `ShopID`.
pub fn options(count: usize, shop_id: i64) -> LightspeedSimOptions {
    LightspeedSimOptions {
        products: stocksync_pos::simkit::catalog(count, 7),
        shop_id,
        ..LightspeedSimOptions::default()
    }
}

/// Pages of 100 a read of `rows` rows takes (an empty read still asks once).
pub fn pages(rows: usize) -> u64 {
    rows.div_ceil(100).max(1) as u64
}

impl Harness {
    /// A GET straight to the simulator with the first access token, bypassing the connector
    /// (to look at what the wire carries).
    pub async fn raw_get(&self, path_and_query: &str) -> reqwest::Response {
        let url = format!(
            "{}/API/V3/Account/{ACCOUNT}/{path_and_query}",
            self.sim.base_url()
        );
        let token = self.settings["AccessToken"]
            .as_str()
            .expect("an access token");
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("the simulator answers")
    }

    /// A refresh straight to the OAuth server.
    pub async fn raw_refresh(&self, refresh_token: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.settings["ClientID"].as_str().unwrap()),
            (
                "client_secret",
                self.settings["ClientSecret"].as_str().unwrap(),
            ),
            ("refresh_token", refresh_token),
        ];
        reqwest::Client::new()
            .post(format!("{}/auth/oauth/token", self.sim.auth_url()))
            .form(&form)
            .send()
            .await
            .expect("the OAuth server answers")
    }
}
