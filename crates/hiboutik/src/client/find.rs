//! Registration look-ups by id, barcode and name, and the listing of every product. A product
//! is described per sellable item: a product without sizes is one item named after its model;
//! a product with sizes is one item per size, named "Model (Size)", each with its own barcode
//! and count. Hiboutik has no SKU besides the barcode (its own shop plugins match a shop's SKU
//! against it), so an item's SKU and barcode are both its barcode.
//!
//! * by id: `"12"` gives product 12, or each of its sizes; `"12/3"` only size 3
//!   (`GET /products/{id}`, a one-element list);
//! * by SKU: `GET /products/search/barcode/{code}/`, whose matches name the product and the
//!   size whose barcode it is (0: the product's own, giving all its items);
//! * by name: `GET /products/search/name/{text}`, every page, keeping the items whose full
//!   name contains the text, ignoring case;
//! * every product: `GET /products/` and the bulk read of the warehouse, every page of both.

use super::call::none_if_missing;
use super::{HiboutikConnector, item_ref};
use crate::ItemRef;
use crate::wire::{BarcodeMatch, Product};
use std::collections::HashMap;
use stocksync_domain::PosError;
use stocksync_domain::pos::{PosProduct, ProductQuery};

/// Up to this many distinct products, counts come from one stock call per product; past it,
/// from the bulk read of the warehouse (a broad name search must not cost a call per product).
const PER_PRODUCT_STOCK_LIMIT: usize = 5;

/// A sellable item, before its count is known.
struct Item {
    item: ItemRef,
    name: String,
    barcode: Option<String>,
}

impl HiboutikConnector {
    #[tracing::instrument(skip_all, fields(account = %self.account, query = ?query), err)]
    pub(super) async fn find(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        let items = match query {
            ProductQuery::Id(pos_ref) => {
                let wanted = item_ref(pos_ref)?;
                self.items_of(wanted.product_id, wanted.size_id).await?
            }
            ProductQuery::Sku(code) => {
                let matches: Vec<BarcodeMatch> = none_if_missing(
                    self.get(
                        "GET /products/search/barcode/{code}",
                        &["products", "search", "barcode", code, ""],
                    )
                    .await,
                )?;
                let mut items = Vec::new();
                for found in matches {
                    let size = found.product_size.unwrap_or(0);
                    for item in self.items_of(found.product_id, size).await? {
                        if !items.iter().any(|known: &Item| known.item == item.item) {
                            items.push(item);
                        }
                    }
                }
                items
            }
            ProductQuery::Name(text) => {
                let products: Vec<Product> = none_if_missing(
                    self.get_pages(
                        "GET /products/search/name/{name}",
                        &["products", "search", "name", text],
                    )
                    .await,
                )?;
                let text = text.to_lowercase();
                products
                    .iter()
                    .flat_map(items)
                    .filter(|item| item.name.to_lowercase().contains(&text))
                    .collect()
            }
        };
        self.with_counts(items).await
    }

    /// Every item of the account: `ceil(P / 250)` calls for P products, then
    /// `ceil(I / 250)` for the stock of their I items (pages of 250 rows, each call one unit
    /// of the budget).
    #[tracing::instrument(skip_all, fields(account = %self.account), err)]
    pub(super) async fn list_products(&self) -> Result<Vec<PosProduct>, PosError> {
        let products: Vec<Product> = self.get_pages("GET /products", &["products", ""]).await?;
        let items: Vec<Item> = products.iter().flat_map(items).collect();
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let counts = self.warehouse_stock().await?.into_iter().collect();
        Ok(described(items, &counts))
    }

    /// The items of product `product_id`: all of them, or only size `size_id` when it is not 0.
    /// None when the product does not exist.
    async fn items_of(&self, product_id: i64, size_id: i64) -> Result<Vec<Item>, PosError> {
        let id = product_id.to_string();
        let products: Vec<Product> =
            none_if_missing(self.get("GET /products/{id}", &["products", &id]).await)?;
        Ok(products
            .iter()
            .filter(|product| product.product_id == product_id)
            .flat_map(items)
            .filter(|item| size_id == 0 || item.item.size_id == size_id)
            .collect())
    }

    async fn with_counts(&self, items: Vec<Item>) -> Result<Vec<PosProduct>, PosError> {
        let mut products: Vec<i64> = items.iter().map(|item| item.item.product_id).collect();
        products.sort_unstable();
        products.dedup();
        let counts: HashMap<ItemRef, i64> = if products.len() <= PER_PRODUCT_STOCK_LIMIT {
            let mut counts = HashMap::new();
            for product in products {
                counts.extend(self.product_stock(product).await?);
            }
            counts
        } else {
            self.warehouse_stock().await?.into_iter().collect()
        };
        Ok(described(items, &counts))
    }
}

/// The items as products, with their counts (0 for an item without a stock row).
fn described(items: Vec<Item>, counts: &HashMap<ItemRef, i64>) -> Vec<PosProduct> {
    items
        .into_iter()
        .map(|item| PosProduct {
            pos_ref: stocksync_domain::PosRef::new(item.item.to_string()),
            quantity: counts.get(&item.item).copied().unwrap_or(0),
            name: item.name,
            sku: item.barcode.clone(),
            barcode: item.barcode,
        })
        .collect()
}

/// A product's sellable items.
fn items(product: &Product) -> Vec<Item> {
    let model = product
        .product_model
        .clone()
        .unwrap_or_else(|| format!("product {}", product.product_id));
    if product.product_size_details.is_empty() {
        return vec![Item {
            item: ItemRef::new(product.product_id, 0),
            name: model,
            barcode: product.product_barcode.clone(),
        }];
    }
    product
        .product_size_details
        .iter()
        .map(|size| Item {
            item: ItemRef::new(product.product_id, size.size_id),
            name: match &size.size_name {
                Some(size_name) => format!("{model} ({size_name})"),
                None => format!("{model} (size {})", size.size_id),
            },
            barcode: size.barcode.clone(),
        })
        .collect()
}
