//! One Hiboutik call, the way every call is made: a slot among `MAX_IN_FLIGHT`, one unit of
//! the monthly budget taken *before* sending (nothing is sent once it is spent), HTTP Basic
//! auth, the status turned into a `PosError` naming the account and the call, and (for lists)
//! every page followed. Idempotent calls (GET, PUT) are retried on transient failures; a POST
//! is sent once (the sale flow looks before it posts again).

use super::HiboutikConnector;
use crate::wire::{self, ErrorBody};
use chrono::Utc;
use reqwest::header::{ACCEPT, LINK};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use stocksync_domain::PosError;
use stocksync_pos::retry::{Retried, with_retries};

/// Rows per page of Hiboutik's paged lists.
pub(super) const PAGE_SIZE: usize = 250;
/// A read that has not ended after this many pages (500 000 rows) is given up.
const MAX_PAGES: u32 = 2_000;

/// A successful answer.
struct Answer {
    body: Vec<u8>,
    /// The `Link` header of paged lists.
    link: Option<String>,
}

impl HiboutikConnector {
    /// `{base}/{segments…}`, each segment percent-encoded (a trailing `""` gives a trailing `/`).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked to be a base in new()")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// A list (or a single object, which Hiboutik sends as a one-element list).
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
    ) -> Result<Vec<T>, PosError> {
        let answer = self.read(endpoint, self.url(segments)).await?;
        self.parse(endpoint, &answer.body)
    }

    /// Every page of a paged list (`?p=1, 2, …`): the next page is read while the `Link`
    /// header names a `rel="next"`, or, without a `Link` header, while pages come back full;
    /// an empty page ends the list either way.
    pub(super) async fn get_pages<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        segments: &[&str],
    ) -> Result<Vec<T>, PosError> {
        let mut rows = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut url = self.url(segments);
            url.query_pairs_mut().append_pair("p", &page.to_string());
            let answer = self.read(endpoint, url).await?;
            let batch: Vec<T> = self.parse(endpoint, &answer.body)?;
            let more = !batch.is_empty()
                && match &answer.link {
                    Some(link) => names_next(link),
                    None => batch.len() >= PAGE_SIZE,
                };
            rows.extend(batch);
            if !more {
                return Ok(rows);
            }
        }
        Err(PosError::Unavailable(self.http.describe(
            endpoint,
            &format!("still more after {MAX_PAGES} pages; gave up"),
        )))
    }

    /// A POST (form-urlencoded, as Hiboutik's own PHP client sends), sent once: a POST may
    /// have been carried out even when its answer is lost. Returns the answer's body.
    pub(super) async fn post(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        form: &[(&str, String)],
    ) -> Result<Vec<u8>, PosError> {
        let answer = self
            .attempt(Method::POST, endpoint, self.url(segments), Some(form))
            .await?;
        Ok(answer.body)
    }

    /// A PUT, which sets values: sending it again is harmless, so it is retried like a read.
    pub(super) async fn put(
        &self,
        endpoint: &'static str,
        segments: &[&str],
        form: &[(&str, String)],
    ) -> Result<(), PosError> {
        self.retried(Method::PUT, endpoint, self.url(segments), Some(form))
            .await
            .map(drop)
    }

    /// Reads `body` as a list of `T` (a garbled answer is a transient failure).
    pub(super) fn parse<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        body: &[u8],
    ) -> Result<Vec<T>, PosError> {
        wire::rows(body).map_err(|err| {
            PosError::Unavailable(self.http.describe(
                endpoint,
                &format!("answered something that is not the expected JSON ({err})"),
            ))
        })
    }

    async fn read(&self, endpoint: &'static str, url: Url) -> Result<Answer, PosError> {
        self.retried(Method::GET, endpoint, url, None).await
    }

    /// An idempotent call, retried with backoff while it fails transiently (each try is a
    /// call, and costs one unit of budget).
    async fn retried(
        &self,
        method: Method,
        endpoint: &'static str,
        url: Url,
        form: Option<&[(&str, String)]>,
    ) -> Result<Answer, PosError> {
        let call = Retried::on("Hiboutik", &self.http, endpoint);
        with_retries(&self.backoff, call, || {
            self.attempt(method.clone(), endpoint, url.clone(), form)
        })
        .await
    }

    async fn attempt(
        &self,
        method: Method,
        endpoint: &'static str,
        url: Url,
        form: Option<&[(&str, String)]>,
    ) -> Result<Answer, PosError> {
        let _slot = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.take_budget(endpoint).await?;
        let mut request = self
            .http
            .client()
            .request(method, url)
            .basic_auth(&self.email, Some(self.api_key.expose_secret()))
            .header(ACCEPT, "application/json");
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = self.http.send(endpoint, request).await?;
        let status = response.status();
        let link = response
            .headers()
            .get(LINK)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = self
            .http
            .body(endpoint, response)
            .await
            .map_err(PosError::Unavailable)?;
        if status.is_success() {
            Ok(Answer { body, link })
        } else {
            Err(self.refusal(endpoint, status, &body))
        }
    }

    /// Counts the call against `MaximumRequests` for the current UTC month, or refuses it.
    async fn take_budget(&self, endpoint: &'static str) -> Result<(), PosError> {
        let month = Utc::now().format("%Y-%m").to_string();
        if self
            .budget
            .take(&self.account, &month, self.maximum_requests)
            .await?
        {
            return Ok(());
        }
        let used = self.budget.used(&self.account, &month).await?;
        Err(PosError::BudgetExhausted(self.http.describe(
            endpoint,
            &format!(
                "not sent: {used} of the {} Hiboutik calls allowed for {month} (MaximumRequests) \
                 are used; the budget starts again on the 1st of next month",
                self.maximum_requests
            ),
        )))
    }

    /// A non-2xx answer as a `PosError`. Only Hiboutik's documented refusals, in its own
    /// error JSON, are final: a 422 (`Rejected`) and, on reads, a 404 (`NotFound`: nothing
    /// there). Anything else (a proxy's 404 page, a 409 or 423, a 5xx) may hide a write
    /// carried out, and is a transient `Unavailable`, retried.
    fn refusal(&self, endpoint: &'static str, status: StatusCode, body: &[u8]) -> PosError {
        let said = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .filter(|error| error.error.is_some() || error.error_description.is_some());
        let detail = said
            .as_ref()
            .map(ErrorBody::summary)
            .unwrap_or_else(|| snippet(body));
        let message = self
            .http
            .describe(endpoint, &format!("HTTP {}: {detail}", status.as_u16()));
        match (status, said.is_some()) {
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => {
                PosError::Unauthorized(message)
            }
            // Hiboutik blocks a shop that spent its monthly quota until the month ends:
            // retrying is pointless.
            (StatusCode::TOO_MANY_REQUESTS, _) => PosError::BudgetExhausted(self.http.describe(
                endpoint,
                &format!(
                    "Hiboutik answered 429, its monthly quota of calls for the shop is spent \
                     and it refuses calls until the month ends ({detail})"
                ),
            )),
            (StatusCode::UNPROCESSABLE_ENTITY, true) => PosError::Rejected(message),
            (StatusCode::NOT_FOUND, true) => PosError::NotFound(message),
            _ => PosError::Unavailable(message),
        }
    }
}

