//! One WooCommerce call, the way every call is made: authenticated (`auth`), counted by
//! `PosHttp` under a stable endpoint name, its status turned into a `WooError`; and, for lists,
//! every page read (100 a page, as many pages as `X-WP-TotalPages` says).

use super::{AuthScheme, WooClient, WooError, auth};
use crate::wire::ErrorBody;
use chrono::Utc;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Rows per page: WooCommerce's maximum.
pub(super) const PAGE_SIZE: usize = 100;
/// A list that has not ended after this many pages (1 000 000 rows) is given up.
const MAX_PAGES: u32 = 10_000;

/// A successful answer.
pub(super) struct Answer {
    pub body: Vec<u8>,
    /// `X-WP-TotalPages`, on lists.
    pub total_pages: Option<u32>,
}

pub(super) type Params = Vec<(String, String)>;

impl WooClient {
    /// A GET of one object.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        params: Params,
    ) -> Result<T, WooError> {
        let answer = self
            .call(Method::GET, endpoint, segments, params, None)
            .await?;
        self.parse(endpoint, &answer.body)
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
            let answer = self
                .call(Method::GET, endpoint, segments, paged, None)
                .await?;
            let batch: Vec<T> = self.parse(endpoint, &answer.body)?;
            let more = !batch.is_empty()
                && match answer.total_pages {
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
        let answer = self
            .call(Method::POST, endpoint, segments, Vec::new(), Some(body))
            .await?;
        self.parse(endpoint, &answer.body)
    }

    fn parse<T: DeserializeOwned>(&self, endpoint: &str, body: &[u8]) -> Result<T, WooError> {
        serde_json::from_slice(body).map_err(|err| {
            WooError::Unavailable(self.http.describe(
                endpoint,
                &format!("answered something that is not the expected JSON ({err})"),
            ))
        })
    }

    async fn call(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        params: Params,
        body: Option<&Value>,
    ) -> Result<Answer, WooError> {
        let mut url: Url = self.api.clone();
        url.path_segments_mut()
            .expect("checked to be a base in new()")
            .extend(segments);
        let secret = self.consumer_secret.expose_secret();
        let query = match self.scheme {
            AuthScheme::OAuth => auth::oauth_query(
                method.as_str(),
                url.as_str(),
                &params,
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
        url.set_query(
            Some(&query)
                .filter(|query| !query.is_empty())
                .map(|q| q.as_str()),
        );
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
        let total_pages = response
            .headers()
            .get("x-wp-totalpages")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        let body = self
            .http
            .body(endpoint, response)
            .await
            .map_err(WooError::Unavailable)?;
        if status.is_success() {
            Ok(Answer { body, total_pages })
        } else {
            Err(self.refusal(endpoint, status, &body))
        }
    }

    /// A non-2xx answer as a `WooError`. Only WooCommerce's own error JSON makes a refusal
    /// permanent: the same status from a proxy, a WAF or a PHP fatal (HTML) is transient.
    fn refusal(&self, endpoint: &str, status: StatusCode, body: &[u8]) -> WooError {
        let woo: Option<ErrorBody> = serde_json::from_slice(body)
            .ok()
            .filter(|error: &ErrorBody| !error.code.is_empty());
        let what = match &woo {
            Some(error) => format!("{status} {}: {}", error.code, error.message),
            None => format!("{status} without WooCommerce's error JSON"),
        };
        let what = self.http.describe(endpoint, &what);
        match (status.as_u16(), &woo) {
            (401, _) | (403, Some(_)) => WooError::Auth(what),
            (429 | 500..=599, _) | (_, None) => WooError::Unavailable(what),
            (404, Some(error)) if error.code != "rest_no_route" => WooError::NotFound(what),
            _ => WooError::Rejected(what),
        }
    }
}
