//! The HTTP side of a POS client: one `reqwest` client with timeouts, every call counted, and
//! transport failures turned into `PosError`s that name the account and the call (never a
//! credential: requests are described by method and endpoint name only).

use crate::CallLog;
use std::time::Duration;
use stocksync_domain::PosError;

/// How long a POS may take to answer one call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Chooses TLS's cryptography for the whole process (ring, the one sqlx uses too): reqwest is
/// built without a default, and panics if a client is built before this. Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// One account's HTTP access.
#[derive(Clone, Debug)]
pub struct PosHttp {
    client: reqwest::Client,
    account: String,
    calls: CallLog,
}

impl PosHttp {
    /// A client for `account` that counts its calls in `calls`.
    pub fn new(account: &str, calls: CallLog) -> Self {
        Self::with_timeout(account, calls, CALL_TIMEOUT)
    }

    pub fn with_timeout(account: &str, calls: CallLog, timeout: Duration) -> Self {
        install_crypto();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("stocksync/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client");
        Self {
            client,
            account: account.to_owned(),
            calls,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn calls(&self) -> &CallLog {
        &self.calls
    }

    /// Sends a request and counts it under `endpoint` with the status it got. Any status is
    /// returned as a response: reading it is the vendor client's business.
    pub async fn send(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PosError> {
        match request.send().await {
            Ok(response) => {
                self.calls
                    .record(&self.account, endpoint, response.status().as_u16());
                Ok(response)
            }
            Err(err) => {
                self.calls.record(&self.account, endpoint, 0);
                let what = if err.is_timeout() {
                    "timed out".to_owned()
                } else if err.is_connect() {
                    "could not connect".to_owned()
                } else {
                    // Without the URL: it may carry query parameters a POS considers private.
                    err.without_url().to_string()
                };
                Err(PosError::Unavailable(self.describe(endpoint, &what)))
            }
        }
    }

    /// The body of `response`, the answer to a call to `endpoint`, or what cut it short (as
    /// [`describe`](Self::describe) words it: the vendor's client says it is unavailable).
    pub async fn body(
        &self,
        endpoint: &str,
        response: reqwest::Response,
    ) -> Result<Vec<u8>, String> {
        match response.bytes().await {
            Ok(body) => Ok(body.to_vec()),
            Err(err) => Err(self.describe(
                endpoint,
                &format!("the answer was cut short ({})", err.without_url()),
            )),
        }
    }

    /// "account X, GET /path: what": the form of every client error message.
    pub fn describe(&self, endpoint: &str, what: &str) -> String {
        format!("account {}, {endpoint}: {what}", self.account)
    }
}
