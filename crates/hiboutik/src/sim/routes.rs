//! The simulator's HTTP API: every endpoint of pos-apis.md §5.1 under `/api` (each with and
//! without a trailing `/`; handlers in `reads.rs` and `writes.rs`), the gate every `/api` call
//! passes first (count, Basic auth, monthly quota, concurrency cap, injected faults),
//! `POST /_sim/sale`, the till (no auth), and the shapes of Hiboutik's answers (pages, errors).

use super::json::error;
use super::model::Refusal;
use super::{Shared, reads, writes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

/// Rows per page of paged lists.
const PAGE_SIZE: usize = 250;

/// What every handler is given.
pub(super) type Sim = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let api: Vec<(&str, MethodRouter<Arc<Shared>>)> = vec![
        ("/api/products", get(reads::products)),
        ("/api/products/{id}", get(reads::product)),
        (
            "/api/products/search/barcode/{code}",
            get(reads::search_barcode),
        ),
        ("/api/products/search/name/{name}", get(reads::search_name)),
        ("/api/stores", get(reads::stores)),
        ("/api/warehouses", get(reads::warehouses)),
        (
            "/api/stock_available/warehouse_id/{id}",
            get(reads::stock_of_warehouse),
        ),
        (
            "/api/stock_available/all_wh",
            get(reads::stock_of_all_warehouses),
        ),
        (
            "/api/stock_available/product_id/{id}",
            get(reads::stock_of_product),
        ),
        (
            "/api/stock_available/product_id_size/{id}/{size}",
            get(reads::stock_of_item),
        ),
        (
            "/api/closed_sales/{store}/{year}/{month}/{day}",
            get(reads::closed_sales),
        ),
        (
            "/api/products_sold/{store}/{year}/{month}/{day}",
            get(reads::products_sold),
        ),
        ("/api/open_sales/{store}", get(reads::open_sales)),
        ("/api/sales", post(writes::create_sale)),
        ("/api/sales/{id}", get(reads::sale)),
        (
            "/api/sales/search/ext_ref/{ext_ref}",
            get(reads::search_ext_ref),
        ),
        ("/api/sales/add_product", post(writes::add_product)),
        ("/api/sales/close", post(writes::close_sale)),
        ("/api/sale/{id}", put(writes::update_sale)),
    ];
    let mut router = Router::new();
    for (path, handler) in api {
        router = router
            .route(path, handler.clone())
            .route(&format!("{path}/"), handler);
    }
    router
        .route_layer(from_fn_with_state(shared.clone(), gate))
        .route("/_sim/sale", post(writes::till))
        .with_state(shared)
}

/// Counts the request, then refuses it (credentials, quota, concurrency) or lets the fault plan
/// decide its fate.
async fn gate(State(sim): Sim, request: Request, next: Next) -> Response {
    sim.requests.fetch_add(1, Ordering::SeqCst);
    let authorization = request.headers().get(header::AUTHORIZATION);
    if authorization.is_none_or(|value| value.as_bytes() != sim.authorization.as_bytes()) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            3,
            "Wrong API login or key, or API access not enabled",
        );
    }
    if sim
        .quota
        .is_some_and(|quota| sim.counted.fetch_add(1, Ordering::SeqCst) >= quota)
    {
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            10,
            "The monthly quota of API calls is reached: no more calls until the end of the month",
        );
    }
    let in_flight = sim.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _slot = Slot(&sim.in_flight);
    sim.peak_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    if in_flight > sim.max_concurrent {
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            11,
            "Too many concurrent calls",
        );
    }
    let (fault, latency) = sim.faults.decide();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => next.run(request).await,
        Fault::Drop => drop_connection(),
        Fault::RateLimited => refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            10,
            "The monthly quota of API calls is reached",
        ),
        Fault::ServerError => refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            1,
            "Internal error",
        ),
        Fault::LoseAnswer => {
            let _carried_out = next.run(request).await;
            drop_connection()
        }
        Fault::Foreign(status) => foreign_answer(status),
    }
}

/// One call in flight, until dropped (also when its connection is dropped on purpose).
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

// ---- answers ---------------------------------------------------------------------------------

/// A page of a list of `total` rows, with Hiboutik's `Link` and `Content-Range` headers; `[]`
/// past the end.
pub(super) fn paged(
    headers: &HeaderMap,
    uri: &Uri,
    page: Option<usize>,
    total: usize,
    rows: impl FnOnce(Range<usize>) -> Vec<Value>,
) -> Response {
    let page = page.unwrap_or(1).max(1);
    let first = (page - 1) * PAGE_SIZE;
    if first >= total {
        return Json(json!([])).into_response();
    }
    let end = (first + PAGE_SIZE).min(total);
    let last = total.div_ceil(PAGE_SIZE);
    let host = (headers.get(header::HOST))
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let link = |p: usize, rel: &str| format!("<http://{host}{}?p={p}>; rel=\"{rel}\"", uri.path());
    let mut links = vec![link(1, "start")];
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    links.push(link(page, "current"));
    if page < last {
        links.push(link(page + 1, "next"));
    }
    links.push(link(last, "last"));
    let mut response = Json(rows(first..end)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::LINK, links.join(", ")),
        (
            header::CONTENT_RANGE,
            format!("{first}-{}/{total}", end - 1),
        ),
    ] {
        headers.insert(
            name,
            HeaderValue::from_str(&value).expect("a plain header value"),
        );
    }
    response
}

/// An unknown id: `[]`, or a 404 when the simulator is set so.
pub(super) fn missing(sim: &Shared, what: &str) -> Response {
    if sim.unknown_id_404 {
        refusal(StatusCode::NOT_FOUND, "not_found", 4, what)
    } else {
        Json(json!([])).into_response()
    }
}

pub(super) fn refusal(status: StatusCode, slug: &str, code: i64, description: &str) -> Response {
    (status, Json(error(slug, code, description, json!({})))).into_response()
}

pub(super) fn invalid(field: &'static str, message: &str) -> Refusal {
    Refusal {
        field,
        message: message.to_owned(),
    }
}

/// Hiboutik's 422, naming the field at fault in `details`.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let details = json!({ self.field: self.message });
        let body = error("invalid_request", 12, &self.message, details);
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

pub(super) fn bad_body(message: &str) -> Response {
    let body = error("invalid_request", 2, message, json!({}));
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}
