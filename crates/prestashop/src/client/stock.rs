//! Writing stock (shop-apis.md §3.4): the Webservice has no compare-and-set; `expected` is
//! ignored. The rows are first found in bulk by product, which also tells which products have
//! combinations: their product-level row is a sum PrestaShop recomputes, never written. A row
//! that already has the quantity (as the bulk read saw it) is not written. Otherwise, where the
//! shop is 8.0 or later (`version.rs`), one PATCH of the row's `id` and `quantity`: what it
//! leaves out keeps its value. On 1.7, while the version is unknown, or once the shop refused a
//! PATCH (405, or 401/403: a key without the PATCH permission; remembered, not tried again),
//! the PUT, which replaces the whole row and resets what it leaves out: the row's whole XML is
//! read, its `quantity` changed and the document PUT back (two calls; only the read when the
//! row has the quantity by then).

use super::version::{StockWrite, refuses_patch};
use super::{PrestaClient, PrestaError, xml};
use crate::ids::parse_item_id;
use crate::wire::StockAvailable;
use reqwest::Method;
use std::collections::BTreeSet;
use stocksync_domain::ShopError;
use stocksync_domain::shop::{LevelWrite, WriteOutcome};

const STOCK_AVAILABLE: &str = "GET /stock_availables/{id}";
const PUT_STOCK_AVAILABLE: &str = "PUT /stock_availables/{id}";
const PATCH_STOCK_AVAILABLE: &str = "PATCH /stock_availables/{id}";

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
        PrestaError::NotFound(what)
        | PrestaError::Rejected(what)
        | PrestaError::MethodNotAllowed(what) => WriteOutcome::Refused(what),
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
                Ok(row) if row.quantity == write.quantity => WriteOutcome::Written {
                    quantity: write.quantity,
                },
                Ok(row) => self
                    .write_row(row.id, write.quantity)
                    .await
                    .unwrap_or_else(failed),
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Writes `quantity` to row `id`: a PATCH where the shop takes one, else read and PUT.
    async fn write_row(&self, id: i64, quantity: i64) -> Result<WriteOutcome, PrestaError> {
        if self.learnt().stock_write() == StockWrite::Patch {
            match self.patch_row(id, quantity).await {
                Err(err) if refuses_patch(&err) => {
                    tracing::warn!(
                        account = self.http.account(),
                        error = %err,
                        "the shop refused a PATCH: stock is written by read and PUT from now on"
                    );
                    self.learnt().patch_refused = true;
                }
                written => return written,
            }
        }
        self.read_and_put_row(id, quantity).await
    }

    /// One PATCH of row `id`'s quantity; its other fields keep their values.
    async fn patch_row(&self, id: i64, quantity: i64) -> Result<WriteOutcome, PrestaError> {
        let (id, quantity) = (id.to_string(), quantity.to_string());
        let document = xml::partial("stock_available", &[("id", &id), ("quantity", &quantity)]);
        let saved = self
            .write_xml(
                Method::PATCH,
                PATCH_STOCK_AVAILABLE,
                &["stock_availables", id.as_str()],
                &document,
            )
            .await?;
        Ok(WriteOutcome::Written {
            quantity: self.quantity_in(PATCH_STOCK_AVAILABLE, &saved)?,
        })
    }

    /// Reads row `id` whole, and PUTs it back with `quantity` unless it has it already.
    async fn read_and_put_row(&self, id: i64, quantity: i64) -> Result<WriteOutcome, PrestaError> {
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
            .write_xml(Method::PUT, PUT_STOCK_AVAILABLE, &segments, &changed)
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
