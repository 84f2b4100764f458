//! The simulated Webservice over HTTP (shop-apis.md §3.1–3.3, §3.6): `/api/{resource}` and
//! `/api/{resource}/{id}`, the key as Basic user or `ws_key`, `id_shop`, JSON or XML out, XML
//! in, `filter[…]`, `display`, `sort`, `limit` (no totals) and `date=1` with their 400 codes,
//! `stock_availables` written by PUT, and by PATCH from 8.0 when the key has the permission
//! (POST/DELETE 405 code 101; PATCH before 8.0 405 code 23, without the permission 405 code
//! 25), the version in `PSWS-Version` to authenticated callers, and the fault plan's failures
//! as a PHP host shows them (HTML 500, dropped connections, a proxy's page).

use super::model::{Record, Shop, Write};
use super::{Shared, xml};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::cmp::Ordering as CmpOrdering;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

const RESOURCES: [&str; 4] = ["products", "combinations", "stock_availables", "orders"];
const DATE_FIELDS: [&str; 2] = ["date_add", "date_upd"];

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{resource}", any(list))
        .route("/api/{resource}/{id}", any(one))
        .with_state(shared)
}

type Params = Vec<(String, String)>;

/// A call's answer format and failure shape.
struct Answer {
    json: bool,
}

impl Answer {
    fn of(params: &Params, headers: &HeaderMap) -> Self {
        let asked = |name: &str| {
            params
                .iter()
                .any(|(k, v)| k == name && v.eq_ignore_ascii_case("json"))
        };
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("json"))
        };
        Self {
            json: asked("output_format")
                || asked("io_format")
                || header("output-format")
                || header("io-format"),
        }
    }

    fn error(&self, status: u16, code: i64, message: &str) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if self.json {
            let body = json!({"errors": [{"code": code, "message": message}]});
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        } else {
            (
                status,
                [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
                xml::errors(code, message),
            )
                .into_response()
        }
    }

    fn list(&self, resource: &str, records: &[Record]) -> Response {
        if self.json {
            // An empty list comes back as `[]` (reported, §3.2).
            let body = if records.is_empty() {
                json!([])
            } else {
                json!({ resource: records })
            };
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        } else {
            (
                [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
                xml::list(resource, records),
            )
                .into_response()
        }
    }

    fn object(&self, resource: &str, record: &Record) -> Response {
        if self.json {
            let body = json!({ xml::singular(resource): record });
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        } else {
            (
                [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
                xml::object(resource, record),
            )
                .into_response()
        }
    }
}

async fn list(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(resource): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, method, resource, None, params, headers, body).await
}

async fn one(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((resource, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, method, resource, Some(id), params, headers, body).await
}

async fn handle(
    shared: Arc<Shared>,
    method: Method,
    resource: String,
    id: Option<String>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!(
        "{method} /{resource}{}",
        if id.is_some() { "/{id}" } else { "" }
    );
    *shared.routes().entry(route).or_default() += 1;
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let (fault, latency) = shared.faults.decide();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None | Fault::LoseAnswer => {}
        Fault::Drop => drop_connection(),
        Fault::ServerError => {
            let page = "<html><body><b>Fatal error</b>: Allowed memory size exhausted in classes/webservice/WebserviceRequest.php</body></html>";
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html")],
                page,
            )
                .into_response();
        }
        Fault::RateLimited => return foreign_answer(429),
        Fault::Foreign(status) => return foreign_answer(status),
    }
    let answer = Answer::of(&params, &headers);
    let mut response = serve(
        &shared,
        &answer,
        &method,
        &resource,
        id.as_deref(),
        &params,
        &headers,
        &body,
    );
    if fault == Fault::LoseAnswer {
        drop_connection();
    }
    // Only an authenticated caller learns the version (§3.1).
    if response.status() != StatusCode::UNAUTHORIZED
        && !shared.version.is_empty()
        && let Ok(version) = shared.version.parse()
    {
        response.headers_mut().insert("psws-version", version);
    }
    response
}

fn key_of(params: &Params, headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let encoded = auth.strip_prefix("Basic ")?;
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        return Some(
            decoded
                .split_once(':')
                .map_or(decoded.clone(), |(user, _)| user.to_owned()),
        );
    }
    params
        .iter()
        .find(|(k, _)| k == "ws_key")
        .map(|(_, v)| v.clone())
}

