//! Sellable items and their stock: every simple product and variation (a page of 100 a call,
//! plus the variations of each variable product), items by id (`include=`, 100 a call:
//! products in one list, variations in their parent's), look-ups by SKU (100 SKUs a call), and
//! absolute stock writes in batches of at most 100, each item's outcome reported on its own.
//!
//! A write sends the quantity alone, never `manage_stock`: WooCommerce applies it only to an
//! item that manages its own stock, and its answer says whether it does; an item that does not
//! is reported `Unmanaged`, never switched to managed behind the merchant's back.

use super::{WooClient, WooError};
use crate::wire::{BatchAnswer, BatchItem, ManageStock, Product};
use serde_json::json;
use std::collections::BTreeMap;
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopItem, WriteOutcome};
use stocksync_domain::{EcommerceId, ShopError};

/// Items per `…/batch` call: WooCommerce's default limit (above it: 413, nothing applied).
pub const BATCH_LIMIT: usize = 100;

/// Ids per `include=` and SKUs per `sku=`: as many as a page holds, so one call answers them.
const PAGE: usize = super::call::PAGE_SIZE;

const PRODUCTS: &str = "GET /products";
const VARIATIONS: &str = "GET /products/{id}/variations";
const PRODUCTS_BATCH: &str = "POST /products/batch";
const VARIATIONS_BATCH: &str = "POST /products/{id}/variations/batch";

impl WooClient {
    /// Every sellable item of the shop: products a page of 100 at a time (sorted by id), and
    /// for each variable product its variations (a page of 100 a call). Variable, grouped and
    /// external products hold no stock of their own and are not listed.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn all_items(&self) -> Result<Vec<ShopItem>, WooError> {
        let by_id = vec![
            ("orderby".to_owned(), "id".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
        ];
        let products: Vec<Product> = self
            .get_pages(PRODUCTS, &["products"], by_id.clone())
            .await?;
        let mut items = Vec::new();
        for product in products {
            if product.kind == "variable" {
                items.extend(self.variations(product.id, by_id.clone()).await?);
            } else {
                items.extend(shop_item(product, None));
            }
        }
        Ok(items)
    }

