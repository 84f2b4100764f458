//! Storage: one database (SQLite or MySQL/MariaDB) holding the `stock` table and everything
//! stocksync keeps beside it (observations, ledger, sales outbox, tasks, settings).
//!
//! Both backends run the same SQL, written once: each method's body is type-checked against
//! both pools by `dispatch!`. The one behaviour that differs (how a writing transaction begins)
//! lives in `WriteTx`.
//! This crate knows nothing of HTTP or of POS vendors.

mod leases;
mod ledger;
mod links;
mod outbox;
mod pos_state;
mod read_jobs;
mod sales;
mod schedules;
mod sessions;
mod settings;
mod shop_events;
mod shop_lines;
mod shop_push;
mod shop_table;
mod stats;
mod sync;
mod tasks;
mod url;
mod webhooks;

pub use links::{InsertedLink, LinkPage};
pub use outbox::SaleRetry;
pub use read_jobs::ReadRequest;
pub use sales::SaleOutcome;
pub use schedules::{ScheduleState, ScheduleTick, TickOutcome};
pub use shop_events::ShopEventView;
pub use shop_lines::{LineSeen, ShopReadState};
pub use shop_push::{ReportedItem, ShopKept, ShopPush, ShopPushStats};
pub use shop_table::{BadIdentifier, ShopTable};
pub use sync::{Drift, Missing, PosRead, SyncReport};
pub use tasks::{NewJob, NextStep, TaskOutcome};
pub use url::{Backend, DatabaseUrl, UrlError};

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to whichever pool the store holds; the body is written once
/// and compiled once per backend.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::MySql($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Begins a transaction that will write. SQLite takes its write lock at once (`BEGIN IMMEDIATE`)
/// so that a read-then-write transaction never fails on a concurrent writer; MySQL locks rows as
/// it goes.
macro_rules! begin_write {
    ($pool:expr) => {
        $crate::WriteTx::begin_write($pool)
    };
}
pub(crate) use begin_write;

/// One line of the ledger, the append-only story of every link's quantity.
pub(crate) struct LedgerLine<'a> {
    pub link_id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// `registered`, `web_sale`, `web_return`, `pos_count`, `pos_gone`, `sale_confirmed`, `sale_refused`,
    /// `sale_retried`.
    pub reason: &'static str,
    pub before: i64,
    pub after: i64,
    pub sale_id: Option<&'a str>,
    pub pos_ref: &'a str,
    pub detail: String,
}

