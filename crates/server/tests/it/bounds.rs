//! Every number a request carries (JSON body, query string, path) is bounded: out of its bounds,
//! absurd or of the wrong type, it is answered 4xx in the API's error shape, naming the field and
//! its bound, and nothing changes: not the stock row, not the ledger, not the sales, not the POS.

use serde_json::{Value, json};
use stocksync_testkit::{ACCOUNT, Backend, TestApp, on_every_backend};

on_every_backend!(
    sale_and_return_numbers_out_of_bounds_change_nothing,
    link_numbers_out_of_bounds_change_nothing,
    paging_and_ids_out_of_bounds_change_nothing
);

/// Values no number field takes: the extremes of i64, a float far beyond them, a number as a
/// string.
fn absurd() -> Vec<Value> {
    vec![json!(i64::MAX), json!(i64::MIN), json!(1e30), json!("5")]
}

/// Everything a refused request could have changed.
async fn snapshot(app: &TestApp, link: &str) -> Value {
    let (_, row) = app.get(&format!("/api/items/{link}")).await;
    let (_, history) = app
        .get(&format!("/api/items/{link}/history?per_page=1000"))
        .await;
    let (_, sales) = app.get("/api/sales?per_page=1000").await;
    json!({
        "quantity": row["quantity"],
        "limit": row["limitQuantitySale"],
        "in_flight": row["in_flight"],
        "ledger": history["total"],
        "sales": sales["total"],
        "pos": app.catalog.quantity("VAR-1"),
        "pos_sales": app.catalog.recorded_sales().len(),
    })
}

/// A 4xx in the error shape whose message names `field` and, if given, its bound.
fn assert_refused(what: &str, status: u16, body: &Value, field: &str, bound: Option<&str>) {
    assert!((400..500).contains(&status), "{what}: {status} {body}");
    assert_eq!(body["status"], "error", "{what}: {body}");
    assert!(body["code"].is_string(), "{what}: {body}");
    assert!(body["location"].is_null(), "{what}: {body}");
    let message = body["error_message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "{what}: '{message}' names {field}");
    if let Some(bound) = bound {
        assert!(
            message.contains(bound),
            "{what}: '{message}' states {bound}"
        );
    }
}

async fn setup(app: &TestApp) -> String {
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "42").await;
    link["id"].as_str().unwrap().to_owned()
}

async fn sale_and_return_numbers_out_of_bounds_change_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let link = setup(&app).await;
    let before = snapshot(&app, &link).await;
    let deltas = absurd()
        .into_iter()
        .chain([json!(0), json!(-1), json!(1_000_001)]);
    let balances = absurd()
        .into_iter()
        .chain([json!(-1), json!(1_000_000_001)]);
    for route in ["/api/synchronizer/sale", "/api/synchronizer/return"] {
        for delta in deltas.clone() {
            let body = json!({ "item_ecommerce_id": 42, "delta": delta, "balance": 100 });
            let (status, answer) = app.post(route, body.clone()).await;
            let what = format!("{route} {body}");
            assert_refused(&what, status, &answer, "delta", Some("1 to 1000000"));
        }
        for balance in balances.clone() {
            let body = json!({ "item_ecommerce_id": 42, "delta": 1, "balance": balance });
            let (status, answer) = app.post(route, body.clone()).await;
            let what = format!("{route} {body}");
            assert_refused(&what, status, &answer, "balance", Some("0 to 1000000000"));
        }
    }
    assert_eq!(snapshot(&app, &link).await, before, "nothing changed");
    // The bounds themselves are taken.
    let most = json!({ "item_ecommerce_id": 42, "delta": 1_000_000, "balance": 1_000_000_000 });
    let (status, answer) = app.post("/api/synchronizer/return", most).await;
    assert_eq!(status, 202, "{answer}");
}

