//! The push queue of a shop platform (`stocksync_shop_items`): what stocksync wants each shop
//! item to show (the sum over its links of `max(0, quantity − limitQuantity)`, written by
//! [`queue_push`] in the transaction of every change of a link's quantity or limit), what the
//! shop last said it has, and the bookkeeping of the pushes that bring one to the other. One row
//! per item: a value not yet pushed is replaced by the newer one, and a value the shop already
//! has is never due.

use crate::links::{LinkRow, select_links};
use crate::{
    Dialect, LedgerLine, Result, Store, begin_write, dispatch, now, retry_conflicts, write_ledger,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use stocksync_domain::EcommerceId;
use stocksync_domain::link::Link;
use stocksync_domain::shop::{ItemRef, ShopItem};

/// How a webhook names a shop item: by its id, or by its locator (Shopify's inventory item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportedItem {
    Id(EcommerceId),
    Locator(String),
}

/// One item whose shop quantity is to be read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopPush {
    pub item: ItemRef,
    /// What stocksync would sell of it now.
    pub wanted: i64,
    /// What the shop last said it has; `None`: read it before writing.
    pub shop_quantity: Option<i64>,
    pub attempts: i64,
    /// When `wanted` last changed (how long the shop has been behind).
    pub changed_at: DateTime<Utc>,
}

/// The queue at a glance, for the dashboard and the metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShopPushStats {
    /// Items stocksync keeps on the shop.
    pub items: i64,
    /// Items whose shop quantity is not yet what stocksync wants.
    pub due: i64,
    /// Of those, items whose last push failed (waiting for their retry).
    pub failing: i64,
    /// Items the shop does not track (`manage_stock` off): never written.
    pub unmanaged: i64,
    /// When the oldest change not yet on the shop was made.
    pub oldest_due_at: Option<DateTime<Utc>>,
    pub last_pushed_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PushRow {
    item_ecommerce_id: String,
    locator: Option<String>,
    wanted: i64,
    shop_quantity: Option<i64>,
    attempts: i64,
    changed_at: DateTime<Utc>,
}

impl From<PushRow> for ShopPush {
    fn from(row: PushRow) -> Self {
        Self {
            item: ItemRef {
                id: EcommerceId::new(row.item_ecommerce_id),
                locator: row.locator,
            },
            wanted: row.wanted,
            shop_quantity: row.shop_quantity,
            attempts: row.attempts,
            changed_at: row.changed_at,
        }
    }
}