/// Appends a [`LedgerLine`] inside the transaction `$tx`.
macro_rules! write_ledger {
    ($tx:expr, $line:expr) => {{
        let line: $crate::LedgerLine<'_> = $line;
        sqlx::query(
            "INSERT INTO stocksync_ledger (link_id, at, reason, quantity_before, quantity_after, sale_id, pos_ref, detail) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(line.link_id)
        .bind(line.at)
        .bind(line.reason)
        .bind(line.before)
        .bind(line.after)
        .bind(line.sale_id)
        .bind(line.pos_ref)
        .bind(line.detail)
        .execute(&mut *$tx)
        .await
    }};
}
pub(crate) use write_ledger;

/// What differs between the backends beyond their SQL types.
pub(crate) trait Dialect: sqlx::Database {
    /// Whether rows must be locked explicitly (`SELECT … FOR UPDATE`) before a transaction
    /// reads what it will write from. SQLite's `BEGIN IMMEDIATE` already locks the database.
    const LOCKS_ROWS: bool;
    /// `INSERT` that leaves an existing row as it is.
    const INSERT_OR_IGNORE: &'static str;
    /// Adds shop item `?` to the push queue (`?` the time) if it is not there, and locks its row
    /// either way (MySQL: the duplicate-key update takes the row's exclusive lock).
    const INSERT_SHOP_ITEM: &'static str;
}

impl Dialect for sqlx::Sqlite {
    const LOCKS_ROWS: bool = false;
    const INSERT_OR_IGNORE: &'static str = "INSERT OR IGNORE";
    const INSERT_SHOP_ITEM: &'static str = "INSERT INTO stocksync_shop_items (item_ecommerce_id, wanted, due, changed_at) \
         VALUES (?, 0, 1, ?) ON CONFLICT (item_ecommerce_id) DO NOTHING";
}

impl Dialect for sqlx::MySql {
    const LOCKS_ROWS: bool = true;
    const INSERT_OR_IGNORE: &'static str = "INSERT IGNORE";
    const INSERT_SHOP_ITEM: &'static str = "INSERT INTO stocksync_shop_items (item_ecommerce_id, wanted, due, changed_at) \
         VALUES (?, 0, 1, ?) ON DUPLICATE KEY UPDATE item_ecommerce_id = item_ecommerce_id";
}

pub(crate) trait WriteTx {
    type Db: Dialect;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

/// [`Dialect::LOCKS_ROWS`] of a pool, inside a `dispatch!` body.
pub(crate) fn locks_rows<P: WriteTx>(_pool: &P) -> bool {
    P::Db::LOCKS_ROWS
}

/// [`Dialect::INSERT_OR_IGNORE`] of a pool, inside a `dispatch!` body.
pub(crate) fn insert_or_ignore<P: WriteTx>(_pool: &P) -> &'static str {
    P::Db::INSERT_OR_IGNORE
}

impl WriteTx for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WriteTx for MySqlPool {
    type Db = sqlx::MySql;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::MySql>, sqlx::Error> {
        self.begin().await
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
}

/// The database, behind a connection pool (never one shared connection).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// The shop's own table, into which quantities are mirrored, if one is configured.
    shop_table: Option<ShopTable>,
    /// Whether a shop platform is configured: changes of links queue pushes (`shop_push.rs`).
    shop_platform: bool,
}

/// Why a storage call failed. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How many connections a pool may hold.
const MAX_CONNECTIONS: u32 = 10;

impl Store {
    /// Opens a pool on `url` (creating an SQLite file if missing). Does not migrate.
    #[tracing::instrument(skip_all, fields(database = %url), err)]
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        let connect_error = |source| StoreError::Connect {
            url: url.redacted(),
            source,
        };
        let pool = match url.backend() {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // An accepted sale must survive a power cut, not only a crash.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Pool::Sqlite(pool)
            }
            Backend::MySql => {
                let options = MySqlConnectOptions::from_str(url.expose()).map_err(connect_error)?;
                let pool = MySqlPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    // Each statement sees what is committed when it runs, so a transaction that
                    // first locks rows then reads them reads their current values.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                                .execute(conn)
                                .await
                                .map(drop)
                        })
                    })
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Pool::MySql(pool)
            }
        };
        Ok(Self {
            pool,
            shop_table: None,
            shop_platform: false,
        })
    }

    /// Mirrors every change of a shop item's quantity into the shop's own table too.
    pub fn with_shop_table(mut self, shop_table: &ShopTable) -> Self {
        self.shop_table = Some(shop_table.clone());
        self
    }

    /// Applies every pending migration of this backend.
    #[tracing::instrument(skip_all, err)]
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite")
                .run(pool)
                .await
                .map_err(|e| StoreError::Migrate(e.to_string())),
            Pool::MySql(pool) => {
                self.refuse_duplicate_links().await?;
                sqlx::migrate!("./migrations/mysql")
                    .run(pool)
                    .await
                    .map_err(|e| StoreError::Migrate(e.to_string()))
            }
        }
    }

    /// A `stock` table inherited from the original program may link one POS product twice, or
    /// lack a key column; the migration would then fail half-way, so say which rows first.
    async fn refuse_duplicate_links(&self) -> Result<()> {
        let Pool::MySql(pool) = &self.pool else {
            return Ok(());
        };
        let has_stock: Option<(String,)> = sqlx::query_as(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'stock'",
        )
        .fetch_optional(pool)
        .await?;
        if has_stock.is_none() {
            return Ok(());
        }
        let (unkeyed,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM stock \
             WHERE idProductPOS IS NULL OR idProductEcommerce IS NULL OR accountID IS NULL",
        )
        .fetch_one(pool)
        .await?;
        if unkeyed > 0 {
            return Err(StoreError::Migrate(format!(
                "{unkeyed} row(s) of the stock table lack idProductPOS, idProductEcommerce or accountID; \
                 complete or remove them, then start again"
            )));
        }
        let duplicates: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT CAST(accountID AS CHAR), CAST(idProductPOS AS CHAR), COUNT(*) FROM stock \
             GROUP BY accountID, idProductPOS HAVING COUNT(*) > 1 LIMIT 10",
        )
        .fetch_all(pool)
        .await?;
        if duplicates.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = duplicates
            .iter()
            .map(|(account, pos, n)| format!("account {account} product {pos} ({n} rows)"))
            .collect();
        Err(StoreError::Migrate(format!(
            "the stock table links the same POS product more than once: {}; keep one row each, then start again",
            list.join(", ")
        )))
    }

    /// Checks that the shop table of [`Store::with_shop_table`] exists with its columns, by
    /// setting nothing in it.
    pub async fn check_shop_table(&self) -> Result<()> {
        let Some(shop_table) = &self.shop_table else {
            return Ok(());
        };
        let probe = format!("{} AND 1 = 0", shop_table.update_sql());
        dispatch!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(probe))
                .bind(0i64)
                .bind("")
                .execute(pool)
                .await
                .map_err(|e| StoreError::Migrate(format!("the configured ShopTable cannot be updated: {e}")))?;
        });
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop)?);
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::MySql(_) => Backend::MySql,
        }
    }

    /// Closes every connection (the SQLite WAL is checkpointed on the last close).
    pub async fn close(&self) {
        dispatch!(self, pool => pool.close().await);
    }
}

