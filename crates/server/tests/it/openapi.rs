//! `GET /api/openapi.json`: an OpenAPI 3 description built from the routes themselves; every
//! route of the API is in it, request and response bodies are typed schemas with the bounds of
//! `stocksync_domain::bounds`, and real answers of the running service fit those schemas.

use serde_json::{Value, json};
use stocksync_testkit::{ACCOUNT, Backend, OTHER_ACCOUNT, TestApp, send};

/// Every route of the HTTP API (the dashboard's pages are not part of it).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/items"),
    ("post", "/api/items"),
    ("post", "/api/items/match"),
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
    ("get", "/api/shop"),
    ("get", "/api/shop/events"),
    ("post", "/webhooks/square/{account}"),
    ("post", "/webhooks/hiboutik/{account}"),
    ("post", "/webhooks/shop"),
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

/// The request bodies and query parameters that carry numbers state their bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_bounds_are_in_the_description() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, spec) = app.get("/api/openapi.json").await;
    let schemas = &spec["components"]["schemas"];
    let bounds = |name: &str| {
        let schema = &schemas[name];
        assert_eq!(schema["type"], "integer", "{name}: {schema}");
        (schema["minimum"].as_i64(), schema["maximum"].as_i64())
    };
    assert_eq!(bounds("Units"), (Some(1), Some(1_000_000)));
    assert_eq!(bounds("Cents"), (Some(0), Some(1_000_000_000)));
    assert_eq!(bounds("LimitQuantity"), (Some(0), Some(1_000_000_000)));
    let movement = &schemas["MovementBody"]["properties"];
    assert_eq!(movement["delta"]["$ref"], "#/components/schemas/Units");
    assert_eq!(movement["balance"]["$ref"], "#/components/schemas/Cents");
    for body in ["RegisterBody", "UpdateBody"] {
        let limit = schemas[body]["properties"]["limit_quantity"].to_string();
        assert!(limit.contains("LimitQuantity"), "{body}: {limit}");
    }
    for (path, operation) in [
        ("/api/synchronizer/sale", "post"),
        ("/api/synchronizer/return", "post"),
    ] {
        let body = &spec["paths"][path][operation]["requestBody"];
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/MovementBody",
            "{path}: {body}"
        );
    }
    for list in [
        "/api/items",
        "/api/sales",
        "/api/jobs",
        "/api/items/{id}/history",
    ] {
        let params = spec["paths"][list]["get"]["parameters"].as_array().unwrap();
        let param = |name: &str| {
            let found = params.iter().find(|p| p["name"] == name);
            let schema = &found.unwrap_or_else(|| panic!("{list} has no {name}"))["schema"];
            (schema["minimum"].as_i64(), schema["maximum"].as_i64())
        };
        assert_eq!(param("page"), (Some(1), Some(1_000_000)), "{list}");
        assert_eq!(param("per_page"), (Some(1), Some(1000)), "{list}");
    }
}

/// Validates JSON answers against the schemas the description gives for them.
struct Schemas {
    spec: Value,
    checked: Vec<String>,
}

impl Schemas {
    /// What keeps `body`, answered `status` by `method path` (`path` as described, with its
    /// `{placeholders}`), from fitting the response schema described for it.
    fn misfits(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        let what = format!("{method} {path} → {status}");
        let response = &self.spec["paths"][path][method]["responses"][status.to_string()];
        assert!(response.is_object(), "{what} is not described");
        let schema = &response["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{what} has no body schema: {response}");
        let mut root = schema.clone();
        root["components"] = self.spec["components"].clone();
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn check(&mut self, method: &str, path: &str, status: u16, body: &Value) {
        let errors = self.misfits(method, path, status, body);
        assert!(
            errors.is_empty(),
            "{method} {path} → {status}: the answer does not fit its schema: {errors:#?}\n{body:#}"
        );
        self.checked.push(format!("{method} {path} {status}"));
    }
}

/// The README's path through the API, each JSON answer checked against its described schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_fit_their_schemas() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, spec) = app.get("/api/openapi.json").await;
    let mut schemas = Schemas {
        spec,
        checked: Vec::new(),
    };
    app.catalog
        .put("VAR-1", "Red mug", Some("5410000000017"), 7);
    app.catalog.put("VAR-2", "Blue mug", None, 3);

