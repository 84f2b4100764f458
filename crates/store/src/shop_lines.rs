//! The shop's order lines as stocksync has counted them (`stocksync_shop_lines`: the units each
//! line has taken from the POS so far, and how many moves it took), and how far the shop's
//! orders have been read (`stocksync_shop_state`: the watermark of the next poll).

use crate::{Result, Store, dispatch, now, unique_violation};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a line has taken so far: `applied` units over `moves` web sales and returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineSeen {
    pub applied: i64,
    pub moves: i64,
    /// First seen while no link fed its item: it never took units from a POS, and never moves
    /// one later (a link added afterwards must not turn its cancellation into a return).
    pub unlinked: bool,
}

/// How the shop's orders are being read, for the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShopReadState {
    pub watermark: Option<DateTime<Utc>>,
    /// When stocksync was first connected to the shop: orders placed before are not sent to
    /// the POS.
    pub connected_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
    /// When the newest order that moved stock was read.
    pub last_order_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Store {
    /// What a line has taken so far, as recorded; a move whose record was lost (its web sale
    /// accepted, the process gone before the line's row was written) is found by its key
    /// (`key_of(n)` for the `n`th move) and counted.
    pub async fn shop_line(
        &self,
        order_id: &str,
        line_id: &str,
        key_of: impl Fn(i64) -> String,
    ) -> Result<LineSeen> {
        let row: Option<(i64, i64, bool)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT applied, moves, unlinked FROM stocksync_shop_lines WHERE order_id = ? AND line_id = ?")
                .bind(order_id)
                .bind(line_id)
                .fetch_optional(pool)
                .await?
        });
        let mut seen = row
            .map(|(applied, moves, unlinked)| LineSeen {
                applied,
                moves,
                unlinked,
            })
            .unwrap_or_default();
        while let Some(sale) = self.sale_by_key(&key_of(seen.moves)).await? {
            seen.applied += sale.request.delta;
            seen.moves += 1;
        }
        Ok(seen)
    }

    /// Records that a line has now taken `seen` (as [`Store::shop_line`] read it, plus the move
    /// just made, if any). Never moves a line back to fewer moves: `false` when another process
    /// recorded a later move first, in which case the line is to be read again.
    pub async fn record_shop_line(
        &self,
        order_id: &str,
        line_id: &str,
        item: &str,
        status: &str,
        seen: LineSeen,
    ) -> Result<bool> {
        let at = now();
        let written = dispatch!(self, pool => {
            let updated = sqlx::query(
                "UPDATE stocksync_shop_lines SET applied = ?, moves = ?, unlinked = ?, status = ?, updated_at = ? \
                 WHERE order_id = ? AND line_id = ? AND moves <= ?",
            )
            .bind(seen.applied)
            .bind(seen.moves)
            .bind(seen.unlinked)
            .bind(status)
            .bind(at)
            .bind(order_id)
            .bind(line_id)
            .bind(seen.moves)
            .execute(pool)
            .await?;
            if updated.rows_affected() == 1 {
                true
            } else {
                let insert = sqlx::query(
                    "INSERT INTO stocksync_shop_lines (order_id, line_id, item_ecommerce_id, applied, moves, unlinked, status, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(order_id)
                .bind(line_id)
                .bind(item)
                .bind(seen.applied)
                .bind(seen.moves)
                .bind(seen.unlinked)
                .bind(status)
                .bind(at)
                .execute(pool)
                .await;
                match insert {
                    Ok(_) => true,
                    // There is a row, with more moves than this one saw.
                    Err(err) if unique_violation(&err) => false,
                    Err(err) => return Err(err.into()),
                }
            }
        });
        Ok(written)
    }

    /// Order lines that moved stock, and the units they hold now (for the metrics).
    pub async fn shop_line_totals(&self) -> Result<(i64, i64)> {
        let (lines, units): (i64, Option<i64>) = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), CAST(SUM(applied) AS SIGNED) FROM stocksync_shop_lines WHERE moves > 0",
            )
            .fetch_one(pool)
            .await?
        });
        Ok((lines, units.unwrap_or(0)))
    }

    /// How far the shop's orders have been read.
    pub async fn shop_read_state(&self, shop: &str) -> Result<ShopReadState> {
        type Row = (
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<String>,
        );
        let row: Option<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT watermark, connected_at, last_poll_at, last_order_at, last_error FROM stocksync_shop_state WHERE shop = ?",
            )
            .bind(shop)
            .fetch_optional(pool)
            .await?
        });
        Ok(row
            .map(
                |(watermark, connected_at, last_poll_at, last_order_at, last_error)| {
                    ShopReadState {
                        watermark,
                        connected_at,
                        last_poll_at,
                        last_order_at,
                        last_error,
                    }
                },
            )
            .unwrap_or_default())
    }

    /// Starts reading the shop's orders at `at` when they have never been read: the shop's
    /// history before stocksync was connected is already in its stock, and its orders must not
    /// reach the POS as new sales. `true` when it started now.
    pub async fn start_shop_reading(&self, shop: &str, at: DateTime<Utc>) -> Result<bool> {
        let started = dispatch!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} INTO stocksync_shop_state (shop, watermark, connected_at) VALUES (?, ?, ?)",
                crate::insert_or_ignore(pool)
            )))
            .bind(shop)
            .bind(at)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(started == 1)
    }

    /// Records a poll of the shop's orders: its new watermark (never moved back), whether it
    /// read an order that moved stock, and its error if it failed.
    pub async fn shop_polled(
        &self,
        shop: &str,
        watermark: Option<DateTime<Utc>>,
        moved_stock: bool,
        error: Option<&str>,
    ) -> Result<()> {
        let at = now();
        dispatch!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} INTO stocksync_shop_state (shop) VALUES (?)",
                crate::insert_or_ignore(pool)
            )))
            .bind(shop)
            .execute(pool)
            .await?;
            sqlx::query(
                "UPDATE stocksync_shop_state SET \
                 watermark = CASE WHEN watermark IS NULL OR watermark < ? THEN ? ELSE watermark END, \
                 last_poll_at = ?, last_order_at = CASE WHEN ? THEN ? ELSE last_order_at END, last_error = ? \
                 WHERE shop = ?",
            )
            .bind(watermark)
            .bind(watermark)
            .bind(at)
            .bind(moved_stock)
            .bind(at)
            .bind(error)
            .bind(shop)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
