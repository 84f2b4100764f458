//! Product lookups for registration, each with its `ItemShops` so that the quantity comes in the
//! same call: by `itemID` (`Item/{id}.json`), by SKU (`customSku`, then `upc`, `ean`,
//! `systemSku`: the first field that matches wins) and by name (`description` contains); and
//! the listing of every item (`Item.json` without a filter, 100 a page, with its `ItemShops`).
//!
//! A product's SKU is its `customSku`, else its `systemSku` (Lightspeed gives every item one,
//! and prints it on labels; `manufacturerSku` is the maker's, shared by every shop selling it);
//! its barcode its `upc`, else its `ean`.

use super::Shops;
use super::api::{Api, Call};
use crate::wire::{Item, Page};
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::{PosError, PosRef};

/// The SKU fields tried in turn: the shop's own SKU first, then the barcodes, then
/// Lightspeed's system SKU (the barcode it prints on labels).
const SKU_FIELDS: [&str; 4] = ["customSku", "upc", "ean", "systemSku"];
const WITH_STOCK: &str = r#"["ItemShops"]"#;
/// One request, plus `ItemShops` (a to-many relation: 0.2, doubled on lists).
const ITEM_COST: f64 = 1.2;
const ITEMS_COST: f64 = 1.4;

pub async fn find(
    api: &Api,
    shops: Shops,
    query: &ProductQuery,
) -> Result<Vec<PosProduct>, PosError> {
    let items = match query {
        ProductQuery::Id(pos_ref) => by_id(api, pos_ref).await?,
        ProductQuery::Sku(sku) => by_sku(api, non_empty(api, "a SKU", sku)?).await?,
        ProductQuery::Name(name) => {
            let name = non_empty(api, "a name", name)?;
            search(api, Some(("description", format!("~,%{name}%")))).await?
        }
    };
    Ok(items.into_iter().map(|item| product(shops, item)).collect())
}

/// Every (unarchived) item: `ceil(N / 100)` calls for N items, paced like every call.
pub async fn list(api: &Api, shops: Shops) -> Result<Vec<PosProduct>, PosError> {
    let items = search(api, None).await?;
    Ok(items.into_iter().map(|item| product(shops, item)).collect())
}

async fn by_id(api: &Api, pos_ref: &PosRef) -> Result<Vec<Item>, PosError> {
    let id = pos_ref.as_str().trim();
    // An itemID is a number; anything else names no item.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let call = Call::get(
        "GET Item/{id}.json",
        api.url(&format!("Item/{id}.json")),
        vec![("load_relations", WITH_STOCK.to_owned())],
        ITEM_COST,
    );
    match api.get::<Page<Item>>(&call).await {
        Ok(page) => Ok(page.rows),
        Err(PosError::NotFound(_)) => Ok(Vec::new()),
        Err(err) => Err(err),
    }
}

async fn by_sku(api: &Api, sku: &str) -> Result<Vec<Item>, PosError> {
    for field in SKU_FIELDS {
        let items = search(api, Some((field, format!("=,{sku}")))).await?;
        if !items.is_empty() {
            return Ok(items);
        }
    }
    Ok(Vec::new())
}

/// Every item (whose `field` matches the filter, an operator, a comma and a value, when one is
/// given), every page.
async fn search(api: &Api, filter: Option<(&'static str, String)>) -> Result<Vec<Item>, PosError> {
    let mut query = vec![
        ("load_relations", WITH_STOCK.to_owned()),
        ("limit", "100".to_owned()),
    ];
    query.extend(filter);
    api.list(Call::get(
        "GET Item.json",
        api.url("Item.json"),
        query,
        ITEMS_COST,
    ))
    .await
}

fn non_empty<'a>(api: &Api, what: &str, text: &'a str) -> Result<&'a str, PosError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PosError::Rejected(api.describe(
            "find_products",
            &format!("{what} to look for must not be empty"),
        )));
    }
    Ok(text)
}

/// An item as a product: its quantity over the covered shops (a shop without a row has none).
fn product(shops: Shops, item: Item) -> PosProduct {
    let quantity = item
        .item_shops
        .rows
        .iter()
        .filter(|row| shops.covers(row.shop_id))
        .map(|row| row.qoh)
        .sum();
    let first = |codes: [&String; 2]| {
        codes
            .into_iter()
            .map(|code| code.trim())
            .find(|code| !code.is_empty())
            .map(str::to_owned)
    };
    PosProduct {
        sku: first([&item.custom_sku, &item.system_sku]),
        barcode: first([&item.upc, &item.ean]),
        pos_ref: PosRef::new(item.item_id),
        name: item.description,
        quantity,
    }
}
