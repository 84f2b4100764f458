//! Orchestrating races on MariaDB: a test holds a row's lock in its own transaction, waits until
//! the service's transactions queue behind it, then lets them go, so an interleaving that would
//! otherwise happen once in a while happens every time. (SQLite locks the whole database for each
//! writing transaction: these races cannot happen there, and [`RowLock::take`] answers `None`.)

use sqlx::{Connection, MySqlConnection};
use std::time::{Duration, Instant};
use stocksync_testkit::{Backend, TestDb};

/// A MariaDB transaction holding row locks until released.
pub struct RowLock {
    conn: MySqlConnection,
    url: String,
}

impl RowLock {
    /// Begins a transaction that runs `sql` (a `SELECT … FOR UPDATE`, say) and keeps its locks.
    /// `None` on SQLite.
    pub async fn take(db: &TestDb, sql: &str) -> Option<Self> {
        if db.backend != Backend::MariaDb {
            return None;
        }
        let url = db.url.expose().to_owned();
        let mut conn = MySqlConnection::connect(&url).await.expect("MariaDB");
        sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .expect("the locking statement runs");
        Some(Self { conn, url })
    }

    /// Runs more SQL in the same transaction (it may wait for a lock itself).
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut self.conn)
            .await
            .map(drop)
    }

    /// Waits (30 s at most) until `n` statements on this database have been running for
    /// 0.3 s or more: waiting for a lock (what else would take them that long here).
    pub async fn wait_for_waiters(&self, n: i64) {
        let mut conn = MySqlConnection::connect(&self.url).await.expect("MariaDB");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (waiting,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM information_schema.processlist \
                 WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command <> 'Sleep' AND time_ms >= 300",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if waiting >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{waiting} statement(s) wait for a lock, {n} expected within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Makes the statement that waits for this transaction's lock a deadlock victim: once it
    /// waits, this transaction writes more than it has (200 rows into the test's `ballast`
    /// table), so that InnoDB picks the other one, then runs `sql`, asking for a lock the other
    /// holds, and commits. `victim` names the other one in the failure message.
    pub async fn deadlock_the_waiter(mut self, sql: &str, victim: &str) {
        self.wait_for_waiters(1).await;
        let rows: Vec<String> = (0..200).map(|i| format!("({i})")).collect();
        self.execute(&format!(
            "INSERT INTO ballast (id) VALUES {}",
            rows.join(",")
        ))
        .await
        .unwrap();
        self.execute(sql)
            .await
            .unwrap_or_else(|err| panic!("{victim}, not the test, is the deadlock victim: {err}"));
        self.release().await;
    }

    /// Commits, releasing the locks.
    pub async fn release(mut self) {
        sqlx::raw_sql("COMMIT")
            .execute(&mut self.conn)
            .await
            .unwrap();
    }
}
