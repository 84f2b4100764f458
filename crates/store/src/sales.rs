//! Web sales: accepted in one transaction that checks the stock, decrements it, writes the ledger
//! and the outbox row (invariants 3 "no oversell" and 4 "nothing lost").

use crate::links::{LinkRow, select_links};
use crate::shop_events::{ShopEvent, record_shop_event};
use crate::shop_table::mirror_to_shop;
use crate::{
    LedgerLine, Result, Store, StoreError, begin_write, dispatch, now, retry_conflicts,
    unique_violation, write_ledger,
};
use chrono::{DateTime, Utc};
use stocksync_domain::link::Link;
use stocksync_domain::sale::{Sale, SaleRequest, SaleState};
use stocksync_domain::{AccountId, EcommerceId, PosRef, SaleId};

/// What became of a sale request.
#[derive(Debug)]
pub enum SaleOutcome {
    /// Stored, and the stock decremented.
    Accepted(Sale),
    /// A shop's order line the stock no longer covered ([`Store::accept_shop_sale`]): stored,
    /// the units taken below the limit anyway (the customer paid), and an `oversold` event
    /// written with it.
    Oversold(Sale),
    /// The idempotency key was seen before with the same request: the first sale, unchanged.
    Replayed(Sale),
    /// The idempotency key was seen before with a different request; nothing changed.
    KeyReused(Sale),
    /// No link has this shop item.
    UnknownItem,
    /// Selling would take every link of the item below its limit.
    NotEnoughStock { available: i64, limit: i64 },
}

#[derive(sqlx::FromRow)]
pub(crate) struct SaleRow {
    id: String,
    idempotency_key: Option<String>,
    link_id: i64,
    item_ecommerce_id: String,
    account_id: String,
    pos_ref: String,
    delta: i64,
    balance_cents: i64,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    pos_reference: Option<String>,
    next_attempt_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    restored: bool,
    created_at: DateTime<Utc>,
}

/// `SELECT <every sale column> FROM stocksync_sales <tail>`, as one static string.
macro_rules! select_sales {
    ($tail:literal) => {
        concat!(
            "SELECT id, idempotency_key, link_id, item_ecommerce_id, account_id, pos_ref, delta, balance_cents, \
             state, attempts, last_error, pos_reference, next_attempt_at, confirmed_at, restored, created_at \
             FROM stocksync_sales ",
            $tail
        )
    };
}

pub(crate) use select_sales;

impl TryFrom<SaleRow> for Sale {
    type Error = StoreError;
    fn try_from(row: SaleRow) -> Result<Self> {
        let state = SaleState::parse(&row.state).ok_or_else(|| {
            StoreError::Corrupt(format!("sale {} has state '{}'", row.id, row.state))
        })?;
        Ok(Sale {
            id: SaleId::new(row.id),
            request: SaleRequest {
                ecommerce_id: EcommerceId::new(row.item_ecommerce_id),
                delta: row.delta,
                balance_cents: row.balance_cents,
                idempotency_key: row.idempotency_key,
            },
            link_id: row.link_id,
            account_id: AccountId::new(row.account_id),
            pos_ref: PosRef::new(row.pos_ref),
            state,
            attempts: row.attempts,
            last_error: row.last_error,
            pos_reference: row.pos_reference,
            next_attempt_at: row.next_attempt_at,
            confirmed_at: row.confirmed_at,
            restored: row.restored,
            created_at: row.created_at,
        })
    }
}

/// The transaction's result before it is turned into a [`SaleOutcome`].
enum Accepted {
    Done(Sale),
    Oversold(Sale),
    Previous(SaleRow),
    DuplicateRaced,
    UnknownItem,
    NotEnoughStock(Link),
}

/// Whether a sale may take a link below its limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Oversell<'a> {
    /// A request to `POST /api/synchronizer/sale`: refused when the stock does not cover it.
    Refuse,
    /// A line of this shop order, which the shop already took (and was paid for): recorded
    /// anyway, and reported.
    Report { order_id: &'a str },
}

impl Store {
    /// Accepts a web sale (or, with a negative delta, a return) atomically: the chosen link (the item's primary link, else the one
    /// with the most sellable units; the next ones if it has too few)
    /// is decremented only if it stays at or above its limit, and the sale and its ledger line
    /// are written in the same transaction, before the caller answers.
    #[tracing::instrument(skip_all, fields(item = %request.ecommerce_id, delta = request.delta), err)]
    pub async fn accept_sale(&self, request: &SaleRequest) -> Result<SaleOutcome> {
        retry_conflicts(|| self.accept_sale_once(request, Oversell::Refuse)).await
    }