    /// The items named, unknown ones left out: simple products through
    /// `/products?include=`, variations through `/products/{parent}/variations?include=`, 100
    /// ids a call. A reference whose id or locator is not a WooCommerce id names nothing.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn items_by_id(&self, refs: &[ItemRef]) -> Result<Vec<ShopItem>, WooError> {
        let mut by_parent: BTreeMap<Option<i64>, Vec<i64>> = BTreeMap::new();
        for target in refs.iter().filter_map(target) {
            by_parent.entry(target.parent).or_default().push(target.id);
        }
        let mut items = Vec::new();
        for (parent, mut ids) in by_parent {
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(PAGE) {
                let include = vec![("include".to_owned(), join(chunk))];
                match parent {
                    None => {
                        let products: Vec<Product> =
                            self.get_pages(PRODUCTS, &["products"], include).await?;
                        items.extend(
                            products
                                .into_iter()
                                .filter_map(|product| shop_item(product, None)),
                        );
                    }
                    Some(parent) => items.extend(self.variations(parent, include).await?),
                }
            }
        }
        Ok(items)
    }

    /// The items whose SKU is one of `skus` (exact match; WooCommerce's `sku` filter covers
    /// variations too), 100 SKUs a call. A SKU holding a comma cannot be asked for and is
    /// skipped: the filter is a comma-separated list.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn find_by_sku(&self, skus: &[String]) -> Result<Vec<ShopItem>, WooError> {
        let askable: Vec<&str> = skus
            .iter()
            .map(String::as_str)
            .filter(|sku| !sku.is_empty() && !sku.contains(','))
            .collect();
        let mut items = Vec::new();
        for chunk in askable.chunks(PAGE) {
            let params = vec![("sku".to_owned(), chunk.join(","))];
            let found: Vec<Product> = self.get_pages(PRODUCTS, &["products"], params).await?;
            items.extend(found.into_iter().filter_map(|product| {
                let parent = (product.kind == "variation")
                    .then_some(product.parent_id)
                    .flatten();
                shop_item(product, parent)
            }));
        }
        Ok(items)
    }

    async fn variations(
        &self,
        parent: i64,
        params: Vec<(String, String)>,
    ) -> Result<Vec<ShopItem>, WooError> {
        let id = parent.to_string();
        let variations: Vec<Product> = self
            .get_pages(VARIATIONS, &["products", &id, "variations"], params)
            .await?;
        Ok(variations
            .into_iter()
            .filter_map(|variation| shop_item(variation, Some(parent)))
            .collect())
    }

    /// Sets each item's stock to its `quantity`: simple products through `products/batch`,
    /// variations through their parent's `variations/batch`, at most [`BATCH_LIMIT`] a call.
    /// One outcome per write, in the order given; a call that fails fails each of its writes.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), writes = writes.len()))]
    pub(super) async fn set_stock(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; writes.len()];
        let mut groups: BTreeMap<Option<i64>, Vec<(usize, i64, i64)>> = BTreeMap::new();
        for (index, write) in writes.iter().enumerate() {
            match target(&write.item) {
                Some(target) => groups.entry(target.parent).or_default().push((
                    index,
                    target.id,
                    write.quantity,
                )),
                None => {
                    outcomes[index] = Some(WriteOutcome::Refused(format!(
                        "account {}: {:?} is not a WooCommerce product or variation",
                        self.http.account(),
                        write.item
                    )));
                }
            }
        }
        for (parent, group) in groups {
            for chunk in group.chunks(BATCH_LIMIT) {
                let written = self.write_batch(parent, chunk).await;
                for ((index, _, _), outcome) in chunk.iter().zip(written) {
                    outcomes[*index] = Some(outcome);
                }
            }
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every write has an outcome"))
            .collect()
    }

    /// One batch of `(index, id, quantity)` under `parent` (`None`: simple products).
    async fn write_batch(
        &self,
        parent: Option<i64>,
        chunk: &[(usize, i64, i64)],
    ) -> Vec<WriteOutcome> {
        let updates: Vec<_> = chunk
            .iter()
            .map(|(_, id, quantity)| json!({ "id": id, "stock_quantity": quantity }))
            .collect();
        let body = json!({ "update": updates });
        let (endpoint, answer): (_, Result<BatchAnswer, WooError>) = match parent {
            None => (
                PRODUCTS_BATCH,
                self.post(PRODUCTS_BATCH, &["products", "batch"], &body)
                    .await,
            ),
            Some(parent) => {
                let parent = parent.to_string();
                let path = ["products", parent.as_str(), "variations", "batch"];
                (
                    VARIATIONS_BATCH,
                    self.post(VARIATIONS_BATCH, &path, &body).await,
                )
            }
        };
        match answer {
            Err(err) => vec![WriteOutcome::Failed(err.into()); chunk.len()],
            Ok(answer) => chunk
                .iter()
                .enumerate()
                .map(|(at, (_, id, _))| {
                    outcome(*id, answer.update.get(at), |what| {
                        self.http.describe(endpoint, what)
                    })
                })
                .collect(),
        }
    }
}

/// What one entry of a batch answer (answers come in request order) says of item `id`;
/// `describe` words a message as every client error is worded.
fn outcome(id: i64, entry: Option<&BatchItem>, describe: impl Fn(&str) -> String) -> WriteOutcome {
    let unavailable = |what: &str| WriteOutcome::Failed(ShopError::Unavailable(describe(what)));
    match entry {
        None => unavailable(&format!("the answer has no entry for item {id}")),
        // A per-item error inside a 200: the host's trouble (5xx, 429) is worth another try;
        // anything else WooCommerce refused (unknown id, bad value) will be refused again.
        Some(BatchItem {
            error: Some(error), ..
        }) => {
            let what = describe(&format!("item {id}: {}: {}", error.code, error.message));
            match error.status() {
                Some(429 | 500..=599) => WriteOutcome::Failed(ShopError::Unavailable(what)),
                _ => WriteOutcome::Refused(what),
            }
        }
        Some(item) if item.id != Some(id) => unavailable(&format!(
            "the answer for item {id} is about item {:?}",
            item.id
        )),
        Some(item) => match (item.manage_stock, item.stock_quantity) {
            (Some(ManageStock::Yes) | None, Some(quantity)) => WriteOutcome::Written { quantity },
            (Some(ManageStock::Yes), None) => {
                unavailable(&format!("item {id} manages its stock but has no quantity"))
            }
            (Some(ManageStock::No | ManageStock::Parent), _) | (None, None) => {
                WriteOutcome::Unmanaged
            }
        },
    }
}

