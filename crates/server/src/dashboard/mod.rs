//! The dashboard: a web page at `/dashboard` (the original's `/hangfire` redirects to it) for a
//! shop owner, served by the binary itself. One server-rendered shell, one stylesheet and one
//! script, all embedded with `include_str!`: nothing is fetched from elsewhere at run time.
//!
//! The script reads the JSON API every few seconds, authenticated by the session cookie that
//! the login form sets (`login.rs`), and sends the session's CSRF token (written into the
//! page) with every change; `data.rs` adds the one view the public API lacks (links
//! with their POS count and drift). The page, the login form, the assets and `/hangfire` are
//! open, since a signed-out browser must reach them; everything with data is behind the key.
//! Depends on the API's access control (`api::auth`), never the reverse.

mod assets;
mod data;
mod login;

use crate::api::AppState;
use crate::api::auth;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};

/// The open part: the page (which shows the login form until the cookie is right), the login
/// and logout forms, the assets, and the old `/hangfire` address.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/", get(to_dashboard))
        .route("/dashboard/items/{id}", get(page))
        .route("/dashboard/login", get(login::form).post(login::login))
        .route("/dashboard/logout", post(login::logout))
        .route("/dashboard/assets/{name}", get(assets::serve))
        .route("/hangfire", any(to_dashboard))
        .route("/hangfire/", any(to_dashboard))
        .route("/hangfire/{*rest}", any(to_dashboard))
}

/// The data the page reads besides the public API; to be mounted behind the API key.
pub fn data_router() -> Router<AppState> {
    data::router()
}

const SHELL: &str = include_str!("shell.html");

/// `/dashboard` and `/dashboard/items/{id}`: the page shell (the script picks the view from
/// the address), or the login form when a key is configured and the cookie is not right.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (auth, csrf) = if state.api_key.is_none() {
        ("open", String::new())
    } else {
        match auth::live_session(&state, &headers).await {
            Ok(Some(token)) => ("key", auth::csrf_token(&token)),
            Ok(None) => return login::page(StatusCode::OK, None),
            Err(err) => return err.into_response(),
        }
    };
    let body = SHELL
        .replace("{{version}}", assets::version())
        .replace("{{auth}}", auth)
        .replace("{{csrf}}", &csrf);
    html(StatusCode::OK, body)
}

async fn to_dashboard() -> Redirect {
    Redirect::to("/dashboard")
}

/// Whether the request may see the dashboard: no key is configured (the service then only
/// listens on loopback), or it carries the cookie of a live session.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    state.api_key.is_none() || matches!(auth::live_session(state, headers).await, Ok(Some(_)))
}

/// A page of ours: never cached, never framed, scripts and styles from this origin only.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    security_headers(headers);
    response
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}
