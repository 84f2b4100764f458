//! The simulated API server: `/API/V3/Account.json`, `/API/V3/Account/{accountID}/…` and the
//! control route `POST /_sim/sale`. Every API request is counted, then goes through the same
//! gate, in this order: injected faults, the bearer token (401 `access_denied` as Lightspeed
//! words it), the account in the path (403), the route and its query (400/404/405), the rate
//! limiter (429), then the resource. Every answer carries the `X-LS-*` headers.

use super::Shared;
use super::data::NewSale;
use super::limits::Cost;
use super::query::ListQuery;
use super::resources::{self, Resource};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_pos::simkit::{Fault, drop_connection, foreign_answer};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/API/V3/Account.json", get(accounts))
        .route("/API/V3/Account/{account}/{*rest}", any(resource))
        .route("/_sim/sale", post(till_sale))
        .with_state(shared)
}

/// A parsed request, ready to be charged and carried out.
enum Request {
    List(Resource, ListQuery),
    One(Resource, i64, Vec<String>),
    CreateSale(NewSale),
}

impl Request {
    fn cost(&self) -> Cost {
        match self {
            Request::List(_, query) => Cost::Read {
                relations: query.relations.len(),
                list: true,
                count: query.count,
            },
            Request::One(_, _, relations) => Cost::Read {
                relations: relations.len(),
                list: false,
                count: false,
            },
            Request::CreateSale(sale) => Cost::WriteSale {
                completed: sale.completed,
                nested: sale.lines.len() + sale.payments.len(),
            },
        }
    }
}

/// An answer that has not been given its headers yet.
struct Answer(StatusCode, Value);

fn error(status: StatusCode, message: &str) -> Answer {
    let class = match status.as_u16() {
        400 => "BadRequestException",
        403 => "ForbiddenException",
        404 => "NotFoundException",
        405 => "MethodNotAllowedException",
        422 => "ValidationException",
        429 => "RateLimitedException",
        _ => "ServiceUnavailableException",
    };
    Answer(
        status,
        json!({
            "httpCode": status.as_u16().to_string(),
            "httpMessage": status.canonical_reason().unwrap_or_default(),
            "message": message,
            "errorClass": class,
        }),
    )
}

impl Shared {
    fn respond(&self, answer: Answer, headers: Vec<(&'static str, String)>) -> Response {
        let Answer(status, body) = answer;
        let mut response = (status, axum::Json(body)).into_response();
        let map = response.headers_mut();
        let common = [
            ("x-ls-acct-id", self.account_id.to_string()),
            ("x-ls-oauth-client-id", self.client_id.clone()),
        ];
        for (name, value) in headers.into_iter().chain(common) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(name, value);
            }
        }
        response
    }

    /// An answer that did not go through the bucket.
    fn respond_uncharged(&self, answer: Answer) -> Response {
        let headers = self.bucket().report(&self.rate);
        self.respond(answer, headers)
    }

    /// Faults, then the token. `Ok` carries the fault still to apply after the work
    /// (a lost answer).
    async fn gate(&self, method: &Method, headers: &HeaderMap) -> Result<Fault, Response> {
        let (fault, latency) = self.decide(method != Method::GET);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match fault {
            Fault::Drop => drop_connection(),
            Fault::RateLimited => {
                let mut headers = self.bucket().report(&self.rate);
                headers.push(("x-ls-api-ratelimit-type", "api-leaky-bucket".to_owned()));
                headers.push(("retry-after", "1".to_owned()));
                return Err(self.respond(
                    error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded"),
                    headers,
                ));
            }
            Fault::ServerError => {
                return Err(self.respond_uncharged(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service temporarily unavailable",
                )));
            }
            Fault::Foreign(status) => return Err(foreign_answer(status)),
            Fault::None | Fault::LoseAnswer => {}
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let checked = self.tokens().check(token.trim());
        if let Err(hint) = checked {
            let body = json!({
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied the request.",
                "hint": hint,
                "message": "The resource owner or authorization server denied the request.",
            });
            return Err(self.respond_uncharged(Answer(StatusCode::UNAUTHORIZED, body)));
        }
        Ok(fault)
    }
}

