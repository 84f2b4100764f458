//! The simulator's one endpoint, `POST /admin/api/{version}/graphql.json`: the token check,
//! injected faults, the cost bucket, and the operations stocksync sends, recognised by their
//! root field (`productVariants`, `nodes`, `location`, `orders`, `order`,
//! `inventorySetQuantities` with `@idempotent(key:)`), their arguments read from the
//! variables. A simulator, not a GraphQL engine: an answer has the full shape of its root
//! field whatever the selection, and anything else is refused with a GraphQL error.

use super::model::{PRIMARY_LOCATION, gid_number, order_json, user_error, variant_json};
use super::{Shared, webhook};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

/// Objects per page at most, and ids per `nodes`.
const MAX_PAGE: u64 = 250;
/// Versions from which `@idempotent` and `changeFromQuantity` are mandatory (§2.5).
const MANDATORY_FROM: &str = "2026-04";

type Sim = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql))
        .with_state(shared)
}

/// What the operation is: `query` or `mutation`, its root field, and the idempotency key's
/// source (a variable's name, or a literal) when `@idempotent(key:)` is there.
#[derive(Debug, PartialEq, Eq)]
struct Operation {
    mutation: bool,
    root: String,
    key: Option<KeySource>,
}

#[derive(Debug, PartialEq, Eq)]
enum KeySource {
    Variable(String),
    Literal(String),
}

