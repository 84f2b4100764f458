//! How one call to the Lightspeed API is made: a fresh bearer token, a turn of the account's
//! pacer, the request, one refresh-and-retry on 401, then the answer read into a type or a
//! `PosError` naming the account and the call. Reads are retried (429, 5xx, broken
//! connections); writes are not: the caller retries them after its own lookup.

use crate::auth::{Auth, Bearer};
use crate::pacing::{self, Pacer};
use crate::wire::{ErrorBody, Page};
use chrono::{DateTime, Utc};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use stocksync_domain::PosError;
use stocksync_pos::PosHttp;
use stocksync_pos::backoff::Backoff;

/// How many 429s in a row a read waits out before giving up.
const RATE_LIMITED_RETRIES: u32 = 5;

/// The API of one account.
pub struct Api {
    http: PosHttp,
    /// `{BaseUrl}`: `next` links must stay under it (they carry our token).
    origin: String,
    /// `{BaseUrl}/API/V3/Account/{accountID}`
    root: String,
    auth: Auth,
    pacer: Pacer,
    backoff: Backoff,
}

/// One request, rebuilt for each attempt.
pub struct Call<'a> {
    pub endpoint: &'static str,
    pub method: Method,
    pub url: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<&'a Value>,
    /// The bucket drips it is expected to cost.
    pub cost: f64,
}

impl Call<'_> {
    /// A GET of `url` (a full URL) with `query`.
    pub fn get(
        endpoint: &'static str,
        url: String,
        query: Vec<(&'static str, String)>,
        cost: f64,
    ) -> Self {
        Self {
            endpoint,
            method: Method::GET,
            url,
            query,
            body: None,
            cost,
        }
    }
}

/// What came back, read whole while the pacer's turn was held.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    /// Lightspeed's clock (the `Date` header, whole seconds).
    date: Option<DateTime<Utc>>,
    body: Vec<u8>,
}

/// Every row of a list, and Lightspeed's clock when it served the first page.
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub first_served_at: Option<DateTime<Utc>>,
}

impl Api {
    pub fn new(http: PosHttp, origin: &str, account: &str, auth: Auth) -> Self {
        Self {
            root: format!("{origin}/API/V3/Account/{account}"),
            origin: origin.to_owned(),
            http,
            auth,
            pacer: Pacer::default(),
            backoff: Backoff::default(),
        }
    }

    pub fn set_backoff(&mut self, backoff: Backoff) {
        self.backoff = backoff;
    }

    pub fn account(&self) -> &str {
        self.http.account()
    }

    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// `"account X, CALL: what"`.
    pub fn describe(&self, endpoint: &str, what: &str) -> String {
        self.http.describe(endpoint, what)
    }

