//! The shop's own stock column (`ShopTable` in the configuration, e.g. `produit.quantite_stock`),
//! kept equal to the sum of the shop item's links, in the same transaction as every change of
//! a link's quantity. A value of -1 there means "unlimited" and is never overwritten.

use crate::shop_push::queue_push;
use crate::{Dialect, Result, Store};
use std::fmt;

/// Where the shop keeps its own quantity. Names are checked to be plain SQL identifiers, as
/// they are written into the SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopTable {
    table: String,
    id_column: String,
    quantity_column: String,
}

/// A name that is not a plain SQL identifier.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a plain table or column name (letters, digits and '_', at most 64)")]
pub struct BadIdentifier(pub String);

impl ShopTable {
    pub fn new(table: &str, id_column: &str, quantity_column: &str) -> Result<Self, BadIdentifier> {
        Ok(Self {
            table: identifier(table)?,
            id_column: identifier(id_column)?,
            quantity_column: identifier(quantity_column)?,
        })
    }

    /// Sets the shop's quantity of one item (`?` quantity, `?` item id), unless it is -1.
    pub(crate) fn update_sql(&self) -> String {
        format!(
            "UPDATE {table} SET {quantity} = ? WHERE {id} = ? AND {quantity} <> -1",
            table = self.table,
            quantity = self.quantity_column,
            id = self.id_column
        )
    }
}

impl ShopTable {
    /// Locks the shop's row of one item (`?` item id), where rows are locked.
    fn lock_sql(&self) -> String {
        format!(
            "SELECT {id} FROM {table} WHERE {id} = ? FOR UPDATE",
            table = self.table,
            id = self.id_column
        )
    }
}

impl fmt::Display for ShopTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} (by {})",
            self.table, self.quantity_column, self.id_column
        )
    }
}

fn identifier(name: &str) -> Result<String, BadIdentifier> {
    let mut chars = name.chars();
    let plain = name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(name.to_owned())
    } else {
        Err(BadIdentifier(name.to_owned()))
    }
}

/// Queues shop item `item`'s new sellable quantity for the shop platform, when one is
/// configured (`shop_push::queue_push`), and copies the sum of its links into the shop table,
/// inside the transaction `tx`, when the store has one. Never below 0: a negative POS count must not read as -1,
/// "unlimited".
///
/// The shop's row is locked before the links are summed (MySQL): every transaction that changes
/// a link of the item comes here before it commits, so the sum is read once every other change
/// to the item's links has committed or is still to come here, and the last one to write leaves
/// the sum of all.
pub(crate) async fn mirror_to_shop<DB>(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, DB>,
    item: &str,
) -> Result<()>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Type<DB> + sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    if store.shop_platform {
        queue_push(tx, item).await?;
    }
    let Some(shop_table) = &store.shop_table else {
        return Ok(());
    };
    if DB::LOCKS_ROWS {
        sqlx::query(sqlx::AssertSqlSafe(shop_table.lock_sql()))
            .bind(item)
            .execute(&mut **tx)
            .await?;
    }
    let (sum,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS SIGNED) FROM stock WHERE idProductEcommerce = ?",
    )
    .bind(item)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(shop_table.update_sql()))
        .bind(sum.max(0))
        .bind(item)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_accepted() {
        let table = ShopTable::new("produit", "id", "quantite_stock").unwrap();
        assert_eq!(
            table.update_sql(),
            "UPDATE produit SET quantite_stock = ? WHERE id = ? AND quantite_stock <> -1"
        );
        assert_eq!(
            ShopTable::new("produit; DROP TABLE stock", "id", "q"),
            Err(BadIdentifier("produit; DROP TABLE stock".into()))
        );
        assert!(ShopTable::new("p", "1id", "q").is_err());
        assert!(ShopTable::new("p", "id", "").is_err());
    }
}