    let (status, link) = app
        .post(
            "/api/items",
            json!({ "item_pos_id": "VAR-1", "item_ecommerce_id": 42, "account_id": ACCOUNT }),
        )
        .await;
    schemas.check("post", "/api/items", status, &link);
    // The check can fail: a link with a numeric id, or without its quantity, does not fit.
    let mut wrong = link.clone();
    wrong["id"] = json!(1);
    assert!(
        !schemas
            .misfits("post", "/api/items", 201, &wrong)
            .is_empty()
    );
    wrong = link.clone();
    wrong.as_object_mut().unwrap().remove("quantity");
    assert!(
        !schemas
            .misfits("post", "/api/items", 201, &wrong)
            .is_empty()
    );
    let id = link["id"].as_str().unwrap().to_owned();
    let (status, other) = app
        .post(
            "/api/items",
            json!({ "item_sku": "5410000000017", "item_ecommerce_id": 43, "account_id": ACCOUNT }),
        )
        .await;
    assert_eq!(status, 409, "{other}");
    schemas.check("post", "/api/items", status, &other);
    let (status, second) = app
        .post(
            "/api/items",
            json!({ "item_name": "Blue mug", "item_ecommerce_id": "44", "account_id": ACCOUNT, "limit_quantity": 1, "primary": true }),
        )
        .await;
    schemas.check("post", "/api/items", status, &second);

    for (path, described) in [
        ("/api/items?page=1&per_page=100".to_owned(), "/api/items"),
        (format!("/api/items/{ACCOUNT}"), "/api/items/{id}"),
        (format!("/api/items/{id}"), "/api/items/{id}"),
        (
            format!("/api/items/{id}/history"),
            "/api/items/{id}/history",
        ),
        ("/api/items/not-a-link".to_owned(), "/api/items/{id}"),
    ] {
        let (status, body) = app.get(&path).await;
        schemas.check("get", described, status, &body);
    }
    let (status, patched) = app
        .patch(&format!("/api/items/{id}"), json!({ "limit_quantity": 2 }))
        .await;
    schemas.check("patch", "/api/items/{id}", status, &patched);

    let (status, sale) = app
        .request(reqwest::Method::POST, "/api/synchronizer/sale")
        .header("Idempotency-Key", "order-1001")
        .json(&json!({ "item_ecommerce_id": 42, "delta": 1, "balance": 1990 }))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let sale: Value = sale.json().await.unwrap();
    schemas.check("post", "/api/synchronizer/sale", status, &sale);
    let (status, refused) = app
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": 42, "delta": 100, "balance": 0 }),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    schemas.check("post", "/api/synchronizer/sale", status, &refused);
    let (status, returned) = app
        .post(
            "/api/synchronizer/return",
            json!({ "item_ecommerce_id": 42, "delta": 1, "balance": 1990, "order_id": 77 }),
        )
        .await;
    schemas.check("post", "/api/synchronizer/return", status, &returned);
    let location = sale["location"].as_str().unwrap();
    let stored = app.wait_sale(location).await;
    schemas.check("get", "/api/sales/{id}", 200, &stored);
    let (status, sales) = app.get("/api/sales?state=confirmed").await;
    schemas.check("get", "/api/sales", status, &sales);
    let (status, retry) = app.post_empty(&format!("{location}/retry")).await;
    schemas.check("post", "/api/sales/{id}/retry", status, &retry);

    let (status, pending) = app.post_empty("/api/synchronizer/forceUpdate").await;
    schemas.check("post", "/api/synchronizer/forceUpdate", status, &pending);
    let (status, reconcile) = app
        .post_empty("/api/synchronizer/reconcile?dry_run=true")
        .await;
    schemas.check("post", "/api/synchronizer/reconcile", status, &reconcile);
    let task = app.wait_task(reconcile["location"].as_str().unwrap()).await;
    schemas.check("get", "/api/itemstask/{id}", 200, &task);
    let (status, jobs) = app.get("/api/jobs?per_page=10").await;
    schemas.check("get", "/api/jobs", status, &jobs);
    let (status, again) = app.post_empty("/api/jobs/nope/retry").await;
    schemas.check("post", "/api/jobs/{id}/retry", status, &again);