async fn accounts(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let fault = match shared.gate(&method, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let verdict = shared.bucket().admit(&shared.rate, 1.0);
    let body = shared.render.page(
        "Account",
        json!({ "count": 1 }),
        vec![json!({
            "accountID": shared.account_id,
            "name": "Simulated shop",
            "link": { "@attributes": { "href": format!("/API/V3/Account/{}", shared.account_id) } },
        })],
    );
    let response = shared.respond(Answer(StatusCode::OK, body), verdict.headers);
    if fault == Fault::LoseAnswer {
        drop_connection();
    }
    response
}

async fn resource(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((account, rest)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let fault = match shared.gate(&method, &headers).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if account != shared.account_id.to_string() {
        let message = format!("The access token does not give access to account {account}");
        return shared.respond_uncharged(error(StatusCode::FORBIDDEN, &message));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let request = match prepare(&method, &rest, pairs, &body) {
        Ok(request) => request,
        Err(answer) => return shared.respond_uncharged(answer),
    };
    let verdict = shared
        .bucket()
        .admit(&shared.rate, shared.rate.cost(request.cost()));
    if let Some((kind, retry_after)) = verdict.refused {
        let mut headers = verdict.headers;
        headers.push(("x-ls-api-ratelimit-type", kind.to_owned()));
        headers.push(("retry-after", retry_after.to_string()));
        let message = if kind == "api-burst-limiter" {
            "Burst rate limit exceeded"
        } else {
            "Rate limit exceeded"
        };
        return shared.respond(error(StatusCode::TOO_MANY_REQUESTS, message), headers);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("http://{host}/API/V3/Account/{account}/{rest}");
    let answer = execute(&shared, request, &url);
    let response = shared.respond(answer, verdict.headers);
    if fault == Fault::LoseAnswer {
        // Carried out, but the client never hears of it.
        drop_connection();
    }
    response
}

fn prepare(
    method: &Method,
    rest: &str,
    pairs: Vec<(String, String)>,
    body: &[u8],
) -> Result<Request, Answer> {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, &message);
    let (collection, id) = match rest.strip_suffix(".json") {
        Some(path) => match path.split_once('/') {
            Some((collection, id)) => {
                let id = id
                    .parse::<i64>()
                    .map_err(|_| bad(format!("'{id}' is not an id")))?;
                (collection, Some(id))
            }
            None => (path, None),
        },
        None => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "Only .json resources are simulated",
            ));
        }
    };
    let resource = match collection {
        "Shop" => Resource::Shop,
        "Item" => Resource::Item,
        "ItemShop" => Resource::ItemShop,
        "Sale" => Resource::Sale,
        other => {
            return Err(error(
                StatusCode::NOT_FOUND,
                &format!("Unknown resource {other}"),
            ));
        }
    };
    match (method.as_str(), resource, id) {
        ("GET", _, None) => Ok(Request::List(resource, resource.parse(pairs).map_err(bad)?)),
        ("GET", Resource::Item | Resource::Sale, Some(id)) => Ok(Request::One(
            resource,
            id,
            resource.parse(pairs).map_err(bad)?.relations,
        )),
        ("POST", Resource::Sale, None) => {
            let body: Value = serde_json::from_slice(body)
                .map_err(|err| bad(format!("The body is not JSON: {err}")))?;
            let sale = resources::read_sale(&body)
                .map_err(|message| error(StatusCode::UNPROCESSABLE_ENTITY, &message))?;
            Ok(Request::CreateSale(sale))
        }
        _ => Err(error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} {rest} is not simulated"),
        )),
    }
}

fn execute(shared: &Shared, request: Request, url: &str) -> Answer {
    let render = shared.render;
    let mut data = shared.data();
    match request {
        Request::List(resource, query) => Answer(
            StatusCode::OK,
            resources::list(&data, resource, &query, url, render),
        ),
        Request::One(Resource::Item, id, relations) => match data.items.get(&id) {
            Some(item) => Answer(
                StatusCode::OK,
                resources::one(render, "Item", render.item(&data, item, &relations)),
            ),
            None => error(StatusCode::NOT_FOUND, &format!("Item {id} not found")),
        },
        Request::One(_, id, relations) => match data.sales.get(&id) {
            Some(sale) => Answer(
                StatusCode::OK,
                resources::one(render, "Sale", render.sale(sale, &relations)),
            ),
            None => error(StatusCode::NOT_FOUND, &format!("Sale {id} not found")),
        },
        Request::CreateSale(sale) => match resources::check_sale(&data, &sale) {
            Ok(()) => {
                let sale = data.record_sale(sale);
                let relations = ["SaleLines".to_owned(), "SalePayments".to_owned()];
                Answer(
                    StatusCode::OK,
                    resources::one(render, "Sale", render.sale(sale, &relations)),
                )
            }
            Err(message) => error(StatusCode::UNPROCESSABLE_ENTITY, &message),
        },
    }
}

/// `POST /_sim/sale {"pos_ref": "12", "quantity": 2}`: a cashier sells at the till.
async fn till_sale(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct TillSale {
        pos_ref: String,
        quantity: i64,
    }
    let sale = match serde_json::from_slice::<TillSale>(&body) {
        Ok(sale) => sale,
        Err(err) => {
            let message = format!("expected {{\"pos_ref\": \"…\", \"quantity\": n}}: {err}");
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "message": message })),
            )
                .into_response();
        }
    };
    match shared.sell_at_till(&sale.pos_ref, shared.till_shop, sale.quantity) {
        Ok(sale_id) => axum::Json(json!({ "saleID": sale_id })).into_response(),
        Err(message) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "message": message })),
        )
            .into_response(),
    }
}