/// How many times a write transaction runs at most when InnoDB keeps rolling it back.
const WRITE_TRIES: u32 = 5;

/// Runs the write transaction `transaction` makes, and runs it again from the start when InnoDB
/// rolled it back as a deadlock victim or after a lock wait timeout ([`lock_conflict`]): at most
/// [`WRITE_TRIES`] times, after a short random pause ([`conflict_pause`]) so that the
/// transactions that collided do not collide again.
pub(crate) async fn retry_conflicts<T, F, Fut>(mut transaction: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match transaction().await {
            Err(StoreError::Database(err)) if tries < WRITE_TRIES && lock_conflict(&err) => {
                let pause = conflict_pause(tries, uuid::Uuid::new_v4().as_u128() as u64);
                tracing::info!(error = %err, tries, ?pause, "a write transaction was rolled back by the database; running it again");
                tokio::time::sleep(pause).await;
                tries += 1;
            }
            done => return done,
        }
    }
}

/// Whether InnoDB rolled the transaction back for a deadlock (1213) or a lock wait timeout
/// (1205): nothing was written, and running it again may well succeed.
fn lock_conflict(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .is_some_and(|mysql| is_lock_conflict_code(mysql.number()))
}

fn is_lock_conflict_code(number: u16) -> bool {
    matches!(number, 1205 | 1213)
}

/// The pause before try `tries + 1`: a random share (from `random` bits) between half and all
/// of 20 ms × 2^(tries − 1).
fn conflict_pause(tries: u32, random: u64) -> Duration {
    let ceiling = 20u64 << tries.saturating_sub(1).min(8);
    Duration::from_millis(ceiling / 2 + random % (ceiling / 2 + 1))
}

/// Whether an error is a unique-key violation.
pub(crate) fn unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The current time, truncated to microseconds (MySQL `DATETIME(6)` keeps no more), so that what
/// is written and what is read back compare equal on both backends.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlocks_and_lock_wait_timeouts_are_run_again() {
        assert!(is_lock_conflict_code(1213));
        assert!(is_lock_conflict_code(1205));
        assert!(!is_lock_conflict_code(1062), "a duplicate key is an answer");
        assert!(!lock_conflict(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn pauses_grow_and_stay_jittered() {
        assert_eq!(conflict_pause(1, 0), Duration::from_millis(10));
        assert_eq!(conflict_pause(1, 10), Duration::from_millis(20));
        assert_eq!(conflict_pause(1, 11), Duration::from_millis(10));
        assert_eq!(conflict_pause(4, 0), Duration::from_millis(80));
        assert!(conflict_pause(4, u64::MAX) <= Duration::from_millis(160));
        assert!(conflict_pause(u32::MAX, u64::MAX) <= Duration::from_millis(5120));
    }
}
