//! Links (`/api/items`): register one by POS id, SKU or exact name; list, show per account,
//! change the sale limit or the primary link, remove.
//!
//! Links are shown with the original program's field names (`id`, `posID`, `ecommerceID`,
//! `quantity`, `limitQuantitySale`, `name`) plus `accountID` and `primary`, and never with any
//! credential.

use super::extract::{ApiJson, ApiPath, ApiQuery, FlexId};
use super::{AppState, error::ApiError, link_view};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::link::{Link, NewLink};
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::{AccountId, EcommerceId, LinkId, PosRef};
use stocksync_store::InsertedLink;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(show, update, remove))
}

/// How many name candidates an error lists at most.
const MAX_CANDIDATES: usize = 20;

#[derive(Deserialize)]
struct RegisterBody {
    item_pos_id: Option<FlexId>,
    item_sku: Option<FlexId>,
    item_name: Option<String>,
    item_ecommerce_id: FlexId,
    account_id: FlexId,
    #[serde(default)]
    limit_quantity: i64,
    /// Web sales of the shop item go to this link first.
    #[serde(default)]
    primary: bool,
}

#[utoipa::path(
    post,
    path = "/api/items",
    tag = "items",
    description = "Registers a link: `item_pos_id`, `item_sku` or `item_name`, with `item_ecommerce_id`, `account_id`, `limit_quantity`, `primary`.",
    responses((status = 201, description = "the link"), (status = 400, description = "invalid request"), (status = 404, description = "unknown account or product (with candidates)"), (status = 409, description = "ambiguous name or already linked"), (status = 422, description = "malformed body"), (status = 503, description = "the POS cannot be reached"))
)]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if body.limit_quantity < 0 {
        return Err(ApiError::bad_request("limit_quantity must be 0 or more"));
    }
    let query = match (&body.item_pos_id, &body.item_sku, &body.item_name) {
        (Some(id), _, _) => ProductQuery::Id(PosRef::new(&id.0)),
        (None, Some(sku), _) => ProductQuery::Sku(sku.0.clone()),
        (None, None, Some(name)) if !name.trim().is_empty() => ProductQuery::Name(name.clone()),
        _ => {
            return Err(ApiError::bad_request(
                "give the POS product as item_pos_id, item_sku or item_name",
            ));
        }
    };
    let account_id = AccountId::new(&body.account_id.0);
    let account = state.accounts.get(&account_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no POS account '{account_id}' is configured (configured: {})",
            state.accounts.ids().join(", ")
        ))
    })?;
    let found = account.connector.find_products(&query).await?;
    let product = choose(&query, found)?;
    let new = NewLink {
        pos_ref: product.pos_ref,
        ecommerce_id: EcommerceId::new(&body.item_ecommerce_id.0),
        quantity: product.quantity,
        account_id,
        description: product.name,
        limit_quantity: body.limit_quantity,
        primary: body.primary,
    };
    match state.store.insert_link(&new).await? {
        InsertedLink::Created(link) => Ok((StatusCode::CREATED, Json(link_json(&link)))),
        InsertedLink::AlreadyLinked(existing) => Err(ApiError::conflict(format!(
            "POS product {} of account {} is already linked (link {})",
            existing.pos_ref, existing.account_id, existing.id
        ))
        .with_details(json!({ "existing": link_json(&existing) }))),
    }
}

/// Keeps the one product the query names exactly; none or several is an error that lists
/// the candidates.
fn choose(query: &ProductQuery, found: Vec<PosProduct>) -> Result<PosProduct, ApiError> {
    let (what, exact): (String, Vec<PosProduct>) = match query {
        ProductQuery::Id(id) => (
            format!("id '{id}'"),
            found.iter().filter(|p| &p.pos_ref == id).cloned().collect(),
        ),
        ProductQuery::Sku(sku) => (
            format!("SKU '{sku}'"),
            found
                .iter()
                .filter(|p| p.sku.as_deref() == Some(sku))
                .cloned()
                .collect(),
        ),
        ProductQuery::Name(name) => (
            format!("name '{name}'"),
            found.iter().filter(|p| &p.name == name).cloned().collect(),
        ),
    };
    let candidates = |products: &[PosProduct]| -> Value {
        products
            .iter()
            .take(MAX_CANDIDATES)
            .map(|p| json!({ "item_pos_id": p.pos_ref, "name": p.name, "sku": p.sku }))
            .collect()
    };
    match exact.len() {
        1 => Ok(exact.into_iter().next().expect("one product")),
        0 => Err(
            ApiError::not_found(format!("no product with {what} on the POS"))
                .with_details(json!({ "candidates": candidates(&found) })),
        ),
        n => Err(ApiError::conflict(format!(
            "{n} products have {what}; register by item_pos_id instead"
        ))
        .with_details(json!({ "candidates": candidates(&exact) }))),
    }
}

