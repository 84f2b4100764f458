//! One Square API call, end to end: the bearer token and `Square-Version` header, the JSON
//! body (serialised once, so every retry sends the same bytes and an idempotency key stays
//! valid), retries with backoff and jitter on 429, 5xx and transport failures, and Square's
//! `{"errors":[…]}` answers (also inside a 200) turned into `PosError`s that name the account
//! and the call. Knows no endpoint's meaning: callers pick the endpoint and the shapes.

use crate::wire::{ErrorBody, SquareError};
use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, DATE};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use stocksync_domain::PosError;
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;
use stocksync_pos::retry::{Retried, Retryable, with_retries};

/// The API release this client is written against.
pub const SQUARE_VERSION: &str = "2025-08-20";

/// A Square endpoint: how it is called and the name it is counted under.
#[derive(Debug)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    /// `METHOD /path`, the `CallLog` endpoint name.
    pub name: &'static str,
}

macro_rules! endpoint {
    ($const:ident, $method:ident, $path:literal) => {
        pub const $const: Endpoint = Endpoint {
            method: Method::$method,
            path: $path,
            name: concat!(stringify!($method), " ", $path),
        };
    };
}

endpoint!(LOCATIONS, GET, "/v2/locations");
endpoint!(CATALOG_BATCH_RETRIEVE, POST, "/v2/catalog/batch-retrieve");
endpoint!(CATALOG_SEARCH, POST, "/v2/catalog/search");
endpoint!(
    CATALOG_SEARCH_ITEMS,
    POST,
    "/v2/catalog/search-catalog-items"
);
endpoint!(COUNTS, POST, "/v2/inventory/counts/batch-retrieve");
endpoint!(CHANGES_CREATE, POST, "/v2/inventory/changes/batch-create");
endpoint!(
    CHANGES_RETRIEVE,
    POST,
    "/v2/inventory/changes/batch-retrieve"
);

/// A successful answer.
#[derive(Debug)]
pub struct Answer<T> {
    pub body: T,
    /// The server's `Date` header: Square's clock, whole seconds.
    pub date: Option<DateTime<Utc>>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Square answered with errors; `code` is the first one's (`IDEMPOTENCY_KEY_REUSED`, …).
    #[error("{error}")]
    Refused { code: String, error: PosError },
    #[error(transparent)]
    Failed(#[from] PosError),
}

impl From<CallError> for PosError {
    fn from(err: CallError) -> Self {
        match err {
            CallError::Refused { error, .. } | CallError::Failed(error) => error,
        }
    }
}

/// What one attempt came to.
enum Attempt {
    /// Worth another try (429, 5xx, transport).
    Transient(PosError),
    Final(CallError),
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(err) => err.fmt(f),
            Self::Final(err) => err.fmt(f),
        }
    }
}

