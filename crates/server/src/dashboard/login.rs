//! The dashboard's login and logout. The form takes the API key; each login makes a new
//! session (`api::auth`: a random token in the cookie, its hash in the database, an expiry),
//! and logging out ends it for good. The key appears in no cookie, page, address or log line.

use super::{html, signed_in};
use crate::api::AppState;
use crate::api::auth::{SESSION_COOKIE, is_api_key, live_session, new_session_token, token_hash};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

const LOGIN: &str = include_str!("login.html");

/// What a refused login says (the form is shown again below it).
const WRONG_KEY: &str = "That is not the API key. Check the ApiKey in appsettings.json (or \
     STOCKSYNC_API_KEY) and try again.";

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    key: String,
}

/// `GET /dashboard/login`: the form, or straight to the dashboard when no key is needed or
/// the browser is already signed in.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.api_key.is_none() || signed_in(&state, &headers).await {
        return Redirect::to("/dashboard").into_response();
    }
    page(StatusCode::OK, None)
}

/// `POST /dashboard/login` (form field `key`): a new session's cookie and `303` to the
/// dashboard, or `401` with the form and what went wrong.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Some(key) = &state.api_key else {
        return Redirect::to("/dashboard").into_response();
    };
    let presented = form.map(|Form(form)| form.key).unwrap_or_default();
    if !is_api_key(key, &presented) {
        tracing::info!("dashboard login refused: not the API key");
        return page(StatusCode::UNAUTHORIZED, Some(WRONG_KEY));
    }
    let token = match new_session_token() {
        Ok(token) => token,
        Err(err) => return err.into_response(),
    };
    let now = state.synchronizer.clock.now();
    if let Err(err) = state
        .store
        .create_session(&token_hash(&token), now, now + state.session_lifetime)
        .await
    {
        return crate::api::ApiError::from(err).into_response();
    }
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(served_securely(&headers))
        .build();
    see_dashboard(CookieJar::new().add(cookie))
}

/// `POST /dashboard/logout`: the session ended in the database and the cookie cleared, back
/// to the (login) page.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match live_session(&state, &headers).await {
        Ok(Some(token)) => {
            if let Err(err) = state.store.end_session(&token_hash(&token)).await {
                return crate::api::ApiError::from(err).into_response();
            }
        }
        Ok(None) => {}
        Err(err) => return err.into_response(),
    }
    // A removal is sent for a cookie the browser presented.
    let cleared = Cookie::build(SESSION_COOKIE).path("/").build();
    see_dashboard(CookieJar::from_headers(&headers).remove(cleared))
}

/// Whether the browser reached us over HTTPS, or from another machine (where a cookie must
/// never travel in clear): a proxy's `X-Forwarded-Proto`/`Forwarded` saying https, or a `Host`
/// that is not this machine. Only plain HTTP to a loopback name leaves `Secure` off.
pub fn served_securely(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let forwarded_https = text("x-forwarded-proto")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        || text("forwarded").is_some_and(|f| f.to_ascii_lowercase().contains("proto=https"));
    let host = text(header::HOST.as_str()).unwrap_or_default();
    forwarded_https || !crate::api::hosts::is_loopback(host)
}

fn see_dashboard(jar: CookieJar) -> Response {
    let mut response = (jar, Redirect::to("/dashboard")).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The login page, with `message` (one of ours, never user input) above the form.
pub fn page(status: StatusCode, message: Option<&str>) -> Response {
    let message = match message {
        Some(text) => format!(
            "<p class=\"problem\" role=\"alert\" id=\"login-error\">{}</p>",
            escape(text)
        ),
        None => String::new(),
    };
    let body = LOGIN
        .replace("{{version}}", super::assets::version())
        .replace("{{message}}", &message);
    html(status, body)
}

/// HTML-escapes text put into a page.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, served_securely};
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn the_cookie_is_secure_but_over_plain_http_on_this_machine() {
        assert!(!served_securely(&headers(&[("host", "127.0.0.1:5000")])));
        assert!(!served_securely(&headers(&[("host", "localhost:5000")])));
        assert!(!served_securely(&headers(&[("host", "[::1]:5000")])));
        assert!(served_securely(&headers(&[("host", "shop.example")])));
        assert!(served_securely(&headers(&[("host", "192.168.1.2:5000")])));
        assert!(served_securely(&headers(&[
            ("host", "127.0.0.1:5000"),
            ("x-forwarded-proto", "https")
        ])));
        assert!(served_securely(&headers(&[
            ("host", "127.0.0.1:5000"),
            ("forwarded", "for=1.2.3.4;proto=https")
        ])));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
