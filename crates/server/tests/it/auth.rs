//! Access control: with an API key, every route but the health checks needs the bearer token.

use serde_json::json;
use stocksync_testkit::{Backend, Options, SECRETS, TestApp, on_every_backend, send};

on_every_backend!(every_route_but_health_needs_the_key, health_checks_answer);

async fn every_route_but_health_needs_the_key(backend: Backend) {
    let options = Options {
        api_key: Some("k3y-for-tests-0123456789".into()),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let client = stocksync_testkit::http_client();
    let routes = routes_needing_the_key(&app).await;
    for (method, path) in routes {
        let path = path.as_str();
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Bearer k3y-for-tests-012345678"),
            Some("k3y-for-tests-0123456789"),
        ] {
            let mut request = client
                .request(method.clone(), app.url(path))
                .json(&json!({}));
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {auth:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["code"], "unauthorized");
        }
    }
    let (status, _) = app.post_empty("/api/synchronizer/stop").await;
    assert_eq!(status, 200, "the right key opens the door");
    let lower_case = client
        .get(app.url("/api/synchronizer"))
        .header("authorization", "bearer k3y-for-tests-0123456789");
    assert_eq!(
        send(lower_case).await.0,
        200,
        "the scheme is case-insensitive"
    );
    let (status, body) = app.get("/api/synchronizer").await;
    assert_eq!(status, 200);
    let text = body.to_string();
    for secret in SECRETS.iter().chain(["k3y-for-tests-0123456789"].iter()) {
        assert!(!text.contains(secret), "{text}");
    }
    let token = stocksync::api::auth::session_token(&"k3y-for-tests-0123456789".to_owned().into());
    let with_cookie = client
        .get(app.url("/api/synchronizer"))
        .header("cookie", format!("theme=dark; stocksync_session={token}"));
    assert_eq!(
        send(with_cookie).await.0,
        200,
        "the dashboard's session cookie opens too"
    );
    let forged = client
        .get(app.url("/api/synchronizer"))
        .header("cookie", "stocksync_session=k3y-for-tests-0123456789");
    assert_eq!(
        send(forged).await.0,
        401,
        "the cookie is a token, not the key"
    );
    let (status, _) = send(client.get(app.url("/healthz"))).await;
    assert_eq!(status, 200);
    let (status, _) = send(client.get(app.url("/readyz"))).await;
    assert_eq!(status, 200);
}

/// Routes that answer without the API key: the health checks and the webhooks (which carry their
/// own signature or secret).
const OPEN_ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/webhooks/square/{account}",
    "/webhooks/hiboutik/{account}",
];

/// The keys of an OpenAPI path item that are operations.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every path × method of the OpenAPI description but [`OPEN_ROUTES`], with `1` for each
/// `{placeholder}`, plus the routes that are not described: the description itself, the
/// dashboard's data, and a route that does not exist.
async fn routes_needing_the_key(app: &TestApp) -> Vec<(reqwest::Method, String)> {
    let (status, spec) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200, "{spec}");
    let mut routes = Vec::new();
    let mut open = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if OPEN_ROUTES.contains(&path.as_str()) {
            open.push(path.as_str());
            continue;
        }
        let concrete = with_placeholder_ids(path);
        for method in operations.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                let method = method.to_uppercase().parse().unwrap();
                routes.push((method, concrete.clone()));
            }
        }
    }
    open.sort_unstable();
    let mut expected = OPEN_ROUTES.to_vec();
    expected.sort_unstable();
    assert_eq!(open, expected, "each open route is still described");
    assert!(
        routes.len() >= 20,
        "the description lists too few routes to mean anything: {routes:?}"
    );
    for path in [
        "/api/openapi.json",
        "/dashboard/data/links",
        "/dashboard/data/links/1",
        "/no/such/route",
    ] {
        routes.push((reqwest::Method::GET, path.to_owned()));
    }
    routes
}

/// `/api/items/{id}/history` → `/api/items/1/history`.
fn with_placeholder_ids(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { "1" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

async fn health_checks_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    assert_eq!(app.get("/healthz").await, (200, json!({ "status": "ok" })));
    assert_eq!(
        app.get("/readyz").await,
        (200, json!({ "status": "ready" }))
    );
    let (status, body) = app.post_empty("/healthz").await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["code"], "method_not_allowed");
}