/// Hiboutik answers an unknown id or an empty search with `[]`, or (on some endpoints) a 404:
/// both mean "nothing".
pub(super) fn none_if_missing<T>(found: Result<Vec<T>, PosError>) -> Result<Vec<T>, PosError> {
    match found {
        Err(PosError::NotFound(_)) => Ok(Vec::new()),
        found => found,
    }
}

/// Whether a `Link` header has a `rel="next"` part.
fn names_next(link: &str) -> bool {
    link.split(',').any(|part| {
        part.split(';')
            .skip(1)
            .any(|param| matches!(param.trim(), r#"rel="next""# | "rel=next"))
    })
}

/// The start of a body that is not Hiboutik's error JSON, on one line.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(200) {
        None if text.is_empty() => "empty answer".to_owned(),
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_next_relation_continues() {
        let middle = r#"<https://x.hiboutik.com/api/stock?p=1>; rel="start", <https://x.hiboutik.com/api/stock?p=2>; rel="next", <https://x.hiboutik.com/api/stock?p=9>; rel="last""#;
        let last = r#"<https://x.hiboutik.com/api/stock?p=1>; rel="start", <https://x.hiboutik.com/api/stock?p=8>; rel="prev", <https://x.hiboutik.com/api/stock?p=9>; rel="current""#;
        assert!(names_next(middle));
        assert!(!names_next(last));
        assert!(names_next("<a?p=2>; rel=next"));
    }

    #[test]
    fn snippets_are_short_single_lines() {
        assert_eq!(snippet(b""), "empty answer");
        assert_eq!(snippet(b"<html>\n  oops\n</html>"), "<html> oops </html>");
        assert_eq!(snippet("x".repeat(300).as_bytes()).chars().count(), 201);
    }
}
