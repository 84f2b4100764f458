//! Finding products when a link is registered: by variation id (`catalog/batch-retrieve`), by
//! SKU (`catalog/search`, exact query), by name (`catalog/search-catalog-items` text filter,
//! then every variation whose full name contains the text, ignoring case), each followed by one
//! batched counts read for the quantities (never one call per product). And listing them all
//! (`products`): every variation through `catalog/search` in pages of [`CATALOG_PAGE`], then
//! one full counts read.

use super::SquareConnector;
use super::api::{CATALOG_BATCH_RETRIEVE, CATALOG_SEARCH, CATALOG_SEARCH_ITEMS};
use super::stock::Totals;
use crate::wire::{
    BatchRetrieveObjects, CatalogObject, ExactQuery, ExactQueryWrapper, Items, Objects,
    SearchItems, SearchObjects,
};
use std::collections::HashSet;
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::{PosError, PosRef};

/// Square caps `search-catalog-items` pages at 100; `search` takes the same.
const PAGE: u32 = 100;
/// The largest `search` page Square takes (its limit is advisory: every cursor is followed).
const CATALOG_PAGE: u32 = 1000;

/// The name Square's dashboard gives a variation that has not been named.
const DEFAULT_VARIATION: &str = "Regular";

/// A variation found in the catalog, before its quantity is known.
struct Found {
    id: String,
    name: String,
    sku: Option<String>,
    barcode: Option<String>,
}

impl SquareConnector {
    #[tracing::instrument(skip_all, fields(account = self.api.http.account()), err)]
    pub(super) async fn find(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        let found = match query {
            ProductQuery::Id(pos_ref) => self.by_id(pos_ref.as_str()).await?,
            ProductQuery::Sku(sku) => self.by_sku(self.non_blank(sku, "SKU")?).await?,
            ProductQuery::Name(name) => self.by_name(self.non_blank(name, "name")?).await?,
        };
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = found.iter().map(|f| f.id.clone()).collect();
        let totals = self.totals(&ids).await?;
        Ok(with_quantities(found, &totals))
    }

    /// Every live variation of the catalog: `ceil(N / 1000)` `catalog/search` calls for N
    /// variations, then the full counts read (`ceil(rows / 1000)` calls, a row per counted
    /// variation and location).
    #[tracing::instrument(skip_all, fields(account = self.api.http.account()), err)]
    pub(super) async fn list_products(&self) -> Result<Vec<PosProduct>, PosError> {
        let found = self.search_variations(None, CATALOG_PAGE).await?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let totals = self.all_totals().await?;
        Ok(with_quantities(found, &totals))
    }

    fn non_blank<'a>(&self, text: &'a str, what: &str) -> Result<&'a str, PosError> {
        let text = text.trim();
        if text.is_empty() {
            let what = format!("the {what} to look for is empty");
            return Err(PosError::Rejected(
                self.api.http.describe("find_products", &what),
            ));
        }
        Ok(text)
    }

    async fn by_id(&self, id: &str) -> Result<Vec<Found>, PosError> {
        let body = BatchRetrieveObjects {
            object_ids: &[id],
            include_related_objects: true,
        };
        let page: Objects = self
            .api
            .call(&CATALOG_BATCH_RETRIEVE, Some(&body))
            .await?
            .body;
        Ok(page
            .objects
            .iter()
            .filter(|o| o.id == id)
            .filter_map(|v| describe(v, parent(v, &page.related_objects)))
            .collect())
    }

    async fn by_sku(&self, sku: &str) -> Result<Vec<Found>, PosError> {
        let query = ExactQueryWrapper {
            exact_query: ExactQuery {
                attribute_name: "sku",
                attribute_value: sku,
            },
        };
        self.search_variations(Some(query), PAGE).await
    }

    /// The live variations `query` matches (every one without a query), `limit` a page, every
    /// page followed, each with its item (sent as a related object) for its name.
    async fn search_variations(
        &self,
        query: Option<ExactQueryWrapper<'_>>,
        limit: u32,
    ) -> Result<Vec<Found>, PosError> {
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let body = SearchObjects {
                object_types: ["ITEM_VARIATION"],
                include_related_objects: true,
                query,
                limit,
                cursor: cursor.clone(),
            };
            let page: Objects = self.api.call(&CATALOG_SEARCH, Some(&body)).await?.body;
            found.extend(
                page.objects
                    .iter()
                    .filter_map(|v| describe(v, parent(v, &page.related_objects))),
            );
            cursor = self
                .api
                .next_page(&CATALOG_SEARCH, cursor.as_deref(), page.cursor)?;
            if cursor.is_none() {
                return Ok(found);
            }
        }
    }

    /// Square's text filter matches words; the full-name containment is checked here, so
    /// only variations whose name contains `text` are returned, whatever the filter matched.
    async fn by_name(&self, text: &str) -> Result<Vec<Found>, PosError> {
        let wanted = text.to_lowercase();
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let body = SearchItems {
                text_filter: text,
                limit: PAGE,
                cursor: cursor.clone(),
            };
            let page: Items = self
                .api
                .call(&CATALOG_SEARCH_ITEMS, Some(&body))
                .await?
                .body;
            for item in page.items.iter().filter(|i| i.kind == "ITEM") {
                let variations = item.item_data.iter().flat_map(|d| &d.variations);
                for variation in variations {
                    if let Some(f) = describe(variation, Some(item))
                        && f.name.to_lowercase().contains(&wanted)
                        && seen.insert(f.id.clone())
                    {
                        found.push(f);
                    }
                }
            }
            cursor = self
                .api
                .next_page(&CATALOG_SEARCH_ITEMS, cursor.as_deref(), page.cursor)?;
            if cursor.is_none() {
                return Ok(found);
            }
        }
    }
}

