//! The simulator's HTTP API under `/wp-json/wc/v3`: the gate every call passes first (counted
//! per route and in flight, authentication, injected faults), products and variations (lists
//! with `include` and `sku` filters, one, batches), orders (lists with `status` and
//! `modified_after` filters, one, refunds), and WooCommerce's answer shapes (paging headers,
//! error JSON).

use super::model::{Kind, Refusal};
use super::orders::{order_json, refund_json};
use super::{RetryAfter, Shared, auth};
use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

/// Items per batch call (the default of `woocommerce_rest_batch_items_limit`).
pub const BATCH_LIMIT: usize = 100;

type Sim = State<Arc<Shared>>;
type Query = axum::extract::Query<HashMap<String, String>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/wp-json/wc/v3/products", get(products))
        .route("/wp-json/wc/v3/products/batch", post(products_batch))
        .route("/wp-json/wc/v3/products/{id}", get(product))
        .route("/wp-json/wc/v3/products/{id}/variations", get(variations))
        .route(
            "/wp-json/wc/v3/products/{id}/variations/batch",
            post(variations_batch),
        )
        .route("/wp-json/wc/v3/orders", get(orders))
        .route("/wp-json/wc/v3/orders/{id}", get(order))
        .route("/wp-json/wc/v3/orders/{id}/refunds", get(refunds))
        .route_layer(from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self.json())).into_response()
    }
}

/// Counts a request in flight for as long as it lives (a dropped connection included).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(sim: &'a Shared) -> Self {
        let now = sim.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        sim.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(sim)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts the request, lets it in or refuses it (auth), then lets the fault plan decide.
async fn gate(State(sim): Sim, request: Request, next: Next) -> Response {
    sim.requests.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::enter(&sim);
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        let route = route.as_str().trim_start_matches("/wp-json/wc/v3");
        *sim.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(format!("{} {route}", request.method()))
            .or_insert(0) += 1;
    }
    let uri = request.uri().clone();
    let query: Vec<(String, String)> = reqwest::Url::parse(&format!(
        "http://query.invalid/?{}",
        uri.query().unwrap_or_default()
    ))
    .map(|url| php_query(url.query_pairs().into_owned()))
    .unwrap_or_default();
    let checked = auth::check(
        &sim.keys,
        &auth::Request {
            method: request.method().as_str(),
            url: format!("{}{}", sim.home(), uri.path()),
            query,
            authorization: request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok()),
        },
        &mut sim
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        chrono::Utc::now().timestamp(),
    );
    if let Err(refusal) = checked {
        return refusal.into_response();
    }
    let (fault, latency) = sim.faults.decide();
    tokio::time::sleep(latency).await;
    match fault {
        Fault::None => next.run(request).await,
        Fault::RateLimited => rate_limited(&sim),
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><p>There has been a critical error on this website.</p></body></html>",
        )
            .into_response(),
        Fault::Drop => drop_connection(),
        Fault::LoseAnswer => {
            next.run(request).await;
            drop_connection()
        }
        Fault::Foreign(status) => foreign_answer(status),
    }
}

/// A host's 429, with the `Retry-After` the test asked for.
fn rate_limited(sim: &Shared) -> Response {
    let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
    let asked = *sim
        .retry_after
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let value = match asked {
        None => return response,
        Some(RetryAfter::Seconds(seconds)) => seconds.to_string(),
        Some(RetryAfter::Date(after)) => (chrono::Utc::now()
            + chrono::Duration::from_std(after).unwrap_or_default())
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Query pairs as PHP reads them into `$_GET`: a key given twice keeps its last value, in the
/// place of its first.
fn php_query(pairs: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs {
        match kept.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => kept.push((key, value)),
        }
    }
    kept
}

/// One page of `rows` as WooCommerce answers lists: `per_page` (default 10, at most 100),
/// `page`, and the `X-WP-Total`, `X-WP-TotalPages` and `Link` headers.
fn page(sim: &Shared, path: &str, rows: Vec<Value>, query: &HashMap<String, String>) -> Response {
    let number = |name: &str, default: usize| -> Result<usize, Refusal> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=if name == "per_page" { 100 } else { usize::MAX }).contains(n))
                .ok_or_else(|| {
                    Refusal::new(
                        400,
                        "rest_invalid_param",
                        format!("Invalid parameter(s): {name}"),
                    )
                }),
        }
    };
    let (per_page, page) = match (number("per_page", 10), number("page", 1)) {
        (Ok(per_page), Ok(page)) => (per_page, page),
        (Err(refusal), _) | (_, Err(refusal)) => return refusal.into_response(),
    };
    let total = rows.len();
    let pages = total.div_ceil(per_page);
    let rows: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = Json(rows).into_response();
    let headers = response.headers_mut();
    headers.insert("X-WP-Total", HeaderValue::from(total));
    headers.insert("X-WP-TotalPages", HeaderValue::from(pages));
    if page < pages {
        let next = format!(
            "<{}{path}?per_page={per_page}&page={}>; rel=\"next\"",
            sim.home(),
            page + 1
        );
        if let Ok(value) = HeaderValue::from_str(&next) {
            headers.insert(header::LINK, value);
        }
    }
    response
}

/// `modified_after`, when given: rows modified strictly after it (GMT).
fn modified_after(query: &HashMap<String, String>) -> Result<Option<i64>, Refusal> {
    query
        .get("modified_after")
        .map(|text| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .map(|at| at.and_utc().timestamp())
                .map_err(|_| {
                    Refusal::new(
                        400,
                        "rest_invalid_param",
                        "Invalid parameter(s): modified_after",
                    )
                })
        })
        .transpose()
}

