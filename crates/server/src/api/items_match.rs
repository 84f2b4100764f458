//! `POST /api/items/match`: links every shop item whose SKU equals one POS product's SKU (or
//! barcode) on an account, reading both catalogues in bulk once (`domain::matching` decides),
//! and answers what was matched, what was not, and what is ambiguous. `dry_run` links nothing.

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, FlexId};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use stocksync_domain::AccountId;
use stocksync_domain::link::NewLink;
use stocksync_domain::matching::{Match, MatchBy, plan_matches};
use stocksync_domain::shop::ShopItem;
use stocksync_store::InsertedLink;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(match_items))
}

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum By {
    Sku,
    Barcode,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MatchBody {
    account_id: FlexId,
    /// What a shop item's SKU is compared with: the POS product's SKU (default) or barcode.
    #[serde(default = "by_sku")]
    by: By,
    /// Answer what would be linked, and link nothing.
    #[serde(default)]
    dry_run: bool,
}

fn by_sku() -> By {
    By::Sku
}

/// A shop item and the POS product it is (or would be) linked to.
#[derive(Serialize, ToSchema)]
struct Pair {
    item_ecommerce_id: String,
    item_pos_id: String,
    sku: String,
    name: String,
}

/// A shop item no POS product matches.
#[derive(Serialize, ToSchema)]
struct Unmatched {
    item_ecommerce_id: String,
    sku: Option<String>,
    name: String,
}

/// A SKU that several shop items or several POS products share: nothing linked for it.
#[derive(Serialize, ToSchema)]
struct AmbiguousSku {
    sku: String,
    item_ecommerce_ids: Vec<String>,
    item_pos_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct MatchAnswer {
    dry_run: bool,
    /// Linked now (or, in a dry run, that would be).
    matched: Vec<Pair>,
    unmatched: Vec<Unmatched>,
    ambiguous: Vec<AmbiguousSku>,
    /// Pairs linked before: left as they are.
    already_linked: Vec<Pair>,
}

fn pair(found: &Match) -> Pair {
    Pair {
        item_ecommerce_id: found.shop_item.item.id.to_string(),
        item_pos_id: found.product.pos_ref.to_string(),
        sku: found.shop_item.sku.clone().unwrap_or_default(),
        name: found.shop_item.name.clone(),
    }
}

fn unmatched(item: &ShopItem) -> Unmatched {
    Unmatched {
        item_ecommerce_id: item.item.id.to_string(),
        sku: item.sku.clone(),
        name: item.name.clone(),
    }
}

#[utoipa::path(
    post,
    path = "/api/items/match",
    tag = "items",
    description = "Links every shop item whose SKU equals exactly one POS product's SKU (`by: sku`) or barcode (`by: barcode`) on `account_id`; `dry_run` links nothing. Needs a shop platform (`Shop`).",
    request_body = MatchBody,
    responses((status = 200, description = "what was matched, unmatched, ambiguous", body = MatchAnswer), (status = 400, description = "no shop platform is configured, or the body is not JSON", body = ErrorBody), (status = 404, description = "unknown account", body = ErrorBody), (status = 422, description = "a body that is not an object of these fields", body = ErrorBody), (status = 502, description = "the shop platform refused our credentials or the request", body = ErrorBody), (status = 503, description = "the POS or the shop cannot be reached", body = ErrorBody))
)]
async fn match_items(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MatchBody>,
) -> Result<Json<MatchAnswer>, ApiError> {
    let shop = state.shop.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "matching needs a shop platform (Shop in the configuration) to read its items",
        )
    })?;
    let account_id = AccountId::new(&body.account_id.0);
    let account = state.accounts.get(&account_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no POS account '{account_id}' is configured (configured: {})",
            state.accounts.ids().join(", ")
        ))
    })?;
    let (shop_items, products) = tokio::try_join!(
        async { shop.connector.items().await.map_err(ApiError::from) },
        async { account.connector.products().await.map_err(ApiError::from) },
    )?;
    let linked: HashMap<_, _> = state
        .store
        .links_of_account(&account_id)
        .await?
        .into_iter()
        .map(|link| (link.pos_ref, link.ecommerce_id))
        .collect();
    let by = match body.by {
        By::Sku => MatchBy::Sku,
        By::Barcode => MatchBy::Barcode,
    };
    let plan = plan_matches(&shop_items, &products, by, &linked);
    let mut already_linked: Vec<Pair> = plan.already_linked.iter().map(pair).collect();
    let matched = if body.dry_run {
        plan.matched.iter().map(pair).collect()
    } else {
        let news: Vec<NewLink> = plan
            .matched
            .iter()
            .map(|found| NewLink {
                pos_ref: found.product.pos_ref.clone(),
                ecommerce_id: found.shop_item.item.id.clone(),
                quantity: found.product.quantity,
                account_id: account_id.clone(),
                description: found.product.name.clone(),
                limit_quantity: 0,
                primary: false,
                shop_locator: found.shop_item.item.locator.clone(),
            })
            .collect();
        let outcomes = state.store.insert_links(&news).await?;
        let mut matched = Vec::with_capacity(outcomes.len());
        for (found, outcome) in plan.matched.iter().zip(outcomes) {
            match outcome {
                InsertedLink::Created(_) => matched.push(pair(found)),
                // Linked by someone else since the catalogue was read.
                InsertedLink::AlreadyLinked(_) => already_linked.push(pair(found)),
            }
        }
        matched
    };
    if !body.dry_run {
        shop.wake.notify_one();
    }
    Ok(Json(MatchAnswer {
        dry_run: body.dry_run,
        matched,
        unmatched: plan.unmatched.iter().map(unmatched).collect(),
        ambiguous: plan
            .ambiguous
            .iter()
            .map(|a| AmbiguousSku {
                sku: a.sku.clone(),
                item_ecommerce_ids: a.shop_items.iter().map(ToString::to_string).collect(),
                item_pos_ids: a.products.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        already_linked,
    }))
}