fn identifier(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// What follows a field's `(…)` arguments (nesting and strings kept track of).
fn skip_arguments(text: &str) -> &str {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('(') {
        return text;
    }
    let (mut depth, mut in_string) = (0, false);
    for (at, c) in trimmed.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &trimmed[at + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

/// Reads the operation's kind, root field and `@idempotent` directive.
fn parse_operation(query: &str) -> Result<Operation, String> {
    let query = query.trim_start();
    let (first, _) = identifier(query);
    let mutation = match first {
        "mutation" => true,
        "query" | "" => false,
        other => return Err(format!("Parse error on \"{other}\"")),
    };
    let open = query.find('{').ok_or("Parse error: no selection set")?;
    let (mut root, rest) = identifier(&query[open + 1..]);
    let mut rest = rest;
    if let Some(after_alias) = rest.trim_start().strip_prefix(':') {
        (root, rest) = identifier(after_alias);
    }
    if root.is_empty() {
        return Err("Parse error: no field".into());
    }
    // The directive belongs to the root field: after its arguments, before its selection.
    let rest = skip_arguments(rest);
    let head = &rest[..rest.find('{').unwrap_or(rest.len())];
    let key = head.find("@idempotent").map(|at| {
        let args = &head[at..];
        let after = args
            .split_once("key:")
            .map(|(_, v)| v.trim_start())
            .unwrap_or("");
        if let Some(name) = after.strip_prefix('$') {
            KeySource::Variable(identifier(name).0.to_owned())
        } else {
            let literal = after.trim_start_matches('"');
            KeySource::Literal(literal[..literal.find('"').unwrap_or(0)].to_owned())
        }
    });
    Ok(Operation {
        mutation,
        root: root.to_owned(),
        key,
    })
}

fn graphql_error(message: &str, code: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

async fn graphql(
    State(sim): Sim,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.requests.fetch_add(1, Ordering::SeqCst);
    let token = headers
        .get("X-Shopify-Access-Token")
        .and_then(|value| value.to_str().ok());
    if token != Some(sim.token.as_str()) {
        let body = json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" });
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let (fault, latency) = sim.faults.decide();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None | Fault::LoseAnswer | Fault::RateLimited => {}
        Fault::ServerError => {
            let body = json!({ "errors": "Internal Server Error" });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
        Fault::Drop => drop_connection(),
        Fault::Foreign(status) => return foreign_answer(status),
    }
    let answer = sim.answer(&version, &body, fault == Fault::RateLimited);
    if fault == Fault::LoseAnswer {
        drop_connection();
    }
    answer
}

impl Shared {
    /// The answer to one request; `throttle`: the fault plan says THROTTLED whatever the
    /// bucket holds (with the operation's requested cost, as Shopify reports it).
    fn answer(self: &Arc<Self>, version: &str, body: &[u8], throttle: bool) -> Response {
        let ok = |value: Value| (StatusCode::OK, axum::Json(value)).into_response();
        let request: Value = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({ "errors": "Bad Request" })),
                )
                    .into_response();
            }
        };
        let query = request
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let variables = request.get("variables").cloned().unwrap_or(json!({}));
        let operation = match parse_operation(query) {
            Ok(operation) => operation,
            Err(message) => return ok(graphql_error(&message, "PARSE_ERROR")),
        };
        *self.roots().entry(operation.root.clone()).or_default() += 1;
        let Some(requested) = requested_cost(&operation, &variables) else {
            let kind = if operation.mutation {
                "Mutation"
            } else {
                "QueryRoot"
            };
            let message = format!("Field '{}' doesn't exist on type '{kind}'", operation.root);
            return ok(graphql_error(&message, "undefinedField"));
        };
        {
            let mut bucket = self.bucket();
            if requested > bucket.maximum() {
                let mut answer = graphql_error(
                    &format!(
                        "Query cost is {requested}, which exceeds the single query max cost limit"
                    ),
                    "MAX_COST_EXCEEDED",
                );
                answer["extensions"] = bucket.extensions(requested, None);
                return ok(answer);
            }
            if throttle || !bucket.charge(requested) {
                drop(bucket);
                return self.throttled(requested);
            }
        }
        let mandatory = version >= MANDATORY_FROM;
        let result = self.run(&operation, &variables, mandatory);
        let mut bucket = self.bucket();
        let mut answer = match result {
            Ok((data, actual)) => {
                bucket.refund(requested - actual.min(requested));
                let mut answer = json!({ "data": { operation.root.clone(): data } });
                answer["extensions"] = bucket.extensions(requested, Some(actual));
                answer
            }
            Err(errors) => errors,
        };
        if answer.get("extensions").is_none() {
            answer["extensions"] = bucket.extensions(requested, None);
        }
        ok(answer)
    }

    /// The THROTTLED answer (status 200, or 429 when the options say so).
    fn throttled(&self, requested: f64) -> Response {
        self.throttled.fetch_add(1, Ordering::SeqCst);
        let mut answer = graphql_error("Throttled", "THROTTLED");
        answer["extensions"] = self.bucket().extensions(requested, None);
        let status = if self.throttle_with_429 {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::OK
        };
        (status, axum::Json(answer)).into_response()
    }

    /// The root field's value and the actual cost, or an answer with top-level errors.
    fn run(
        self: &Arc<Self>,
        operation: &Operation,
        variables: &Value,
        mandatory: bool,
    ) -> Result<(Value, f64), Value> {
        let var = |name: &str| variables.get(name).filter(|value| !value.is_null());
        match (operation.mutation, operation.root.as_str()) {
            (false, "location") => match var("id") {
                None => Ok((
                    json!({ "id": format!("gid://shopify/Location/{PRIMARY_LOCATION}") }),
                    1.0,
                )),
                Some(_) => Err(graphql_error(
                    "The simulator only answers the primary location",
                    "BAD_REQUEST",
                )),
            },
            (false, "productVariants") => {
                let first = page_size(var("first"))?;
                let search = Search::parse(var("query").and_then(Value::as_str))?;
                let location = gid_number(var("location"), "Location");
                let after = cursor(var("after"))?;
                let shop = self.shop();
                let mut page: Vec<Value> = shop
                    .variants
                    .iter()
                    .filter(|variant| after.is_none_or(|after| variant.id > after.1))
                    .filter(|variant| search.matches_sku(&variant.sku))
                    .take(first as usize + 1)
                    .map(|variant| (variant.id, variant_json(&shop, variant, location)))
                    .map(|(id, json)| json!({ "cursor": format!("c0:{id}"), "node": json }))
                    .collect();
                Ok(connection(&mut page, first, 3.0))
            }
            (false, "nodes") => {
                let ids = var("ids").and_then(Value::as_array).ok_or_else(|| {
                    graphql_error(
                        "Variable $ids of type [ID!]! was provided invalid value",
                        "INVALID_VARIABLE",
                    )
                })?;
                let location = gid_number(var("location"), "Location");
                let shop = self.shop();
                let nodes: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        gid_number(Some(id), "ProductVariant")
                            .and_then(|id| shop.variant(id))
                            .map(|variant| variant_json(&shop, variant, location))
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                let found = nodes.iter().filter(|node| !node.is_null()).count();
                Ok((json!(nodes), 1.0 + 3.0 * found as f64))
            }
            (false, "orders") => {
                let first = page_size(var("first"))?;
                let search = Search::parse(var("query").and_then(Value::as_str))?;
                let after = cursor(var("after"))?;
                let shop = self.shop();
                let mut orders: Vec<_> = shop
                    .orders
                    .iter()
                    .filter(|order| search.matches_updated(order.updated_at))
                    .collect();
                orders.sort_by_key(|order| (order.updated_at.timestamp_millis(), order.id));
                let mut page: Vec<Value> = orders
                    .into_iter()
                    .filter(|order| after.is_none_or(|after| (order.updated_at.timestamp_millis(), order.id) > after))
                    .take(first as usize + 1)
                    .map(|order| json!({
                        "cursor": format!("c{}:{}", order.updated_at.timestamp_millis(), order.id),
                        "node": order_json(order),
                    }))
                    .collect();
                Ok(connection(&mut page, first, 6.0))
            }
            (false, "order") => {
                let shop = self.shop();
                let order = gid_number(var("id"), "Order").and_then(|id| shop.order(id));
                Ok((order.map(order_json).unwrap_or(Value::Null), 6.0))
            }
            (true, "inventorySetQuantities") => self
                .set_quantities(operation, variables, mandatory)
                .map(|data| (data, 10.0)),
            (true, "inventoryActivate") => {
                let errors = self.shop().activate(
                    gid_number(var("inventoryItemId"), "InventoryItem"),
                    gid_number(var("locationId"), "Location"),
                    var("available").and_then(Value::as_i64).unwrap_or(0),
                );
                Ok((
                    json!({ "inventoryLevel": null, "userErrors": errors }),
                    10.0,
                ))
            }
            _ => unreachable!("requested_cost knows only these"),
        }
    }

    fn set_quantities(
        self: &Arc<Self>,
        operation: &Operation,
        variables: &Value,
        mandatory: bool,
    ) -> Result<Value, Value> {
        let key = match &operation.key {
            Some(KeySource::Variable(name)) => variables
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned),
            Some(KeySource::Literal(key)) => Some(key.clone()),
            None => None,
        };
        let key = key.filter(|key| !key.is_empty() && key.len() <= 255);
        if key.is_none() && mandatory {
            return Err(graphql_error(
                "The @idempotent directive with a key is required for this mutation.",
                "BAD_REQUEST",
            ));
        }
        let input = variables.get("input").cloned().unwrap_or(Value::Null);
        let mut shop = self.shop();
        let mut keys = self.keys();
        if let Some((seen, answer)) = key.as_ref().and_then(|key| keys.get(key)) {
            if *seen != input {
                return Ok(json!({
                    "inventoryAdjustmentGroup": null,
                    "userErrors": [user_error("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", &["key"], "The key was used with other parameters.")],
                }));
            }
            self.replays.fetch_add(1, Ordering::SeqCst);
            return Ok(answer.clone());
        }
        let written = shop.writes.len();
        let answer = shop.set_quantities(&input, mandatory);
        let echoes = shop.writes[written..].to_vec();
        if let Some(key) = key {
            keys.insert(key, (input, answer.clone()));
        }
        drop(keys);
        drop(shop);
        webhook::inventory_echoes(self, &echoes);
        Ok(answer)
    }
}