/// `include`, when given: a comma-separated list of ids to keep (400 when one is not an id).
fn include(query: &HashMap<String, String>) -> Result<Option<Vec<i64>>, Refusal> {
    query
        .get("include")
        .map(|list| {
            list.split(',')
                .filter(|id| !id.trim().is_empty())
                .map(|id| id.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    Refusal::new(400, "rest_invalid_param", "Invalid parameter(s): include")
                })
        })
        .transpose()
}

async fn products(State(sim): Sim, axum::extract::Query(query): Query) -> Response {
    let include = match include(&query) {
        Ok(include) => include,
        Err(refusal) => return refusal.into_response(),
    };
    let skus: Option<Vec<&str>> = query
        .get("sku")
        .map(|list| list.split(',').map(str::trim).collect());
    let shop = sim.shop();
    let rows: Vec<Value> = shop
        .items
        .values()
        .filter(|item| match &skus {
            // The SKU filter covers variations too; plain lists never show them.
            Some(skus) => !item.sku.is_empty() && skus.contains(&item.sku.as_str()),
            None => item.kind != Kind::Variation,
        })
        .filter(|item| include.as_ref().is_none_or(|ids| ids.contains(&item.id)))
        .map(|item| shop.product_json(item))
        .collect();
    drop(shop);
    page(&sim, "/wp-json/wc/v3/products", rows, &query)
}

async fn product(State(sim): Sim, Path(id): Path<i64>) -> Response {
    let shop = sim.shop();
    match shop
        .items
        .get(&id)
        .filter(|item| item.kind != Kind::Variation)
    {
        Some(item) => Json(shop.product_json(item)).into_response(),
        None => {
            Refusal::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.").into_response()
        }
    }
}

async fn variations(
    State(sim): Sim,
    Path(id): Path<i64>,
    axum::extract::Query(query): Query,
) -> Response {
    let include = match include(&query) {
        Ok(include) => include,
        Err(refusal) => return refusal.into_response(),
    };
    let shop = sim.shop();
    let rows: Vec<Value> = shop
        .items
        .values()
        .filter(|item| item.kind == Kind::Variation && item.parent_id == id)
        .filter(|item| include.as_ref().is_none_or(|ids| ids.contains(&item.id)))
        .map(|item| shop.product_json(item))
        .collect();
    drop(shop);
    page(
        &sim,
        &format!("/wp-json/wc/v3/products/{id}/variations"),
        rows,
        &query,
    )
}

async fn products_batch(State(sim): Sim, Json(body): Json<Value>) -> Response {
    batch(&sim, None, &body)
}

async fn variations_batch(
    State(sim): Sim,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Response {
    batch(&sim, Some(id), &body)
}

/// `{"create", "update", "delete"}`: at most [`BATCH_LIMIT`] entries over the three (413 and
/// nothing applied above it); each update applied on its own, its error in its place.
/// Creating and deleting are not simulated (refused per item).
fn batch(sim: &Shared, parent: Option<i64>, body: &Value) -> Response {
    let list = |name: &str| {
        body.get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (create, update, delete) = (list("create"), list("update"), list("delete"));
    if create.len() + update.len() + delete.len() > BATCH_LIMIT {
        return Refusal::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        )
        .into_response();
    }
    let mut shop = sim.shop();
    let updated: Vec<Value> = update
        .iter()
        .map(|entry| {
            let id = entry.get("id").and_then(Value::as_i64).unwrap_or(0);
            shop.update_stock(id, parent, entry)
                .unwrap_or_else(|refusal| json!({"id": id, "error": refusal.json()}))
        })
        .collect();
    let unsupported = |entries: &[Value]| -> Vec<Value> {
        entries
            .iter()
            .map(|_| json!({"id": 0, "error": Refusal::new(400, "woocommerce_rest_not_simulated", "Not simulated.").json()}))
            .collect()
    };
    Json(json!({
        "create": unsupported(&create),
        "update": updated,
        "delete": unsupported(&delete),
    }))
    .into_response()
}

async fn orders(State(sim): Sim, axum::extract::Query(query): Query) -> Response {
    let after = match modified_after(&query) {
        Ok(after) => after,
        Err(refusal) => return refusal.into_response(),
    };
    // `status`: a comma-separated list; `any` (the default) is every status but `trash`.
    let statuses: Option<Vec<&str>> = query
        .get("status")
        .map(|list| list.split(',').map(str::trim).collect())
        .filter(|list: &Vec<&str>| !list.contains(&"any"));
    let rows: Vec<Value> = sim
        .shop()
        .orders
        .values()
        .filter(|order| after.is_none_or(|after| order.modified.timestamp() > after))
        .filter(|order| match &statuses {
            Some(statuses) => statuses.contains(&order.status.as_str()),
            None => order.status != "trash",
        })
        .map(order_json)
        .collect();
    page(&sim, "/wp-json/wc/v3/orders", rows, &query)
}

async fn order(State(sim): Sim, Path(id): Path<i64>) -> Response {
    match sim.shop().orders.get(&id) {
        Some(order) => Json(order_json(order)).into_response(),
        None => Refusal::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            .into_response(),
    }
}

async fn refunds(
    State(sim): Sim,
    Path(id): Path<i64>,
    axum::extract::Query(query): Query,
) -> Response {
    let rows = match sim.shop().orders.get(&id) {
        Some(order) => order
            .refunds
            .iter()
            .rev()
            .map(|refund| refund_json(order, refund))
            .collect(),
        None => {
            return Refusal::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                .into_response();
        }
    };
    page(
        &sim,
        &format!("/wp-json/wc/v3/orders/{id}/refunds"),
        rows,
        &query,
    )
}
