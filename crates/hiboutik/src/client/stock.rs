//! Stock reads: the bulk read of the connector's warehouse (pages of 250 product × size rows,
//! never a call per product), the targeted read of the few items a sale webhook names, and the
//! per-product read registration uses.

use super::call::none_if_missing;
use super::{HiboutikConnector, item_ref};
use crate::ItemRef;
use crate::wire::StockRow;
use chrono::Utc;
use std::collections::HashMap;
use stocksync_domain::pos::{StockCount, StockRead};
use stocksync_domain::{PosError, PosRef};

impl HiboutikConnector {
    /// Every count of the warehouse: `GET /stock_available/warehouse_id/{id}?p=N` until the
    /// last page. The cursor is the time of the read (Hiboutik has nothing finer).
    #[tracing::instrument(skip_all, fields(account = %self.account), err)]
    pub(super) async fn read_warehouse(&self) -> Result<StockRead, PosError> {
        let counts = self.warehouse_stock().await?;
        Ok(StockRead {
            counts: counts.into_iter().map(count).collect(),
            cursor: Some(Utc::now().to_rfc3339()),
        })
    }

    /// The quantity of every item of the warehouse, page after page.
    pub(super) async fn warehouse_stock(&self) -> Result<Vec<(ItemRef, i64)>, PosError> {
        let warehouse = self.warehouse_id().to_string();
        let rows: Vec<StockRow> = self
            .get_pages(
                "GET /stock_available/warehouse_id/{id}",
                &["stock_available", "warehouse_id", &warehouse],
            )
            .await?;
        Ok(self.tally(rows))
    }

    /// The current counts of `refs` in the connector's warehouse (`PosConnector::read_items`): a
    /// Hiboutik sale webhook names the lines sold, without the resulting stock. One
    /// `GET /stock_available/product_id_size/{product}/{size}` per distinct item, since
    /// Hiboutik has no call that reads a chosen set of items (a webhook names a handful). An
    /// item without a row in the warehouse (stock management off) is left out. No cursor.
    #[tracing::instrument(skip_all, fields(account = %self.account, items = refs.len()), err)]
    pub(crate) async fn read_lines(&self, refs: &[PosRef]) -> Result<StockRead, PosError> {
        let mut items: Vec<ItemRef> = Vec::with_capacity(refs.len());
        for pos_ref in refs {
            let item = item_ref(pos_ref)?;
            if !items.contains(&item) {
                items.push(item);
            }
        }
        let mut counts = Vec::with_capacity(items.len());
        for item in items {
            let (product, size) = (item.product_id.to_string(), item.size_id.to_string());
            let rows: Vec<StockRow> = none_if_missing(
                self.get(
                    "GET /stock_available/product_id_size/{id}/{size}",
                    &["stock_available", "product_id_size", &product, &size],
                )
                .await,
            )?;
            let rows = rows
                .into_iter()
                .filter(|row| row_item(row) == item)
                .collect();
            counts.extend(self.tally(rows).into_iter().map(count));
        }
        Ok(StockRead {
            counts,
            cursor: None,
        })
    }

    /// The counts of every size of one product: `GET /stock_available/product_id/{id}`.
    pub(super) async fn product_stock(
        &self,
        product_id: i64,
    ) -> Result<HashMap<ItemRef, i64>, PosError> {
        let product = product_id.to_string();
        let rows: Vec<StockRow> = none_if_missing(
            self.get(
                "GET /stock_available/product_id/{id}",
                &["stock_available", "product_id", &product],
            )
            .await,
        )?;
        Ok(self.tally(rows).into_iter().collect())
    }

    /// The quantity of each item in the connector's warehouse, in the POS's order (rows that
    /// name no warehouse are taken as ours; rows of other warehouses are left out).
    fn tally(&self, rows: Vec<StockRow>) -> Vec<(ItemRef, i64)> {
        let ours = self.warehouse_id();
        let mut index: HashMap<ItemRef, usize> = HashMap::new();
        let mut tally: Vec<(ItemRef, i64)> = Vec::new();
        for row in rows {
            if row.warehouse_id.is_some_and(|warehouse| warehouse != ours) {
                continue;
            }
            let item = row_item(&row);
            match index.get(&item) {
                Some(&at) => tally[at].1 += row.stock_available,
                None => {
                    index.insert(item, tally.len());
                    tally.push((item, row.stock_available));
                }
            }
        }
        tally
    }
}

fn row_item(row: &StockRow) -> ItemRef {
    ItemRef::new(row.product_id, row.product_size.unwrap_or(0))
}

fn count((item, quantity): (ItemRef, i64)) -> StockCount {
    StockCount {
        pos_ref: PosRef::new(item.to_string()),
        quantity,
        counted_at: None,
    }
}
