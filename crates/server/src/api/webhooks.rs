//! Webhook receivers, outside the API key (each POS authenticates its own way), stored raw
//! before anything else, and answered at once:
//! - `POST /webhooks/square/{account}`: `x-square-hmacsha256-signature` checked (HMAC-SHA256 of
//!   the registered URL followed by the raw body, constant-time), duplicates dropped by
//!   `event_id`; an `inventory.count.updated` event enqueues a sync of its account, whose incremental read
//!   brings the counts (absolute, so an old or out-of-order event can do no harm).
//! - `POST /webhooks/hiboutik/{account}?k=SECRET`: a form-encoded sale notification; a job
//!   (`read_items`) reads the items it names from the POS and applies them. The account's read
//!   still waiting to start takes them in instead of a new job (a replayed notification costs
//!   no call), and past [`MAX_READ_REFS`] products one read of the whole account replaces it.
//!
//! Polling stays on: a webhook that never comes changes nothing but speed.

use super::extract::{ApiPath, ApiQuery};
use super::{AppState, error::ApiError};
use crate::config::WebhookConfig;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_domain::task::TaskKind;
use stocksync_domain::{AccountId, PosRef};
use stocksync_store::ReadRequest;
use subtle::ConstantTimeEq;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(square))
        .routes(routes!(hiboutik))
}

fn webhook<'a>(state: &'a AppState, account: &AccountId) -> Option<&'a WebhookConfig> {
    state
        .webhooks
        .iter()
        .find(|(id, _)| id == account)
        .map(|(_, webhook)| webhook)
}

fn no_webhook(vendor: &str, account: &AccountId) -> ApiError {
    ApiError::not_found(format!(
        "no {vendor} webhook is configured for account '{account}'"
    ))
}

pub(super) fn refused(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", why)
}

pub(super) fn count(state: &AppState, source: &str, outcome: &str) {
    state.synchronizer.metrics.add(
        "stocksync_webhook_events_total",
        &[("source", source), ("outcome", outcome)],
        1.0,
    );
}

#[derive(Deserialize)]
struct SquareEvent {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[utoipa::path(
    post,
    path = "/webhooks/square/{account}",
    tag = "webhooks",
    description = "Square `inventory.count.updated`, signed (`x-square-hmacsha256-signature`).",
    params(("account" = String, Path, description = "the account id")),
    responses((status = 200, description = "accepted or duplicate"), (status = 400, description = "not a Square event"), (status = 401, description = "bad signature"), (status = 404, description = "no Square webhook for this account"))
)]
async fn square(
    State(state): State<AppState>,
    ApiPath(account): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let account = AccountId::new(account);
    let Some(WebhookConfig::Square {
        signature_key,
        notification_url,
    }) = webhook(&state, &account)
    else {
        return Err(no_webhook("Square", &account));
    };
    let signature = headers
        .get(stocksync_square::webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refused("the x-square-hmacsha256-signature header is missing"))?;
    if !stocksync_square::verify_signature(
        signature_key.expose_secret().as_bytes(),
        notification_url,
        &body,
        signature,
    ) {
        tracing::warn!(%account, "a Square webhook with a wrong signature was refused");
        count(&state, "square", "rejected");
        return Err(refused(
            "the signature does not match this account's key and URL",
        ));
    }
    let event: SquareEvent = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a Square event: {e}")))?;
    let text = String::from_utf8_lossy(&body);
    if !state
        .store
        .record_webhook("square", &account, Some(&event.event_id), &text)
        .await?
    {
        count(&state, "square", "duplicate");
        return Ok((StatusCode::OK, Json(json!({ "status": "duplicate" }))));
    }
    count(&state, "square", "accepted");
    if event.kind == "inventory.count.updated" {
        state
            .synchronizer
            .request_for(TaskKind::SyncAll, &account)
            .await?;
    }
    Ok((StatusCode::OK, Json(json!({ "status": "accepted" }))))
}

#[derive(Deserialize)]
struct Secret {
    #[serde(default)]
    k: String,
}

#[utoipa::path(
    post,
    path = "/webhooks/hiboutik/{account}",
    tag = "webhooks",
    description = "A Hiboutik sale notification (form-encoded), with the secret as `?k=`.",
    params(("account" = String, Path, description = "the account id")),
    responses((status = 200, description = "accepted"), (status = 400, description = "malformed notification"), (status = 401, description = "wrong secret"), (status = 404, description = "no Hiboutik webhook for this account"))
)]
async fn hiboutik(
    State(state): State<AppState>,
    ApiPath(account): ApiPath<String>,
    ApiQuery(secret): ApiQuery<Secret>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let account = AccountId::new(account);
    let Some(WebhookConfig::Hiboutik { secret: expected }) = webhook(&state, &account) else {
        return Err(no_webhook("Hiboutik", &account));
    };
    let matches: bool = secret
        .k
        .as_bytes()
        .ct_eq(expected.expose_secret().as_bytes())
        .into();
    if !matches {
        tracing::warn!(%account, "a Hiboutik webhook with a wrong secret was refused");
        count(&state, "hiboutik", "rejected");
        return Err(refused("the secret in the URL (?k=) is wrong"));
    }
    let refs = sold_items(&body)?;
    count(&state, "hiboutik", "accepted");
    state
        .store
        .record_webhook("hiboutik", &account, None, &String::from_utf8_lossy(&body))
        .await?;
    if state.accounts.get(&account).is_some() && !refs.is_empty() {
        request_read(&state, &account, &refs).await?;
    }
    Ok((StatusCode::OK, Json(json!({ "status": "accepted" }))))
}