/// Brings item `item`'s row of the push queue to what its links allow now, inside the
/// transaction `tx` that changed one of them. The row is locked first (MySQL: the insert takes
/// it), so that the sum is read once every other change to the item's links has committed or is
/// still to come here. An item with no link left leaves the queue: stocksync no longer keeps it.
pub(crate) async fn queue_push<DB>(tx: &mut sqlx::Transaction<'_, DB>, item: &str) -> Result<()>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Type<DB> + sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> DateTime<Utc>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let at = now();
    sqlx::query(DB::INSERT_SHOP_ITEM)
        .bind(item)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    let (links, wanted): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN quantity > limitQuantity \
         THEN quantity - limitQuantity ELSE 0 END), 0) AS SIGNED) \
         FROM stock WHERE idProductEcommerce = ?",
    )
    .bind(item)
    .fetch_one(&mut **tx)
    .await?;
    if links == 0 {
        sqlx::query("DELETE FROM stocksync_shop_items WHERE item_ecommerce_id = ?")
            .bind(item)
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    // `wanted` last: MySQL reads the columns assigned before it as already updated.
    sqlx::query(
        "UPDATE stocksync_shop_items SET \
         due = CASE WHEN shop_quantity = ? THEN 0 ELSE 1 END, \
         changed_at = CASE WHEN wanted <> ? THEN ? ELSE changed_at END, \
         next_attempt_at = CASE WHEN wanted <> ? THEN NULL ELSE next_attempt_at END, \
         wanted = ? \
         WHERE item_ecommerce_id = ?",
    )
    .bind(wanted)
    .bind(wanted)
    .bind(at)
    .bind(wanted)
    .bind(wanted)
    .bind(item)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One item of the queue as a reconciliation compares it with the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopKept {
    pub item: EcommerceId,
    /// What stocksync would sell of it now.
    pub wanted: i64,
    /// What stocksync last knew the shop to have (`None`: not known, read before writing).
    pub shop_quantity: Option<i64>,
    /// Whether stocksync has read or written it on the shop yet.
    pub adopted: bool,
    pub unmanaged: bool,
    /// Why its last push failed, while it waits for a retry.
    pub last_error: Option<String>,
    /// Bumped at every change of `shop_quantity` or `unmanaged`: see
    /// [`Store::shop_item_reconciled`].
    pub version: i64,
}

const SELECT_PUSH: &str = "SELECT item_ecommerce_id, locator, wanted, shop_quantity, attempts, changed_at \
                           FROM stocksync_shop_items ";

impl Store {
    /// Keeps a push queue for a shop platform: every change of a link's quantity or limit queues
    /// its item's new sellable quantity.
    pub fn with_shop_platform(mut self) -> Self {
        self.shop_platform = true;
        self
    }

    /// Queues every linked item that is not in the queue yet (a shop platform configured over
    /// existing links), to be read and adopted. Returns how many were added.
    pub async fn queue_every_linked_item(&self) -> Result<u64> {
        let items: Vec<(String,)> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT idProductEcommerce FROM stock WHERE idProductEcommerce NOT IN \
                 (SELECT item_ecommerce_id FROM stocksync_shop_items)",
            )
            .fetch_all(pool)
            .await?
        });
        for (item,) in &items {
            retry_conflicts(|| async {
                dispatch!(self, pool => {
                    let mut tx = begin_write!(pool).await?;
                    queue_push(&mut tx, item).await?;
                    tx.commit().await?;
                });
                Ok(())
            })
            .await?;
        }
        Ok(items.len() as u64)
    }

    /// Items to push now: their shop quantity unknown or not what stocksync wants, not waiting
    /// for a retry, never unmanaged; the oldest change first.
    pub async fn due_shop_pushes(&self, limit: i64) -> Result<Vec<ShopPush>> {
        let rows: Vec<PushRow> = dispatch!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_PUSH} WHERE due = 1 AND unmanaged = 0 \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY changed_at, item_ecommerce_id LIMIT ?"
            )))
            .bind(now())
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(ShopPush::from).collect())
    }

    /// When the next push waiting for its retry is due, if any.
    pub async fn next_shop_retry_at(&self) -> Result<Option<DateTime<Utc>>> {
        let (at,): (Option<DateTime<Utc>>,) = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT MIN(next_attempt_at) FROM stocksync_shop_items WHERE due = 1 AND unmanaged = 0",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(at)
    }

    /// The queue's rows of these items (whatever their state).
    pub async fn shop_pushes(&self, items: &[EcommerceId]) -> Result<Vec<ShopPush>> {
        let mut pushes = Vec::with_capacity(items.len());
        for chunk in items.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("{SELECT_PUSH} WHERE item_ecommerce_id IN ({marks})");
            let rows: Vec<PushRow> = dispatch!(self, pool => {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for item in chunk {
                    query = query.bind(item.as_str());
                }
                query.fetch_all(pool).await?
            });
            pushes.extend(rows.into_iter().map(ShopPush::from));
        }
        Ok(pushes)
    }

    /// Every item stocksync keeps on the shop, by id.
    pub async fn shop_queue(&self) -> Result<Vec<ShopKept>> {
        type Row = (String, i64, Option<i64>, bool, bool, Option<String>, i64);
        let rows: Vec<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT item_ecommerce_id, wanted, shop_quantity, adopted, unmanaged, last_error, shop_version \
                 FROM stocksync_shop_items ORDER BY item_ecommerce_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(item, wanted, shop_quantity, adopted, unmanaged, last_error, version)| ShopKept {
                    item: EcommerceId::new(item),
                    wanted,
                    shop_quantity,
                    adopted,
                    unmanaged,
                    last_error,
                    version,
                },
            )
            .collect())
    }

    /// Records what the shop said it has of `item` (read before writing, or by a
    /// reconciliation): its quantity, whether it tracks it, where it is. The first time an item
    /// is read, the quantity the shop had before stocksync wrote it goes into the ledger of the
    /// item's first link (`shop_adopted`).
    pub async fn shop_item_read(&self, item: &ShopItem) -> Result<()> {
        retry_conflicts(|| self.shop_item_read_once(item, None))
            .await
            .map(drop)
    }

    /// [`Store::shop_item_read`] for a reconciliation, which read the shop after it listed the
    /// queue ([`Store::shop_queue`]): recorded only if nothing was learnt of the item's shop
    /// quantity since (its `version` unchanged), else `false`: a push or read in between knows
    /// better than this read.
    pub async fn shop_item_reconciled(&self, item: &ShopItem, version: i64) -> Result<bool> {
        retry_conflicts(|| self.shop_item_read_once(item, Some(version))).await
    }

    async fn shop_item_read_once(&self, item: &ShopItem, version: Option<i64>) -> Result<bool> {
        let id = item.item.id.as_str();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let row: Option<(i64, bool, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT wanted, adopted, shop_version FROM stocksync_shop_items WHERE item_ecommerce_id = ?{}",
                if crate::locks_rows(pool) { " FOR UPDATE" } else { "" }
            )))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((wanted, adopted, now_version)) = row else {
                return Ok(false);
            };
            if version.is_some_and(|seen| seen != now_version) {
                return Ok(false);
            }
            if let (false, Some(quantity)) = (adopted, item.quantity) {
                // Locked, and the line's time taken once it is: a sale of the link committing
                // meanwhile is in the quantity read and comes first in the ledger.
                let first: Option<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{}{}",
                    select_links!("WHERE idProductEcommerce = ? ORDER BY stock.id LIMIT 1"),
                    if crate::locks_rows(pool) { " FOR UPDATE" } else { "" }
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(link) = first.map(Link::from) {
                    let at = now();
                    write_ledger!(tx, LedgerLine {
                        link_id: link.id,
                        at,
                        reason: "shop_adopted",
                        before: link.quantity,
                        after: link.quantity,
                        sale_id: None,
                        pos_ref: link.pos_ref.as_str(),
                        detail: format!(
                            "the shop showed {quantity} of shop item {id} before stocksync kept it; stocksync sets {wanted}"
                        ),
                    })?;
                }
            }
            sqlx::query(
                "UPDATE stocksync_shop_items SET shop_quantity = ?, unmanaged = ?, \
                 locator = COALESCE(?, locator), adopted = CASE WHEN ? THEN 1 ELSE adopted END, \
                 due = CASE WHEN wanted = ? THEN 0 ELSE 1 END, shop_version = shop_version + 1 \
                 WHERE item_ecommerce_id = ?",
            )
            .bind(item.quantity)
            .bind(item.quantity.is_none())
            .bind(item.item.locator.as_deref())
            .bind(item.quantity.is_some())
            .bind(item.quantity)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// The shop took a write of `item`: it now has `quantity`.
    pub async fn shop_item_written(&self, item: &EcommerceId, quantity: i64) -> Result<()> {
        let at = now();
        dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_shop_items SET shop_quantity = ?, due = CASE WHEN wanted = ? THEN 0 ELSE 1 END, \
                 attempts = 0, next_attempt_at = NULL, last_error = NULL, pushed_at = ?, adopted = 1, \
                 shop_version = shop_version + 1 \
                 WHERE item_ecommerce_id = ?",
            )
            .bind(quantity)
            .bind(quantity)
            .bind(at)
            .bind(item.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A push of `item` failed (`error`, for the dashboard): tried again at `retry_at`, or at
    /// the item's next change.
    pub async fn shop_push_failed(
        &self,
        item: &EcommerceId,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_shop_items SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? \
                 WHERE item_ecommerce_id = ?",
            )
            .bind(error)
            .bind(retry_at)
            .bind(item.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The shop's quantities of these items may have moved on their own (an order the shop
    /// counted, a refund): read them again before the next write.
    pub async fn forget_shop_quantities(&self, items: &[EcommerceId]) -> Result<()> {
        for chunk in items.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "UPDATE stocksync_shop_items SET shop_quantity = NULL, due = 1, shop_version = shop_version + 1 \
                 WHERE unmanaged = 0 AND item_ecommerce_id IN ({marks})"
            );
            dispatch!(self, pool => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for item in chunk {
                    query = query.bind(item.as_str());
                }
                query.execute(pool).await?;
            });
        }
        Ok(())
    }

    /// What a webhook says the shop has of an item now (an echo of stocksync's own write, or
    /// the merchant's edit), the item named by its id or by its locator: when the shop's
    /// quantity is neither the one stocksync knows nor the one it wants (or `quantity` is
    /// `None`: the body did not say), it is read again before the next write. The one it wants:
    /// an echo may come before its write is recorded, and a shop that has what stocksync wants
    /// needs no read (the next write, if any, says what it expects). `true` when the item is to
    /// be read again.
    pub async fn shop_quantity_reported(
        &self,
        item: &ReportedItem,
        quantity: Option<i64>,
    ) -> Result<bool> {
        let (column, key) = match item {
            ReportedItem::Id(id) => ("item_ecommerce_id", id.as_str()),
            ReportedItem::Locator(locator) => ("locator", locator.as_str()),
        };
        let sql = format!(
            "UPDATE stocksync_shop_items SET shop_quantity = NULL, due = 1, shop_version = shop_version + 1 \
             WHERE unmanaged = 0 AND {column} = ? \
             AND (? IS NULL OR shop_quantity IS NULL OR (shop_quantity <> ? AND wanted <> ?))"
        );
        let forgotten = dispatch!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(key)
                .bind(quantity)
                .bind(quantity)
                .bind(quantity)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(forgotten > 0)
    }

    pub async fn shop_push_stats(&self) -> Result<ShopPushStats> {
        type Row = (
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        );
        let (items, due, failing, unmanaged, oldest_due_at, last_pushed_at): Row = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 CAST(SUM(CASE WHEN due = 1 AND unmanaged = 0 THEN 1 ELSE 0 END) AS SIGNED), \
                 CAST(SUM(CASE WHEN due = 1 AND unmanaged = 0 AND attempts > 0 THEN 1 ELSE 0 END) AS SIGNED), \
                 CAST(SUM(unmanaged) AS SIGNED), \
                 MIN(CASE WHEN due = 1 AND unmanaged = 0 THEN changed_at END), \
                 MAX(pushed_at) \
                 FROM stocksync_shop_items",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(ShopPushStats {
            items,
            due: due.unwrap_or(0),
            failing: failing.unwrap_or(0),
            unmanaged: unmanaged.unwrap_or(0),
            oldest_due_at,
            last_pushed_at,
        })
    }
}
