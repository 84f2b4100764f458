//! The simulator's locations and catalog endpoints: `GET /v2/locations`, `GET
//! /v2/catalog/list` (100 a page), `POST /v2/catalog/search` (exact, prefix and text queries),
//! `POST /v2/catalog/search-catalog-items` (text filter, at most 100 a page), `POST
//! /v2/catalog/batch-retrieve` and `GET /v2/catalog/object/{id}`, with Square's object shapes.

use super::Shared;
use super::routes::{
    Answer, answer, cursor, error, filters, invalid, limit, list_value, position, read_body,
};
use super::state::{Object, State};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Extract};
use axum::http::StatusCode;
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// When the simulated catalog was last edited.
const CATALOG_UPDATED_AT: &str = "2025-01-06T09:00:00.000Z";
/// `catalog/list` pages are fixed at 100 objects.
const LIST_PAGE: usize = 100;

pub async fn locations(Extract(shared): Extract<Arc<Shared>>) -> Answer {
    let state = shared.state();
    let locations: Vec<Value> = state
        .locations
        .iter()
        .map(|l| {
            json!({
                "id": l.id, "name": l.name, "business_name": "Simulated shop",
                "status": if l.active { "ACTIVE" } else { "INACTIVE" },
                "timezone": "Europe/Paris", "currency": "EUR", "country": "FR",
                "capabilities": ["CREDIT_CARD_PROCESSING"], "type": "PHYSICAL",
            })
        })
        .collect();
    Ok(Json(answer([("locations", list_value(locations))], None)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    types: Option<String>,
    cursor: Option<String>,
}

pub async fn list(Extract(shared): Extract<Arc<Shared>>, Query(query): Query<ListQuery>) -> Answer {
    let types: Vec<String> = query
        .types
        .as_deref()
        .unwrap_or("ITEM,ITEM_VARIATION")
        .split(',')
        .map(|t| t.trim().to_ascii_uppercase())
        .collect();
    let filters = json!({ "types": types });
    let offset: usize = match &query.cursor {
        Some(c) => position(c, &filters)?,
        None => 0,
    };
    let state = shared.state();
    let all = objects_of_types(&state, &types);
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(LIST_PAGE)
        .map(|o| object_json(&state, *o))
        .collect();
    let next =
        (offset + LIST_PAGE < all.len()).then(|| cursor(json!(offset + LIST_PAGE), &filters));
    Ok(Json(answer([("objects", list_value(page))], next)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchRequest {
    object_types: Option<Vec<String>>,
    include_related_objects: bool,
    query: Option<SearchQuery>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    exact_query: Option<Attribute>,
    prefix_query: Option<Prefix>,
    text_query: Option<Keywords>,
}

#[derive(Deserialize)]
struct Attribute {
    attribute_name: String,
    attribute_value: String,
}

#[derive(Deserialize)]
struct Prefix {
    attribute_name: String,
    attribute_prefix: String,
}

#[derive(Deserialize)]
struct Keywords {
    keywords: Vec<String>,
}

pub async fn search(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, raw): (SearchRequest, Value) = read_body(&body)?;
    let limit = limit(request.limit, 100, 1000)?;
    let filters = filters(&raw);
    let offset: usize = match &request.cursor {
        Some(c) => position(c, &filters)?,
        None => 0,
    };
    let types = request
        .object_types
        .unwrap_or_else(|| vec!["ITEM".into(), "ITEM_VARIATION".into()]);
    let query = request.query.unwrap_or_default();
    let state = shared.state();
    let matches: Vec<Object> = objects_of_types(&state, &types)
        .into_iter()
        .filter(|o| query_matches(&state, &query, *o))
        .collect();
    let page: Vec<Object> = matches.iter().skip(offset).take(limit).copied().collect();
    let related: Vec<Value> = if request.include_related_objects {
        parents(&state, &page)
    } else {
        Vec::new()
    };
    let next = (offset + limit < matches.len()).then(|| cursor(json!(offset + limit), &filters));
    let mut body = answer(
        [
            (
                "objects",
                list_value(page.iter().map(|o| object_json(&state, *o)).collect()),
            ),
            ("related_objects", list_value(related)),
        ],
        next,
    );
    body["latest_time"] = Utc::now()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
        .into();
    Ok(Json(body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchItemsRequest {
    text_filter: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Every word of the filter (punctuation around it dropped) must appear, ignoring case, in
/// the item's name or one of its variations' names or SKUs.
pub async fn search_items(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, raw): (SearchItemsRequest, Value) = read_body(&body)?;
    let limit = limit(request.limit, 100, 100)?;
    let filters = filters(&raw);
    let offset: usize = match &request.cursor {
        Some(c) => position(c, &filters)?,
        None => 0,
    };
    let words: Vec<String> = request
        .text_filter
        .unwrap_or_default()
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let state = shared.state();
    let has_all = |text: &str| words.iter().all(|w| text.contains(w.as_str()));
    let variation_text = |v: usize| {
        let variation = &state.variations[v];
        format!("{} {}", variation.name, variation.sku).to_lowercase()
    };
    let matching: Vec<usize> = (0..state.items.len())
        .filter(|&i| {
            let item = &state.items[i];
            let mut text = item.name.to_lowercase();
            for &v in &item.variations {
                text.push(' ');
                text.push_str(&variation_text(v));
            }
            has_all(&text)
        })
        .collect();
    let page = &matching[offset.min(matching.len())..(offset + limit).min(matching.len())];
    let matched_variations: Vec<Value> = page
        .iter()
        .flat_map(|&i| state.items[i].variations.iter().map(move |&v| (i, v)))
        .filter(|&(i, v)| {
            has_all(&format!(
                "{} {}",
                state.items[i].name.to_lowercase(),
                variation_text(v)
            ))
        })
        .map(|(_, v)| json!(state.variations[v].id))
        .collect();
    let next = (offset + limit < matching.len()).then(|| cursor(json!(offset + limit), &filters));
    Ok(Json(answer(
        [
            (
                "items",
                list_value(page.iter().map(|&i| item_json(&state, i)).collect()),
            ),
            ("matched_variation_ids", list_value(matched_variations)),
        ],
        next,
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BatchRetrieveRequest {
    object_ids: Vec<String>,
    include_related_objects: bool,
}

pub async fn batch_retrieve(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, _): (BatchRetrieveRequest, Value) = read_body(&body)?;
    if request.object_ids.is_empty() || request.object_ids.len() > 1000 {
        return Err(invalid(
            "INVALID_VALUE",
            "object_ids must hold 1 to 1000 ids.",
            Some("object_ids"),
        ));
    }
    let state = shared.state();
    let found: Vec<Object> = request
        .object_ids
        .iter()
        .filter_map(|id| state.objects.get(id).copied())
        .collect();
    let related = if request.include_related_objects {
        parents(&state, &found)
    } else {
        Vec::new()
    };
    Ok(Json(answer(
        [
            (
                "objects",
                list_value(found.iter().map(|o| object_json(&state, *o)).collect()),
            ),
            ("related_objects", list_value(related)),
        ],
        None,
    )))
}

#[derive(Deserialize)]
pub struct ObjectQuery {
    include_related_objects: Option<bool>,
}

pub async fn object(
    Extract(shared): Extract<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<ObjectQuery>,
) -> Answer {
    let state = shared.state();
    let Some(found) = state.objects.get(&id).copied() else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "INVALID_REQUEST_ERROR",
            "NOT_FOUND",
            &format!("Object with ID `{id}` not found."),
            None,
        ));
    };
    let related = if query.include_related_objects.unwrap_or(false) {
        parents(&state, &[found])
    } else {
        Vec::new()
    };
    let mut body = answer([("related_objects", list_value(related))], None);
    body["object"] = object_json(&state, found);
    Ok(Json(body))
}

/// Items (with their variations nested) and variations, in catalog order, of the given types.
fn objects_of_types(state: &State, types: &[String]) -> Vec<Object> {
    let items = types.iter().any(|t| t == "ITEM");
    let variations = types.iter().any(|t| t == "ITEM_VARIATION");
    let mut objects = Vec::new();
    for (i, item) in state.items.iter().enumerate() {
        if items {
            objects.push(Object::Item(i));
        }
        if variations {
            objects.extend(item.variations.iter().map(|&v| Object::Variation(v)));
        }
    }
    objects
}

fn query_matches(state: &State, query: &SearchQuery, object: Object) -> bool {
    let (name, codes) = match object {
        Object::Item(i) => (state.items[i].name.as_str(), None),
        Object::Variation(v) => {
            let variation = &state.variations[v];
            (
                variation.name.as_str(),
                Some((variation.sku.as_str(), variation.upc.as_str())),
            )
        }
    };
    let sku = codes.map(|(sku, _)| sku);
    let attribute = |attribute: &str| match attribute {
        "name" => Some(name),
        "sku" => sku,
        "upc" => codes.map(|(_, upc)| upc),
        _ => None,
    };
    if let Some(exact) = &query.exact_query {
        return attribute(&exact.attribute_name)
            .is_some_and(|v| v.eq_ignore_ascii_case(&exact.attribute_value));
    }
    if let Some(prefix) = &query.prefix_query {
        let wanted = prefix.attribute_prefix.to_lowercase();
        return attribute(&prefix.attribute_name)
            .is_some_and(|v| v.to_lowercase().starts_with(&wanted));
    }
    if let Some(text) = &query.text_query {
        let words: Vec<String> = format!("{name} {}", sku.unwrap_or(""))
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        return text
            .keywords
            .iter()
            .map(|k| k.to_lowercase())
            .filter(|k| k.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
            .all(|k| words.iter().any(|w| w.starts_with(&k)));
    }
    true
}

/// The items of the variations among `objects`, once each.
fn parents(state: &State, objects: &[Object]) -> Vec<Value> {
    let mut seen = HashSet::new();
    objects
        .iter()
        .filter_map(|o| match o {
            Object::Variation(v) => Some(state.variations[*v].item),
            Object::Item(_) => None,
        })
        .filter(|i| seen.insert(*i))
        .map(|i| item_json(state, i))
        .collect()
}

fn object_json(state: &State, object: Object) -> Value {
    match object {
        Object::Item(i) => item_json(state, i),
        Object::Variation(v) => variation_json(state, v),
    }
}

fn item_json(state: &State, index: usize) -> Value {
    let item = &state.items[index];
    json!({
        "type": "ITEM", "id": item.id, "updated_at": CATALOG_UPDATED_AT, "version": 1,
        "is_deleted": false, "present_at_all_locations": true,
        "item_data": {
            "name": item.name, "is_taxable": true, "product_type": "REGULAR",
            "variations": item.variations.iter().map(|&v| variation_json(state, v)).collect::<Vec<_>>(),
        },
    })
}

fn variation_json(state: &State, index: usize) -> Value {
    let variation = &state.variations[index];
    let item = &state.items[variation.item];
    let ordinal = item
        .variations
        .iter()
        .position(|&v| v == index)
        .unwrap_or(0);
    let mut data = json!({
        "item_id": item.id, "name": variation.name,
        "ordinal": ordinal, "pricing_type": "FIXED_PRICING",
        "price_money": { "amount": variation.price, "currency": "EUR" },
        "track_inventory": true, "sellable": true, "stockable": true,
    });
    for (field, code) in [("sku", &variation.sku), ("upc", &variation.upc)] {
        if !code.is_empty() {
            data[field] = json!(code);
        }
    }
    json!({
        "type": "ITEM_VARIATION", "id": variation.id, "updated_at": CATALOG_UPDATED_AT,
        "version": 1, "is_deleted": false, "present_at_all_locations": true,
        "item_variation_data": data,
    })
}
