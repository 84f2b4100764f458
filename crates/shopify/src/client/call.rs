//! One GraphQL call, the way every call is made: paced on the cost bucket (`pace`), the token
//! in `X-Shopify-Access-Token`, counted by `PosHttp` under the operation's root field, its
//! answer turned into data or a `ShopError` (shop-apis.md §2.7: 401/403 → unauthorized, 429 or
//! `THROTTLED` → rate limited, 5xx and unreadable answers → unavailable, other top-level
//! `errors` → rejected), transient failures tried again with the same body: a mutation carries
//! its idempotency key, so sending it again is safe.

use super::ShopifyClient;
use crate::wire::{Cost, Envelope, GraphQlError};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stocksync_domain::ShopError;
use stocksync_pos::retry::{Retried, with_retries};
use tokio::time::Instant;

/// A failed attempt, and how long Shopify's bucket says to wait, when it says.
type Failure = stocksync_pos::retry::Failure<ShopError>;

impl ShopifyClient {
    /// Runs `query` (whose root field is `operation`) with `variables`; its `data` as `T`.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), operation), err)]
    pub(super) async fn graphql<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        query: &str,
        variables: Value,
    ) -> Result<T, ShopError> {
        let body = json!({ "query": query, "variables": variables });
        let call = Retried::on("Shopify", &self.http, operation);
        with_retries(&self.backoff, call, || async {
            let reserved = self.pace(operation).await;
            self.attempt(operation, &body, reserved).await
        })
        .await
        .map_err(|failure| failure.error)
    }

    /// Waits until the bucket holds what `operation` cost last time; what it reserved.
    async fn pace(&self, operation: &'static str) -> f64 {
        loop {
            let reserve = self
                .bucket
                .lock()
                .expect("the bucket")
                .reserve(operation, Instant::now());
            match reserve {
                Ok(reserved) => return reserved,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// One request; `reserved`: the points `pace` set aside for it, given back when Shopify's
    /// answer says nothing of the bucket (nothing reached it, or something else answered).
    async fn attempt<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &Value,
        reserved: f64,
    ) -> Result<T, Failure> {
        let answer = self.exchange::<T>(operation, body).await;
        let (cost, result) = answer;
        let mut bucket = self.bucket.lock().expect("the bucket");
        let now = Instant::now();
        let wait = match &cost {
            Some(cost) => {
                bucket.observe(operation, cost, now);
                bucket.refill_time(cost.requested_query_cost, now)
            }
            None => {
                bucket.release(reserved);
                None
            }
        };
        drop(bucket);
        result.map_err(|error| match error {
            // The bucket's refill is our own estimate, and `pace` holds the next attempt for
            // whatever is left of it: never longer than the backoff's ceiling, so never a
            // reason to give up.
            ShopError::RateLimited { .. } => Failure {
                error: ShopError::RateLimited { retry_after: wait },
                retry_after: wait.map(|wait| wait.min(self.backoff.max)),
            },
            error => error.into(),
        })
    }

    /// Sends the request: the cost the answer reported, and the data or the error.
    async fn exchange<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &Value,
    ) -> (Option<Cost>, Result<T, ShopError>) {
        let request = self
            .http
            .client()
            .post(self.endpoint.clone())
            .header("X-Shopify-Access-Token", self.token.expose_secret())
            .json(body);
        let response = match self.http.send(operation, request).await {
            Ok(response) => response,
            Err(err) => return (None, Err(ShopError::Unavailable(err.to_string()))),
        };
        let status = response.status();
        let raw = match self.http.body(operation, response).await {
            Ok(raw) => raw,
            Err(what) => return (None, Err(ShopError::Unavailable(what))),
        };
        let envelope: Option<Envelope<T>> = serde_json::from_slice(&raw).ok();
        let cost = envelope
            .as_ref()
            .and_then(|envelope| envelope.extensions.as_ref())
            .and_then(|extensions| extensions.cost.clone());
        (cost, self.read(operation, status, envelope))
    }

    /// The answer's data, or what its status and top-level `errors` say went wrong.
    fn read<T>(
        &self,
        operation: &'static str,
        status: StatusCode,
        envelope: Option<Envelope<T>>,
    ) -> Result<T, ShopError> {
        let describe = |what: &str| self.http.describe(operation, what);
        match status.as_u16() {
            200..=299 => {}
            401 | 403 => {
                return Err(ShopError::Unauthorized(describe(&format!(
                    "{status}: the access token was refused"
                ))));
            }
            429 => return Err(ShopError::RateLimited { retry_after: None }),
            500..=599 => return Err(ShopError::Unavailable(describe(&status.to_string()))),
            _ => return Err(ShopError::Rejected(describe(&status.to_string()))),
        }
        let Some(envelope) = envelope else {
            return Err(ShopError::Unavailable(describe(&format!(
                "{status} with an answer that is not the expected JSON"
            ))));
        };
        if !envelope.errors.is_empty() {
            return Err(top_level(&envelope.errors, describe));
        }
        envelope
            .data
            .ok_or_else(|| ShopError::Unavailable(describe("an answer without data")))
    }
}

/// Top-level `errors` as a `ShopError` (`THROTTLED`: rate limited; the caller knows how long
/// the bucket needs).
fn top_level(errors: &[GraphQlError], describe: impl Fn(&str) -> String) -> ShopError {
    let code = |error: &GraphQlError| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.code.clone())
            .unwrap_or_default()
    };
    let what = errors
        .iter()
        .map(|error| format!("{} {}", code(error), error.message))
        .collect::<Vec<_>>()
        .join("; ");
    let what = describe(what.trim());
    match code(&errors[0]).as_str() {
        "THROTTLED" => ShopError::RateLimited { retry_after: None },
        "ACCESS_DENIED" => ShopError::Unauthorized(what),
        "INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE" => ShopError::Unavailable(what),
        _ => ShopError::Rejected(what),
    }
}