#[allow(clippy::too_many_arguments)]
fn serve(
    shared: &Shared,
    answer: &Answer,
    method: &Method,
    resource: &str,
    id: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if !shared.enabled.load(Ordering::Relaxed) {
        return answer.error(503, 22, "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office");
    }
    match key_of(params, headers) {
        None => {
            let mut response = answer.error(401, 17, "Authentication key is empty");
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"".parse().expect("a header"),
            );
            return response;
        }
        Some(key) if key.len() != 32 => {
            return answer.error(401, 18, "Invalid authentication key format");
        }
        Some(key) if key != shared.key => {
            return answer.error(401, 20, "Authentication key does not exist");
        }
        Some(_) => {}
    }
    if !RESOURCES.contains(&resource) {
        return answer.error(
            400,
            27,
            &format!("Resource of type \"{resource}\" does not exists"),
        );
    }
    let mut shop = shared.shop();
    if let Some((_, wanted)) = params.iter().find(|(k, _)| k == "id_shop")
        && wanted.trim() != shop.shop_id.to_string()
    {
        return answer.error(404, 999, "No shop found with this id");
    }
    match (method.as_str(), resource, id) {
        ("GET", _, None) => {
            let records = shop.records(resource).expect("a known resource");
            match select(records, params) {
                Ok(records) => answer.list(resource, &records),
                Err((status, code, message)) => answer.error(status, code, &message),
            }
        }
        ("GET", _, Some(id)) => {
            let records = shop.records(resource).expect("a known resource");
            match records
                .into_iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
            {
                Some(record) => answer.object(resource, &record),
                None => answer.error(404, 87, &format!("Id(s) not exists: {id}")),
            }
        }
        ("PUT", "stock_availables", id) => write(&mut shop, answer, id, body, Write::Replace),
        ("PATCH", "stock_availables", id) if takes_patch(&shared.version) => {
            if !shared.patch_permission {
                return answer.error(
                    405,
                    25,
                    "Method PATCH is not allowed for the resource stock_availables with this authentication key",
                );
            }
            write(&mut shop, answer, id, body, Write::Merge)
        }
        (_, "stock_availables", _) if *method == Method::POST || *method == Method::DELETE => {
            answer.error(405, 101, "Method is forbidden for this resource")
        }
        ("PATCH", _, _) if !takes_patch(&shared.version) => {
            answer.error(405, 23, "Method PATCH is not valid")
        }
        _ => answer.error(
            405,
            25,
            &format!("Method {method} is not allowed for this key on {resource}"),
        ),
    }
}

/// Whether PrestaShop `version` has PATCH (8.0 and later: its first number is 8 or more).
fn takes_patch(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.trim().parse::<u32>().ok())
        .is_some_and(|major| major >= 8)
}

/// A PUT or PATCH of a `stock_availables` row: the id is the path's, or (a write on the
/// resource itself) the body's.
fn write(shop: &mut Shop, answer: &Answer, id: Option<&str>, body: &[u8], how: Write) -> Response {
    let fields = match xml::read_object(&String::from_utf8_lossy(body), "stock_available") {
        Ok(fields) => fields,
        Err(err) => return answer.error(500, 127, &err),
    };
    let Some(id) = id.or(fields.get("id").map(String::as_str)) else {
        return answer.error(400, 90, "id is required when modifying a resource");
    };
    let Ok(id) = id.trim().parse::<i64>() else {
        return answer.error(404, 92, "Invalid ID");
    };
    match shop.write_row(id, &fields, how) {
        Ok(record) => answer.object("stock_availables", &record),
        Err((status, code, message)) => answer.error(status, code, &message),
    }
}

/// One condition of `filter[field]=…` (§3.3).
enum Condition {
    Any(Vec<String>),
    Between(String, String),
    Begins(String),
    Ends(String),
    Contains(String),
    Not(String),
    Above(String),
    Below(String),
}

fn bracketed(value: &str) -> Option<&str> {
    value.strip_prefix('[')?.strip_suffix(']')
}

fn condition(value: &str) -> Option<Condition> {
    let value = value.trim();
    if let Some(inner) = value.strip_prefix('%') {
        let inner = inner.strip_suffix('%').ok_or(inner);
        return match inner {
            Ok(both) => bracketed(both).map(|v| Condition::Contains(v.into())),
            Err(end) => bracketed(end).map(|v| Condition::Ends(v.into())),
        };
    }
    if let Some(begins) = value.strip_suffix('%') {
        return bracketed(begins).map(|v| Condition::Begins(v.into()));
    }
    if let Some(v) = value.strip_prefix('!') {
        return bracketed(v).map(|v| Condition::Not(v.into()));
    }
    if let Some(v) = value.strip_prefix('>') {
        return bracketed(v).map(|v| Condition::Above(v.into()));
    }
    if let Some(v) = value.strip_prefix('<') {
        return bracketed(v).map(|v| Condition::Below(v.into()));
    }
    let inner = bracketed(value)?;
    if let Some((low, high)) = inner.split_once(',') {
        return Some(Condition::Between(low.into(), high.into()));
    }
    Some(Condition::Any(
        inner.split('|').map(str::to_owned).collect(),
    ))
}

