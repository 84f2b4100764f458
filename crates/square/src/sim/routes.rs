//! The simulator's HTTP face: the router, the guard every `/v2` request passes (counted, then
//! injected faults and answers, the bearer token, the `Square-Version` format), Square's error shape,
//! JSON bodies read with Square's error answers, opaque page cursors tied to their filters, and
//! the `/_sim` control routes (not part of Square). Like Square, answers leave out empty lists.

use super::{Shared, catalog, inventory};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

/// What a Square handler answers.
pub type Answer = Result<Json<Value>, Refusal>;

pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v2/locations", get(catalog::locations))
        .route("/v2/catalog/list", get(catalog::list))
        .route("/v2/catalog/search", post(catalog::search))
        .route(
            "/v2/catalog/search-catalog-items",
            post(catalog::search_items),
        )
        .route("/v2/catalog/batch-retrieve", post(catalog::batch_retrieve))
        .route("/v2/catalog/object/{id}", get(catalog::object))
        .route(
            "/v2/inventory/counts/batch-retrieve",
            post(inventory::counts),
        )
        .route(
            "/v2/inventory/batch-retrieve-counts",
            post(inventory::counts),
        )
        .route(
            "/v2/inventory/changes/batch-create",
            post(inventory::batch_create),
        )
        .route("/v2/inventory/batch-change", post(inventory::batch_create))
        .route(
            "/v2/inventory/changes/batch-retrieve",
            post(inventory::changes),
        )
        .route(
            "/v2/inventory/batch-retrieve-changes",
            post(inventory::changes),
        )
        .fallback(unknown_path)
        .layer(middleware::from_fn_with_state(shared.clone(), guard));
    Router::new()
        .route("/_sim/sale", post(till_sale))
        .merge(api)
        .with_state(shared)
}

/// Faults first (as a load balancer or an overloaded server would answer), then the
/// credentials, then the handler; a lost answer is lost after the handler did its work.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let (fault, latency) = shared.faults.decide();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::Drop => drop_connection(),
        Fault::RateLimited => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_ERROR",
                "RATE_LIMITED",
                "Rate limit exceeded; retry later.",
                None,
            )
            .into_response();
        }
        Fault::ServerError => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "API_ERROR",
                "INTERNAL_SERVER_ERROR",
                "An internal error has occurred.",
                None,
            )
            .into_response();
        }
        Fault::Foreign(status) => return foreign_answer(status),
        Fault::None | Fault::LoseAnswer => {}
    }
    if let Some((status, body)) = shared.take_injected() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    if let Err(refusal) = authorize(&shared.token, request.headers()) {
        return refusal.into_response();
    }
    let response = next.run(request).await;
    if fault == Fault::LoseAnswer {
        drop_connection();
    }
    response
}

fn authorize(token: &str, headers: &HeaderMap) -> Result<(), Refusal> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(token) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_ERROR",
            "UNAUTHORIZED",
            "This request could not be authorized.",
            None,
        ));
    }
    let version = headers
        .get("square-version")
        .map(|v| v.to_str().unwrap_or(""));
    let well_formed = |v: &str| {
        v.len() == 10
            && v.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    if version.is_some_and(|v| !well_formed(v)) {
        return Err(invalid(
            "INVALID_SQUARE_VERSION_FORMAT",
            "Square-Version must look like YYYY-MM-DD.",
            None,
        ));
    }
    Ok(())
}

async fn unknown_path() -> Refusal {
    error(
        StatusCode::NOT_FOUND,
        "INVALID_REQUEST_ERROR",
        "NOT_FOUND",
        "The simulator does not serve this path.",
        None,
    )
}

/// A Square failure answer: `{"errors":[{category, code, detail, field}]}` with its status.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    category: &'static str,
    code: &'static str,
    detail: String,
    field: Option<String>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut one =
            json!({ "category": self.category, "code": self.code, "detail": self.detail });
        if let Some(field) = self.field {
            one["field"] = field.into();
        }
        (self.status, Json(json!({ "errors": [one] }))).into_response()
    }
}

pub fn error(
    status: StatusCode,
    category: &'static str,
    code: &'static str,
    detail: &str,
    field: Option<&str>,
) -> Refusal {
    Refusal {
        status,
        category,
        code,
        detail: detail.to_owned(),
        field: field.map(str::to_owned),
    }
}

