//! Links: rows of the `stock` table, with their registration recorded in the ledger.

use crate::shop_table::mirror_to_shop;
use crate::sync::select_in_flight;
use crate::{
    LedgerLine, Result, Store, StoreError, begin_write, dispatch, now, retry_conflicts,
    unique_violation, write_ledger,
};
use stocksync_domain::link::{Link, NewLink};
use stocksync_domain::{AccountId, EcommerceId, LinkId, PosRef};

/// The columns of `stock`, as read back.
#[derive(sqlx::FromRow)]
pub(crate) struct LinkRow {
    id: i64,
    #[sqlx(rename = "idProductPOS")]
    pos_ref: String,
    #[sqlx(rename = "idProductEcommerce")]
    ecommerce_id: String,
    quantity: i64,
    #[sqlx(rename = "accountID")]
    account_id: String,
    description: String,
    #[sqlx(rename = "limitQuantity")]
    limit_quantity: i64,
    is_primary: i64,
}

impl From<LinkRow> for Link {
    fn from(row: LinkRow) -> Self {
        Link {
            id: row.id,
            pos_ref: PosRef::new(row.pos_ref),
            ecommerce_id: EcommerceId::new(row.ecommerce_id),
            quantity: row.quantity,
            account_id: AccountId::new(row.account_id),
            description: row.description,
            limit_quantity: row.limit_quantity,
            primary: row.is_primary != 0,
        }
    }
}

/// `SELECT <every stock column> FROM stock <tail>`, as one static string.
macro_rules! select_links {
    ($tail:literal) => {
        concat!(
            "SELECT stock.id, idProductPOS, idProductEcommerce, quantity, accountID, description, limitQuantity, \
             CASE WHEN p.link_id IS NULL THEN 0 ELSE 1 END AS is_primary \
             FROM stock LEFT JOIN stocksync_primary_links p ON p.link_id = stock.id ",
            $tail
        )
    };
}
pub(crate) use select_links;

