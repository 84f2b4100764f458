//! `/api/shop`: the configured shop platform at a glance (how its orders are read, its push
//! queue, the events a merchant must act on, and one word of health), and its events by kind.
//! Read from the store at each request; 404 when no `Shop` is configured. Never shows a
//! credential: the address is shown without any user, password or query.

use super::error::ErrorBody;
use super::extract::{ApiQuery, filter};
use super::{AppState, error::ApiError};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use stocksync_domain::bounds::PerPage;
use stocksync_store::{ShopEventView, ShopPushStats, ShopReadState};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(events))
}

/// The kinds of shop events (`stocksync_shop_events.kind`).
pub const EVENT_KINDS: &[&str] = &["oversold", "unlinked", "unmanaged", "refused"];

/// Events listed in the status.
const RECENT_EVENTS: i64 = 20;

/// A change not on the shop after this long makes the shop `behind`.
const BEHIND_AFTER: TimeDelta = TimeDelta::seconds(60);

/// The shop platform's state.
#[derive(Serialize, ToSchema)]
pub struct ShopStatus {
    /// The platform (`woocommerce`, `shopify`, `prestashop`).
    kind: &'static str,
    /// The shop's address, without credentials.
    base_url: String,
    webhooks: Webhooks,
    orders: ShopOrders,
    pushes: ShopPushes,
    events: ShopEventCounts,
    /// The newest events, newest first (at most 20).
    recent_events: Vec<ShopEvent>,
    health: ShopHealth,
}

/// Whether `POST /webhooks/shop` takes deliveries (`signed`: a `WebhookSecret` checks them;
/// `off`: orders are only polled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Webhooks {
    Signed,
    Off,
}

/// `failing`: the last poll of orders failed or a push waits for its retry; `behind`: a change
/// has not reached the shop for over a minute; `ok` otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShopHealth {
    Ok,
    Behind,
    Failing,
}

/// How the shop's orders are read.
#[derive(Serialize, ToSchema)]
pub struct ShopOrders {
    /// Orders modified since this are read at the next poll.
    watermark: Option<DateTime<Utc>>,
    last_poll_at: Option<DateTime<Utc>>,
    /// When the newest order that moved stock was read.
    last_order_at: Option<DateTime<Utc>>,
    /// Why the last poll failed (`null`: it did not).
    last_error: Option<String>,
}

/// The push queue: what stocksync keeps on the shop.
#[derive(Serialize, ToSchema)]
pub struct ShopPushes {
    /// Items stocksync keeps on the shop.
    items: i64,
    /// Items whose shop quantity is not yet what stocksync wants.
    due: i64,
    /// Of those, items whose last push failed.
    failing: i64,
    /// Items the shop does not track (`manage_stock` off): never written.
    unmanaged: i64,
    /// When the oldest change not yet on the shop was made.
    oldest_due_at: Option<DateTime<Utc>>,
    last_pushed_at: Option<DateTime<Utc>>,
}

/// Events by kind, since the shop was connected.
#[derive(Default, Serialize, ToSchema)]
pub struct ShopEventCounts {
    /// Order lines the stock no longer covered (sent to the POS all the same).
    oversold: i64,
    /// Order lines of items no link feeds.
    unlinked: i64,
    /// Items the shop does not track.
    unmanaged: i64,
    /// Writes the shop refused.
    refused: i64,
}

/// Something on the shop side a merchant must know of.
#[derive(Serialize, ToSchema)]
pub struct ShopEvent {
    id: i64,
    at: DateTime<Utc>,
    /// `oversold`, `unlinked`, `unmanaged` or `refused`.
    kind: String,
    item_ecommerce_id: String,
    order_id: Option<String>,
    units: i64,
    detail: String,
}

/// Events, newest first.
#[derive(Serialize, ToSchema)]
pub struct ShopEventList {
    events: Vec<ShopEvent>,
}

impl From<ShopEventView> for ShopEvent {
    fn from(event: ShopEventView) -> Self {
        Self {
            id: event.id,
            at: event.at,
            kind: event.kind,
            item_ecommerce_id: event.item_ecommerce_id,
            order_id: event.order_id,
            units: event.units,
            detail: event.detail,
        }
    }
}

impl From<ShopReadState> for ShopOrders {
    fn from(read: ShopReadState) -> Self {
        Self {
            watermark: read.watermark,
            last_poll_at: read.last_poll_at,
            last_order_at: read.last_order_at,
            last_error: read.last_error,
        }
    }
}

impl From<ShopPushStats> for ShopPushes {
    fn from(stats: ShopPushStats) -> Self {
        Self {
            items: stats.items,
            due: stats.due,
            failing: stats.failing,
            unmanaged: stats.unmanaged,
            oldest_due_at: stats.oldest_due_at,
            last_pushed_at: stats.last_pushed_at,
        }
    }
}

impl ShopEventCounts {
    fn from_rows(rows: &[(String, i64)]) -> Self {
        let count = |kind: &str| {
            rows.iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, n)| *n)
                .sum()
        };
        Self {
            oversold: count("oversold"),
            unlinked: count("unlinked"),
            unmanaged: count("unmanaged"),
            refused: count("refused"),
        }
    }
}

/// The shop's health from how its orders are read and its push queue, at `now`.
pub fn health(orders: &ShopReadState, pushes: &ShopPushStats, now: DateTime<Utc>) -> ShopHealth {
    if orders.last_error.is_some() || pushes.failing > 0 {
        ShopHealth::Failing
    } else if pushes
        .oldest_due_at
        .is_some_and(|at| now - at > BEHIND_AFTER)
    {
        ShopHealth::Behind
    } else {
        ShopHealth::Ok
    }
}

