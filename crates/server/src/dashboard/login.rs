//! The dashboard's login and logout. The form takes the API key; the cookie it sets holds
//! `api::auth::session_token` (an HMAC of the key), never the key, which appears in no cookie,
//! page, address or log line.

use super::{html, signed_in};
use crate::api::AppState;
use crate::api::auth::{SESSION_COOKIE, is_api_key, session_token};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
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
    if state.api_key.is_none() || signed_in(&state, &headers) {
        return Redirect::to("/dashboard").into_response();
    }
    page(StatusCode::OK, None)
}

/// `POST /dashboard/login` (form field `key`): the session cookie and `303` to the dashboard,
/// or `401` with the form and what went wrong.
pub async fn login(
    State(state): State<AppState>,
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
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Secure",
        session_token(key)
    );
    see_dashboard(cookie)
}

/// `POST /dashboard/logout`: the cookie cleared, back to the (login) page.
pub async fn logout() -> Response {
    see_dashboard(format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
    ))
}

fn see_dashboard(cookie: String) -> Response {
    let mut response = Redirect::to("/dashboard").into_response();
    let value = HeaderValue::try_from(cookie).expect("a cookie of hex digits is a header value");
    response.headers_mut().insert(header::SET_COOKIE, value);
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
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
