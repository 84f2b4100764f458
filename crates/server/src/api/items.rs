//! Links (`/api/items`): register one by POS id, SKU or exact name; list, show per account,
//! change the sale limit or the primary link, remove.
//!
//! Links are shown with the original program's field names (`id`, `posID`, `ecommerceID`,
//! `quantity`, `limitQuantitySale`, `name`) plus `accountID` and `primary`, and never with any
//! credential.

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, FlexId};
use super::link_view::{self, LinkDetail};
use super::shop_item::{ShopItemName, shop_item_name};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stocksync_domain::bounds::{LimitQuantity, PageNumber, PerPage};
use stocksync_domain::link::{Link, NewLink};
use stocksync_domain::pos::{PosProduct, ProductQuery};
use stocksync_domain::shop::ItemRef;
use stocksync_domain::{AccountId, EcommerceId, LinkId, PosRef, ShopKind};
use stocksync_store::InsertedLink;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(show, update, remove))
}

/// How many name candidates an error lists at most.
const MAX_CANDIDATES: usize = 20;

/// A link to register: the POS product by `item_pos_id`, `item_sku` or exact `item_name` (that
/// order wins), on `account_id`, for the shop item `item_ecommerce_id`, or the shop platform's
/// item whose SKU is `item_shop_sku`.
#[derive(Deserialize, ToSchema)]
struct RegisterBody {
    item_pos_id: Option<FlexId>,
    item_sku: Option<FlexId>,
    item_name: Option<String>,
    item_ecommerce_id: Option<FlexId>,
    /// With a shop platform (`Shop`): the shop item is the one with this SKU.
    item_shop_sku: Option<FlexId>,
    account_id: FlexId,
    /// Web sales stop before the quantity goes below it (default 0).
    #[serde(default = "no_limit")]
    limit_quantity: LimitQuantity,
    /// Web sales of the shop item go to this link first.
    #[serde(default)]
    primary: bool,
}

fn no_limit() -> LimitQuantity {
    LimitQuantity::LOWEST
}

#[utoipa::path(
    post,
    path = "/api/items",
    tag = "items",
    description = "Registers a link: `item_pos_id`, `item_sku` or `item_name`, with `item_ecommerce_id` (or, with a shop platform, `item_shop_sku`), `account_id`, `limit_quantity`, `primary`.",
    request_body = RegisterBody,
    responses((status = 201, description = "the link", body = LinkView), (status = 400, description = "invalid request", body = ErrorBody), (status = 404, description = "unknown account or product (with candidates)", body = ErrorBody), (status = 409, description = "ambiguous name or already linked", body = ErrorBody), (status = 422, description = "malformed body, or a number out of its bounds", body = ErrorBody), (status = 502, description = "the shop platform refused our credentials or the request", body = ErrorBody), (status = 503, description = "the POS or the shop cannot be reached", body = ErrorBody))
)]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
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
    let shop_item = shop_item(&state, &body).await?;
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
        ecommerce_id: shop_item.id.clone(),
        quantity: product.quantity,
        account_id,
        description: product.name,
        limit_quantity: body.limit_quantity.get(),
        primary: body.primary,
        shop_locator: shop_item.locator.clone(),
    };
    match state.store.insert_link(&new).await? {
        InsertedLink::Created(link) => Ok((
            StatusCode::CREATED,
            Json(LinkView::new(&link, state.shop_kind())),
        )),
        InsertedLink::AlreadyLinked(existing) => Err(ApiError::conflict(format!(
            "POS product {} of account {} is already linked (link {})",
            existing.pos_ref, existing.account_id, existing.id
        ))
        .with_details(json!({ "existing": LinkView::new(&existing, state.shop_kind()) }))),
    }
}