    /// The full URL of a resource path (`"ItemShop.json"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.root)
    }

    /// A read, retried while it fails for a transient reason.
    pub async fn get<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, PosError> {
        Ok(self.get_dated(call).await?.0)
    }

    /// A read, with Lightspeed's clock when it answered.
    async fn get_dated<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
    ) -> Result<(T, Option<DateTime<Utc>>), PosError> {
        let (mut failures, mut limited) = (0, 0);
        loop {
            let outcome = match self.exchange(call).await {
                Ok(answer) => {
                    let date = answer.date;
                    self.read(call.endpoint, answer).map(|value| (value, date))
                }
                Err(err) => Err(err),
            };
            match outcome {
                // The pacer holds the next request for the answer's Retry-After.
                Err(PosError::RateLimited { .. }) if limited < RATE_LIMITED_RETRIES => limited += 1,
                Err(PosError::Unavailable(why)) if failures < self.backoff.retries => {
                    tracing::debug!(call = call.endpoint, %why, "retrying a read");
                    tokio::time::sleep(self.backoff.delay(failures)).await;
                    failures += 1;
                }
                other => return other,
            }
        }
    }

    /// Every row of a list, following `@attributes.next` verbatim until it is `""`.
    pub async fn list<T: DeserializeOwned>(&self, first: Call<'_>) -> Result<Vec<T>, PosError> {
        Ok(self.list_dated(first).await?.rows)
    }

    /// Every row of a list, and when Lightspeed served its first page.
    pub async fn list_dated<T: DeserializeOwned>(
        &self,
        first: Call<'_>,
    ) -> Result<Listed<T>, PosError> {
        let mut rows = Vec::new();
        let mut first_served_at = None;
        let mut call = first;
        loop {
            let (page, date): (Page<T>, _) = self.get_dated(&call).await?;
            first_served_at = first_served_at.or(date);
            rows.extend(page.rows);
            let next = page.attributes.next;
            if next.is_empty() {
                return Ok(Listed {
                    rows,
                    first_served_at,
                });
            }
            if !next.starts_with(&format!("{}/", self.origin)) {
                return Err(PosError::Unavailable(self.describe(
                    call.endpoint,
                    "the next page's link leads away from the API; not followed",
                )));
            }
            if call.query.is_empty() && next == call.url {
                return Err(PosError::Unavailable(
                    self.describe(call.endpoint, "the next page's link repeats this page"),
                ));
            }
            call = Call::get(call.endpoint, next, Vec::new(), call.cost);
        }
    }

    /// A write: made once (a 401 is refreshed and retried, since it was not carried out).
    pub async fn send<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, PosError> {
        let answer = self.exchange(call).await?;
        self.read(call.endpoint, answer)
    }

    /// One request, and one more with a refreshed token if the first got a 401.
    async fn exchange(&self, call: &Call<'_>) -> Result<Answer, PosError> {
        let mut refreshed = false;
        loop {
            let bearer = self.auth.bearer().await?;
            let answer = self.once(call, &bearer).await?;
            if answer.status == 401 && !refreshed {
                tracing::info!(
                    call = call.endpoint,
                    "the access token was refused; refreshing it"
                );
                self.auth.rejected(&bearer).await?;
                refreshed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    async fn once(&self, call: &Call<'_>, bearer: &Bearer) -> Result<Answer, PosError> {
        let mut turn = self.pacer.turn(call.endpoint, call.cost).await;
        let mut request = self
            .http
            .client()
            .request(call.method.clone(), &call.url)
            .bearer_auth(bearer.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = self.http.send(call.endpoint, request).await?;
        let status = response.status().as_u16();
        turn.observe(status, response.headers());
        let retry_after = pacing::retry_after(response.headers());
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| DateTime::parse_from_rfc2822(value).ok())
            .map(|date| date.with_timezone(&Utc));
        let body = self
            .http
            .body(call.endpoint, response)
            .await
            .map_err(PosError::Unavailable)?;
        Ok(Answer {
            status,
            retry_after,
            date,
            body,
        })
    }

    /// A success read into `T`; anything else into the `PosError` it means: only a 400, 404 or
    /// 422 that Lightspeed itself explains is final.
    fn read<T: DeserializeOwned>(&self, endpoint: &str, answer: Answer) -> Result<T, PosError> {
        let status = answer.status;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&answer.body).map_err(|err| {
                PosError::Unavailable(self.describe(endpoint, &format!("unexpected answer: {err}")))
            });
        }
        // Lightspeed's own error JSON: a proxy's or a load balancer's answer has none.
        let said = serde_json::from_slice::<ErrorBody>(&answer.body)
            .unwrap_or_default()
            .summary();
        let from_lightspeed = !said.is_empty();
        let what = if said.is_empty() {
            format!("answered {status}")
        } else {
            format!("answered {status}: {said}")
        };
        let message = self.describe(endpoint, &what);
        Err(match status {
            401 => {
                PosError::Unauthorized(format!("{message} (even with a refreshed access token)"))
            }
            403 => PosError::Unauthorized(format!(
                "{message} (check AccountID and that the token has the employee:inventory and employee:register scopes)"
            )),
            429 => PosError::RateLimited {
                retry_after: answer.retry_after,
            },
            // The documented refusals, said by Lightspeed: final.
            404 if from_lightspeed => PosError::NotFound(message),
            400 | 422 if from_lightspeed => PosError::Rejected(message),
            // Anything else (a proxy's 404, an edit conflict 409, a 423, a 5xx) may hide a
            // write carried out: retried, after a lookup.
            _ => PosError::Unavailable(message),
        })
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("account", &self.account())
            .field("root", &self.root)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}