/// The most products one webhook read names: Hiboutik reads them one call each, while a read
/// of the whole warehouse costs one call per 250 items. Past this (a big till operation, or
/// many notifications while the account's read waits), the account is synced whole instead.
pub const MAX_READ_REFS: usize = 50;

/// Has `refs` read: joined to the account's waiting read, a new read, or a sync of the
/// whole account when that would be more than [`MAX_READ_REFS`] products.
async fn request_read(
    state: &AppState,
    account: &AccountId,
    refs: &[PosRef],
) -> Result<(), ApiError> {
    let now = state.synchronizer.clock.now();
    match state
        .store
        .request_read(account, refs, MAX_READ_REFS, now)
        .await?
    {
        ReadRequest::Enqueued => state.synchronizer.tasks_waiting.notify_one(),
        ReadRequest::OverCap => {
            tracing::info!(%account, products = refs.len(), "a webhook names many products: the whole account is read instead");
            state
                .synchronizer
                .request_for(TaskKind::SyncAll, account)
                .await?;
        }
        ReadRequest::Joined | ReadRequest::AlreadyWaiting | ReadRequest::Nothing => {}
    }
    Ok(())
}

/// The items of a sale notification: `line_items[i][product_id]` and `[product_size]`, as
/// POS references (`product` or `product/size`).
fn sold_items(body: &[u8]) -> Result<Vec<PosRef>, ApiError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::bad_request(format!("not a form-encoded notification: {e}")))?;
    let mut lines: std::collections::BTreeMap<String, (Option<String>, Option<String>)> =
        Default::default();
    for (key, value) in fields {
        let Some(rest) = key.strip_prefix("line_items[") else {
            continue;
        };
        let Some((index, field)) = rest.split_once("][") else {
            continue;
        };
        let line = lines.entry(index.to_owned()).or_default();
        match field.trim_end_matches(']') {
            "product_id" => line.0 = Some(value),
            "product_size" => line.1 = Some(value),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    for (index, (product, size)) in lines {
        let product = product
            .filter(|p| p.parse::<u64>().is_ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("line_items[{index}] has no numeric product_id"))
            })?;
        let pos_ref = match size.as_deref() {
            None | Some("") | Some("0") => product,
            Some(size) if size.parse::<u64>().is_ok() => format!("{product}/{size}"),
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "line_items[{index}] has a non-numeric product_size"
                )));
            }
        };
        let pos_ref = PosRef::new(pos_ref);
        if !refs.contains(&pos_ref) {
            refs.push(pos_ref);
        }
    }
    Ok(refs)
}
