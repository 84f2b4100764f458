//! One WooCommerce call, the way every call is made: at most [`MAX_IN_FLIGHT`] at once per
//! client, authenticated (`auth`), counted by `PosHttp` under a stable endpoint name, its status
//! and body turned into a `WooError`, transient failures (transport, timeouts, 429, 5xx,
//! answers that are not WooCommerce's) tried again with jittered exponential backoff or after
//! the `Retry-After` the host asked for; and, for lists, every page read (100 a page, as many
//! pages as `X-WP-TotalPages` says). Every call stocksync makes is a read or an absolute write,
//! so sending one again is safe.

use super::{AuthScheme, WooClient, WooError, auth};
use crate::wire::ErrorBody;
use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use stocksync_pos::retry::{Retried, with_retries};

/// Rows per page: WooCommerce's maximum.
pub(super) const PAGE_SIZE: usize = 100;
/// A list that has not ended after this many pages (1 000 000 rows) is given up.
const MAX_PAGES: u32 = 10_000;
/// Requests one client has in flight at most (shop-apis.md §1.10: 2–4; each call boots
/// WordPress on what is often shared hosting).
pub const MAX_IN_FLIGHT: usize = 4;

pub(super) type Params = Vec<(String, String)>;

/// A failed attempt: why, and how long the shop asked us to wait, if it said.
type Failure = stocksync_pos::retry::Failure<WooError>;

impl WooClient {
    /// A GET of one object.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        params: Params,
    ) -> Result<T, WooError> {
        let (value, _) = self
            .call(Method::GET, endpoint, segments, &params, None)
            .await?;
        Ok(value)
    }

    /// Every page of a list, in order.
    pub(super) async fn get_pages<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        params: Params,
    ) -> Result<Vec<T>, WooError> {
        let mut rows = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut paged = params.clone();
            paged.push(("per_page".to_owned(), PAGE_SIZE.to_string()));
            paged.push(("page".to_owned(), page.to_string()));
            let (batch, total_pages): (Vec<T>, _) = self
                .call(Method::GET, endpoint, segments, &paged, None)
                .await?;
            let more = !batch.is_empty()
                && match total_pages {
                    Some(total) => page < total,
                    None => batch.len() >= PAGE_SIZE,
                };
            rows.extend(batch);
            if !more {
                return Ok(rows);
            }
        }
        Err(WooError::Unavailable(self.http.describe(
            endpoint,
            &format!("still more after {MAX_PAGES} pages; gave up"),
        )))
    }

    /// A POST with a JSON body.
    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        body: &Value,
    ) -> Result<T, WooError> {
        let (value, _) = self
            .call(Method::POST, endpoint, segments, &[], Some(body))
            .await?;
        Ok(value)
    }

    /// One call, tried again while it fails for a transient reason and attempts remain: after
    /// the host's `Retry-After` when it gave one (unless longer than the backoff's ceiling:
    /// then the caller is told, and waits as it sees fit), otherwise after a jittered,
    /// doubling pause (`stocksync_pos::retry`). The answer read as `T`, and `X-WP-TotalPages`
    /// on lists.
    #[tracing::instrument(skip_all, fields(account = self.http.account(), endpoint))]
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        params: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(T, Option<u32>), WooError> {
        let call = Retried::on("WooCommerce", &self.http, endpoint);
        with_retries(&self.backoff, call, || {
            self.attempt(method.clone(), endpoint, segments, params, body)
        })
        .await
        .map_err(|failure| failure.error)
    }

    /// One request, holding one of the client's [`MAX_IN_FLIGHT`] permits while it lasts.
    async fn attempt<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        params: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(T, Option<u32>), Failure> {
        let _permit = self.gate.acquire().await.expect("the gate is never closed");
        let mut url: Url = self.api.clone();
        url.path_segments_mut()
            .expect("checked to be a base in new()")
            .extend(segments);
        let secret = self.consumer_secret.expose_secret();
        let query = match self.scheme {
            AuthScheme::OAuth => auth::oauth_query(
                method.as_str(),
                url.as_str(),
                params,
                &self.consumer_key,
                secret,
                Utc::now().timestamp(),
                &uuid::Uuid::new_v4().simple().to_string(),
            ),
            AuthScheme::Basic => params
                .iter()
                .map(|(k, v)| format!("{}={}", auth::encode(k), auth::encode(v)))
                .collect::<Vec<_>>()
                .join("&"),
        };
        url.set_query(Some(query.as_str()).filter(|query| !query.is_empty()));
        let mut request = self
            .http
            .client()
            .request(method, url)
            .header(ACCEPT, "application/json");
        if self.scheme == AuthScheme::Basic {
            request = request.header(AUTHORIZATION, auth::basic(&self.consumer_key, secret));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self
            .http
            .send(endpoint, request)
            .await
            .map_err(|err| WooError::Unavailable(err.to_string()))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let total_pages = header("x-wp-totalpages").and_then(|value| value.trim().parse().ok());
        let retry_after = header(RETRY_AFTER.as_str())
            .and_then(|value| retry_after(&value, Utc::now()))
            .filter(|_| status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error());
        let body = self
            .http
            .body(endpoint, response)
            .await
            .map_err(WooError::Unavailable)?;
        if !status.is_success() {
            return Err(Failure {
                error: self.refusal(endpoint, status, &body, retry_after),
                retry_after,
            });
        }
        let value = serde_json::from_slice(&body).map_err(|err| {
            WooError::Unavailable(self.http.describe(
                endpoint,
                &format!("answered something that is not the expected JSON ({err})"),
            ))
        })?;
        Ok((value, total_pages))
    }

    /// A non-2xx answer as a `WooError`. Only WooCommerce's own error JSON makes a refusal
    /// permanent: the same status from a proxy, a WAF or a PHP fatal (HTML) is transient.
    fn refusal(
        &self,
        endpoint: &str,
        status: StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> WooError {
        let woo: Option<ErrorBody> = serde_json::from_slice(body)
            .ok()
            .filter(|error: &ErrorBody| !error.code.is_empty());
        let what = match &woo {
            Some(error) => format!("{status} {}: {}", error.code, error.message),
            None => format!("{status} without WooCommerce's error JSON"),
        };
        let what = self.http.describe(endpoint, &what);
        match (status.as_u16(), &woo) {
            (429, _) => WooError::RateLimited { what, retry_after },
            (401, _) | (403, Some(_)) => WooError::Auth(what),
            (500..=599, _) | (_, None) => WooError::Unavailable(what),
            (404, Some(error)) if error.code != "rest_no_route" => WooError::NotFound(what),
            _ => WooError::Rejected(what),
        }
    }
}

/// How long a `Retry-After` header asks us to wait, as seconds or as an HTTP date (a date in
/// the past: no wait). `None` when it is neither.
fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Sun, 01 Mar 2026 10:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after("Sun, 01 Mar 2026 09:59:00 GMT", now),
            Some(Duration::ZERO),
            "a date gone by: go now"
        );
        assert_eq!(retry_after("-1", now), None);
        assert_eq!(retry_after("soon", now), None);
    }
}