/// Where an item is written: its id, and its parent when it is a variation.
struct Target {
    id: i64,
    parent: Option<i64>,
}

fn target(item: &ItemRef) -> Option<Target> {
    let number = |text: &str| text.trim().parse::<i64>().ok().filter(|id| *id > 0);
    Some(Target {
        id: number(item.id.as_str())?,
        parent: match &item.locator {
            None => None,
            Some(parent) => Some(number(parent)?),
        },
    })
}

/// A product or variation as the port's item (`parent`: the variation's product), or `None`
/// for what holds no stock of its own (variable, grouped and external products).
fn shop_item(product: Product, parent: Option<i64>) -> Option<ShopItem> {
    if matches!(product.kind.as_str(), "variable" | "grouped" | "external") {
        return None;
    }
    let text = |value: String| Some(value).filter(|value| !value.trim().is_empty());
    Some(ShopItem {
        item: ItemRef {
            id: EcommerceId::new(product.id.to_string()),
            locator: parent.map(|parent| parent.to_string()),
        },
        name: product.name,
        sku: text(product.sku),
        barcode: text(product.global_unique_id),
        quantity: match product.manage_stock {
            // A managed count WooCommerce left empty reads as 0, as WooCommerce reads it.
            ManageStock::Yes => Some(product.stock_quantity.unwrap_or(0)),
            // Not counted, or counted on the parent (shared by every variation of it).
            ManageStock::No | ManageStock::Parent => None,
        },
    })
}

fn join(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> BatchItem {
        serde_json::from_str(json).unwrap()
    }

    fn read(json: &str) -> WriteOutcome {
        outcome(7, Some(&entry(json)), str::to_owned)
    }

    #[test]
    fn a_batch_entry_says_written_unmanaged_refused_or_failed() {
        assert_eq!(
            read(r#"{"id": 7, "manage_stock": true, "stock_quantity": 4}"#),
            WriteOutcome::Written { quantity: 4 }
        );
        for unmanaged in [
            r#"{"id": 7, "manage_stock": false, "stock_quantity": null}"#,
            r#"{"id": 7, "manage_stock": "parent", "stock_quantity": 9}"#,
            r#"{"id": 7}"#,
        ] {
            assert_eq!(read(unmanaged), WriteOutcome::Unmanaged, "{unmanaged}");
        }
        assert_eq!(
            read(r#"{"id": 7, "stock_quantity": 4}"#),
            WriteOutcome::Written { quantity: 4 },
            "an entry trimmed of manage_stock: its quantity says"
        );
        for refused in [
            r#"{"id": 7, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}}"#,
            r#"{"id": 7, "error": {"code": "rest_invalid_param", "message": "Bad.", "data": {"status": 400}}}"#,
            r#"{"id": 7, "error": {"code": "some_plugin_said_no", "message": "No."}}"#,
        ] {
            assert!(
                matches!(read(refused), WriteOutcome::Refused(_)),
                "{refused}"
            );
        }
        for failed in [
            r#"{"id": 7, "error": {"code": "internal_server_error", "message": "Oops.", "data": {"status": 500}}}"#,
            r#"{"id": 8, "manage_stock": true, "stock_quantity": 4}"#,
            r#"{"id": 7, "manage_stock": true, "stock_quantity": null}"#,
        ] {
            assert!(
                matches!(
                    read(failed),
                    WriteOutcome::Failed(ShopError::Unavailable(_))
                ),
                "{failed}"
            );
        }
        assert!(matches!(
            outcome(7, None, str::to_owned),
            WriteOutcome::Failed(ShopError::Unavailable(_))
        ));
    }

    #[test]
    fn a_reference_is_written_by_id_and_parent() {
        let item = |id: &str, locator: Option<&str>| ItemRef {
            id: EcommerceId::new(id),
            locator: locator.map(str::to_owned),
        };
        let found = target(&item("12", Some("10"))).unwrap();
        assert_eq!((found.id, found.parent), (12, Some(10)));
        let found = target(&item(" 12 ", None)).unwrap();
        assert_eq!((found.id, found.parent), (12, None));
        for bad in [
            item("x", None),
            item("0", None),
            item("12", Some("")),
            item("-1", None),
        ] {
            assert!(target(&bad).is_none(), "{bad:?}");
        }
    }
}
