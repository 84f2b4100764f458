//! The OAuth tokens of one Lightspeed account: which access token to send, and the refresh
//! that replaces it before it expires or once the API refused it.
//!
//! Lightspeed refresh tokens are single-use and rotate, so a refresh is single-flight (one
//! lock; callers that waited reuse its result) and the new pair is saved in the `TokenVault`
//! before its access token is used: a restart never needs the refresh token it replaced.
//! Several processes share the vault: a refresh is made under the vault's refresh lease, and
//! starts by loading the stored pair, so a process whose pair another one rotated takes the
//! new pair instead of sending a revoked refresh token.
//! Tokens and the client secret never appear in errors, logs or `Debug`.

use crate::wire::{ErrorBody, TokenAnswer};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use stocksync_domain::AccountId;
use stocksync_domain::PosError;
use stocksync_domain::ports::{TokenPair, TokenVault};
use stocksync_pos::PosHttp;
use tokio::sync::Mutex;
use tokio::time::Instant;

const TOKEN_CALL: &str = "POST /auth/oauth/token";
/// An access token is replaced this long before it expires (or half its life, if shorter).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// When an answer has no `expires_in` (Lightspeed documents about an hour).
const DEFAULT_LIFETIME: i64 = 3600;
/// How long the refresh lease lasts: longer than a token call may take; a process that died
/// holding it stops others refreshing for at most this long.
const REFRESH_LEASE: Duration = Duration::from_secs(60);
/// How often a process waiting for the refresh lease asks again.
const LEASE_POLL: Duration = Duration::from_millis(100);

/// The OAuth side of one account.
pub struct Auth {
    http: PosHttp,
    account: AccountId,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    /// The tokens of the configuration, used when the vault has none.
    configured: Held,
    vault: Arc<dyn TokenVault>,
    /// Who holds the refresh lease when this client does (unique per client, so per process).
    holder: String,
    state: Mutex<State>,
}

/// What the OAuth client needs from the account's configuration.
pub struct Credentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub access_token: Option<SecretString>,
    pub refresh_token: SecretString,
}

#[derive(Debug, Default)]
struct State {
    /// `None` until the vault was read.
    held: Option<Held>,
    /// Bumped by every refresh, so that callers refused with an older token do not refresh again.
    generation: u64,
    /// The configured refresh token was refused: do not offer it again.
    configured_refused: bool,
}

#[derive(Clone, Debug)]
struct Held {
    access: Option<SecretString>,
    refresh: SecretString,
    /// When the access token expires, if known (it is not for a configured one).
    expires_at: Option<DateTime<Utc>>,
    /// When to stop sending the access token (tokio's clock): its expiry minus a margin.
    fresh_until: Option<Instant>,
    /// Whether the vault holds this pair; a rotated pair is used only once saved.
    saved: bool,
    from_vault: bool,
}

/// An access token to send, and the refresh generation it belongs to.
pub struct Bearer {
    pub token: SecretString,
    generation: u64,
}

/// Why the token endpoint said no.
enum Refusal {
    /// The refresh token is invalid or revoked.
    InvalidGrant,
    Other(PosError),
}

impl Auth {
    pub fn new(
        http: PosHttp,
        account: AccountId,
        credentials: Credentials,
        vault: Arc<dyn TokenVault>,
    ) -> Self {
        let configured = Held {
            access: credentials.access_token,
            refresh: credentials.refresh_token,
            expires_at: None,
            fresh_until: None,
            saved: true,
            from_vault: false,
        };
        Self {
            http,
            account,
            token_url: credentials.token_url,
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
            configured,
            vault,
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            state: Mutex::new(State::default()),
        }
    }

    /// The access token to send now: the stored one while fresh, else a refreshed one.
    pub async fn bearer(&self) -> Result<Bearer, PosError> {
        let mut state = self.state.lock().await;
        if state.held.is_none() {
            state.held = Some(self.load().await?);
        }
        self.save_if_unsaved(&mut state).await?;
        if let Some(bearer) = state.usable() {
            return Ok(bearer);
        }
        self.refresh(&mut state).await?;
        state.usable().ok_or_else(|| {
            PosError::Unauthorized(self.http.describe(
                TOKEN_CALL,
                "Lightspeed gave an access token that is already expired",
            ))
        })
    }

