//! Writing stock (shop-apis.md §3.4): the Webservice has no compare-and-set and its PUT
//! replaces the whole row, resetting what it leaves out. So each write reads its row's whole
//! XML, changes `quantity` and PUTs that document back (two calls; none when the row already
//! has the quantity); `expected` is ignored. The rows are first found in bulk by product, which
//! also tells which products have combinations: their product-level row is a sum PrestaShop
//! recomputes, never written. PATCH (8.0+) is not used: it needs a permission a 1.7 key lacks.

use super::{PrestaClient, PrestaError, xml};
use crate::ids::parse_item_id;
use crate::wire::StockAvailable;
use std::collections::BTreeSet;
use stocksync_domain::ShopError;
use stocksync_domain::shop::{LevelWrite, WriteOutcome};

const STOCK_AVAILABLE: &str = "GET /stock_availables/{id}";
const PUT_STOCK_AVAILABLE: &str = "PUT /stock_availables/{id}";

/// Which row a write goes to, or why it goes nowhere: an item's own row (its combination's,
/// or a product's without combinations), never a product-level sum.
fn row_for<'a>(item: &str, rows: &'a [StockAvailable]) -> Result<&'a StockAvailable, WriteOutcome> {
    let refused = |why: String| Err(WriteOutcome::Refused(format!("item {item}: {why}")));
    let Some((product, combination)) = parse_item_id(item) else {
        return refused("not a PrestaShop item id".into());
    };
    let attribute = combination.unwrap_or(0);
    if attribute == 0
        && rows
            .iter()
            .any(|row| row.id_product == product && row.id_product_attribute != 0)
    {
        return refused(
            "the product has combinations: its quantity is their sum; write them instead".into(),
        );
    }
    match rows
        .iter()
        .find(|row| row.id_product == product && row.id_product_attribute == attribute)
    {
        None => refused("no stock_availables row".into()),
        Some(row) if row.depends_on_stock == Some(1) => Err(WriteOutcome::Unmanaged),
        Some(row) => Ok(row),
    }
}

fn failed(err: PrestaError) -> WriteOutcome {
    match err {
        PrestaError::NotFound(what) | PrestaError::Rejected(what) => WriteOutcome::Refused(what),
        other => WriteOutcome::Failed(other.into()),
    }
}

impl PrestaClient {
    /// One outcome per write, in order.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), writes = writes.len()))]
    pub(super) async fn set_stock(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        let products: BTreeSet<i64> = writes
            .iter()
            .filter_map(|w| parse_item_id(w.item.id.as_str()))
            .map(|(product, _)| product)
            .collect();
        let rows = if products.is_empty() {
            Vec::new()
        } else {
            let products: Vec<i64> = products.into_iter().collect();
            match self.stock_rows(&products).await {
                Ok(rows) => rows,
                Err(err) => {
                    let err = ShopError::from(err);
                    return writes
                        .iter()
                        .map(|_| WriteOutcome::Failed(err.clone()))
                        .collect();
                }
            }
        };
        let mut outcomes = Vec::with_capacity(writes.len());
        for write in writes {
            let outcome = match row_for(write.item.id.as_str(), &rows) {
                Err(outcome) => outcome,
                Ok(row) => self
                    .write_row(row.id, write.quantity)
                    .await
                    .unwrap_or_else(failed),
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Reads row `id` whole, and PUTs it back with `quantity` unless it has it already.
    async fn write_row(&self, id: i64, quantity: i64) -> Result<WriteOutcome, PrestaError> {
        let id = id.to_string();
        let segments = ["stock_availables", id.as_str()];
        let document = self.get_xml(STOCK_AVAILABLE, &segments).await?;
        let current = self.quantity_in(STOCK_AVAILABLE, &document)?;
        if current == quantity {
            return Ok(WriteOutcome::Written { quantity });
        }
        let changed = xml::with_field(
            &document,
            "stock_available",
            "quantity",
            &quantity.to_string(),
        )
        .map_err(|err| self.unreadable(STOCK_AVAILABLE, &err))?;
        let saved = self
            .put_xml(PUT_STOCK_AVAILABLE, &segments, &changed)
            .await?;
        Ok(WriteOutcome::Written {
            quantity: self.quantity_in(PUT_STOCK_AVAILABLE, &saved)?,
        })
    }

    fn quantity_in(&self, endpoint: &str, document: &str) -> Result<i64, PrestaError> {
        xml::object_fields(document, "stock_available")
            .and_then(|fields| {
                fields
                    .into_iter()
                    .find(|(field, _)| field == "quantity")
                    .and_then(|(_, value)| value.trim().parse().ok())
                    .ok_or_else(|| "no quantity in the row".to_owned())
            })
            .map_err(|err| self.unreadable(endpoint, &err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, product: i64, attribute: i64, depends: i64) -> StockAvailable {
        StockAvailable {
            id,
            id_product: product,
            id_product_attribute: attribute,
            id_shop: Some(1),
            quantity: 4,
            depends_on_stock: Some(depends),
        }
    }

    #[test]
    fn a_write_goes_to_the_items_own_row_only() {
        let rows = [
            row(10, 1, 0, 0),
            row(11, 2, 0, 0),
            row(12, 2, 5, 0),
            row(13, 3, 0, 1),
        ];
        assert_eq!(row_for("1", &rows).unwrap().id, 10);
        assert_eq!(row_for("2-5", &rows).unwrap().id, 12);
        assert!(
            matches!(row_for("2", &rows), Err(WriteOutcome::Refused(why)) if why.contains("combinations"))
        );
        assert!(matches!(
            row_for("2-6", &rows),
            Err(WriteOutcome::Refused(_))
        ));
        assert!(matches!(row_for("9", &rows), Err(WriteOutcome::Refused(_))));
        assert!(matches!(row_for("x", &rows), Err(WriteOutcome::Refused(_))));
        assert_eq!(
            row_for("3", &rows).unwrap_err(),
            WriteOutcome::Unmanaged,
            "advanced stock management"
        );
    }
}
