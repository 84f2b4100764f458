//! Variants and their stock (shop-apis.md §2.3–2.6): every variant (pages of
//! [`VARIANT_PAGE`]), variants by id (`nodes(ids:)`, 250 a call), by SKU (the `sku:` search,
//! kept to exact matches), each with the `available` quantity at the client's location; and
//! `inventorySetQuantities` on `available`, [`WRITE_LIMIT`] quantities a call, with
//! `changeFromQuantity` (compare-and-set on what stocksync expects) and `@idempotent(key:)`.
//! A tracked variant not stocked at the location is reported as untracked, unless the client
//! activates such items (`with_activation`): then it reads as 0 and its first write is an
//! `inventoryActivate` with the quantity.

use super::ShopifyClient;
use crate::wire::{
    ActivateData, LocationData, NodesData, SetData, UserError, Variant, VariantsData, gid,
    numeric_id,
};
use serde_json::{Value, json};
use stocksync_domain::EcommerceId;
use stocksync_domain::ShopError;
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopItem, WriteOutcome};

/// Variants per page, and ids per `nodes` call: Shopify's maximum.
pub const VARIANT_PAGE: usize = 250;
/// Quantities per `inventorySetQuantities`: Shopify's maximum input array.
pub const WRITE_LIMIT: usize = 250;
/// SKUs per search (`sku:"A" OR sku:"B" …`), to keep the search string short.
const SKUS_PER_SEARCH: usize = 50;
/// A write round that leaves items unanswered is sent again at most this many times.
const MAX_ROUNDS: usize = 3;

const VARIANT_FIELDS: &str = "fragment V on ProductVariant { id sku barcode displayName \
    inventoryItem { id tracked inventoryLevel(locationId: $location) { \
    quantities(names: [\"available\"]) { name quantity } } } }";

const VARIANTS: &str = "query Variants($first: Int!, $after: String, $query: String, $location: ID!) { \
    productVariants(first: $first, after: $after, query: $query) { \
    pageInfo { hasNextPage endCursor } nodes { ...V } } }";

const NODES: &str = "query Nodes($ids: [ID!]!, $location: ID!) { nodes(ids: $ids) { ...V } }";

const PRIMARY_LOCATION: &str = "query Primary { location { id } }";

const SET: &str = "mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) { \
    inventorySetQuantities(input: $input) @idempotent(key: $key) { \
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } } \
    userErrors { code field message } } }";

const ACTIVATE: &str = "mutation Activate($inventoryItemId: ID!, $locationId: ID!, $available: Int, $key: String!) { \
    inventoryActivate(inventoryItemId: $inventoryItemId, locationId: $locationId, available: $available) @idempotent(key: $key) { \
    inventoryLevel { id } userErrors { code field message } } }";

/// The user error of a write to an item that is not stocked at the location.
const NOT_STOCKED: &str = "ITEM_NOT_STOCKED_AT_LOCATION";

fn with_fields(query: &str) -> String {
    format!("{query} {VARIANT_FIELDS}")
}

impl ShopifyClient {
    /// The location stock is read and written at: configured, or the shop's primary one.
    pub(super) async fn location(&self) -> Result<&str, ShopError> {
        let id = self
            .location
            .get_or_try_init(|| async {
                let data: LocationData = self
                    .graphql("location", PRIMARY_LOCATION, json!({}))
                    .await?;
                data.location.map(|node| node.id).ok_or_else(|| {
                    ShopError::Rejected(
                        self.http
                            .describe("location", "the shop has no primary location"),
                    )
                })
            })
            .await?;
        Ok(id)
    }

