//! The outbox side of web sales: which sale to push next, and recording how the push went
//! (confirmed, failed and to be retried, dead), each with its ledger line where the shop's
//! quantity or the sale's story changes.

use crate::sales::{SaleRow, select_sales};
use crate::shop_table::mirror_to_shop;
use crate::{
    Dialect, LedgerLine, Result, Store, StoreError, begin_write, dispatch, now, retry_conflicts,
    write_ledger,
};
use chrono::{DateTime, Utc};
use stocksync_domain::sale::{Sale, SaleState};
use stocksync_domain::{AccountId, SaleId};

/// What `retry_sale` did.
#[derive(Debug)]
pub enum SaleRetry {
    /// Back in the outbox.
    Requeued(Sale),
    /// Only dead sales can be retried; this one is in another state.
    NotDead(Sale),
    /// Its units were given back to the shop when it died, and they are sold out since.
    NotEnoughStock,
    NotFound,
}

impl Store {
    /// The oldest accepted sale of `account` whose next attempt is due at `at`.
    pub async fn next_due_sale(
        &self,
        account: &AccountId,
        at: DateTime<Utc>,
    ) -> Result<Option<Sale>> {
        let row: Option<SaleRow> = dispatch!(self, pool => {
            sqlx::query_as(select_sales!(
                "WHERE state = 'accepted' AND account_id = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?) \
                 ORDER BY created_at, id LIMIT 1"
            ))
            .bind(account.as_str())
            .bind(at)
            .fetch_optional(pool)
            .await?
        });
        row.map(Sale::try_from).transpose()
    }