/// Compares as numbers when both are, as case-insensitive text otherwise.
fn compare(a: &str, b: &str) -> CmpOrdering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(CmpOrdering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn matches(value: &str, condition: &Condition) -> bool {
    let lower = value.to_lowercase();
    match condition {
        Condition::Any(values) => values.iter().any(|v| compare(value, v).is_eq()),
        Condition::Between(low, high) => {
            compare(value, low).is_ge() && compare(value, high).is_le()
        }
        Condition::Begins(v) => lower.starts_with(&v.to_lowercase()),
        Condition::Ends(v) => lower.ends_with(&v.to_lowercase()),
        Condition::Contains(v) => lower.contains(&v.to_lowercase()),
        Condition::Not(v) => !compare(value, v).is_eq(),
        Condition::Above(v) => compare(value, v).is_gt(),
        Condition::Below(v) => compare(value, v).is_lt(),
    }
}

type Refusal = (u16, i64, String);

/// A list's records after `filter`, `sort`, `limit` and `display`.
fn select(mut records: Vec<Record>, params: &Params) -> Result<Vec<Record>, Refusal> {
    let dates = params.iter().any(|(k, v)| k == "date" && v == "1");
    let known = |field: &str, records: &[Record]| {
        (dates || !DATE_FIELDS.contains(&field))
            && records
                .first()
                .is_none_or(|r| r.get(field).is_some_and(|v| !v.is_object()))
    };
    let all = records.clone();
    for (key, value) in params {
        let Some(field) = key
            .strip_prefix("filter[")
            .and_then(|k| k.strip_suffix(']'))
        else {
            continue;
        };
        if !known(field, &all) || (!dates && DATE_FIELDS.contains(&field)) {
            return Err((400, 32, format!("This filter does not exist: {field}")));
        }
        let condition = condition(value)
            .ok_or_else(|| (400, 33, format!("The \"{field}\" filter is malformed")))?;
        records.retain(|r| {
            r.get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| matches(v, &condition))
        });
    }
    if let Some((_, sort)) = params.iter().find(|(k, _)| k == "sort") {
        let inner = bracketed(sort).ok_or((
            400,
            37,
            "The \"sort\" value has to be formed as this example: [field_ASC]".to_owned(),
        ))?;
        let mut keys = Vec::new();
        for part in inner.split(',') {
            let (field, way) = part
                .rsplit_once('_')
                .filter(|(_, way)| matches!(*way, "ASC" | "DESC"))
                .ok_or((400, 37, format!("The \"sort\" value is malformed: {part}")))?;
            if !known(field, &all) {
                return Err((400, 38, format!("Unable to sort by unknown field: {field}")));
            }
            keys.push((field.to_owned(), way == "DESC"));
        }
        records.sort_by(|a, b| {
            keys.iter()
                .map(|(field, desc)| {
                    let get = |r: &Record| {
                        r.get(field)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let order = compare(&get(a), &get(b));
                    if *desc { order.reverse() } else { order }
                })
                .find(|o| o.is_ne())
                .unwrap_or(CmpOrdering::Equal)
        });
    }
    if let Some((_, limit)) = params.iter().find(|(k, _)| k == "limit") {
        let parts: Vec<Option<usize>> = limit.split(',').map(|p| p.trim().parse().ok()).collect();
        let (offset, count) = match parts.as_slice() {
            [Some(count)] => (0, *count),
            [Some(offset), Some(count)] => (*offset, *count),
            _ => {
                return Err((
                    400,
                    39,
                    "The \"limit\" value has to be formed as this example: 5,25 or 10".into(),
                ));
            }
        };
        records = records.into_iter().skip(offset).take(count).collect();
    }
    let display = params
        .iter()
        .find(|(k, _)| k == "display")
        .map(|(_, v)| v.as_str());
    match display {
        Some("full") => Ok(records),
        None => Ok(records.into_iter().map(|r| only(&r, &["id"])).collect()),
        Some(fields) => {
            let inner = bracketed(fields).ok_or((
                400,
                36,
                "The \"display\" value has to be formed as this example: [field_1,field_2]"
                    .to_owned(),
            ))?;
            let fields: Vec<&str> = inner.split(',').map(str::trim).collect();
            if let Some(unknown) = fields
                .iter()
                .find(|f| !all.is_empty() && all[0].get(**f).is_none())
            {
                return Err((
                    400,
                    35,
                    format!("Unable to display this field \"{unknown}\""),
                ));
            }
            Ok(records.into_iter().map(|r| only(&r, &fields)).collect())
        }
    }
}

fn only(record: &Record, fields: &[&str]) -> Record {
    record
        .iter()
        .filter(|(k, _)| fields.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
