//! Products and combinations as stocksync's items (shop-apis.md §3.4–3.5): a product without
//! combinations is one item, a product with combinations is its combinations (ids: `ids.rs`);
//! SKU = `reference`, barcode = `ean13`, quantity from the item's `stock_availables` row, whose
//! id is the item's locator. The product-level row of a product with combinations is a sum
//! PrestaShop keeps: it is never an item. Every read is bulk: lists, or filters of up to
//! [`PAGE_SIZE`] ids.

use super::call::{PAGE_SIZE, Params};
use super::{PrestaClient, PrestaError};
use crate::ids::{item_id, parse_item_id};
use crate::wire::{Combination, Product, StockAvailable};
use std::collections::{BTreeSet, HashMap, HashSet};
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::{ItemRef, ShopItem};

const PRODUCTS: &str = "GET /products";
const COMBINATIONS: &str = "GET /combinations";
const STOCK_AVAILABLES: &str = "GET /stock_availables";

const PRODUCT_FIELDS: &str = "[id,name,reference,ean13]";
const COMBINATION_FIELDS: &str = "[id,id_product,reference,ean13]";

/// The items of these products, combinations and stock rows: products without combinations
/// and every combination, each with its own row's quantity and id (an item without a row, or
/// whose row follows advanced stock management's warehouses, has no quantity: stocksync cannot
/// set it). Rows of other shops are the caller's to leave out.
pub(super) fn assemble(
    products: &[Product],
    combinations: &[Combination],
    rows: &[StockAvailable],
) -> Vec<ShopItem> {
    let row_of: HashMap<(i64, i64), &StockAvailable> = rows
        .iter()
        .map(|row| ((row.id_product, row.id_product_attribute), row))
        .collect();
    let item = |product: i64,
                combination: Option<i64>,
                name: &str,
                sku: &Option<String>,
                ean: &Option<String>| {
        let row = row_of.get(&(product, combination.unwrap_or(0)));
        ShopItem {
            item: ItemRef {
                id: EcommerceId::new(item_id(product, combination)),
                locator: row.map(|row| row.id.to_string()),
            },
            name: name.to_owned(),
            sku: sku.clone(),
            barcode: ean.clone(),
            quantity: row
                .filter(|row| row.depends_on_stock != Some(1))
                .map(|row| row.quantity),
        }
    };
    let with_combinations: HashSet<i64> = combinations.iter().map(|c| c.id_product).collect();
    let names: HashMap<i64, &str> = products.iter().map(|p| (p.id, p.name.as_str())).collect();
    let mut items: Vec<ShopItem> = products
        .iter()
        .filter(|p| !with_combinations.contains(&p.id))
        .map(|p| item(p.id, None, &p.name, &p.reference, &p.ean13))
        .collect();
    items.extend(combinations.iter().map(|c| {
        let name = names.get(&c.id_product).copied().unwrap_or_default();
        item(c.id_product, Some(c.id), name, &c.reference, &c.ean13)
    }));
    items.sort_by_key(|shop_item| parse_item_id(shop_item.item.id.as_str()));
    items
}

/// `filter[field]=[a|b|c]`: values that cannot be written in a filter (with `[`, `]` or `|`)
/// are left out, since the Webservice has no escape for them.
fn any_of<'a>(field: &str, values: impl IntoIterator<Item = &'a str>) -> Option<(String, String)> {
    let values: Vec<&str> = values
        .into_iter()
        .filter(|v| !v.is_empty() && !v.contains(['[', ']', '|']))
        .collect();
    (!values.is_empty()).then(|| {
        (
            format!("filter[{field}]"),
            format!("[{}]", values.join("|")),
        )
    })
}

fn display(fields: &str) -> (String, String) {
    ("display".into(), fields.into())
}