/// `url` as it may be shown: without user, password, query or fragment.
pub fn public_address(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        // The configuration only takes http(s) addresses; nothing else is shown.
        Err(_) => String::new(),
    }
}

fn shop(state: &AppState) -> Result<&crate::shop::ShopHandle, ApiError> {
    state
        .shop
        .as_ref()
        .ok_or_else(|| ApiError::not_found("no shop platform is configured (`Shop`)"))
}

#[utoipa::path(
    get,
    path = "/api/shop",
    tag = "shop",
    description = "The shop platform (`Shop` in the configuration): how its orders are read, its push queue, its events by kind and the newest 20, and its health (`failing`: the last poll failed or a push waits for its retry; `behind`: a change has waited over a minute to reach the shop).",
    responses((status = 200, description = "the shop's state", body = ShopStatus), (status = 404, description = "no shop platform is configured", body = ErrorBody))
)]
async fn status(State(state): State<AppState>) -> Result<Json<ShopStatus>, ApiError> {
    let shop = shop(&state)?;
    let store = &state.store;
    let read = store.shop_read_state(shop.state_name()).await?;
    let pushes = store.shop_push_stats().await?;
    let counts = store.shop_event_counts().await?;
    let recent = store.shop_events(None, RECENT_EVENTS).await?;
    Ok(Json(ShopStatus {
        kind: shop.config.kind.as_str(),
        base_url: public_address(&shop.config.base_url),
        webhooks: if shop.config.webhook_secret.is_some() {
            Webhooks::Signed
        } else {
            Webhooks::Off
        },
        health: health(&read, &pushes, Utc::now()),
        orders: read.into(),
        pushes: pushes.into(),
        events: ShopEventCounts::from_rows(&counts),
        recent_events: recent.into_iter().map(ShopEvent::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventFilter {
    /// `oversold`, `unlinked`, `unmanaged` or `refused`; every kind when absent.
    kind: Option<String>,
    /// How many, newest first (default 100).
    #[serde(default = "default_limit")]
    #[param(inline)]
    limit: PerPage,
}

fn default_limit() -> PerPage {
    PerPage::DEFAULT
}

fn event_kind(name: &str) -> Option<&'static str> {
    EVENT_KINDS.iter().copied().find(|kind| *kind == name)
}

#[utoipa::path(
    get,
    path = "/api/shop/events",
    tag = "shop",
    description = "The shop's events, newest first, optionally of one `kind`.",
    params(EventFilter),
    responses((status = 200, description = "events, newest first", body = ShopEventList), (status = 400, description = "unknown kind, or `limit` out of bounds", body = ErrorBody), (status = 404, description = "no shop platform is configured", body = ErrorBody))
)]
async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventFilter>,
) -> Result<Json<ShopEventList>, ApiError> {
    shop(&state)?;
    let kind = filter("kind", query.kind.as_deref(), event_kind, EVENT_KINDS)?;
    let events = state.store.shop_events(kind, query.limit.get()).await?;
    Ok(Json(ShopEventList {
        events: events.into_iter().map(ShopEvent::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds_ago: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(now - TimeDelta::seconds(seconds_ago))
    }

    #[test]
    fn health_says_failing_behind_or_ok() {
        let now = Utc::now();
        let fine = ShopReadState {
            last_poll_at: at(5, now),
            ..ShopReadState::default()
        };
        let idle = ShopPushStats::default();
        assert_eq!(health(&fine, &idle, now), ShopHealth::Ok);
        assert_eq!(
            health(&ShopReadState::default(), &idle, now),
            ShopHealth::Ok,
            "never polled yet is not a failure"
        );
        let recent = ShopPushStats {
            due: 3,
            oldest_due_at: at(60, now),
            ..ShopPushStats::default()
        };
        assert_eq!(
            health(&fine, &recent, now),
            ShopHealth::Ok,
            "60 s is not over"
        );
        let late = ShopPushStats {
            oldest_due_at: at(61, now),
            ..recent.clone()
        };
        assert_eq!(health(&fine, &late, now), ShopHealth::Behind);
        let failing = ShopPushStats {
            failing: 1,
            ..recent
        };
        assert_eq!(health(&fine, &failing, now), ShopHealth::Failing);
        let poll_failed = ShopReadState {
            last_error: Some("shop unavailable: 502".into()),
            ..fine
        };
        assert_eq!(health(&poll_failed, &idle, now), ShopHealth::Failing);
        assert_eq!(
            health(&poll_failed, &late, now),
            ShopHealth::Failing,
            "failing outranks behind"
        );
    }

    #[test]
    fn the_address_is_shown_without_credentials() {
        assert_eq!(
            public_address("https://ck:cs-s3cret@shop.example/sub?consumer_key=k#x"),
            "https://shop.example/sub"
        );
        assert_eq!(public_address("http://127.0.0.1:9"), "http://127.0.0.1:9/");
        assert_eq!(public_address("not a url"), "");
    }

    #[test]
    fn event_counts_take_each_known_kind() {
        let rows = [("oversold".to_owned(), 2), ("refused".to_owned(), 1)];
        let counts = ShopEventCounts::from_rows(&rows);
        assert_eq!(
            (
                counts.oversold,
                counts.unlinked,
                counts.unmanaged,
                counts.refused
            ),
            (2, 0, 0, 1)
        );
        assert_eq!(event_kind("oversold"), Some("oversold"));
        assert_eq!(event_kind("Oversold"), None);
    }
}