/// Square's 429 says no `Retry-After` we read: every retry waits the backoff's delay.
impl Retryable for Attempt {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// Square access for one account. `Debug` shows the token as `[REDACTED]`.
#[derive(Debug)]
pub struct Api {
    pub http: PosHttp,
    pub base_url: String,
    pub token: SecretString,
    pub backoff: Backoff,
}

impl Api {
    /// Calls `endpoint` with `body` (none for a GET), retrying transient failures with the
    /// same bytes, and reads the answer as `T`.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), endpoint = endpoint.name), err)]
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        body: Option<&impl Serialize>,
    ) -> Result<Answer<T>, CallError> {
        let body = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        let call = Retried::on("Square", &self.http, endpoint.name);
        with_retries(&self.backoff, call, || {
            self.attempt(endpoint, body.as_deref())
        })
        .await
        .map_err(|attempt| match attempt {
            Attempt::Transient(err) => err.into(),
            Attempt::Final(err) => err,
        })
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
    ) -> Result<Answer<T>, Attempt> {
        let mut request = self
            .http
            .client()
            .request(
                endpoint.method.clone(),
                format!("{}{}", self.base_url, endpoint.path),
            )
            .bearer_auth(self.token.expose_secret())
            .header("Square-Version", SQUARE_VERSION)
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = self
            .http
            .send(endpoint.name, request)
            .await
            .map_err(Attempt::Transient)?;
        let status = response.status();
        let date = response
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&Utc));
        let bytes = self
            .http
            .body(endpoint.name, response)
            .await
            .map_err(|what| Attempt::Transient(PosError::Unavailable(what)))?;
        let errors = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.errors)
            .unwrap_or_default();
        if status.is_success() {
            if let Some(first) = errors.first() {
                return Err(Attempt::Final(self.refused(
                    endpoint,
                    status,
                    first,
                    "inside a 200",
                )));
            }
            return match serde_json::from_slice(&bytes) {
                Ok(body) => Ok(Answer { body, date }),
                Err(err) => Err(Attempt::Final(CallError::Failed(self.unavailable(
                    endpoint,
                    &format!("the answer is not the JSON expected ({err})"),
                )))),
            };
        }
        let first = errors.first().cloned().unwrap_or_default();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt::Transient(PosError::RateLimited {
                retry_after: None,
            }));
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            let what = format!("HTTP {}{}", status.as_u16(), summary(&first));
            return Err(Attempt::Transient(self.unavailable(endpoint, &what)));
        }
        Err(Attempt::Final(self.refused(endpoint, status, &first, "")))
    }

    /// The cursor of the next page: `None` after the last one (Square leaves it out or
    /// empty). A cursor sent back unchanged would loop forever: that answer is refused.
    pub fn next_page(
        &self,
        endpoint: &Endpoint,
        sent: Option<&str>,
        received: Option<String>,
    ) -> Result<Option<String>, PosError> {
        match received.filter(|c| !c.is_empty()) {
            Some(cursor) if Some(cursor.as_str()) == sent => {
                Err(self.unavailable(endpoint, "the same page cursor came back twice"))
            }
            next => Ok(next),
        }
    }

    fn unavailable(&self, endpoint: &Endpoint, what: &str) -> PosError {
        PosError::Unavailable(self.http.describe(endpoint.name, what))
    }

    /// A refusal, classified by status and Square's error code: final only when Square's own
    /// error JSON says so (`NOT_FOUND`, `INVALID_REQUEST_ERROR`, …).
    fn refused(
        &self,
        endpoint: &Endpoint,
        status: StatusCode,
        error: &SquareError,
        where_: &str,
    ) -> CallError {
        let what = format!(
            "HTTP {}{}{}",
            status.as_u16(),
            if where_.is_empty() {
                String::new()
            } else {
                format!(" ({where_})")
            },
            summary(error)
        );
        let message = self.http.describe(endpoint.name, &what);
        let from_square = !error.code.is_empty() || !error.category.is_empty();
        let pos_error = match (
            status.as_u16(),
            error.code.as_str(),
            error.category.as_str(),
        ) {
            (401 | 403, _, _) | (_, _, "AUTHENTICATION_ERROR") => PosError::Unauthorized(message),
            (_, _, "RATE_LIMIT_ERROR") => PosError::RateLimited { retry_after: None },
            // Not Square's error JSON (a proxy's page), or a conflict: may pass on a retry,
            // which the idempotency key makes harmless.
            _ if !from_square => PosError::Unavailable(message),
            (409, _, _) | (_, "CONFLICT", _) | (_, _, "API_ERROR") => {
                PosError::Unavailable(message)
            }
            (404, _, _) | (_, "NOT_FOUND", _) => PosError::NotFound(message),
            _ => PosError::Rejected(message),
        };
        CallError::Refused {
            code: error.code.clone(),
            error: pos_error,
        }
    }
}

/// `: CODE (field): detail`, shortened: Square's own words, never ours (no credential).
fn summary(error: &SquareError) -> String {
    if error.code.is_empty() && error.detail.is_none() {
        return String::new();
    }
    let mut text = format!(": {}", error.code);
    if let Some(field) = &error.field {
        text.push_str(&format!(" ({field})"));
    }
    if let Some(detail) = &error.detail {
        let detail: String = detail.chars().take(200).collect();
        text.push_str(&format!(": {detail}"));
    }
    text
}
