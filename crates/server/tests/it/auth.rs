//! Access control: with an API key, every route but the health checks needs the bearer token;
//! in every mode, a host name that is not ours is refused, and so are changes from another
//! site's page.

use serde_json::{Value, json};
use stocksync_testkit::{
    Backend, HIBOUTIK_WEBHOOK_SECRET, OTHER_ACCOUNT, Options, SECRETS, TestApp, on_every_backend,
    send,
};

on_every_backend!(
    every_route_but_health_needs_the_key,
    health_checks_answer,
    a_page_of_another_site_cannot_stop_or_force_the_service,
    a_host_name_that_is_not_ours_is_refused,
    allowed_hosts_names_the_proxy_s_host,
    a_client_that_never_finishes_its_request_head_is_cut_off
);

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
    let session = crate::dashboard::log_in(&app).await;
    let with_cookie = client
        .get(app.url("/api/synchronizer"))
        .header("cookie", format!("theme=dark; {session}"));
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
    "/webhooks/shop",
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

const KEY: &str = "k3y-for-origin-tests-0123456789";

/// Without a key and with one: a request carrying a foreign `Origin` (or, without one, a
/// cross-site `Sec-Fetch-Site`) changes nothing; the same calls from our own origin, or from a
/// client that is not a browser, work.
async fn a_page_of_another_site_cannot_stop_or_force_the_service(backend: Backend) {
    for api_key in [None, Some(KEY.to_owned())] {
        let options = Options {
            api_key,
            ..Options::default()
        };
        let Some(app) = TestApp::spawn_with(backend, options).await else {
            return;
        };
        assert_eq!(app.post_empty("/api/synchronizer/start").await.0, 200);
        let from = |path: &str, header: (&str, &str)| {
            app.request(reqwest::Method::POST, path)
                .header(header.0, header.1)
        };
        for header in [
            ("origin", "http://evil.example"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ] {
            for path in ["/api/synchronizer/stop", "/api/synchronizer/forceUpdate"] {
                let (status, body) = send(from(path, header)).await;
                assert_eq!(status, 403, "{path} with {header:?}: {body}");
                assert_eq!(
                    (&body["status"], &body["code"]),
                    (&json!("error"), &json!("foreign_origin"))
                );
            }
        }
        let (_, status) = app.get("/api/synchronizer").await;
        assert_eq!(status["running"], true, "still running");
        let (_, jobs) = app.get("/api/jobs").await;
        assert_eq!(jobs["total"], 0, "no job: {jobs}");

        let ours = app.url("");
        let (status, body) = send(from("/api/synchronizer/forceUpdate", ("origin", &ours))).await;
        assert_eq!(status, 202, "from our own origin: {body}");
        let same = ("sec-fetch-site", "same-origin");
        let (status, _) = send(from("/api/synchronizer/stop", same)).await;
        assert_eq!(status, 200);
        let (_, status) = app.get("/api/synchronizer").await;
        assert_eq!(status["running"], false);
    }
}

/// A `Host` that is not ours (DNS rebinding) is refused on every route, in the error shape;
/// loopback names are ours; the webhooks, called by POS servers under the shop's name, still
/// work.
async fn a_host_name_that_is_not_ours_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = stocksync_testkit::http_client();
    let port = app.address.port();
    for path in ["/api/synchronizer", "/api/items", "/dashboard", "/healthz"] {
        let rebound = client
            .get(app.url(path))
            .header("host", format!("evil.example:{port}"));
        let (status, body) = send(rebound).await;
        assert_eq!(status, 421, "{path}: {body}");
        assert_eq!(body["code"], "unknown_host", "{path}");
    }
    let stop = client
        .post(app.url("/api/synchronizer/stop"))
        .header("host", "evil.example");
    assert_eq!(send(stop).await.0, 421);
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let request = client
            .get(app.url("/api/synchronizer"))
            .header("host", &host);
        assert_eq!(send(request).await.0, 200, "{host}");
    }
    let webhook = client
        .post(app.url(&format!(
            "/webhooks/hiboutik/{OTHER_ACCOUNT}?k={HIBOUTIK_WEBHOOK_SECRET}"
        )))
        .header("host", "shop.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("sale_id=1&line_items%5B0%5D%5Bproduct_id%5D=77");
    let (status, body) = send(webhook).await;
    assert_eq!((status, body), (200, json!({ "status": "accepted" })));
}

/// Behind a reverse proxy that passes the shop's host name: `AllowedHosts` names it, and the
/// dashboard's calls from that origin work; `*` accepts any host but never a foreign origin.
async fn allowed_hosts_names_the_proxy_s_host(backend: Backend) {
    for (allowed, other_host_ok) in [
        (json!("shop.example;admin.example"), false),
        (json!("*"), true),
    ] {
        let options = Options {
            api_key: Some(KEY.into()),
            config: Some(json!({ "AllowedHosts": allowed })),
            ..Options::default()
        };
        let Some(app) = TestApp::spawn_with(backend, options).await else {
            return;
        };
        let with_host = |method: reqwest::Method, host: &str| {
            app.request(method, "/api/synchronizer/start")
                .header("host", host)
        };
        let (status, _): (u16, Value) = send(
            with_host(reqwest::Method::POST, "shop.example")
                .header("origin", "https://shop.example"),
        )
        .await;
        assert_eq!(status, 200, "{allowed}");
        let (status, _) = send(with_host(reqwest::Method::POST, "admin.example")).await;
        assert_eq!(status, 200, "{allowed}");
        let (status, _) = send(with_host(reqwest::Method::GET, "other.example")).await;
        assert_eq!(
            status == 405,
            other_host_ok,
            "{allowed}: GET start is 405 once past the host check"
        );
        let (status, _) = send(
            with_host(reqwest::Method::POST, "shop.example")
                .header("origin", "https://evil.example"),
        )
        .await;
        assert_eq!(status, 403, "{allowed}: a foreign origin still");
    }
}

/// A connection that sends half a request head and waits (slowloris) is closed after
/// `HeaderReadTimeoutSeconds`, and the service still answers others.
async fn a_client_that_never_finishes_its_request_head_is_cut_off(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let options = Options {
        config: Some(json!({ "HeaderReadTimeoutSeconds": 1 })),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let started = std::time::Instant::now();
    let mut slow = tokio::net::TcpStream::connect(app.address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(
        read.is_ok(),
        "the half-sent request was still open after 30 s"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.contains("200 OK"), "{text}");
    // A new connection (the test client's pooled one was idle past the timeout too).
    let fresh = stocksync_testkit::http_client().get(app.url("/healthz"));
    assert_eq!(send(fresh).await.0, 200, "the service still answers");
}
