//! `POST /webhooks/shop`: the shop platform's webhook deliveries, signed with
//! `Shop.WebhookSecret` (WooCommerce: read by `stocksync_woocommerce::read_delivery`; Shopify:
//! by `stocksync_shopify::read_delivery`, a delivery already handled here answered at once;
//! PrestaShop sends none). Each platform's delivery becomes a [`Hint`], and a hint is never the
//! truth: an order delivery has that order read from the shop at once and ingested as the poll
//! would (the same keys: a line seen by both moves once); an item delivery whose quantity is
//! not the one stocksync knows (the merchant's edit, not an echo of stocksync's own write) has
//! the item's shop quantity read again before its next write. A shop that cannot be read
//! answers 200 all the same: the poll, which never misses an order, catches up (a non-2xx
//! would only count towards the platform disabling the webhook).

use super::webhooks::{count, refused};
use super::{AppState, error::ApiError};
use crate::config::ShopAccess;
use crate::shop::{ShopHandle, orders};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use stocksync_domain::{EcommerceId, ShopKind};
use stocksync_pos::signature::DeliveryError;
use stocksync_shopify::Topic;
use stocksync_store::ReportedItem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shop))
}

fn answer(status: &str) -> (StatusCode, Json<Value>) {
    (StatusCode::OK, Json(json!({ "status": status })))
}

/// What a delivery asks of stocksync, whatever the platform.
#[derive(Debug, PartialEq, Eq)]
enum Hint {
    /// The platform checking the address: nothing to do.
    Ping,
    /// A topic stocksync has nothing to do with.
    Ignored,
    /// Read this order again and count it.
    Order(String),
    /// The shop's quantity of this item changed to `quantity` (`None`: not said).
    Item {
        item: ReportedItem,
        quantity: Option<i64>,
    },
}

/// A WooCommerce delivery's hint.
fn woocommerce(delivery: stocksync_woocommerce::Delivery) -> Hint {
    use stocksync_woocommerce::Delivery;
    match delivery {
        Delivery::Ping { .. } => Hint::Ping,
        Delivery::Other { .. } => Hint::Ignored,
        Delivery::Order { id } => Hint::Order(id),
        Delivery::Product {
            id, stock_quantity, ..
        } => Hint::Item {
            item: ReportedItem::Id(EcommerceId::new(id)),
            quantity: stock_quantity,
        },
    }
}

/// A Shopify delivery's hint; a level at a location other than `location` (a numeric id,
/// when configured) is none of stocksync's business.
fn shopify(delivery: stocksync_shopify::Delivery, location: Option<&str>) -> Hint {
    match (delivery.topic, delivery.order, delivery.inventory_item) {
        (Topic::InventoryLevelUpdated, _, Some(item)) => match delivery.level {
            Some((at, _)) if location.is_some_and(|ours| ours != at) => Hint::Ignored,
            level => Hint::Item {
                item: ReportedItem::Locator(format!("gid://shopify/InventoryItem/{item}")),
                quantity: level.map(|(_, available)| available),
            },
        },
        (
            Topic::OrderCreated
            | Topic::OrderUpdated
            | Topic::OrderCancelled
            | Topic::RefundCreated,
            Some(order),
            _,
        ) => Hint::Order(order),
        _ => Hint::Ignored,
    }
}

/// The numeric id of the configured Shopify location, if one is configured.
fn shopify_location(shop: &ShopHandle) -> Option<&str> {
    match &shop.config.access {
        ShopAccess::Shopify {
            location_id: Some(gid),
            ..
        } => gid.rsplit('/').next(),
        _ => None,
    }
}