    /// Accepts a sale (or return) of a shop platform's order line, as [`Store::accept_sale`],
    /// except that a sale the stock no longer covers is still taken (the shop sold it, the
    /// customer paid, the POS must hear of it): from the link a sale would take it from, below its
    /// limit, as [`SaleOutcome::Oversold`], with an `oversold` shop event in the same transaction.
    #[tracing::instrument(skip_all, fields(item = %request.ecommerce_id, delta = request.delta), err)]
    pub async fn accept_shop_sale(
        &self,
        request: &SaleRequest,
        order_id: &str,
    ) -> Result<SaleOutcome> {
        retry_conflicts(|| self.accept_sale_once(request, Oversell::Report { order_id })).await
    }

    async fn accept_sale_once(
        &self,
        request: &SaleRequest,
        oversell: Oversell<'_>,
    ) -> Result<SaleOutcome> {
        let at = now();
        let sale_id = SaleId::new(uuid::Uuid::new_v4().to_string());
        let accepted: Result<Accepted> = dispatch!(self, pool => async {
            let mut tx = begin_write!(pool).await?;
            let previous: Option<SaleRow> = match &request.idempotency_key {
                Some(key) => sqlx::query_as(select_sales!("WHERE idempotency_key = ?"))
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?,
                None => None,
            };
            // Returning early drops `tx`, which rolls it back.
            if let Some(previous) = previous {
                return Ok(Accepted::Previous(previous));
            }
            let candidates: Vec<LinkRow> = sqlx::query_as(select_links!(
                "WHERE idProductEcommerce = ? \
                 ORDER BY is_primary DESC, quantity - limitQuantity DESC, stock.id"
            ))
            .bind(request.ecommerce_id.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let candidates: Vec<Link> = candidates.into_iter().map(Link::from).collect();
            let Some(best) = candidates.first().cloned() else {
                return Ok(Accepted::UnknownItem);
            };
            let mut chosen = None;
            for link in &candidates {
                // A sale takes units only down to the limit; a return always gives them back
                // (to the same link a sale would take them from).
                let moved = if request.is_return() {
                    sqlx::query("UPDATE stock SET quantity = quantity - ? WHERE id = ?")
                        .bind(request.delta)
                        .bind(link.id)
                        .execute(&mut *tx)
                        .await?
                } else {
                    sqlx::query(
                        "UPDATE stock SET quantity = quantity - ? WHERE id = ? AND quantity - ? >= limitQuantity",
                    )
                    .bind(request.delta)
                    .bind(link.id)
                    .bind(request.delta)
                    .execute(&mut *tx)
                    .await?
                };
                if moved.rows_affected() == 1 {
                    chosen = Some(link.clone());
                    break;
                }
            }
            let mut oversold = None;
            if chosen.is_none()
                && let Oversell::Report { order_id } = oversell
            {
                sqlx::query("UPDATE stock SET quantity = quantity - ? WHERE id = ?")
                    .bind(request.delta)
                    .bind(best.id)
                    .execute(&mut *tx)
                    .await?;
                oversold = Some(order_id);
                chosen = Some(best.clone());
            }
            let Some(link) = chosen else {
                // What is there now (the link may have changed while this waited for its lock).
                let now: Option<LinkRow> = sqlx::query_as(select_links!("WHERE stock.id = ?"))
                    .bind(best.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Ok(Accepted::NotEnoughStock(now.map(Link::from).unwrap_or(best)));
            };
            let (after,): (i64,) = sqlx::query_as("SELECT quantity FROM stock WHERE id = ?")
                .bind(link.id)
                .fetch_one(&mut *tx)
                .await?;
            let insert = sqlx::query(
                "INSERT INTO stocksync_sales (id, idempotency_key, link_id, item_ecommerce_id, account_id, pos_ref, delta, \
                 balance_cents, state, attempts, last_error, pos_reference, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'accepted', 0, NULL, NULL, ?, ?)",
            )
            .bind(sale_id.as_str())
            .bind(request.idempotency_key.as_deref())
            .bind(link.id)
            .bind(request.ecommerce_id.as_str())
            .bind(link.account_id.as_str())
            .bind(link.pos_ref.as_str())
            .bind(request.delta)
            .bind(request.balance_cents)
            .bind(at)
            .bind(at)
            .execute(&mut *tx)
            .await;
            match insert {
                // The same key, committed by a concurrent request since our check.
                Err(err) if unique_violation(&err) => {
                    tx.rollback().await?;
                    Ok(Accepted::DuplicateRaced)
                }
                Err(err) => Err(err.into()),
                Ok(_) => {
                    if let Some(order_id) = oversold {
                        let short = request.delta - (after + request.delta - link.limit_quantity).max(0);
                        record_shop_event(&mut tx, ShopEvent {
                            at,
                            kind: "oversold",
                            item: request.ecommerce_id.as_str(),
                            order_id: Some(order_id),
                            units: short,
                            detail: format!(
                                "order {order_id} sold {} unit(s) of shop item {}, {short} more than stocksync allowed; \
                                 the POS product {} now has {after} against a limit of {}",
                                request.delta, request.ecommerce_id, link.pos_ref, link.limit_quantity
                            ),
                        }).await?;
                    }
                    write_ledger!(tx, LedgerLine {
                        link_id: link.id,
                        at,
                        reason: match (request.is_return(), oversold.is_some()) {
                            (true, _) => "web_return",
                            (false, false) => "web_sale",
                            (false, true) => "web_sale_oversold",
                        },
                        before: after + request.delta,
                        after,
                        sale_id: Some(sale_id.as_str()),
                        pos_ref: link.pos_ref.as_str(),
                        detail: if request.is_return() {
                            format!("web return of {} unit(s) of shop item {}", -request.delta, request.ecommerce_id)
                        } else {
                            format!("web sale of {} unit(s) of shop item {}", request.delta, request.ecommerce_id)
                        },
                    })?;
                    mirror_to_shop(self, &mut tx, request.ecommerce_id.as_str()).await?;
                    tx.commit().await?;
                    let sale = Sale {
                        id: sale_id.clone(),
                        request: request.clone(),
                        link_id: link.id,
                        account_id: link.account_id.clone(),
                        pos_ref: link.pos_ref.clone(),
                        state: SaleState::Accepted,
                        attempts: 0,
                        last_error: None,
                        pos_reference: None,
                        next_attempt_at: None,
                        confirmed_at: None,
                        restored: false,
                        created_at: at,
                    };
                    Ok(if oversold.is_some() { Accepted::Oversold(sale) } else { Accepted::Done(sale) })
                }
            }
        }.await);
        Ok(match accepted? {
            Accepted::Done(sale) => SaleOutcome::Accepted(sale),
            Accepted::Oversold(sale) => SaleOutcome::Oversold(sale),
            Accepted::Previous(row) => self.replay(request, row.try_into()?),
            Accepted::DuplicateRaced => {
                let key = request.idempotency_key.as_deref().unwrap_or_default();
                let sale = self.sale_by_key(key).await?.ok_or_else(|| {
                    StoreError::Corrupt(
                        "a sale's idempotency key clashed with a sale that is not there".into(),
                    )
                })?;
                self.replay(request, sale)
            }
            Accepted::UnknownItem => SaleOutcome::UnknownItem,
            Accepted::NotEnoughStock(link) => {
                // The same key, sent twice at once: the first took the stock while this one
                // waited; it is a replay, not a refusal.
                let first = match &request.idempotency_key {
                    Some(key) => self.sale_by_key(key).await?,
                    None => None,
                };
                match first {
                    Some(first) => self.replay(request, first),
                    None => SaleOutcome::NotEnoughStock {
                        available: link.quantity,
                        limit: link.limit_quantity,
                    },
                }
            }
        })
    }

    fn replay(&self, request: &SaleRequest, previous: Sale) -> SaleOutcome {
        if previous.request == *request {
            SaleOutcome::Replayed(previous)
        } else {
            SaleOutcome::KeyReused(previous)
        }
    }

    pub(crate) async fn sale_by_key(&self, key: &str) -> Result<Option<Sale>> {
        let row: Option<SaleRow> = dispatch!(self, pool => {
            sqlx::query_as(select_sales!("WHERE idempotency_key = ?"))
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        row.map(Sale::try_from).transpose()
    }

    pub async fn sale(&self, id: &SaleId) -> Result<Option<Sale>> {
        let row: Option<SaleRow> = dispatch!(self, pool => {
            sqlx::query_as(select_sales!("WHERE id = ?"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(Sale::try_from).transpose()
    }

    /// Sales (and returns), newest first, optionally in one state; `limit` after `offset`, and
    /// how many match.
    pub async fn sales(
        &self,
        state: Option<SaleState>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Sale>, i64)> {
        let state = state.map(SaleState::as_str);
        // One query shape per case, each read from its index (migration 0007), newest first
        // without sorting: `(? IS NULL OR state = ?)` would sort every sale.
        let (page, count) = match state {
            Some(_) => (
                select_sales!("WHERE state = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?"),
                "SELECT COUNT(*) FROM stocksync_sales WHERE state = ?",
            ),
            None => (
                select_sales!("ORDER BY created_at DESC, id LIMIT ? OFFSET ?"),
                "SELECT COUNT(*) FROM stocksync_sales",
            ),
        };
        let (rows, (total,)): (Vec<SaleRow>, (i64,)) = dispatch!(self, pool => {
            let mut rows = sqlx::query_as(page);
            let mut total = sqlx::query_as(count);
            if let Some(state) = state {
                rows = rows.bind(state);
                total = total.bind(state);
            }
            let rows = rows.bind(limit).bind(offset).fetch_all(pool).await?;
            (rows, total.fetch_one(pool).await?)
        });
        let sales = rows
            .into_iter()
            .map(Sale::try_from)
            .collect::<Result<_>>()?;
        Ok((sales, total))
    }

    /// How many sales are accepted but not yet recorded on the POS.
    pub async fn pending_sales_count(&self) -> Result<i64> {
        let (count,): (i64,) = dispatch!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM stocksync_sales WHERE state = 'accepted'")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }
}