/// The requested cost of an operation, charged up front; `None` for an operation the
/// simulator does not know.
fn requested_cost(operation: &Operation, variables: &Value) -> Option<f64> {
    let first = || variables.get("first").and_then(Value::as_u64).unwrap_or(0) as f64;
    Some(match (operation.mutation, operation.root.as_str()) {
        (false, "location") => 1.0,
        (false, "productVariants") => 2.0 + 3.0 * first(),
        (false, "nodes") => {
            let ids = variables
                .get("ids")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            1.0 + 3.0 * ids as f64
        }
        (false, "orders") => 2.0 + 6.0 * first(),
        (false, "order") => 6.0,
        (true, "inventorySetQuantities" | "inventoryActivate") => 10.0,
        _ => return None,
    })
}

/// `first`, required and at most 250.
fn page_size(first: Option<&Value>) -> Result<u64, Value> {
    match first.and_then(Value::as_u64) {
        None | Some(0) => Err(graphql_error(
            "you must provide one of first or last",
            "BAD_REQUEST",
        )),
        Some(first) if first > MAX_PAGE => Err(graphql_error(
            &format!("The maximum number of objects per page is {MAX_PAGE}"),
            "MAX_PAGE_SIZE_EXCEEDED",
        )),
        Some(first) => Ok(first),
    }
}

