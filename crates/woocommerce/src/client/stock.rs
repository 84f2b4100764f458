//! Sellable items and their stock: every simple product and variation (a page of 100 a call,
//! plus the variations of each variable product), look-ups by SKU (100 SKUs a call), and
//! absolute stock writes in batches of at most 100, each item's outcome reported on its own.

use super::{WooClient, WooError};
use crate::wire::{BatchAnswer, BatchItem, Product};
use serde_json::json;
use std::collections::BTreeMap;

/// Items per `…/batch` call: WooCommerce's default limit (above it: 413, nothing applied).
pub const BATCH_LIMIT: usize = 100;

pub(super) const PRODUCTS: &str = "GET /products";
const VARIATIONS: &str = "GET /products/{id}/variations";
const PRODUCTS_BATCH: &str = "POST /products/batch";
const VARIATIONS_BATCH: &str = "POST /products/{id}/variations/batch";

/// WooCommerce's sellable unit: a simple product, or a variation of a variable product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopItem {
    pub product_id: i64,
    /// `Some` for a variation (its own id; `product_id` is its parent).
    pub variation_id: Option<i64>,
    pub sku: String,
    pub name: String,
    /// False: WooCommerce does not count this item's stock; a write would not be applied.
    pub manage_stock: bool,
    /// `None` when stock is not managed.
    pub stock_quantity: Option<i64>,
}

impl ShopItem {
    /// The product's or the variation's id (the shop item's `item_ecommerce_id`).
    pub fn id(&self) -> i64 {
        self.variation_id.unwrap_or(self.product_id)
    }

    fn of(product: Product) -> Self {
        let variation = product.kind == "variation";
        Self {
            product_id: if variation {
                product.parent_id.unwrap_or_default()
            } else {
                product.id
            },
            variation_id: variation.then_some(product.id),
            sku: product.sku,
            name: product.name,
            manage_stock: product.manage_stock,
            stock_quantity: product.stock_quantity,
        }
    }
}

/// Set the stock of one item to `quantity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockWrite {
    pub product_id: i64,
    pub variation_id: Option<i64>,
    pub quantity: i64,
}

/// What became of one write: the quantity WooCommerce now reports, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteResult {
    pub write: StockWrite,
    pub outcome: Result<Option<i64>, WooError>,
}

