//! `GET /api/openapi.json`: an OpenAPI 3 description built from the routes themselves; every
//! route of the API is in it.

use stocksync_testkit::{Backend, TestApp};

/// Every route of the HTTP API (the dashboard's pages are not part of it).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/items"),
    ("post", "/api/items"),
    ("get", "/api/items/{id}"),
    ("patch", "/api/items/{id}"),
    ("delete", "/api/items/{id}"),
    ("get", "/api/items/{id}/history"),
    ("get", "/api/itemstask/{id}"),
    ("get", "/api/jobs"),
    ("delete", "/api/jobs/{id}"),
    ("post", "/api/jobs/{id}/retry"),
    ("get", "/api/synchronizer"),
    ("post", "/api/synchronizer/start"),
    ("post", "/api/synchronizer/stop"),
    ("put", "/api/synchronizer/schedule"),
    ("post", "/api/synchronizer/forceUpdate"),
    ("post", "/api/synchronizer/reconcile"),
    ("post", "/api/synchronizer/sale"),
    ("post", "/api/synchronizer/return"),
    ("get", "/api/sales"),
    ("get", "/api/sales/{id}"),
    ("post", "/api/sales/{id}/retry"),
    ("post", "/webhooks/square/{account}"),
    ("post", "/webhooks/hiboutik/{account}"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, spec) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200, "{spec}");
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3."),
        "{spec}"
    );
    assert_eq!(spec["info"]["title"], "stocksync");
    let paths = spec["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not described"))[method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
    }
    let described: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        described,
        ROUTES.len(),
        "a described route this test does not know: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // And each described route is served: none answers "no such route".
    for (method, path) in ROUTES {
        let url = path.replace("{id}", "1").replace("{account}", "nope");
        let response = app
            .request(method.to_uppercase().parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        let body = response.text().await.unwrap();
        assert!(!body.contains("no such route"), "{method} {path}: {body}");
    }
}