    /// Every variant whose search matches `query` (all when `None`), following every page.
    pub(super) async fn variants(&self, query: Option<String>) -> Result<Vec<ShopItem>, ShopError> {
        let location = self.location().await?.to_owned();
        let text = with_fields(VARIANTS);
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let variables = json!({
                "first": VARIANT_PAGE, "after": after, "query": query, "location": location,
            });
            let data: VariantsData = self.graphql("productVariants", &text, variables).await?;
            let connection = data.product_variants;
            items.extend(
                connection
                    .nodes
                    .into_iter()
                    .filter_map(|variant| shop_item(variant, self.activate)),
            );
            match connection.page_info {
                Some(page) if page.has_next_page && page.end_cursor.is_some() => {
                    after = page.end_cursor;
                }
                _ => return Ok(items),
            }
        }
    }

    /// These variants (by their numeric id), 250 a call; unknown ones are absent.
    pub(super) async fn variants_by_id(
        &self,
        items: &[ItemRef],
    ) -> Result<Vec<ShopItem>, ShopError> {
        let location = self.location().await?.to_owned();
        let text = with_fields(NODES);
        let ids: Vec<String> = items
            .iter()
            .filter(|item| item.id.as_str().bytes().all(|b| b.is_ascii_digit()))
            .map(|item| gid("ProductVariant", item.id.as_str()))
            .collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(VARIANT_PAGE) {
            let data: NodesData = self
                .graphql(
                    "nodes",
                    &text,
                    json!({ "ids": chunk, "location": location }),
                )
                .await?;
            found.extend(
                data.nodes
                    .into_iter()
                    .flatten()
                    .filter_map(|variant| shop_item(variant, self.activate)),
            );
        }
        Ok(found)
    }

    /// The variants whose SKU is exactly one of `skus`.
    pub(super) async fn variants_by_sku(
        &self,
        skus: &[String],
    ) -> Result<Vec<ShopItem>, ShopError> {
        let wanted: Vec<&String> = skus.iter().filter(|sku| !sku.trim().is_empty()).collect();
        let mut found = Vec::new();
        for chunk in wanted.chunks(SKUS_PER_SEARCH) {
            let search = chunk
                .iter()
                .map(|sku| format!("sku:\"{}\"", sku.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(" OR ");
            let items = self.variants(Some(search)).await?;
            found.extend(
                items
                    .into_iter()
                    .filter(|item| item.sku.as_ref().is_some_and(|sku| chunk.contains(&sku))),
            );
        }
        Ok(found)
    }

    /// Sets `available` at the location, one outcome per write in order.
    pub(super) async fn set_available(&self, writes: &[LevelWrite]) -> Vec<WriteOutcome> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; writes.len()];
        let location = match self.location().await {
            Ok(location) => location.to_owned(),
            Err(err) => return vec![WriteOutcome::Failed(err); writes.len()],
        };
        // A write without its inventory item is looked up first.
        let unlocated: Vec<ItemRef> = writes
            .iter()
            .filter(|write| write.item.locator.is_none())
            .map(|write| write.item.clone())
            .collect();
        let mut looked_up = std::collections::HashMap::new();
        if !unlocated.is_empty() {
            match self.variants_by_id(&unlocated).await {
                Ok(items) => looked_up.extend(
                    items
                        .into_iter()
                        .map(|item| (item.item.id.clone(), item.item.locator)),
                ),
                Err(err) => {
                    for (i, write) in writes.iter().enumerate() {
                        if write.item.locator.is_none() {
                            outcomes[i] = Some(WriteOutcome::Failed(err.clone()));
                        }
                    }
                }
            }
        }
        let mut pending: Vec<(usize, String)> = Vec::new();
        for (i, write) in writes.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let item = write
                .item
                .locator
                .clone()
                .or_else(|| looked_up.get(&write.item.id).cloned().flatten());
            match item {
                Some(item) => pending.push((i, item)),
                None => {
                    outcomes[i] = Some(WriteOutcome::Refused(format!(
                        "variant {} is not on the shop",
                        write.item.id.as_str()
                    )))
                }
            }
        }
        for chunk in pending.chunks(WRITE_LIMIT) {
            self.set_chunk(writes, chunk, &location, &mut outcomes)
                .await;
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every write answered"))
            .collect()
    }

    /// One chunk: sent, and sent again without the writes Shopify refused (it applies a call
    /// all or nothing), until every write has its outcome.
    async fn set_chunk(
        &self,
        writes: &[LevelWrite],
        chunk: &[(usize, String)],
        location: &str,
        outcomes: &mut [Option<WriteOutcome>],
    ) {
        let mut round: Vec<&(usize, String)> = chunk.iter().collect();
        for _ in 0..MAX_ROUNDS {
            if round.is_empty() {
                return;
            }
            let quantities: Vec<Value> = round
                .iter()
                .map(|(i, item)| {
                    json!({
                        "inventoryItemId": item,
                        "locationId": location,
                        "quantity": writes[*i].quantity,
                        "changeFromQuantity": writes[*i].expected,
                    })
                })
                .collect();
            let variables = json!({
                "key": uuid::Uuid::new_v4().to_string(),
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "referenceDocumentUri": "gid://stocksync/Sync/stock",
                    "quantities": quantities,
                },
            });
            let errors = match self
                .graphql::<SetData>("inventorySetQuantities", SET, variables)
                .await
            {
                Ok(data) => data
                    .inventory_set_quantities
                    .map(|payload| payload.user_errors)
                    .unwrap_or_default(),
                Err(err) => {
                    for (i, _) in &round {
                        outcomes[*i] = Some(WriteOutcome::Failed(err.clone()));
                    }
                    return;
                }
            };
            if errors.is_empty() {
                for (i, _) in &round {
                    outcomes[*i] = Some(WriteOutcome::Written {
                        quantity: writes[*i].quantity,
                    });
                }
                return;
            }
            let (refused, general) = sort_errors(&errors, round.len());
            if refused.is_empty() {
                let what = describe(&general);
                for (i, _) in &round {
                    outcomes[*i] = Some(WriteOutcome::Refused(what.clone()));
                }
                return;
            }
            let stale: Vec<usize> = refused
                .iter()
                .filter(|(_, error)| error.code.as_deref() == Some("CHANGE_FROM_QUANTITY_STALE"))
                .map(|(at, _)| round[*at].0)
                .collect();
            let actual = self.actual_levels(writes, &stale).await;
            for (at, error) in &refused {
                let &(i, ref item) = round[*at];
                outcomes[i] = Some(match actual.get(&i) {
                    Some(Ok(Some(quantity))) => WriteOutcome::Changed { actual: *quantity },
                    Some(Ok(None)) => WriteOutcome::Unmanaged,
                    Some(Err(err)) => WriteOutcome::Failed(err.clone()),
                    None if error.code.as_deref() == Some(NOT_STOCKED) && self.activate => {
                        self.activate_at(item, location, writes[i].quantity).await
                    }
                    None if error.code.as_deref() == Some(NOT_STOCKED) => WriteOutcome::Unmanaged,
                    None => WriteOutcome::Refused(describe(&[error])),
                });
            }
            round.retain(|(i, _)| outcomes[*i].is_none());
        }
        for (i, _) in round {
            outcomes[*i] = Some(WriteOutcome::Failed(ShopError::Unavailable(
                self.http.describe(
                    "inventorySetQuantities",
                    "still refused after several rounds",
                ),
            )));
        }
    }

    /// Stocks `item` (an inventory item) at `location` with `quantity` available: the write
    /// of an item the merchant tracks but has not stocked there, when the client activates.
    async fn activate_at(&self, item: &str, location: &str, quantity: i64) -> WriteOutcome {
        let variables = json!({
            "inventoryItemId": item,
            "locationId": location,
            "available": quantity,
            "key": uuid::Uuid::new_v4().to_string(),
        });
        match self
            .graphql::<ActivateData>("inventoryActivate", ACTIVATE, variables)
            .await
        {
            Ok(data) => {
                let errors = data
                    .inventory_activate
                    .map(|payload| payload.user_errors)
                    .unwrap_or_default();
                if errors.is_empty() {
                    WriteOutcome::Written { quantity }
                } else {
                    WriteOutcome::Refused(describe(&errors.iter().collect::<Vec<_>>()))
                }
            }
            Err(err) => WriteOutcome::Failed(err),
        }
    }

    /// The level now of the writes at `indexes` (for a stale compare-and-set).
    async fn actual_levels(
        &self,
        writes: &[LevelWrite],
        indexes: &[usize],
    ) -> std::collections::HashMap<usize, Result<Option<i64>, ShopError>> {
        if indexes.is_empty() {
            return Default::default();
        }
        let refs: Vec<ItemRef> = indexes.iter().map(|&i| writes[i].item.clone()).collect();
        match self.variants_by_id(&refs).await {
            Ok(items) => indexes
                .iter()
                .map(|&i| {
                    let quantity = items
                        .iter()
                        .find(|item| item.item.id == writes[i].item.id)
                        .and_then(|item| item.quantity);
                    (i, Ok(quantity))
                })
                .collect(),
            Err(err) => indexes.iter().map(|&i| (i, Err(err.clone()))).collect(),
        }
    }
}

