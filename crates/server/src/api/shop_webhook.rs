//! `POST /webhooks/shop`: the shop platform's webhook deliveries (WooCommerce: signed with
//! `Shop.WebhookSecret`, read by `stocksync_woocommerce::read_delivery`). A delivery is a hint,
//! never the truth: an order delivery has that order read from the shop at once and ingested
//! as the poll would (the same keys: a line seen by both moves once); a product delivery (an
//! echo of our own write, or the merchant's edit) has the item's shop quantity read again
//! before its next write. A shop that cannot be read answers 200 all the same: the poll, which
//! never misses an order, catches up (a non-2xx would only count towards WooCommerce disabling
//! the webhook).

use super::webhooks::{count, refused};
use super::{AppState, error::ApiError};
use crate::shop::orders;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use stocksync_domain::EcommerceId;
use stocksync_woocommerce::{Delivery, read_delivery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shop))
}

fn answer(status: &str) -> (StatusCode, Json<Value>) {
    (StatusCode::OK, Json(json!({ "status": status })))
}

#[utoipa::path(
    post,
    path = "/webhooks/shop",
    tag = "webhooks",
    description = "A WooCommerce webhook delivery (topics `order.*` and `product.*`), signed with `Shop.WebhookSecret` (`X-WC-Webhook-Signature`). An order delivery has that order read and counted at once; a shop that cannot be read then still answers 200 (`deferred`): the poll catches up.",
    responses(
        (status = 200, description = "ping, ingested, deferred or ignored"),
        (status = 400, description = "not a WooCommerce delivery"),
        (status = 401, description = "unsigned or bad signature"),
        (status = 404, description = "no shop, or no Shop.WebhookSecret, is configured")
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
    let Some(secret) = &shop.config.webhook_secret else {
        return Err(ApiError::not_found(
            "Shop.WebhookSecret is not configured: shop webhooks are refused and orders are polled only",
        ));
    };
    let delivery = match read_delivery(Some(secret.expose_secret()), &headers, &body) {
        Ok(delivery) => delivery,
        Err(err) if err.is_unauthorized() => {
            tracing::warn!(error = %err, "a shop webhook was refused");
            count(&state, "shop", "rejected");
            return Err(refused(&err.to_string()));
        }
        Err(err) => return Err(ApiError::bad_request(err.to_string())),
    };
    count(&state, "shop", "accepted");
    match delivery {
        Delivery::Ping { .. } => Ok(answer("ping")),
        Delivery::Other { .. } => Ok(answer("ignored")),
        Delivery::Product { id, .. } => {
            state
                .store
                .forget_shop_quantities(&[EcommerceId::new(id)])
                .await?;
            shop.wake.notify_one();
            Ok(answer("accepted"))
        }
        Delivery::Order { id } => match shop.connector.order(&id).await {
            Ok(Some(order)) => {
                let ingested = {
                    let _turn = shop.turn.lock().await;
                    let read = state.store.shop_read_state(shop.state_name()).await?;
                    orders::ingest(
                        &state.store,
                        shop.config.kind,
                        read.connected_at,
                        &state.outbox_wake,
                        &order,
                    )
                    .await?
                };
                if ingested.moves > 0 {
                    shop.wake.notify_one();
                }
                Ok(answer("ingested"))
            }
            Ok(None) => Ok(answer("ignored")),
            Err(err) => {
                tracing::warn!(order = %id, error = %err, "a webhook's order could not be read; the poll will catch up");
                shop.wake.notify_one();
                Ok(answer("deferred"))
            }
        },
    }
}
