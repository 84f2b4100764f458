//! Fresh, throw-away databases: an SQLite file in a temporary directory, or a new MariaDB
//! database (`stocksync_test_<uuid>`) dropped when the test ends.

use sqlx::{ConnectOptions, Connection};
use std::io::Write;
use std::sync::Once;
use stocksync_store::DatabaseUrl;

/// Where the MariaDB tests connect (a server URL without a database, such as
/// `mysql://root@127.0.0.1:3306`). Unset: they are skipped. Set but unreachable: they fail.
pub const MARIADB_URL_VAR: &str = "STOCKSYNC_TEST_MARIADB_URL";
/// Set (to anything but `0`) to make the MariaDB tests mandatory, as CI does: then an unset
/// `STOCKSYNC_TEST_MARIADB_URL` fails them instead of skipping them.
pub const REQUIRE_MARIADB_VAR: &str = "STOCKSYNC_TEST_REQUIRE_MARIADB";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
}

impl Backend {
    /// Whether MariaDB tests should run; says once (on the terminal, past the test harness's
    /// capture) when they are skipped. Panics when they may not be skipped.
    pub fn mariadb_available() -> bool {
        if std::env::var(MARIADB_URL_VAR).is_ok() {
            return true;
        }
        if std::env::var(REQUIRE_MARIADB_VAR).is_ok_and(|v| !v.is_empty() && v != "0") {
            panic!(
                "{REQUIRE_MARIADB_VAR} is set but {MARIADB_URL_VAR} is not: the MariaDB tests \
                 would not run (set it to mysql://root@127.0.0.1:3306)"
            );
        }
        static NOTICE: Once = Once::new();
        NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "\nnote: MariaDB tests skipped: set {MARIADB_URL_VAR}=mysql://root@127.0.0.1:3306 to run them\n"
            );
        });
        false
    }
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub backend: Backend,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// The MariaDB server and database name to drop at the end.
    mariadb: Option<(String, String)>,
}

impl TestDb {
    /// A new empty database; `None` for MariaDB when it is not configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("stocksync.db").display());
                Some(Self {
                    url: DatabaseUrl::parse(&url).expect("an SQLite URL"),
                    backend,
                    _dir: Some(dir),
                    mariadb: None,
                })
            }
            Backend::MariaDb => {
                if !Backend::mariadb_available() {
                    return None;
                }
                let server = std::env::var(MARIADB_URL_VAR).ok()?;
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("stocksync_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::MySqlConnection::connect(&server)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{MARIADB_URL_VAR} is set but MariaDB is unreachable: {e}")
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
                    .execute(&mut conn)
                    .await
                    .expect("CREATE DATABASE");
                let _ = conn.close().await;
                Some(Self {
                    url: DatabaseUrl::parse(&format!("{server}/{name}")).expect("a MySQL URL"),
                    backend,
                    _dir: None,
                    mariadb: Some((server, name)),
                })
            }
        }
    }

    /// Stands in for a database that has been moved out (see `TestApp::restart`).
    pub(crate) fn placeholder() -> Self {
        Self {
            url: DatabaseUrl::parse("sqlite://moved.db").expect("a URL"),
            backend: Backend::Sqlite,
            _dir: None,
            mariadb: None,
        }
    }

    /// The same database, for a second app beside the first (the first one owns it: it is
    /// dropped with the first).
    pub fn share(&self) -> Self {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            _dir: None,
            mariadb: None,
        }
    }

    /// Runs raw SQL statements on this database, around the service (to lay out a legacy
    /// schema, say).
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = self.sqlite().await;
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("the SQL runs");
            }
            Backend::MariaDb => {
                let mut conn = sqlx::MySqlConnection::connect(self.url.expose())
                    .await
                    .expect("MariaDB");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("the SQL runs");
            }
        }
    }

    /// Pairs of integers selected by `sql`, read around the service (a shop's own table, say).
    pub async fn pairs(&self, sql: &str) -> Vec<(i64, i64)> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = self.sqlite().await;
                sqlx::query_as(sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("the query runs")
            }
            Backend::MariaDb => {
                let mut conn = sqlx::MySqlConnection::connect(self.url.expose())
                    .await
                    .expect("MariaDB");
                sqlx::query_as(sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("the query runs")
            }
        }
    }

    /// A connection to this SQLite database, creating the file if needed.
    async fn sqlite(&self) -> sqlx::SqliteConnection {
        let options: sqlx::sqlite::SqliteConnectOptions =
            self.url.expose().parse().expect("an SQLite URL");
        options
            .create_if_missing(true)
            .connect()
            .await
            .expect("SQLite")
    }

    /// A pool on this database for checks that go around the API.
    pub async fn store(&self) -> stocksync_store::Store {
        stocksync_store::Store::connect(&self.url)
            .await
            .expect("the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.mariadb.take() else {
            return;
        };
        // Drop runs outside async code: a short-lived runtime on its own thread drops the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::MySqlConnection::connect(&server).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS `{name}`"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}