/// User errors split into those naming one of `count` quantities (with its index) and the rest.
fn sort_errors(errors: &[UserError], count: usize) -> (Vec<(usize, &UserError)>, Vec<&UserError>) {
    let mut refused = Vec::new();
    let mut general = Vec::new();
    for error in errors {
        match error.quantity_index().filter(|&at| at < count) {
            Some(at) if !refused.iter().any(|(seen, _)| *seen == at) => refused.push((at, error)),
            Some(_) => {}
            None => general.push(error),
        }
    }
    (refused, general)
}

fn describe(errors: &[&UserError]) -> String {
    errors
        .iter()
        .map(|error| format!("{} {}", error.code.as_deref().unwrap_or(""), error.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A variant as a shop item: its numeric id, its inventory item as the locator, and its
/// `available` quantity when the item is tracked and stocked at the location (0 when tracked
/// but not stocked there, if the client `activate`s such items).
fn shop_item(variant: Variant, activate: bool) -> Option<ShopItem> {
    let id = numeric_id(&variant.id)?.to_owned();
    let item = variant.inventory_item;
    let quantity = match item.inventory_level {
        _ if !item.tracked => None,
        None => activate.then_some(0),
        Some(level) => level
            .quantities
            .into_iter()
            .find(|quantity| quantity.name == "available")
            .map(|quantity| quantity.quantity),
    };
    Some(ShopItem {
        item: ItemRef {
            id: EcommerceId::new(id),
            locator: Some(item.id),
        },
        name: variant.display_name,
        sku: variant.sku.filter(|sku| !sku.is_empty()),
        barcode: variant.barcode.filter(|barcode| !barcode.is_empty()),
        quantity,
    })
}