    /// When the next accepted sale of `account` becomes due (`None` when it has none).
    pub async fn next_sale_due_at(&self, account: &AccountId) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(Option<DateTime<Utc>>,)> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT next_attempt_at FROM stocksync_sales WHERE state = 'accepted' AND account_id = ? \
                 ORDER BY next_attempt_at IS NOT NULL, next_attempt_at LIMIT 1",
            )
            .bind(account.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(due,)| due.unwrap_or_else(now)))
    }

    /// The accounts that have sales waiting in the outbox.
    pub async fn accounts_with_pending_sales(&self) -> Result<Vec<AccountId>> {
        let rows: Vec<(String,)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT DISTINCT account_id FROM stocksync_sales WHERE state = 'accepted'")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(id,)| AccountId::new(id)).collect())
    }

    /// The POS recorded the sale.
    #[tracing::instrument(skip(self), err)]
    pub async fn confirm_sale(&self, id: &SaleId, pos_reference: &str) -> Result<()> {
        retry_conflicts(|| self.confirm_sale_once(id, pos_reference)).await
    }

    async fn confirm_sale_once(&self, id: &SaleId, pos_reference: &str) -> Result<()> {
        let at = now();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let updated = sqlx::query(
                "UPDATE stocksync_sales SET state = 'confirmed', attempts = attempts + 1, pos_reference = ?, \
                 confirmed_at = ?, last_error = NULL, next_attempt_at = NULL, updated_at = ? \
                 WHERE id = ? AND state = 'accepted'",
            )
            .bind(pos_reference)
            .bind(at)
            .bind(at)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let row: Option<SaleRow> = sqlx::query_as(select_sales!("WHERE id = ?"))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let (1, Some(sale)) = (updated, row.map(Sale::try_from).transpose()?)
                && let Some(LinkNow { id: link_id, quantity, .. }) = link_now(&mut tx, &sale).await?
            {
                write_ledger!(tx, LedgerLine {
                    link_id,
                    at,
                    reason: "sale_confirmed",
                    before: quantity,
                    after: quantity,
                    sale_id: Some(id.as_str()),
                    pos_ref: sale.pos_ref.as_str(),
                    detail: format!("recorded on the POS as {pos_reference}"),
                })?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A push failed and will be tried again at `next_attempt_at`.
    pub async fn sale_attempt_failed(
        &self,
        id: &SaleId,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, pool => {
            sqlx::query(
                "UPDATE stocksync_sales SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? \
                 WHERE id = ? AND state = 'accepted'",
            )
            .bind(error)
            .bind(next_attempt_at)
            .bind(now())
            .bind(id.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks the start of a push of sale `id` to its POS, before the call is made, so that a
    /// process stopped mid-call leaves a trace. Answers whether an earlier push was begun (it
    /// may have reached the POS: look the sale up before writing it), or `None` when the sale
    /// is no longer waiting.
    pub async fn begin_sale_push(&self, id: &SaleId) -> Result<Option<bool>> {
        retry_conflicts(|| self.begin_sale_push_once(id)).await
    }

    async fn begin_sale_push_once(&self, id: &SaleId) -> Result<Option<bool>> {
        let sends: Option<(i64,)> = dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let marked = sqlx::query(
                "UPDATE stocksync_sales SET pos_sends = pos_sends + 1 WHERE id = ? AND state = 'accepted'",
            )
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let sends = if marked == 1 {
                sqlx::query_as("SELECT pos_sends FROM stocksync_sales WHERE id = ?")
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
            } else {
                None
            };
            tx.commit().await?;
            sends
        });
        Ok(sends.map(|(sends,)| sends > 1))
    }

    /// Gives up on a sale, if it is still waiting for its POS (a confirmation that came first
    /// wins: nothing changes). With `restore`, the POS refused it for good (the item is gone,
    /// say): its units go back to the shop's quantity of its product's link, with a ledger line.
    /// Without, the units stay sold online and the sale waits for a retry from the API.
    #[tracing::instrument(skip(self), err)]
    pub async fn kill_sale(&self, id: &SaleId, error: &str, restore: bool) -> Result<()> {
        retry_conflicts(|| self.kill_sale_once(id, error, restore)).await
    }

    async fn kill_sale_once(&self, id: &SaleId, error: &str, restore: bool) -> Result<()> {
        let at = now();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            // The transition itself decides: on MySQL it waits for a concurrent confirmation
            // and then finds the sale no longer accepted.
            let killed = sqlx::query(
                "UPDATE stocksync_sales SET state = 'dead', attempts = attempts + 1, last_error = ?, \
                 restored = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND state = 'accepted'",
            )
            .bind(error)
            .bind(restore)
            .bind(at)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if killed != 1 || !restore {
                tx.commit().await?;
                return Ok(());
            }
            let row: Option<SaleRow> = sqlx::query_as(select_sales!("WHERE id = ?"))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(sale) = row.map(Sale::try_from).transpose()? else {
                return Err(StoreError::Corrupt(format!("sale {id} vanished while killed")));
            };
            sqlx::query("UPDATE stock SET quantity = quantity + ? WHERE accountID = ? AND idProductPOS = ?")
                .bind(sale.request.delta)
                .bind(sale.account_id.as_str())
                .bind(sale.pos_ref.as_str())
                .execute(&mut *tx)
                .await?;
            if let Some(link) = link_now(&mut tx, &sale).await? {
                let after = link.quantity;
                write_ledger!(tx, LedgerLine {
                    link_id: link.id,
                    at,
                    reason: "sale_refused",
                    before: after - sale.request.delta,
                    after,
                    sale_id: Some(id.as_str()),
                    pos_ref: sale.pos_ref.as_str(),
                    detail: format!("the POS refused the sale for good ({error}); units given back"),
                })?;
                // The shop item the product is linked to now (it may have been relinked).
                mirror_to_shop(self, &mut tx, &link.item).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Puts a dead sale back in the outbox, once however many ask at the same time. If its
    /// units had been given back, they are taken again first from its product's link, under
    /// the same rule as a new sale (never below the limit).
    #[tracing::instrument(skip(self), err)]
    pub async fn retry_sale(&self, id: &SaleId) -> Result<SaleRetry> {
        retry_conflicts(|| self.retry_sale_once(id)).await
    }

    async fn retry_sale_once(&self, id: &SaleId) -> Result<SaleRetry> {
        let at = now();
        let outcome: Result<Option<SaleRetry>> = dispatch!(self, pool => async {
            let mut tx = begin_write!(pool).await?;
            let row: Option<SaleRow> = sqlx::query_as(select_sales!("WHERE id = ?"))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(sale) = row.map(Sale::try_from).transpose()? else {
                return Ok(Some(SaleRetry::NotFound));
            };
            if sale.state != SaleState::Dead {
                return Ok(Some(SaleRetry::NotDead(sale)));
            }
            // The transition first: a concurrent retry waits for it (MySQL) and then finds the
            // sale no longer dead; what was read above may be stale.
            let requeued = sqlx::query(
                "UPDATE stocksync_sales SET state = 'accepted', attempts = 0, restored = ?, next_attempt_at = NULL, \
                 updated_at = ? WHERE id = ? AND state = 'dead' AND restored = ?",
            )
            .bind(false)
            .bind(at)
            .bind(id.as_str())
            .bind(sale.restored)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if requeued != 1 {
                let now: Option<SaleRow> = sqlx::query_as(select_sales!("WHERE id = ?"))
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let now = now.map(Sale::try_from).transpose()?.unwrap_or(sale);
                return Ok(Some(SaleRetry::NotDead(now)));
            }
            if sale.restored {
                let taken = sqlx::query(
                    "UPDATE stock SET quantity = quantity - ? \
                     WHERE accountID = ? AND idProductPOS = ? AND quantity - ? >= limitQuantity",
                )
                .bind(sale.request.delta)
                .bind(sale.account_id.as_str())
                .bind(sale.pos_ref.as_str())
                .bind(sale.request.delta)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if taken == 0 {
                    return Ok(Some(SaleRetry::NotEnoughStock));
                }
                let link = link_now(&mut tx, &sale).await?.ok_or(sqlx::Error::RowNotFound)?;
                let after = link.quantity;
                write_ledger!(tx, LedgerLine {
                    link_id: link.id,
                    at,
                    reason: "sale_retried",
                    before: after + sale.request.delta,
                    after,
                    sale_id: Some(id.as_str()),
                    pos_ref: sale.pos_ref.as_str(),
                    detail: "a dead sale retried: its units taken again".into(),
                })?;
                mirror_to_shop(self, &mut tx, &link.item).await?;
            }
            tx.commit().await?;
            Ok(None)
        }.await);
        match outcome? {
            Some(done) => Ok(done),
            None => match self.sale(id).await? {
                Some(sale) => Ok(SaleRetry::Requeued(sale)),
                None => Err(StoreError::Corrupt(format!(
                    "sale {id} vanished while retried"
                ))),
            },
        }
    }
}

/// Sale `sale`'s product link now, inside the transaction `tx` (the link may have been removed
/// and added again since the sale was accepted, even for another shop item). The link is locked
/// before its quantity is read (MySQL), so that a ledger line written after takes its place
/// after any change committed to the link meanwhile, never reading a quantity a concurrent sync
/// is replacing.
async fn link_now<DB>(tx: &mut sqlx::Transaction<'_, DB>, sale: &Sale) -> Result<Option<LinkNow>>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> String: sqlx::Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let sql = if DB::LOCKS_ROWS {
        "SELECT id, quantity, idProductEcommerce FROM stock WHERE accountID = ? AND idProductPOS = ? FOR UPDATE"
    } else {
        "SELECT id, quantity, idProductEcommerce FROM stock WHERE accountID = ? AND idProductPOS = ?"
    };
    let link: Option<(i64, i64, String)> = sqlx::query_as(sql)
        .bind(sale.account_id.as_str())
        .bind(sale.pos_ref.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(link.map(|(id, quantity, item)| LinkNow { id, quantity, item }))
}

/// A sale's product link as it is now.
struct LinkNow {
    id: i64,
    quantity: i64,
    /// Its shop item (`idProductEcommerce`).
    item: String,
}