    // The synchronizer: stopped, started (next runs, last syncs, Hiboutik's budget and
    // spacing), its schedules changed, stopped again.
    let (status, stopped) = app.get("/api/synchronizer").await;
    assert_eq!(stopped["running"], false, "{stopped}");
    schemas.check("get", "/api/synchronizer", status, &stopped);
    let (status, started) = app.post_empty("/api/synchronizer/start").await;
    assert_eq!(started, json!({ "status": "started" }));
    schemas.check("post", "/api/synchronizer/start", status, &started);
    let (status, running) = app.get("/api/synchronizer").await;
    let account = |id: &str| {
        let accounts = running["accounts"].as_array().unwrap();
        accounts.iter().find(|a| a["account_id"] == id).unwrap()
    };
    let hiboutik = account(OTHER_ACCOUNT);
    for shown in [
        &running["next_run"],
        &account(ACCOUNT)["last_sync"],
        &hiboutik["budget"],
        &hiboutik["poll_spacing"],
    ] {
        assert!(shown.is_object() || shown.is_string(), "{running:#}");
    }
    schemas.check("get", "/api/synchronizer", status, &running);
    // The check can fail: a status whose `running` is a word, or whose account has no id.
    let mut wrong = running.clone();
    wrong["running"] = json!("yes");
    assert!(
        !schemas
            .misfits("get", "/api/synchronizer", 200, &wrong)
            .is_empty()
    );
    wrong = running.clone();
    wrong["accounts"][0]
        .as_object_mut()
        .unwrap()
        .remove("account_id");
    assert!(
        !schemas
            .misfits("get", "/api/synchronizer", 200, &wrong)
            .is_empty()
    );
    for change in [
        json!({ "cron": "*/5 * * * *", "account_id": ACCOUNT }),
        json!({ "reconcile_cron": "0 3 * * *", "time_zone": "Europe/Paris" }),
        json!({ "cron": "not a cron" }),
        json!({ "cron": null, "account_id": "nope" }),
    ] {
        let (status, schedules) = send(
            app.request(reqwest::Method::PUT, "/api/synchronizer/schedule")
                .json(&change),
        )
        .await;
        schemas.check("put", "/api/synchronizer/schedule", status, &schedules);
    }
    let (status, stopped) = app.post_empty("/api/synchronizer/stop").await;
    assert_eq!(stopped, json!({ "status": "stopped" }));
    schemas.check("post", "/api/synchronizer/stop", status, &stopped);

    let (status, gone) = app.delete(&format!("/api/items/{id}")).await;
    assert_eq!(status, 204, "{gone}");
    let (status, gone) = app.delete(&format!("/api/items/{id}")).await;
    schemas.check("delete", "/api/items/{id}", status, &gone);
    assert!(schemas.checked.len() >= 28, "{:#?}", schemas.checked);
}