    /// The API refused `bearer`: refresh, unless another caller already did since it was handed out.
    pub async fn rejected(&self, bearer: &Bearer) -> Result<(), PosError> {
        let mut state = self.state.lock().await;
        if state.generation != bearer.generation {
            return Ok(());
        }
        self.refresh(&mut state).await
    }

    async fn load(&self) -> Result<Held, PosError> {
        Ok(match self.vault.load(&self.account).await? {
            Some(pair) => Held {
                fresh_until: Some(fresh_until(pair.expires_at, REFRESH_MARGIN)),
                access: Some(pair.access_token.into()),
                refresh: pair.refresh_token.into(),
                expires_at: Some(pair.expires_at),
                saved: true,
                from_vault: true,
            },
            None => self.configured.clone(),
        })
    }

    /// A pair whose saving failed is saved before anything else happens.
    async fn save_if_unsaved(&self, state: &mut State) -> Result<(), PosError> {
        let Some(held) = state.held.as_mut().filter(|held| !held.saved) else {
            return Ok(());
        };
        let (Some(access), Some(expires_at)) = (&held.access, held.expires_at) else {
            return Ok(());
        };
        let pair = TokenPair {
            access_token: access.expose_secret().to_owned(),
            refresh_token: held.refresh.expose_secret().to_owned(),
            expires_at,
        };
        self.vault.save(&self.account, &pair).await?;
        held.saved = true;
        Ok(())
    }

    /// Replaces the held pair, under the vault's refresh lease: by the stored pair if another
    /// process rotated it since, else by trading the refresh token for a new pair, saved. The
    /// caller holds the lock, so there is never more than one refresh in flight in this
    /// process, and the lease makes it one across processes.
    #[tracing::instrument(skip_all, fields(account = %self.account), err)]
    async fn refresh(&self, state: &mut State) -> Result<(), PosError> {
        self.take_refresh_lease().await?;
        let refreshed = self.refresh_under_lease(state).await;
        if let Err(err) = self.vault.end_refresh(&self.account, &self.holder).await {
            // It expires by itself; the others wait for it until then.
            tracing::warn!(%err, "could not give the token refresh lease back");
        }
        refreshed
    }

