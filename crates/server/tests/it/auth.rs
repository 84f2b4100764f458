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
    let routes = [
        ("GET", "/api/items"),
        ("GET", "/api/items/sq-main"),
        ("POST", "/api/items"),
        ("PATCH", "/api/items/1"),
        ("DELETE", "/api/items/1"),
        ("GET", "/api/synchronizer"),
        ("POST", "/api/synchronizer/start"),
        ("POST", "/api/synchronizer/stop"),
        ("POST", "/api/synchronizer/forceUpdate"),
        ("POST", "/api/synchronizer/sale"),
        ("GET", "/api/sales/x"),
        ("GET", "/api/itemstask/x"),
        ("GET", "/metrics"),
        ("POST", "/api/synchronizer/return"),
        ("POST", "/api/synchronizer/reconcile"),
        ("POST", "/api/sales/x/retry"),
        ("GET", "/api/items/1/history"),
        ("GET", "/no/such/route"),
    ];
    for (method, path) in routes {
        let method: reqwest::Method = method.parse().unwrap();
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