async fn link_numbers_out_of_bounds_change_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let link = setup(&app).await;
    app.catalog.put("VAR-2", "Plate", None, 3);
    let before = snapshot(&app, &link).await;
    let limits = absurd()
        .into_iter()
        .chain([json!(-1), json!(1_000_000_001), json!(1.5)]);
    for limit in limits {
        let body = json!({ "item_pos_id": "VAR-2", "item_ecommerce_id": 43, "account_id": ACCOUNT, "limit_quantity": limit });
        let (status, answer) = app.post("/api/items", body.clone()).await;
        let what = format!("POST /api/items {body}");
        assert_refused(
            &what,
            status,
            &answer,
            "limit_quantity",
            Some("0 to 1000000000"),
        );
        let body = json!({ "limit_quantity": limit, "primary": true });
        let (status, answer) = app.patch(&format!("/api/items/{link}"), body.clone()).await;
        let what = format!("PATCH /api/items/{link} {body}");
        assert_refused(
            &what,
            status,
            &answer,
            "limit_quantity",
            Some("0 to 1000000000"),
        );
    }
    assert_eq!(snapshot(&app, &link).await, before, "nothing changed");
    let (_, all) = app.get("/api/items").await;
    assert_eq!(all["total"], 1, "no link was registered");
    let (status, answer) = app
        .patch(
            &format!("/api/items/{link}"),
            json!({ "limit_quantity": 1_000_000_000 }),
        )
        .await;
    assert_eq!(
        (status, answer["limitQuantitySale"].clone()),
        (200, json!(1_000_000_000))
    );
}

async fn paging_and_ids_out_of_bounds_change_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let link = setup(&app).await;
    let before = snapshot(&app, &link).await;
    let lists = [
        "/api/items".to_owned(),
        "/api/sales".to_owned(),
        "/api/jobs".to_owned(),
        format!("/api/items/{link}/history"),
    ];
    let pages = [
        i64::MAX.to_string(),
        i64::MIN.to_string(),
        "1e30".to_owned(),
        "99999999999999999999".to_owned(),
        "abc".to_owned(),
        "0".to_owned(),
        "-1".to_owned(),
        "1000001".to_owned(),
    ];
    for list in &lists {
        for page in &pages {
            let path = format!("{list}?page={page}");
            let (status, answer) = app.get(&path).await;
            assert_refused(&path, status, &answer, "page", Some("1 to 1000000"));
        }
        for per_page in pages.iter().chain(&["1001".to_owned()]) {
            let path = format!("{list}?per_page={per_page}");
            let (status, answer) = app.get(&path).await;
            assert_refused(&path, status, &answer, "per_page", Some("1 to 1000"));
        }
        let path = format!("{list}?page=1000000&per_page=1000");
        let (status, answer) = app.get(&path).await;
        assert_eq!(
            status, 200,
            "{path}: the last page is an empty page: {answer}"
        );
    }
    // The dashboard's list of links pages too.
    for page in &pages {
        let path = format!("/dashboard/data/links?page={page}");
        let (status, answer) = app.get(&path).await;
        assert_refused(&path, status, &answer, "page", None);
    }
    // A link id out of range is no link.
    for id in [
        i64::MAX.to_string(),
        i64::MIN.to_string(),
        "1e30".to_owned(),
        "99999999999999999999".to_owned(),
    ] {
        for (method, path) in [
            ("GET", format!("/api/items/{id}")),
            ("GET", format!("/api/items/{id}/history")),
            ("PATCH", format!("/api/items/{id}")),
            ("DELETE", format!("/api/items/{id}")),
            ("GET", format!("/dashboard/data/links/{id}")),
        ] {
            let request = app
                .request(method.parse().unwrap(), &path)
                .json(&json!({ "limit_quantity": 1 }));
            let (status, answer) = stocksync_testkit::send(request).await;
            let what = format!("{method} {path}");
            assert!(matches!(status, 400 | 404), "{what}: {status} {answer}");
            assert_eq!(answer["status"], "error", "{what}: {answer}");
        }
    }
    assert_eq!(snapshot(&app, &link).await, before, "nothing changed");
}
