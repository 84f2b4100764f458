//! What the shop side must tell a merchant (`stocksync_shop_events`): an order line the stock
//! no longer covered (`oversold`), a line of an item no link feeds (`unlinked`), an item the
//! shop does not track (`unmanaged`), a write the shop refused (`refused`). Written in the
//! transaction that finds them; read by the dashboard and the metrics.

use crate::{Dialect, Result, Store, dispatch, now};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One event, as written.
pub(crate) struct ShopEvent<'a> {
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub item: &'a str,
    pub order_id: Option<&'a str>,
    pub units: i64,
    pub detail: String,
}

/// One event, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ShopEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub item_ecommerce_id: String,
    pub order_id: Option<String>,
    pub units: i64,
    pub detail: String,
}

const INSERT: &str = "INSERT INTO stocksync_shop_events (at, kind, item_ecommerce_id, order_id, units, detail) \
                      VALUES (?, ?, ?, ?, ?, ?)";

/// Appends `event` inside the transaction `tx`.
pub(crate) async fn record_shop_event<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    event: ShopEvent<'_>,
) -> Result<()>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> String: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> DateTime<Utc>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    sqlx::query(INSERT)
        .bind(event.at)
        .bind(event.kind)
        .bind(event.item)
        .bind(event.order_id)
        .bind(event.units)
        .bind(event.detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Records an event found outside any other write (an order line of an unlinked item, a
    /// refused push).
    pub async fn shop_event(
        &self,
        kind: &'static str,
        item: &str,
        order_id: Option<&str>,
        units: i64,
        detail: String,
    ) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query(INSERT)
                .bind(now())
                .bind(kind)
                .bind(item)
                .bind(order_id)
                .bind(units)
                .bind(detail)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The newest events, newest first, optionally of one kind.
    pub async fn shop_events(&self, kind: Option<&str>, limit: i64) -> Result<Vec<ShopEventView>> {
        let rows = dispatch!(self, pool => match kind {
            Some(kind) => sqlx::query_as(
                "SELECT id, at, kind, item_ecommerce_id, order_id, units, detail FROM stocksync_shop_events \
                 WHERE kind = ? ORDER BY id DESC LIMIT ?",
            )
            .bind(kind)
            .bind(limit)
            .fetch_all(pool)
            .await?,
            None => sqlx::query_as(
                "SELECT id, at, kind, item_ecommerce_id, order_id, units, detail FROM stocksync_shop_events \
                 ORDER BY id DESC LIMIT ?",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?,
        });
        Ok(rows)
    }

    /// How many events of each kind there are.
    pub async fn shop_event_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = dispatch!(self, pool => {
            sqlx::query_as("SELECT kind, COUNT(*) FROM stocksync_shop_events GROUP BY kind ORDER BY kind")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}