/// `?page=&per_page=`, 1-based.
#[derive(Deserialize)]
pub struct Page {
    #[serde(default = "first_page")]
    pub page: i64,
    #[serde(default = "default_per_page")]
    pub per_page: i64,
}

impl Page {
    pub fn check(&self) -> Result<(), ApiError> {
        if self.page < 1 || !(1..=MAX_PER_PAGE).contains(&self.per_page) {
            return Err(ApiError::bad_request(format!(
                "page starts at 1 and per_page is 1 to {MAX_PER_PAGE}"
            )));
        }
        Ok(())
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// A page of answers: `{"<name>": […], "page", "per_page", "total"}`.
    pub fn answer(&self, name: &str, items: Vec<Value>, total: i64) -> Json<Value> {
        let mut body = json!({ "page": self.page, "per_page": self.per_page, "total": total });
        body[name] = Value::Array(items);
        Json(body)
    }
}

fn first_page() -> i64 {
    1
}
fn default_per_page() -> i64 {
    100
}
const MAX_PER_PAGE: i64 = 1000;

#[utoipa::path(
    get,
    path = "/api/items",
    tag = "items",
    description = "Links, paginated (`page`, `per_page` 1–1000).",
    responses((status = 200, description = "a page of links"), (status = 400, description = "bad paging"))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Value>, ApiError> {
    page.check()?;
    let found = state.store.links(page.offset(), page.per_page).await?;
    Ok(page.answer(
        "items",
        found.links.iter().map(link_json).collect(),
        found.total,
    ))
}

/// `GET /api/items/{key}`: the original's list of one account's links when `key` is a
/// configured account (or one that links still name); otherwise, when it is a link's id, that
/// link's close view. Account ids win, so the original route keeps its meaning.
#[utoipa::path(
    get,
    path = "/api/items/{id}",
    tag = "items",
    description = "An account's links (the original route) or, for a link id, that link seen closely.",
    params(("id" = String, Path, description = "an account id or a link id")),
    responses((status = 200, description = "links, or one link"), (status = 404, description = "neither an account nor a link"))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId::new(&key);
    let links = state.store.links_of_account(&account).await?;
    if !links.is_empty() || state.accounts.get(&account).is_some() {
        return Ok(Json(links.iter().map(link_json).collect()));
    }
    if let Ok(id) = key.parse::<LinkId>()
        && let Some(link) = state.store.link(id).await?
    {
        return link_view::show(&state, link).await;
    }
    Err(ApiError::not_found(format!(
        "'{key}' is neither a configured POS account nor a link id"
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    limit_quantity: Option<i64>,
    primary: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/api/items/{id}",
    tag = "items",
    description = "Changes `limit_quantity` and/or `primary` of a link.",
    params(("id" = String, Path, description = "the link id")),
    responses((status = 200, description = "the link"), (status = 400, description = "invalid request"), (status = 404, description = "no such link"))
)]
async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<LinkId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    if body.limit_quantity.is_none() && body.primary.is_none() {
        return Err(ApiError::bad_request("give limit_quantity or primary"));
    }
    if body.limit_quantity.is_some_and(|limit| limit < 0) {
        return Err(ApiError::bad_request("limit_quantity must be 0 or more"));
    }
    let mut link = state.store.link(id).await?.ok_or_else(|| no_link(id))?;
    if let Some(limit) = body.limit_quantity {
        link = state
            .store
            .set_limit_quantity(id, limit)
            .await?
            .ok_or_else(|| no_link(id))?;
    }
    if let Some(primary) = body.primary {
        link = state
            .store
            .set_primary(id, primary)
            .await?
            .ok_or_else(|| no_link(id))?;
    }
    Ok(Json(link_json(&link)))
}

#[utoipa::path(
    delete,
    path = "/api/items/{id}",
    tag = "items",
    description = "Removes a link (its ledger and sales stay).",
    params(("id" = String, Path, description = "the link id")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such link"))
)]
async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<LinkId>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_link(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_link(id))
    }
}

fn no_link(id: LinkId) -> ApiError {
    ApiError::not_found(format!("no link with id {id}"))
}

/// A link in the original program's field names (ids as strings, as it sent them).
pub fn link_json(link: &Link) -> Value {
    json!({
        "id": link.id.to_string(),
        "posID": link.pos_ref,
        "ecommerceID": link.ecommerce_id,
        "quantity": link.quantity,
        "limitQuantitySale": link.limit_quantity,
        "name": link.description,
        "accountID": link.account_id,
        "primary": link.primary,
    })
}