/// A 400 `INVALID_REQUEST_ERROR`.
pub fn invalid(code: &'static str, detail: &str, field: Option<&str>) -> Refusal {
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST_ERROR",
        code,
        detail,
        field,
    )
}

/// A list, or nothing when it is empty (Square leaves empty lists out).
pub fn list_value(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

/// An answer object from its optional fields and an optional cursor.
pub fn answer<const N: usize>(fields: [(&str, Option<Value>); N], cursor: Option<String>) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
    }
    if let Some(cursor) = cursor {
        map.insert("cursor".into(), cursor.into());
    }
    Value::Object(map)
}

/// Reads a JSON body (an empty one is `{}`), answering malformed ones as Square does.
pub fn read_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<(T, Value), Refusal> {
    let value: Value = if bytes.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(bytes)
            .map_err(|_| invalid("BAD_REQUEST", "The request body is not valid JSON.", None))?
    };
    let parsed = serde_json::from_value(value.clone())
        .map_err(|err| invalid("INVALID_VALUE", &format!("Invalid request: {err}"), None))?;
    Ok((parsed, value))
}

/// A `limit` within `1..=max`, or `default` when absent.
pub fn limit(given: Option<i64>, default: usize, max: usize) -> Result<usize, Refusal> {
    match given {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(invalid(
            "INVALID_VALUE",
            &format!("limit must be between 1 and {max}, got {n}"),
            Some("limit"),
        )),
    }
}

/// A cursor: where the next page starts, and a fingerprint of the filters it belongs to.
#[derive(serde::Serialize, Deserialize)]
struct CursorBody {
    p: Value,
    f: u64,
}

/// An opaque cursor for `position` under `filters`.
pub fn cursor(position: Value, filters: &Value) -> String {
    let body = CursorBody {
        p: position,
        f: fingerprint(filters),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).expect("a cursor serialises"))
}

/// The position in `cursor`, which must come with the same `filters` it was made for.
pub fn position<T: DeserializeOwned>(cursor: &str, filters: &Value) -> Result<T, Refusal> {
    let refused = || {
        invalid(
            "INVALID_CURSOR",
            "The cursor is not valid for this request.",
            Some("cursor"),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| refused())?;
    if body.f != fingerprint(filters) {
        return Err(refused());
    }
    serde_json::from_value(body.p).map_err(|_| refused())
}

/// The request's filters: its body without `cursor` and `limit`.
pub fn filters(body: &Value) -> Value {
    let mut filters = body.clone();
    if let Some(map) = filters.as_object_mut() {
        map.remove("cursor");
        map.remove("limit");
    }
    filters
}

fn fingerprint(value: &Value) -> u64 {
    fn feed(value: &Value, hasher: &mut DefaultHasher) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by_key(|(k, _)| *k);
                for (key, value) in entries {
                    key.hash(hasher);
                    feed(value, hasher);
                }
            }
            Value::Array(items) => {
                items.len().hash(hasher);
                items.iter().for_each(|item| feed(item, hasher));
            }
            other => other.to_string().hash(hasher),
        }
    }
    let mut hasher = DefaultHasher::new();
    feed(value, &mut hasher);
    hasher.finish()
}

#[derive(Deserialize)]
struct TillSale {
    pos_ref: String,
    quantity: i64,
}

/// `POST /_sim/sale {"pos_ref", "quantity"}`: a cashier sells at the till.
async fn till_sale(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let refuse = |status: StatusCode, message: String| {
        (status, Json(json!({ "error": message }))).into_response()
    };
    let Ok(sale) = serde_json::from_slice::<TillSale>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "expected {\"pos_ref\": \"…\", \"quantity\": n}".into(),
        );
    };
    if sale.quantity < 1 {
        return refuse(
            StatusCode::BAD_REQUEST,
            "quantity must be at least 1".into(),
        );
    }
    match shared.sell_at_till(&sale.pos_ref, sale.quantity) {
        Ok(quantity) => {
            Json(json!({ "pos_ref": sale.pos_ref, "quantity": quantity })).into_response()
        }
        Err(message) => refuse(StatusCode::NOT_FOUND, message),
    }
}
