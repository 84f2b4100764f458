//! The simulated OAuth server ("cloud"): `POST /auth/oauth/token` with the `refresh_token`
//! grant (form or JSON body). Each refresh rotates both tokens: the old access token is revoked
//! and the old refresh token is dead (using it again gets `400 invalid_grant`). Access tokens are
//! unsigned JWTs with `acct` and `exp`, valid for a configurable time.

use super::Shared;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Issued tokens. A *chain* is one authorisation and the refreshes that followed it.
#[derive(Debug)]
pub struct Tokens {
    access: HashMap<String, Access>,
    /// Refresh tokens that may still be used, with their chain.
    refresh: HashMap<String, u64>,
    chains: u64,
    lifetime: Duration,
    /// After this many more authorised API calls, every access token expires.
    expire_after: Option<u32>,
    account_id: i64,
    client_id: String,
}

#[derive(Debug)]
struct Access {
    chain: u64,
    expires: Instant,
    revoked: bool,
}

/// A fresh pair.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

impl Tokens {
    pub fn new(account_id: i64, client_id: &str, lifetime: Duration) -> Self {
        Self {
            access: HashMap::new(),
            refresh: HashMap::new(),
            chains: 0,
            lifetime,
            expire_after: None,
            account_id,
            client_id: client_id.to_owned(),
        }
    }

    /// A new authorisation, as if the merchant approved the app again.
    pub fn authorize(&mut self) -> Grant {
        self.chains += 1;
        self.issue(self.chains)
    }

    fn issue(&mut self, chain: u64) -> Grant {
        let expires_in = self.lifetime.as_secs().max(1);
        let exp = chrono::Utc::now().timestamp() + expires_in as i64;
        let claims = json!({
            "iss": "https://cloud.lightspeedapp.com", "aud": self.client_id, "sub": "1",
            "acct": self.account_id.to_string(), "scope": "employee:all", "exp": exp,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let access_token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            uuid::Uuid::new_v4().simple()
        );
        let refresh_token = format!(
            "def50200{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.access.insert(
            access_token.clone(),
            Access {
                chain,
                expires: Instant::now() + self.lifetime,
                revoked: false,
            },
        );
        self.refresh.insert(refresh_token.clone(), chain);
        Grant {
            access_token,
            refresh_token,
            expires_in,
        }
    }

    /// Trades a refresh token for a new pair, once.
    fn rotate(&mut self, refresh_token: &str) -> Option<Grant> {
        let chain = self.refresh.remove(refresh_token)?;
        for access in self.access.values_mut().filter(|a| a.chain == chain) {
            access.revoked = true;
        }
        Some(self.issue(chain))
    }

    /// Whether an API call may use `token`; `Err` holds the `hint` of the 401.
    pub fn check(&mut self, token: &str) -> Result<(), &'static str> {
        let Some(access) = self.access.get(token) else {
            return Err("Access token could not be verified");
        };
        if access.revoked {
            return Err("Access token has been revoked");
        }
        if access.expires <= Instant::now() {
            return Err("Access token could not be verified");
        }
        match self.expire_after {
            Some(0) => {
                self.expire_after = None;
                let now = Instant::now();
                for access in self.access.values_mut() {
                    access.expires = access.expires.min(now);
                }
                Err("Access token could not be verified")
            }
            Some(n) => {
                self.expire_after = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    pub fn expire_after(&mut self, calls: u32) {
        self.expire_after = Some(calls);
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth/oauth/token", post(token))
        .with_state(shared)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "error": error, "error_description": description, "message": description }),
        ),
    )
        .into_response()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let fields: HashMap<String, String> = if is_json {
        match serde_json::from_slice::<HashMap<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect(),
            Err(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The body is not valid JSON.",
                );
            }
        }
    } else {
        form_urlencoded::parse(&body).into_owned().collect()
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != shared.client_id || field("client_secret") != shared.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if field("grant_type") != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    if fields.contains_key("scope") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "A scope cannot be requested on refresh.",
        );
    }
    if field("refresh_token").is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Check the `refresh_token` parameter",
        );
    }
    let grant = shared.tokens().rotate(field("refresh_token"));
    match grant {
        Some(grant) => axum::Json(json!({
            "token_type": "Bearer",
            "expires_in": grant.expires_in,
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
        }))
        .into_response(),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token is invalid.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_rotates_both_tokens_once() {
        let mut tokens = Tokens::new(1, "client", Duration::from_secs(60));
        let first = tokens.authorize();
        assert!(tokens.check(&first.access_token).is_ok());
        let second = tokens.rotate(&first.refresh_token).unwrap();
        assert_eq!(
            tokens.check(&first.access_token),
            Err("Access token has been revoked")
        );
        assert!(tokens.check(&second.access_token).is_ok());
        assert!(
            tokens.rotate(&first.refresh_token).is_none(),
            "a refresh token works once"
        );
        let other = tokens.authorize();
        assert!(
            tokens.check(&second.access_token).is_ok(),
            "chains are independent"
        );
        assert!(tokens.check(&other.access_token).is_ok());
    }

    #[test]
    fn tokens_can_expire_after_a_number_of_calls() {
        let mut tokens = Tokens::new(1, "client", Duration::from_secs(60));
        let grant = tokens.authorize();
        tokens.expire_after(1);
        assert!(tokens.check(&grant.access_token).is_ok());
        assert_eq!(
            tokens.check(&grant.access_token),
            Err("Access token could not be verified")
        );
        assert!(tokens.check(&grant.access_token).is_err());
    }
}