/// Makes link `$id` the only primary link of shop item `$item`, inside `$tx`.
macro_rules! mark_primary {
    ($tx:expr, $id:expr, $item:expr) => {{
        sqlx::query(
            "DELETE FROM stocksync_primary_links WHERE link_id IN (SELECT id FROM stock WHERE idProductEcommerce = ?)",
        )
        .bind($item)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO stocksync_primary_links (link_id) VALUES (?)")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Links registered in one transaction by [`Store::insert_links`].
const LINKS_PER_TRANSACTION: usize = 200;

/// The outcome of registering a link.
#[derive(Debug)]
pub enum InsertedLink {
    Created(Link),
    /// The POS product is already linked on that account; here is the existing link.
    AlreadyLinked(Link),
}

/// One page of links, and how many there are in all.
#[derive(Debug)]
pub struct LinkPage {
    pub links: Vec<Link>,
    pub total: i64,
}

impl Store {
    /// Registers a link, records its starting quantity in the ledger and as the first
    /// observation, all in one transaction. The shop's quantity is the POS count less the
    /// product's sales still on their way (from an earlier link of the same product).
    #[tracing::instrument(skip_all, fields(account = %new.account_id, pos_ref = %new.pos_ref), err)]
    pub async fn insert_link(&self, new: &NewLink) -> Result<InsertedLink> {
        let mut inserted = self.insert_links(std::slice::from_ref(new)).await?;
        inserted
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a link registration answered nothing".into()))
    }

    /// Registers many links as [`Store::insert_link`] does each, [`LINKS_PER_TRANSACTION`] to a
    /// transaction (matching a shop of thousands of items: one commit per link would take
    /// minutes). One outcome per link, in order.
    #[tracing::instrument(skip_all, fields(links = news.len()), err)]
    pub async fn insert_links(&self, news: &[NewLink]) -> Result<Vec<InsertedLink>> {
        let mut outcomes = Vec::with_capacity(news.len());
        for chunk in news.chunks(LINKS_PER_TRANSACTION) {
            let ids = retry_conflicts(|| self.insert_links_once(chunk)).await?;
            for (new, id) in chunk.iter().zip(ids) {
                outcomes.push(match id {
                    Some(id) => InsertedLink::Created(self.require_link(id).await?),
                    None => {
                        let existing = self
                            .link_by_pos_ref(&new.account_id, &new.pos_ref)
                            .await?
                            .ok_or_else(|| {
                            StoreError::Corrupt(
                                "a duplicate link vanished while being reported".into(),
                            )
                        })?;
                        InsertedLink::AlreadyLinked(existing)
                    }
                });
            }
        }
        Ok(outcomes)
    }

    /// The links' ids, `None` for a POS product already linked on its account. A duplicate
    /// key undoes its own statement only (SQLite and InnoDB), so the others go on.
    async fn insert_links_once(&self, news: &[NewLink]) -> Result<Vec<Option<i64>>> {
        let at = now();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let mut ids = Vec::with_capacity(news.len());
            for new in news {
                let in_flight: Option<(String, i64)> = sqlx::query_as(select_in_flight!("AND pos_ref = ?"))
                    .bind(new.account_id.as_str())
                    .bind(at)
                    .bind(false)
                    .bind(new.pos_ref.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let in_flight = in_flight.map_or(0, |(_, units)| units);
                let quantity = new.quantity - in_flight;
                let insert = sqlx::query(
                    "INSERT INTO stock (idProductPOS, idProductEcommerce, quantity, accountID, description, limitQuantity) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(new.pos_ref.as_str())
                .bind(new.ecommerce_id.as_str())
                .bind(quantity)
                .bind(new.account_id.as_str())
                .bind(&new.description)
                .bind(new.limit_quantity)
                .execute(&mut *tx)
                .await;
                match insert {
                    Err(err) if unique_violation(&err) => ids.push(None),
                    Err(err) => return Err(err.into()),
                    Ok(_) => {
                        let (id,): (i64,) = sqlx::query_as(
                            "SELECT id FROM stock WHERE accountID = ? AND idProductPOS = ?",
                        )
                        .bind(new.account_id.as_str())
                        .bind(new.pos_ref.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                        sqlx::query("INSERT INTO stocksync_observations (link_id, pos_quantity, observed_at, counted_at) VALUES (?, ?, ?, NULL)")
                            .bind(id)
                            .bind(new.quantity)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                        write_ledger!(tx, LedgerLine {
                            link_id: id,
                            at,
                            reason: "registered",
                            before: 0,
                            after: quantity,
                            sale_id: None,
                            pos_ref: new.pos_ref.as_str(),
                            detail: if in_flight == 0 {
                                format!("linked to shop item {}", new.ecommerce_id)
                            } else {
                                format!(
                                    "linked to shop item {}; the POS counts {}, {in_flight} unit(s) sold online not yet counted by the POS",
                                    new.ecommerce_id, new.quantity
                                )
                            },
                        })?;
                        if new.primary {
                            mark_primary!(tx, id, new.ecommerce_id.as_str());
                        }
                        mirror_to_shop(self, &mut tx, new.ecommerce_id.as_str()).await?;
                        if let Some(locator) = &new.shop_locator {
                            sqlx::query("UPDATE stocksync_shop_items SET locator = ? WHERE item_ecommerce_id = ?")
                                .bind(locator)
                                .bind(new.ecommerce_id.as_str())
                                .execute(&mut *tx)
                                .await?;
                        }
                        ids.push(Some(id));
                    }
                }
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    pub async fn link(&self, id: LinkId) -> Result<Option<Link>> {
        let row: Option<LinkRow> = dispatch!(self, pool => {
            sqlx::query_as(select_links!("WHERE id = ?"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Link::from))
    }

    async fn require_link(&self, id: LinkId) -> Result<Link> {
        self.link(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("link {id} vanished")))
    }

    pub async fn link_by_pos_ref(
        &self,
        account: &AccountId,
        pos_ref: &PosRef,
    ) -> Result<Option<Link>> {
        let row: Option<LinkRow> = dispatch!(self, pool => {
            sqlx::query_as(select_links!("WHERE accountID = ? AND idProductPOS = ?"))
                .bind(account.as_str())
                .bind(pos_ref.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Link::from))
    }

    /// Links in id order, `limit` of them after skipping `offset`.
    pub async fn links(&self, offset: i64, limit: i64) -> Result<LinkPage> {
        let (rows, total): (Vec<LinkRow>, (i64,)) = dispatch!(self, pool => {
            let rows = sqlx::query_as(select_links!("ORDER BY id LIMIT ? OFFSET ?"))
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total = sqlx::query_as("SELECT COUNT(*) FROM stock").fetch_one(pool).await?;
            (rows, total)
        });
        Ok(LinkPage {
            links: rows.into_iter().map(Link::from).collect(),
            total: total.0,
        })
    }

    /// Every link of one POS account, in id order.
    pub async fn links_of_account(&self, account: &AccountId) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = dispatch!(self, pool => {
            sqlx::query_as(select_links!("WHERE accountID = ? ORDER BY id"))
                .bind(account.as_str())
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Link::from).collect())
    }

    /// Changes the quantity below which sales are refused (and so what the shop may show of
    /// its item). `None` if there is no such link.
    pub async fn set_limit_quantity(&self, id: LinkId, limit: i64) -> Result<Option<Link>> {
        retry_conflicts(|| self.set_limit_quantity_once(id, limit)).await?;
        self.link(id).await
    }

    async fn set_limit_quantity_once(&self, id: LinkId, limit: i64) -> Result<()> {
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let item: Option<(String,)> = sqlx::query_as("SELECT idProductEcommerce FROM stock WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some((item,)) = item {
                sqlx::query("UPDATE stock SET limitQuantity = ? WHERE id = ?")
                    .bind(limit)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                mirror_to_shop(self, &mut tx, &item).await?;
                tx.commit().await?;
            }
        });
        Ok(())
    }

    /// Makes a link its shop item's primary one (and no other), or not primary. `None` if there
    /// is no such link.
    pub async fn set_primary(&self, id: LinkId, primary: bool) -> Result<Option<Link>> {
        retry_conflicts(|| self.set_primary_once(id, primary)).await
    }

    async fn set_primary_once(&self, id: LinkId, primary: bool) -> Result<Option<Link>> {
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let item: Option<(String,)> = sqlx::query_as("SELECT idProductEcommerce FROM stock WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((item,)) = item else {
                return Ok(None);
            };
            if primary {
                mark_primary!(tx, id, item.as_str());
            } else {
                sqlx::query("DELETE FROM stocksync_primary_links WHERE link_id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.link(id).await
    }

    /// Removes a link and its observation; its ledger and sales stay for history. `false` if
    /// there was no such link.
    #[tracing::instrument(skip(self), err)]
    pub async fn delete_link(&self, id: LinkId) -> Result<bool> {
        retry_conflicts(|| self.delete_link_once(id)).await
    }

    async fn delete_link_once(&self, id: LinkId) -> Result<bool> {
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            let item: Option<(String,)> = sqlx::query_as("SELECT idProductEcommerce FROM stock WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((item,)) = item else {
                return Ok(false);
            };
            sqlx::query("DELETE FROM stock WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM stocksync_observations WHERE link_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM stocksync_primary_links WHERE link_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            mirror_to_shop(self, &mut tx, item.as_str()).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
