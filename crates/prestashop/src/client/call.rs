//! One Webservice call, the way every call is made: at most [`MAX_IN_FLIGHT`] at once per
//! client, Basic auth with the key as user and an empty password (never `ws_key`, which ends
//! up in logs), `id_shop` when the client has one, counted by `PosHttp` under a stable endpoint
//! name, its status and error body (JSON or XML) turned into a `PrestaError`, transient
//! failures tried again with jittered exponential backoff; and, for lists, every page read
//! with `limit=offset,count` until a short page (the Webservice gives no totals, §3.3). Every
//! call is a read, the PUT of a whole row or the PATCH of a quantity, so sending one again is
//! safe. Each answer's `PSWS-Version` header is kept as the shop's version (`version.rs`).

use super::{PrestaClient, PrestaError, PrestaVersion, xml};
use crate::wire::ErrorBody;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde_json::Value;
use stocksync_pos::retry::{Retried, with_retries};

/// Rows per page.
pub const PAGE_SIZE: usize = 100;
/// A list that has not ended after this many pages is given up.
const MAX_PAGES: usize = 10_000;
/// Requests one client has in flight at most (§3.7: every request boots PrestaShop, shared
/// hosts throttle: two at most).
pub const MAX_IN_FLIGHT: usize = 2;

/// The answer header that says the shop's version (only to an authenticated caller, §3.1).
const PSWS_VERSION: &str = "psws-version";

pub(super) type Params = Vec<(String, String)>;

/// What a call sends and how its answer is read.
#[derive(Clone, Copy)]
enum Body<'a> {
    /// A read, `output_format=JSON`.
    Json,
    /// A read in the Webservice's default XML.
    Xml,
    /// A PUT or a PATCH of this XML document.
    Document(&'a str),
}

impl PrestaClient {
    /// A GET read as JSON.
    pub(super) async fn get_json(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        params: Params,
    ) -> Result<Value, PrestaError> {
        let body = self
            .call(Method::GET, endpoint, segments, &params, Body::Json)
            .await?;
        serde_json::from_str(&body).map_err(|err| self.unreadable(endpoint, &err))
    }