/// The shop item a registration names: `item_ecommerce_id`, or the shop platform's one item
/// whose SKU is `item_shop_sku`.
async fn shop_item(state: &AppState, body: &RegisterBody) -> Result<ItemRef, ApiError> {
    match (&body.item_ecommerce_id, &body.item_shop_sku) {
        (Some(id), None) => Ok(ItemRef {
            id: EcommerceId::new(&id.0),
            locator: None,
        }),
        (None, Some(sku)) => {
            let shop = state.shop.as_ref().ok_or_else(|| {
                ApiError::bad_request(
                    "item_shop_sku needs a shop platform (Shop in the configuration); give item_ecommerce_id",
                )
            })?;
            let found = shop
                .connector
                .items_by_sku(std::slice::from_ref(&sku.0))
                .await?;
            let mut exact = found
                .into_iter()
                .filter(|item| item.sku.as_deref() == Some(sku.0.as_str()));
            match (exact.next(), exact.next()) {
                (Some(item), None) => Ok(item.item),
                (None, _) => Err(ApiError::not_found(format!(
                    "no item of the shop has SKU '{}'",
                    sku.0
                ))),
                (Some(first), Some(second)) => Err(ApiError::conflict(format!(
                    "several items of the shop have SKU '{}' ({}, {}, …); give item_ecommerce_id",
                    sku.0, first.item.id, second.item.id
                ))),
            }
        }
        _ => Err(ApiError::bad_request(
            "give the shop item as item_ecommerce_id or item_shop_sku (one of them)",
        )),
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

/// `?page=&per_page=`, 1-based (`page` 1 to 1 000 000, `per_page` 1 to 1000, default 100).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    #[serde(default = "first_page")]
    #[param(inline)]
    pub page: PageNumber,
    #[serde(default = "default_per_page")]
    #[param(inline)]
    pub per_page: PerPage,
}

impl Page {
    /// Rows before this page (at most 999 999 000: the bounds keep it far from overflowing).
    pub fn offset(&self) -> i64 {
        (self.page.get() - 1) * self.per_page.get()
    }

    pub fn limit(&self) -> i64 {
        self.per_page.get()
    }

    /// Where this page is in a list of `total` rows.
    pub fn paging(&self, total: i64) -> Paging {
        Paging {
            page: self.page,
            per_page: self.per_page,
            total,
        }
    }
}

fn first_page() -> PageNumber {
    PageNumber::LOWEST
}

fn default_per_page() -> PerPage {
    PerPage::DEFAULT
}

/// Where a page is in its list (flattened into each page's answer).
#[derive(Serialize, ToSchema)]
pub struct Paging {
    page: PageNumber,
    per_page: PerPage,
    /// Rows in the whole list.
    total: i64,
}

/// A page of links.
#[derive(Serialize, ToSchema)]
struct LinkPage {
    items: Vec<LinkView>,
    #[serde(flatten)]
    paging: Paging,
}

#[utoipa::path(
    get,
    path = "/api/items",
    tag = "items",
    description = "Links, paginated.",
    params(Page),
    responses((status = 200, description = "a page of links", body = LinkPage), (status = 400, description = "`page` or `per_page` out of bounds", body = ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<LinkPage>, ApiError> {
    let found = state.store.links(page.offset(), page.limit()).await?;
    Ok(Json(LinkPage {
        items: found
            .links
            .iter()
            .map(|link| LinkView::new(link, state.shop_kind()))
            .collect(),
        paging: page.paging(found.total),
    }))
}

/// `GET /api/items/{key}`'s answer: an account's links, or one link seen closely.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum LinksOrLink {
    Account(Vec<LinkView>),
    Link(Box<LinkDetail>),
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
    responses((status = 200, description = "links, or one link", body = LinksOrLink), (status = 404, description = "neither an account nor a link", body = ErrorBody))
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<LinksOrLink>, ApiError> {
    let account = AccountId::new(&key);
    let links = state.store.links_of_account(&account).await?;
    if !links.is_empty() || state.accounts.get(&account).is_some() {
        return Ok(Json(LinksOrLink::Account(
            links
                .iter()
                .map(|link| LinkView::new(link, state.shop_kind()))
                .collect(),
        )));
    }
    if let Ok(id) = key.parse::<LinkId>()
        && let Some(link) = state.store.link(id).await?
    {
        let detail = link_view::detail(&state, link).await?;
        return Ok(Json(LinksOrLink::Link(Box::new(detail))));
    }
    Err(ApiError::not_found(format!(
        "'{key}' is neither a configured POS account nor a link id"
    )))
}

/// What a link may change: its sale limit and whether it is the item's primary link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    limit_quantity: Option<LimitQuantity>,
    primary: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/api/items/{id}",
    tag = "items",
    description = "Changes `limit_quantity` and/or `primary` of a link.",
    params(("id" = i64, Path, description = "the link id")),
    request_body = UpdateBody,
    responses((status = 200, description = "the link", body = LinkView), (status = 400, description = "invalid request", body = ErrorBody), (status = 404, description = "no such link", body = ErrorBody), (status = 422, description = "an unknown field, or a number out of its bounds", body = ErrorBody))
)]
async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<LinkId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<LinkView>, ApiError> {
    if body.limit_quantity.is_none() && body.primary.is_none() {
        return Err(ApiError::bad_request("give limit_quantity or primary"));
    }
    let mut link = state.store.link(id).await?.ok_or_else(|| no_link(id))?;
    if let Some(limit) = body.limit_quantity {
        link = state
            .store
            .set_limit_quantity(id, limit.get())
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
    Ok(Json(LinkView::new(&link, state.shop_kind())))
}

#[utoipa::path(
    delete,
    path = "/api/items/{id}",
    tag = "items",
    description = "Removes a link (its ledger and sales stay).",
    params(("id" = i64, Path, description = "the link id")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such link", body = ErrorBody))
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
#[derive(Serialize, ToSchema)]
pub struct LinkView {
    id: String,
    #[serde(rename = "posID")]
    pos_id: String,
    #[serde(rename = "ecommerceID")]
    ecommerce_id: String,
    /// Units the web shop may sell.
    quantity: i64,
    /// Web sales stop before `quantity` goes below it.
    #[serde(rename = "limitQuantitySale")]
    limit_quantity_sale: i64,
    /// The product's name on the POS when it was linked.
    name: String,
    #[serde(rename = "accountID")]
    account_id: String,
    /// Web sales of the shop item go to this link first.
    primary: bool,
    /// What `ecommerceID` names on the configured shop platform (absent without a `Shop`).
    #[serde(rename = "shopItem", skip_serializing_if = "Option::is_none")]
    shop_item: Option<ShopItemName>,
}

impl LinkView {
    /// `link` as answered, its shop item spelled out for a `shop` platform.
    pub fn new(link: &Link, shop: Option<ShopKind>) -> Self {
        Self {
            id: link.id.to_string(),
            pos_id: link.pos_ref.to_string(),
            ecommerce_id: link.ecommerce_id.to_string(),
            quantity: link.quantity,
            limit_quantity_sale: link.limit_quantity,
            name: link.description.clone(),
            account_id: link.account_id.to_string(),
            primary: link.primary,
            shop_item: shop.map(|kind| shop_item_name(kind, link.ecommerce_id.as_str())),
        }
    }
}