    /// Waits for the refresh lease: another process is refreshing, or died doing it and its
    /// lease expires.
    async fn take_refresh_lease(&self) -> Result<(), PosError> {
        let deadline = Instant::now() + REFRESH_LEASE * 2;
        while !self
            .vault
            .lease_refresh(&self.account, &self.holder, REFRESH_LEASE)
            .await?
        {
            if Instant::now() > deadline {
                return Err(PosError::Unavailable(self.http.describe(
                    TOKEN_CALL,
                    "another process has been refreshing the access token for too long",
                )));
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
        Ok(())
    }

    async fn refresh_under_lease(&self, state: &mut State) -> Result<(), PosError> {
        let mut held = state
            .held
            .clone()
            .unwrap_or_else(|| self.configured.clone());
        let stored = self.load().await?;
        // (A pair whose saving failed is newer than the stored one: it is kept.)
        if held.saved && stored.refresh.expose_secret() != held.refresh.expose_secret() {
            // Another process rotated the pair (and revoked the one held here): take its pair.
            state.generation += 1;
            state.held = Some(stored.clone());
            if state.usable().is_some() {
                tracing::info!("took the Lightspeed tokens another process refreshed");
                return Ok(());
            }
            held = stored;
        }
        let answer = match self.exchange(&held.refresh).await {
            Ok(answer) => answer,
            // The operator may have authorised the account again and put the new refresh token
            // in the configuration: offer it once before giving up.
            Err(Refusal::InvalidGrant)
                if held.from_vault
                    && !state.configured_refused
                    && held.refresh.expose_secret() != self.configured.refresh.expose_secret() =>
            {
                match self.exchange(&self.configured.refresh).await {
                    Ok(answer) => answer,
                    Err(refusal) => {
                        state.configured_refused |= matches!(refusal, Refusal::InvalidGrant);
                        return Err(self.refusal_error(refusal));
                    }
                }
            }
            Err(refusal) => return Err(self.refusal_error(refusal)),
        };
        let lifetime = answer.expires_in.unwrap_or(DEFAULT_LIFETIME).max(0);
        let expires_at = Utc::now() + chrono::Duration::seconds(lifetime);
        let margin = REFRESH_MARGIN.min(Duration::from_secs(lifetime as u64) / 2);
        let refresh = answer
            .refresh_token
            .map_or(held.refresh, SecretString::from);
        let pair = TokenPair {
            access_token: answer.access_token,
            refresh_token: refresh.expose_secret().to_owned(),
            expires_at,
        };
        state.generation += 1;
        state.held = Some(Held {
            access: Some(pair.access_token.as_str().into()),
            refresh,
            expires_at: Some(expires_at),
            fresh_until: Some(fresh_until(expires_at, margin)),
            saved: false,
            from_vault: true,
        });
        // Saved before use: the old refresh token is dead, this pair is the only way back in.
        self.vault.save(&self.account, &pair).await?;
        if let Some(held) = state.held.as_mut() {
            held.saved = true;
        }
        tracing::info!(
            expires_in = lifetime,
            "refreshed the Lightspeed access token"
        );
        Ok(())
    }

    async fn exchange(&self, refresh: &SecretString) -> Result<TokenAnswer, Refusal> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", refresh.expose_secret()),
        ];
        let request = self.http.client().post(&self.token_url).form(&form);
        let response = self
            .http
            .send(TOKEN_CALL, request)
            .await
            .map_err(Refusal::Other)?;
        let status = response.status().as_u16();
        let body = self
            .http
            .body(TOKEN_CALL, response)
            .await
            .map_err(|what| Refusal::Other(PosError::Unavailable(what)))?;
        if status == 200 {
            return serde_json::from_slice(&body).map_err(|err| {
                Refusal::Other(PosError::Unavailable(
                    self.http
                        .describe(TOKEN_CALL, &format!("unexpected answer: {err}")),
                ))
            });
        }
        let error = serde_json::from_slice::<ErrorBody>(&body).unwrap_or_default();
        let code = error.error.unwrap_or_default();
        Err(match status {
            400 | 401 if code == "invalid_grant" => Refusal::InvalidGrant,
            // Not `RateLimited`: the API's pacer does not see this server's limits, so the
            // caller's backoff spaces the next try instead.
            429 => Refusal::Other(PosError::Unavailable(
                self.http.describe(TOKEN_CALL, "the OAuth server is rate limiting refreshes"),
            )),
            400..=499 => Refusal::Other(PosError::Unauthorized(self.http.describe(
                TOKEN_CALL,
                &format!("Lightspeed refused the token refresh ({status} {code}); check ClientID and ClientSecret"),
            ))),
            _ => Refusal::Other(PosError::Unavailable(self.http.describe(TOKEN_CALL, &format!("answered {status}")))),
        })
    }

    fn refusal_error(&self, refusal: Refusal) -> PosError {
        match refusal {
            Refusal::InvalidGrant => PosError::Unauthorized(self.http.describe(
                TOKEN_CALL,
                "Lightspeed refused the refresh token (invalid_grant): the account must be re-authorised \
                 in Lightspeed and its new refresh token put in RefreshToken",
            )),
            Refusal::Other(err) => err,
        }
    }
}

impl State {
    fn usable(&self) -> Option<Bearer> {
        let held = self.held.as_ref()?;
        let fresh = held.fresh_until.is_none_or(|until| Instant::now() < until);
        match &held.access {
            Some(token) if fresh && held.saved => Some(Bearer {
                token: token.clone(),
                generation: self.generation,
            }),
            _ => None,
        }
    }
}

/// The tokio instant at which a token expiring at `expires_at` stops being sent.
fn fresh_until(expires_at: DateTime<Utc>, margin: Duration) -> Instant {
    let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
    Instant::now() + left.saturating_sub(margin)
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("account", &self.account)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}