/// The products found, with their totals (0 for a variation never counted).
fn with_quantities(found: Vec<Found>, totals: &Totals) -> Vec<PosProduct> {
    found
        .into_iter()
        .map(|f| PosProduct {
            quantity: totals.get(&f.id).map_or(0, |t| t.quantity.whole_units()),
            pos_ref: PosRef::new(f.id),
            name: f.name,
            sku: f.sku,
            barcode: f.barcode,
        })
        .collect()
}

/// The variation's item, among the related objects Square sent with it.
fn parent<'a>(
    variation: &CatalogObject,
    related: &'a [CatalogObject],
) -> Option<&'a CatalogObject> {
    let item_id = variation.item_variation_data.as_ref()?.item_id.as_deref()?;
    related.iter().find(|o| o.kind == "ITEM" && o.id == item_id)
}

/// A live variation as a product (see the naming rule in [`product_name`]).
fn describe(variation: &CatalogObject, item: Option<&CatalogObject>) -> Option<Found> {
    if variation.kind != "ITEM_VARIATION" || variation.is_deleted {
        return None;
    }
    let data = variation.item_variation_data.as_ref();
    let item_data = item
        .filter(|i| !i.is_deleted)
        .and_then(|i| i.item_data.as_ref());
    let siblings = item_data.map_or(1, |d| d.variations.iter().filter(|v| !v.is_deleted).count());
    let name = product_name(
        item_data.and_then(|d| d.name.as_deref()),
        data.and_then(|d| d.name.as_deref()),
        siblings,
    )
    .unwrap_or_else(|| variation.id.clone());
    let code = |field: Option<&String>| clean(field.map(String::as_str)).map(str::to_owned);
    Some(Found {
        id: variation.id.clone(),
        name,
        sku: code(data.and_then(|d| d.sku.as_ref())),
        barcode: code(data.and_then(|d| d.upc.as_ref())),
    })
}

/// The item's name, plus ` (variation name)` unless the item has a single variation named
/// `Regular`; whichever name exists when the other is missing.
fn product_name(item: Option<&str>, variation: Option<&str>, variations: usize) -> Option<String> {
    match (clean(item), clean(variation)) {
        (Some(item), Some(DEFAULT_VARIATION)) if variations <= 1 => Some(item.to_owned()),
        (Some(item), Some(variation)) => Some(format!("{item} ({variation})")),
        (Some(name), None) | (None, Some(name)) => Some(name.to_owned()),
        (None, None) => None,
    }
}

fn clean(name: Option<&str>) -> Option<&str> {
    name.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_item_and_its_variation() {
        assert_eq!(
            product_name(Some("Mug"), Some("Regular"), 1).unwrap(),
            "Mug"
        );
        assert_eq!(
            product_name(Some("Mug"), Some("Regular"), 2).unwrap(),
            "Mug (Regular)"
        );
        assert_eq!(
            product_name(Some("Tee"), Some("Large"), 1).unwrap(),
            "Tee (Large)"
        );
        assert_eq!(product_name(Some("Tee"), Some(" "), 3).unwrap(), "Tee");
        assert_eq!(product_name(None, Some("Large"), 1).unwrap(), "Large");
        assert_eq!(product_name(None, None, 1), None);
    }
}