impl WooClient {
    /// Every sellable item of the shop: products a page of 100 at a time (sorted by id), and
    /// for each variable product its variations (a page of 100 a call). Variable, grouped and
    /// external products hold no stock of their own and are not listed.
    pub async fn items(&self) -> Result<Vec<ShopItem>, WooError> {
        let by_id = vec![
            ("orderby".to_owned(), "id".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
        ];
        let products: Vec<Product> = self
            .get_pages(PRODUCTS, &["products"], by_id.clone())
            .await?;
        let mut items = Vec::new();
        for product in products {
            match product.kind.as_str() {
                "variable" => {
                    let id = product.id.to_string();
                    let variations: Vec<Product> = self
                        .get_pages(VARIATIONS, &["products", &id, "variations"], by_id.clone())
                        .await?;
                    items.extend(variations.into_iter().map(|variation| ShopItem {
                        variation_id: Some(variation.id),
                        product_id: product.id,
                        ..ShopItem::of(variation)
                    }));
                }
                "grouped" | "external" => {}
                _ => items.push(ShopItem::of(product)),
            }
        }
        Ok(items)
    }

    /// The items whose SKU is one of `skus` (exact match; WooCommerce's `sku` filter covers
    /// variations too), 100 SKUs a call. A SKU holding a comma cannot be asked for and is
    /// skipped: the filter is a comma-separated list.
    pub async fn find_by_sku(&self, skus: &[&str]) -> Result<Vec<ShopItem>, WooError> {
        let askable: Vec<&str> = skus
            .iter()
            .copied()
            .filter(|sku| !sku.is_empty() && !sku.contains(','))
            .collect();
        let mut items = Vec::new();
        for chunk in askable.chunks(PAGE) {
            let params = vec![("sku".to_owned(), chunk.join(","))];
            let found: Vec<Product> = self.get_pages(PRODUCTS, &["products"], params).await?;
            items.extend(
                found
                    .into_iter()
                    .filter(|product| {
                        !matches!(product.kind.as_str(), "variable" | "grouped" | "external")
                    })
                    .map(ShopItem::of),
            );
        }
        Ok(items)
    }

    /// Sets each item's stock to its `quantity` (with `manage_stock: true`, without which
    /// WooCommerce ignores the quantity): simple products through `products/batch`, variations
    /// through their parent's `variations/batch`, at most [`BATCH_LIMIT`] a call. One result per
    /// write, in the order given; a call that fails fails each of its writes.
    pub async fn set_stock(&self, writes: &[StockWrite]) -> Vec<WriteResult> {
        let mut groups: BTreeMap<Option<i64>, Vec<(usize, StockWrite)>> = BTreeMap::new();
        for (index, write) in writes.iter().enumerate() {
            let parent = write.variation_id.map(|_| write.product_id);
            groups.entry(parent).or_default().push((index, *write));
        }
        let mut results: Vec<(usize, WriteResult)> = Vec::with_capacity(writes.len());
        for (parent, group) in groups {
            for chunk in group.chunks(BATCH_LIMIT) {
                let (indexes, chunk): (Vec<usize>, Vec<StockWrite>) = chunk.iter().copied().unzip();
                let written = self.write_batch(parent, &chunk).await;
                results.extend(indexes.into_iter().zip(written));
            }
        }
        results.sort_by_key(|(index, _)| *index);
        results.into_iter().map(|(_, result)| result).collect()
    }

    async fn write_batch(&self, parent: Option<i64>, chunk: &[StockWrite]) -> Vec<WriteResult> {
        let updates: Vec<_> = chunk
            .iter()
            .map(|write| {
                json!({
                    "id": write.variation_id.unwrap_or(write.product_id),
                    "manage_stock": true,
                    "stock_quantity": write.quantity,
                })
            })
            .collect();
        let body = json!({ "update": updates });
        let answer: Result<BatchAnswer, WooError> = match parent {
            None => {
                self.post(PRODUCTS_BATCH, &["products", "batch"], &body)
                    .await
            }
            Some(parent) => {
                let parent = parent.to_string();
                self.post(
                    VARIATIONS_BATCH,
                    &["products", &parent, "variations", "batch"],
                    &body,
                )
                .await
            }
        };
        match answer {
            Err(err) => chunk
                .iter()
                .map(|write| WriteResult {
                    write: *write,
                    outcome: Err(err.clone()),
                })
                .collect(),
            Ok(answer) => chunk
                .iter()
                .enumerate()
                .map(|(index, write)| WriteResult {
                    write: *write,
                    outcome: self.item_outcome(write, answer.update.get(index)),
                })
                .collect(),
        }
    }

    /// One entry of a batch answer (answers come in request order).
    fn item_outcome(
        &self,
        write: &StockWrite,
        item: Option<&BatchItem>,
    ) -> Result<Option<i64>, WooError> {
        let id = write.variation_id.unwrap_or(write.product_id);
        let endpoint = if write.variation_id.is_some() {
            VARIATIONS_BATCH
        } else {
            PRODUCTS_BATCH
        };
        match item {
            None => Err(WooError::Unavailable(self.http.describe(
                endpoint,
                &format!("the answer has no entry for item {id}"),
            ))),
            Some(BatchItem {
                error: Some(error), ..
            }) => {
                let what = self.http.describe(
                    endpoint,
                    &format!("item {id}: {}: {}", error.code, error.message),
                );
                Err(if error.code.ends_with("_invalid_id") {
                    WooError::NotFound(what)
                } else {
                    WooError::Rejected(what)
                })
            }
            Some(item) if item.id != Some(id) => Err(WooError::Unavailable(self.http.describe(
                endpoint,
                &format!("the answer for item {id} is about item {:?}", item.id),
            ))),
            Some(item) => Ok(item.stock_quantity),
        }
    }
}

/// SKUs per look-up: as many as a page holds, so that one call answers them all.
const PAGE: usize = super::call::PAGE_SIZE;