#[utoipa::path(
    post,
    path = "/webhooks/shop",
    tag = "webhooks",
    description = "A shop platform's webhook delivery, signed with `Shop.WebhookSecret`: WooCommerce (`order.*`, `product.*`; `X-WC-Webhook-Signature`) or Shopify (`orders/create`, `orders/updated`, `orders/cancelled`, `refunds/create`, `inventory_levels/update`; `X-Shopify-Hmac-Sha256`, de-duplicated by `X-Shopify-Webhook-Id`). An order delivery has that order read and counted at once; a shop that cannot be read then still answers 200 (`deferred`): the poll catches up. PrestaShop sends no webhooks.",
    responses(
        (status = 200, description = "ping, ingested, accepted, duplicate, deferred or ignored"),
        (status = 400, description = "not a delivery of the configured platform"),
        (status = 401, description = "unsigned or bad signature"),
        (status = 404, description = "no shop, no Shop.WebhookSecret, or a platform without webhooks is configured")
    )
)]
async fn shop(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(shop) = &state.shop else {
        return Err(ApiError::not_found("no shop platform is configured (Shop)"));
    };
    if shop.config.kind == ShopKind::PrestaShop {
        return Err(ApiError::not_found(
            "PrestaShop sends no webhooks: its orders are polled (Shop.Cron)",
        ));
    }
    let Some(secret) = &shop.config.webhook_secret else {
        return Err(ApiError::not_found(
            "Shop.WebhookSecret is not configured: shop webhooks are refused and orders are polled only",
        ));
    };
    let secret = Some(secret.expose_secret());
    let read = match shop.config.kind {
        ShopKind::Shopify => stocksync_shopify::read_delivery(secret, &headers, &body)
            .map(|delivery| (Some(delivery.webhook_id.clone()), delivery))
            .map(|(id, delivery)| (id, shopify(delivery, shopify_location(shop)))),
        _ => stocksync_woocommerce::read_delivery(secret, &headers, &body)
            .map(|delivery| (None, woocommerce(delivery))),
    };
    let (delivery_id, hint) = match read {
        Ok(read) => read,
        Err(err) => return Err(refusal(&state, &err)),
    };
    count(&state, "shop", "accepted");
    if let Some(id) = &delivery_id
        && shop.deliveries.lock().expect("not poisoned").seen(id)
    {
        return Ok(answer("duplicate"));
    }
    let status = act(&state, shop, hint).await?;
    if let Some(id) = &delivery_id
        && status != "deferred"
    {
        shop.deliveries.lock().expect("not poisoned").handled(id);
    }
    Ok(answer(status))
}

fn refusal(state: &AppState, err: &DeliveryError) -> ApiError {
    if err.is_unauthorized() {
        tracing::warn!(error = %err, "a shop webhook was refused");
        count(state, "shop", "rejected");
        refused(&err.to_string())
    } else {
        ApiError::bad_request(err.to_string())
    }
}

/// Does what `hint` asks; the answer's status.
async fn act(state: &AppState, shop: &ShopHandle, hint: Hint) -> Result<&'static str, ApiError> {
    Ok(match hint {
        Hint::Ping => "ping",
        Hint::Ignored => "ignored",
        Hint::Item { item, quantity } => {
            if state.store.shop_quantity_reported(&item, quantity).await? {
                shop.wake.notify_one();
                "accepted"
            } else {
                "ignored"
            }
        }
        Hint::Order(id) => match shop.connector.order(&id).await {
            Ok(Some(order)) => {
                let ingested = {
                    let _turn = shop.turn.lock().await;
                    let read = state.store.shop_read_state(shop.state_name()).await?;
                    orders::ingest(
                        &state.store,
                        shop,
                        read.connected_at,
                        &state.outbox_wake,
                        &order,
                    )
                    .await?
                };
                if ingested.moves > 0 {
                    shop.wake.notify_one();
                }
                "ingested"
            }
            Ok(None) => "ignored",
            Err(err) => {
                tracing::warn!(order = %id, error = %err, "a webhook's order could not be read; the poll will catch up");
                shop.wake.notify_one();
                "deferred"
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(
        topic: &str,
        order: Option<&str>,
        item: Option<&str>,
    ) -> stocksync_shopify::Delivery {
        stocksync_shopify::Delivery {
            topic: Topic::parse(topic),
            webhook_id: "w1".into(),
            order: order.map(str::to_owned),
            inventory_item: item.map(str::to_owned),
            level: item.map(|_| ("7".to_owned(), 3)),
        }
    }

    #[test]
    fn shopify_orders_and_refunds_are_read_and_levels_elsewhere_ignored() {
        for topic in [
            "orders/create",
            "orders/updated",
            "orders/cancelled",
            "refunds/create",
        ] {
            assert_eq!(
                shopify(delivery(topic, Some("42"), None), None),
                Hint::Order("42".into()),
                "{topic}"
            );
        }
        let level = delivery("inventory_levels/update", None, Some("9"));
        let ours = Hint::Item {
            item: ReportedItem::Locator("gid://shopify/InventoryItem/9".into()),
            quantity: Some(3),
        };
        assert_eq!(shopify(level.clone(), Some("7")), ours);
        assert_eq!(shopify(level.clone(), None), ours);
        assert_eq!(shopify(level, Some("8")), Hint::Ignored, "another location");
        assert_eq!(
            shopify(delivery("products/update", None, None), None),
            Hint::Ignored
        );
    }
}