impl PrestaClient {
    /// Every item of the shop: three lists, each read to its end.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn all_items(&self) -> Result<Vec<ShopItem>, PrestaError> {
        let products: Vec<Product> = self
            .get_pages(PRODUCTS, "products", vec![display(PRODUCT_FIELDS)])
            .await?;
        let combinations: Vec<Combination> = self
            .get_pages(
                COMBINATIONS,
                "combinations",
                vec![display(COMBINATION_FIELDS)],
            )
            .await?;
        let rows = self.stock_rows(&[]).await?;
        Ok(assemble(&products, &combinations, &rows))
    }

    /// The `stock_availables` rows of these products (every row when none is named), in this
    /// client's shop.
    pub(super) async fn stock_rows(
        &self,
        products: &[i64],
    ) -> Result<Vec<StockAvailable>, PrestaError> {
        let mut rows: Vec<StockAvailable> = Vec::new();
        if products.is_empty() {
            rows = self
                .get_pages(STOCK_AVAILABLES, "stock_availables", vec![display("full")])
                .await?;
        }
        for chunk in products.chunks(PAGE_SIZE) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let mut params = vec![display("full")];
            params.extend(any_of("id_product", ids.iter().map(String::as_str)));
            rows.extend(
                self.get_pages::<StockAvailable>(STOCK_AVAILABLES, "stock_availables", params)
                    .await?,
            );
        }
        rows.retain(|row| match (self.shop_id, row.id_shop) {
            (Some(shop), Some(row_shop)) => row_shop == shop || row_shop == 0,
            _ => true,
        });
        Ok(rows)
    }

    /// The items of these products, read in bulk (three calls per [`PAGE_SIZE`] products).
    async fn items_of_products(
        &self,
        products: &BTreeSet<i64>,
    ) -> Result<Vec<ShopItem>, PrestaError> {
        let products: Vec<i64> = products.iter().copied().collect();
        let mut items = Vec::new();
        for chunk in products.chunks(PAGE_SIZE) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let ids = || ids.iter().map(String::as_str);
            let mut params: Params = vec![display(PRODUCT_FIELDS)];
            params.extend(any_of("id", ids()));
            let found: Vec<Product> = self.get_pages(PRODUCTS, "products", params).await?;
            if found.is_empty() {
                continue;
            }
            let mut params: Params = vec![display(COMBINATION_FIELDS)];
            params.extend(any_of("id_product", ids()));
            let combinations: Vec<Combination> =
                self.get_pages(COMBINATIONS, "combinations", params).await?;
            let rows = self.stock_rows(chunk).await?;
            items.extend(assemble(&found, &combinations, &rows));
        }
        Ok(items)
    }

    /// These items; unknown ones (and ids that are not PrestaShop item ids) are absent.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), items = refs.len()), err)]
    pub(super) async fn items_by_id(&self, refs: &[ItemRef]) -> Result<Vec<ShopItem>, PrestaError> {
        let wanted: HashSet<&str> = refs.iter().map(|r| r.id.as_str()).collect();
        let products: BTreeSet<i64> = refs
            .iter()
            .filter_map(|r| parse_item_id(r.id.as_str()))
            .map(|(product, _)| product)
            .collect();
        let mut items = self.items_of_products(&products).await?;
        items.retain(|item| wanted.contains(item.item.id.as_str()));
        Ok(items)
    }

    /// The items whose `reference` is exactly one of `skus` (the Webservice's filter ignores
    /// case: the answer is checked again here).
    #[tracing::instrument(skip_all, fields(account = self.http.account(), skus = skus.len()), err)]
    pub(super) async fn find_by_sku(&self, skus: &[String]) -> Result<Vec<ShopItem>, PrestaError> {
        let wanted: HashSet<&str> = skus.iter().map(String::as_str).collect();
        let mut products = BTreeSet::new();
        for chunk in skus.chunks(PAGE_SIZE) {
            let Some(filter) = any_of("reference", chunk.iter().map(String::as_str)) else {
                continue;
            };
            let found: Vec<Product> = self
                .get_pages(
                    PRODUCTS,
                    "products",
                    vec![display(PRODUCT_FIELDS), filter.clone()],
                )
                .await?;
            products.extend(found.iter().map(|p| p.id));
            let found: Vec<Combination> = self
                .get_pages(
                    COMBINATIONS,
                    "combinations",
                    vec![display(COMBINATION_FIELDS), filter],
                )
                .await?;
            products.extend(found.iter().map(|c| c.id_product));
        }
        let mut items = self.items_of_products(&products).await?;
        items.retain(|item| item.sku.as_deref().is_some_and(|sku| wanted.contains(sku)));
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: i64, sku: &str) -> Product {
        Product {
            id,
            name: format!("P{id}"),
            reference: Some(sku.into()),
            ean13: None,
        }
    }

    fn row(id: i64, product: i64, attribute: i64, quantity: i64) -> StockAvailable {
        StockAvailable {
            id,
            id_product: product,
            id_product_attribute: attribute,
            id_shop: Some(1),
            quantity,
            depends_on_stock: Some(0),
        }
    }

    #[test]
    fn a_product_with_combinations_is_its_combinations_and_never_its_sum_row() {
        let products = [product(1, "MUG"), product(2, "SCARF")];
        let combinations = [Combination {
            id: 5,
            id_product: 2,
            reference: Some("SCARF-RED".into()),
            ean13: Some("4006381333931".into()),
        }];
        let rows = [row(10, 1, 0, 3), row(11, 2, 0, 7), row(12, 2, 5, 7)];
        let items = assemble(&products, &combinations, &rows);
        let ids: Vec<&str> = items.iter().map(|i| i.item.id.as_str()).collect();
        assert_eq!(ids, ["1", "2-5"]);
        assert_eq!(items[0].quantity, Some(3));
        assert_eq!(items[0].item.locator.as_deref(), Some("10"));
        assert_eq!(items[1].quantity, Some(7));
        assert_eq!(
            items[1].item.locator.as_deref(),
            Some("12"),
            "its own row, not the sum"
        );
        assert_eq!(items[1].name, "P2");
        assert_eq!(items[1].sku.as_deref(), Some("SCARF-RED"));
        assert_eq!(items[1].barcode.as_deref(), Some("4006381333931"));
    }

    #[test]
    fn an_item_without_a_row_has_no_quantity() {
        let items = assemble(&[product(1, "MUG")], &[], &[]);
        assert_eq!(items[0].quantity, None);
        assert_eq!(items[0].item.locator, None);
        let mut warehouse = row(5, 1, 0, 9);
        warehouse.depends_on_stock = Some(1);
        let items = assemble(&[product(1, "MUG")], &[], &[warehouse]);
        assert_eq!(items[0].quantity, None, "advanced stock management's row");
        assert_eq!(items[0].item.locator.as_deref(), Some("5"));
    }

    #[test]
    fn filters_leave_out_what_they_cannot_say() {
        assert_eq!(
            any_of("reference", ["A", "B|C", "", "D]"]),
            Some(("filter[reference]".into(), "[A]".into()))
        );
        assert_eq!(any_of("reference", ["[x]"]), None);
    }
}