/// An `after` cursor: `c{millis}:{id}` (millis 0 for variants).
fn cursor(after: Option<&Value>) -> Result<Option<(i64, u64)>, Value> {
    let Some(after) = after else { return Ok(None) };
    after
        .as_str()
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|c| c.split_once(':'))
        .and_then(|(millis, id)| Some((millis.parse().ok()?, id.parse().ok()?)))
        .map(Some)
        .ok_or_else(|| graphql_error("Invalid cursor for current pagination sort.", "BAD_REQUEST"))
}

/// A page read one past its size: the extra row says there is a next page. The connection's
/// value and its actual cost.
fn connection(rows: &mut Vec<Value>, first: u64, per_node: f64) -> (Value, f64) {
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    let end = rows.last().map(|row| row["cursor"].clone());
    let nodes: Vec<Value> = rows.iter().map(|row| row["node"].clone()).collect();
    let cost = 2.0 + per_node * nodes.len() as f64;
    (
        json!({
            "pageInfo": { "hasNextPage": more, "endCursor": end },
            "nodes": nodes,
        }),
        cost,
    )
}

/// The search syntax the simulator understands: `sku:"A" OR sku:B`, `updated_at:>'…'`.
#[derive(Debug, Default, PartialEq)]
struct Search {
    skus: Option<Vec<String>>,
    updated_after: Option<DateTime<Utc>>,
}

impl Search {
    fn parse(query: Option<&str>) -> Result<Self, Value> {
        let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(Self::default());
        };
        let unquote = |value: &str| {
            let value = value.trim();
            let value = value.strip_prefix(['"', '\'']).unwrap_or(value);
            value
                .strip_suffix(['"', '\''])
                .unwrap_or(value)
                .replace("\\\"", "\"")
        };
        if let Some(when) = query.strip_prefix("updated_at:>") {
            let when = unquote(when.trim_start_matches('='));
            let when = DateTime::parse_from_rfc3339(&when)
                .map_err(|_| graphql_error("Invalid search date", "BAD_REQUEST"))?;
            return Ok(Self {
                updated_after: Some(when.with_timezone(&Utc)),
                ..Self::default()
            });
        }
        let skus = query
            .split(" OR ")
            .map(|term| term.trim().strip_prefix("sku:").map(unquote))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                graphql_error(
                    "The simulator reads only sku: and updated_at:> searches",
                    "BAD_REQUEST",
                )
            })?;
        Ok(Self {
            skus: Some(skus),
            ..Self::default()
        })
    }

    fn matches_sku(&self, sku: &str) -> bool {
        self.skus
            .as_ref()
            .is_none_or(|skus| skus.iter().any(|wanted| wanted.eq_ignore_ascii_case(sku)))
    }

    fn matches_updated(&self, updated_at: DateTime<Utc>) -> bool {
        self.updated_after.is_none_or(|after| updated_at > after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_known_by_their_root_field_and_directive() {
        let op = parse_operation(
            "mutation Set($input: X!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code } } }",
        )
        .unwrap();
        assert_eq!(
            op,
            Operation {
                mutation: true,
                root: "inventorySetQuantities".into(),
                key: Some(KeySource::Variable("key".into())),
            }
        );
        let op = parse_operation("{ shop: location { id } }").unwrap();
        assert_eq!(
            (op.mutation, op.root.as_str(), op.key),
            (false, "location", None)
        );
        let op = parse_operation(
            r#"mutation { inventorySetQuantities(input: {}) @idempotent(key: "k-1") { x } }"#,
        )
        .unwrap();
        assert_eq!(op.key, Some(KeySource::Literal("k-1".into())));
        assert!(parse_operation("subscription { x }").is_err());
    }

    #[test]
    fn searches() {
        let search = Search::parse(Some(r#"sku:"A-1" OR sku:b-2"#)).unwrap();
        assert!(
            search.matches_sku("A-1") && search.matches_sku("B-2") && !search.matches_sku("A-10")
        );
        let search = Search::parse(Some("updated_at:>'2026-03-01T10:00:00Z'")).unwrap();
        assert!(search.updated_after.is_some());
        assert!(Search::parse(Some("title:mug")).is_err());
    }
}