    /// Every page of a list (`key` is the resource's plural), in order.
    pub(super) async fn get_pages<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        resource: &str,
        params: Params,
    ) -> Result<Vec<T>, PrestaError> {
        let mut rows = Vec::new();
        for page in 0..MAX_PAGES {
            let mut paged = params.clone();
            paged.push(("limit".into(), format!("{},{PAGE_SIZE}", page * PAGE_SIZE)));
            let answer = self.get_json(endpoint, &[resource], paged).await?;
            let batch: Vec<T> = crate::wire::list(answer, resource)
                .map_err(|err| self.unreadable(endpoint, &err))?;
            let more = batch.len() >= PAGE_SIZE;
            rows.extend(batch);
            if !more {
                return Ok(rows);
            }
        }
        Err(PrestaError::Unavailable(self.http.describe(
            endpoint,
            &format!("still more after {MAX_PAGES} pages; gave up"),
        )))
    }

    /// A GET of one object in XML, as the shop stores it.
    pub(super) async fn get_xml(
        &self,
        endpoint: &'static str,
        segments: &[&str],
    ) -> Result<String, PrestaError> {
        self.call(Method::GET, endpoint, segments, &[], Body::Xml)
            .await
    }

    /// A PUT (a whole object) or a PATCH (its id and the fields it changes) in XML; the saved
    /// object as the shop answers it.
    pub(super) async fn write_xml(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        document: &str,
    ) -> Result<String, PrestaError> {
        self.call(method, endpoint, segments, &[], Body::Document(document))
            .await
    }

    pub(super) fn unreadable(&self, endpoint: &str, err: &dyn std::fmt::Display) -> PrestaError {
        PrestaError::Unavailable(self.http.describe(
            endpoint,
            &format!("answered something that is not the expected document ({err})"),
        ))
    }

    #[tracing::instrument(skip_all, fields(account = self.http.account(), endpoint))]
    async fn call(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        params: &[(String, String)],
        body: Body<'_>,
    ) -> Result<String, PrestaError> {
        let call = Retried::on("PrestaShop", &self.http, endpoint);
        with_retries(&self.backoff, call, || {
            self.attempt(method.clone(), endpoint, segments, params, body)
        })
        .await
    }

    /// One request, holding one of the client's [`MAX_IN_FLIGHT`] permits while it lasts.
    async fn attempt(
        &self,
        method: Method,
        endpoint: &'static str,
        segments: &[&str],
        params: &[(String, String)],
        body: Body<'_>,
    ) -> Result<String, PrestaError> {
        let _permit = self.gate.acquire().await.expect("the gate is never closed");
        let mut url: Url = self.api.clone();
        url.path_segments_mut()
            .expect("checked to be a base in new()")
            .extend(segments);
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in params {
                query.append_pair(key, value);
            }
            if matches!(body, Body::Json) {
                query.append_pair("output_format", "JSON");
            }
            if let Some(shop) = self.shop_id {
                query.append_pair("id_shop", &shop.to_string());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let basic = STANDARD.encode(format!("{}:", self.key.expose_secret()));
        let mut request = self
            .http
            .client()
            .request(method, url)
            .header(AUTHORIZATION, format!("Basic {basic}"));
        if let Body::Document(document) = body {
            request = request
                .header(CONTENT_TYPE, "application/xml")
                .body(document.to_owned());
        }
        let response = self
            .http
            .send(endpoint, request)
            .await
            .map_err(|err| PrestaError::Unavailable(err.to_string()))?;
        let status = response.status();
        if let Some(version) = response.headers().get(PSWS_VERSION) {
            let version = version.to_str().ok().and_then(PrestaVersion::parse);
            self.learnt().version = version;
        }
        let answer = self
            .http
            .body(endpoint, response)
            .await
            .map_err(PrestaError::Unavailable)?;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        if !status.is_success() {
            return Err(self.refusal(endpoint, status, &answer));
        }
        Ok(answer)
    }

    /// A non-2xx answer as a `PrestaError`. Only the Webservice's own error body (JSON or XML)
    /// makes a refusal permanent: the same status from a proxy or a PHP fatal (HTML) is transient.
    fn refusal(&self, endpoint: &str, status: StatusCode, body: &str) -> PrestaError {
        let errors = webservice_errors(body);
        let what = match &errors {
            Some(errors) => format!("{status} {errors}"),
            None => format!("{status} without the Webservice's error body"),
        };
        let what = self.http.describe(endpoint, &what);
        match (status.as_u16(), &errors) {
            (401 | 403, _) => PrestaError::Auth(what),
            (500..=599, _) | (_, None) => PrestaError::Unavailable(what),
            (404, Some(_)) => PrestaError::NotFound(what),
            (405, Some(_)) => PrestaError::MethodNotAllowed(what),
            _ => PrestaError::Rejected(what),
        }
    }
}

/// The Webservice's errors in `body` (`{"errors":[…]}` or `<prestashop><errors>…`) as
/// "code 87: message; …"; `None` when the body is not one.
pub(super) fn webservice_errors(body: &str) -> Option<String> {
    let pairs: Vec<(Option<String>, String)> =
        if let Ok(json) = serde_json::from_str::<ErrorBody>(body) {
            json.errors
                .into_iter()
                .map(|e| (e.code.map(|c| c.to_string()), e.message))
                .collect()
        } else {
            let leaves = xml::leaves(body).ok()?;
            let mut pairs: Vec<(Option<String>, String)> = Vec::new();
            for (path, text) in leaves {
                match path.as_str() {
                    "prestashop/errors/error/code" => pairs.push((Some(text), String::new())),
                    "prestashop/errors/error/message" => match pairs.last_mut() {
                        Some((_, message)) if message.is_empty() => *message = text,
                        _ => pairs.push((None, text)),
                    },
                    _ => {}
                }
            }
            pairs
        };
    if pairs.is_empty() {
        return None;
    }
    Some(
        pairs
            .iter()
            .map(|(code, message)| match code {
                Some(code) => format!("code {}: {message}", code.trim()),
                None => message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webservice_errors_are_read_in_json_and_xml_and_nothing_else() {
        assert_eq!(
            webservice_errors(r#"{"errors":[{"code":87,"message":"Invalid ID"}]}"#).as_deref(),
            Some("code 87: Invalid ID")
        );
        let xml = "<?xml version=\"1.0\"?><prestashop><errors><error><code><![CDATA[41]]></code>\
                   <message><![CDATA[parameter \"quantity\" required]]></message></error></errors></prestashop>";
        assert_eq!(
            webservice_errors(xml).as_deref(),
            Some("code 41: parameter \"quantity\" required")
        );
        assert_eq!(
            webservice_errors("<html><body><h1>500</h1></body></html>"),
            None
        );
        assert_eq!(webservice_errors("Fatal error: out of memory"), None);
        assert_eq!(webservice_errors(""), None);
    }
}