/// The shop platform's status and events, as the engine leaves them (and while the shop is
/// down), fit their schemas; so do the 404 without a shop and the 400 of an unknown kind; and
/// every answer of `POST /api/items/match` (a dry run, no shop, unknown account, bad body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_answers_fit_their_schemas() {
    let without = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, spec) = without.get("/api/openapi.json").await;
    let mut schemas = Schemas {
        spec,
        checked: Vec::new(),
    };
    let (status, none) = without.get("/api/shop").await;
    assert_eq!(status, 404, "{none}");
    schemas.check("get", "/api/shop", status, &none);
    let (status, none) = without.get("/api/shop/events").await;
    schemas.check("get", "/api/shop/events", status, &none);
    let matching = json!({ "account_id": ACCOUNT, "dry_run": true });
    let (status, none) = without.post("/api/items/match", matching.clone()).await;
    assert_eq!(status, 400, "{none}");
    schemas.check("post", "/api/items/match", status, &none);

    let scene = crate::shop_status::ShopScene::settled(Backend::Sqlite)
        .await
        .unwrap();
    let app = &scene.app;
    let (status, shop) = app.get("/api/shop").await;
    assert_eq!(status, 200, "{shop}");
    assert_eq!(shop["recent_events"].as_array().unwrap().len(), 2);
    schemas.check("get", "/api/shop", status, &shop);
    // The check can fail: a health outside its words, or counts without one kind.
    let mut wrong = shop.clone();
    wrong["health"] = json!("fine");
    assert!(!schemas.misfits("get", "/api/shop", 200, &wrong).is_empty());
    wrong = shop.clone();
    wrong["events"].as_object_mut().unwrap().remove("oversold");
    assert!(!schemas.misfits("get", "/api/shop", 200, &wrong).is_empty());

    app.catalog.put("VAR-9", "Jug", Some("JUG"), 3);
    app.catalog.put("VAR-8", "Tray", Some("TRAY"), 1);
    app.catalog.put("VAR-7", "Tray too", Some("TRAY"), 1);
    scene.sim.add_simple("JUG", Some(0));
    scene.sim.add_simple("TRAY", Some(0));
    for (body, expected) in [
        (matching.clone(), 200),
        (json!({ "account_id": "nope", "dry_run": true }), 404),
        (json!({ "account_id": ACCOUNT, "by": "colour" }), 422),
    ] {
        let (status, answer) = app.post("/api/items/match", body).await;
        assert_eq!(status, expected, "{answer}");
        schemas.check("post", "/api/items/match", status, &answer);
    }
    for (query, expected) in [("?kind=oversold&limit=5", 200), ("?kind=sold", 400)] {
        let (status, events) = app.get(&format!("/api/shop/events{query}")).await;
        assert_eq!(status, expected, "{events}");
        schemas.check("get", "/api/shop/events", status, &events);
    }
    let params = schemas.spec["paths"]["/api/shop/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let limit = &params.iter().find(|p| p["name"] == "limit").unwrap()["schema"];
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(1000)),
        "{limit}"
    );

    // While the shop is down: a failing push and a poll's error.
    let down = scene.shop_down().await;
    schemas.check("get", "/api/shop", 200, &down);
}

/// The answers of the layers around every route (host and origin checks, the dashboard's CSRF
/// token, the time and concurrency limits, a panic) are described on the operations they can
/// come from, in the error shape; and a real one fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layers_answers_are_described() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, spec) = app.get("/api/openapi.json").await;
    let statuses = |method: &str, path: &str| {
        let responses = spec["paths"][path][method]["responses"]
            .as_object()
            .unwrap();
        for status in ["403", "421", "500", "503"] {
            if let Some(response) = responses.get(status) {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if path != "/readyz" {
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path}");
                }
            }
        }
        responses.keys().cloned().collect::<Vec<_>>()
    };
    let has =
        |method: &str, path: &str, status: &str| statuses(method, path).iter().any(|s| s == status);
    for (method, path) in ROUTES {
        let webhook = path.starts_with("/webhooks/");
        let changes = *method != "get";
        assert_eq!(has(method, path, "421"), !webhook, "{method} {path}");
        assert_eq!(
            has(method, path, "403"),
            changes && !webhook,
            "{method} {path}"
        );
        assert!(has(method, path, "500"), "{method} {path}");
        assert!(has(method, path, "503"), "{method} {path}");
    }
    let sale = &spec["paths"]["/api/synchronizer/sale"]["post"]["responses"];
    let busy = sale["503"]["description"].as_str().unwrap();
    assert!(
        busy.contains("`timeout`") && busy.contains("`busy`"),
        "{busy}"
    );
    let refused = sale["403"]["description"].as_str().unwrap();
    assert!(
        refused.contains("`foreign_origin`") && refused.contains("`csrf_token_missing`"),
        "{refused}"
    );

    let mut schemas = Schemas {
        spec: spec.clone(),
        checked: Vec::new(),
    };
    let rebound = stocksync_testkit::http_client()
        .post(app.url("/api/synchronizer/sale"))
        .header("host", "evil.example")
        .json(&json!({ "item_ecommerce_id": 42, "delta": 1, "balance": 1990 }));
    let (status, body) = send(rebound).await;
    assert_eq!(status, 421, "{body}");
    assert_eq!(body["code"], "unknown_host", "{body}");
    schemas.check("post", "/api/synchronizer/sale", status, &body);
    let (status, body) = send(
        stocksync_testkit::http_client()
            .get(app.url("/api/items"))
            .header("host", "evil.example"),
    )
    .await;
    schemas.check("get", "/api/items", status, &body);
}
