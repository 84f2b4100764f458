//! The simulator itself, spoken to over raw HTTP: it must behave as pos-apis.md §5.1 says, or
//! the contract tests prove nothing.

use crate::sized;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions, TypeMode};
use stocksync_pos::simkit::FaultPlan;
use stocksync_pos::{CallLog, PosHttp};

struct Raw {
    sim: HiboutikSim,
    client: Client,
}

impl Raw {
    async fn start(options: HiboutikSimOptions) -> Self {
        let sim = HiboutikSim::start(options).await.unwrap();
        let client = PosHttp::new("raw", CallLog::default()).client().clone();
        Self { sim, client }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let settings = self.sim.account_settings();
        let (email, key) = (
            settings["EmailAddress"].as_str().unwrap(),
            settings["AccessToken"].as_str(),
        );
        self.client
            .request(method, format!("{}{path}", self.sim.base_url()))
            .basic_auth(email, key)
    }

    async fn json(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.json(self.request(Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }
}

#[tokio::test]
async fn single_objects_are_one_element_arrays_with_or_without_a_trailing_slash() {
    let raw = Raw::start(sized(3)).await;
    for path in [
        "/products/1",
        "/products/1/",
        "/sales/search/ext_ref/none/",
        "/products/9",
    ] {
        let body = raw.get(path).await;
        let rows = body.as_array().unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(rows.len() <= 1, "{path}");
    }
    let product = &raw.get("/products/1").await[0];
    assert_eq!(product["product_id"], json!(1));
    assert_eq!(product["product_size_details"][1]["size_name"], json!("M"));
    assert_eq!(
        product["product_price"].as_str().map(|p| p.contains('.')),
        Some(true)
    );
    assert_eq!(raw.get("/products/9").await, json!([]));
}

#[tokio::test]
async fn unknown_ids_may_be_404s_with_an_error_body() {
    let raw = Raw::start(HiboutikSimOptions {
        unknown_id_404: true,
        ..sized(1)
    })
    .await;
    let (status, body) = raw.json(raw.request(Method::GET, "/sales/3")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error_description"].is_string(), "{body}");
}

#[tokio::test]
async fn ids_follow_the_type_mode_and_prices_stay_strings() {
    let raw = Raw::start(HiboutikSimOptions {
        type_mode: TypeMode::Strings,
        ..sized(2)
    })
    .await;
    let row = &raw.get("/stock_available/product_id_size/1/2").await[0];
    assert_eq!(row["product_id"], json!("1"));
    assert_eq!(row["product_size"], json!("2"));
    assert!(row["stock_available"].is_string());
    assert!(raw.get("/products/2").await[0]["product_price"].is_string());
}

#[tokio::test]
async fn pages_carry_link_and_content_range_and_end_with_an_empty_array() {
    let raw = Raw::start(sized(310)).await;
    let response = raw
        .request(Method::GET, "/stock_available/warehouse_id/1?p=3")
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let range = response.headers()["content-range"]
        .to_str()
        .unwrap()
        .to_owned();
    let rows: Vec<Value> = response.json().await.unwrap();
    assert_eq!(rows.len(), 120);
    assert_eq!(range, "500-619/620");
    for rel in ["start", "prev", "current", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(!link.contains("rel=\"next\""), "{link}");
    assert!(
        link.contains("/api/stock_available/warehouse_id/1?p=2>; rel=\"prev\""),
        "{link}"
    );
    assert_eq!(
        raw.get("/stock_available/warehouse_id/1?p=4").await,
        json!([])
    );

    let first = raw
        .request(Method::GET, "/stock_available/warehouse_id/1")
        .send()
        .await
        .unwrap();
    assert!(
        first.headers()["link"]
            .to_str()
            .unwrap()
            .contains("?p=2>; rel=\"next\"")
    );
}

#[tokio::test]
async fn requests_without_the_api_key_get_a_401_error_body() {
    let raw = Raw::start(sized(1)).await;
    let url = format!("{}/products/", raw.sim.base_url());
    for request in [
        raw.client.get(&url),
        raw.client
            .get(&url)
            .basic_auth("api@hiboutik-sim.test", Some("nope")),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], json!("unauthorized"));
        assert!(
            body["code"].is_number()
                && body["error_description"].is_string()
                && body["details"].is_object()
        );
    }
}

#[tokio::test]
async fn writes_take_json_or_forms_and_stock_moves_at_add_product() {
    let raw = Raw::start(sized(2)).await;
    let before = raw.sim.quantity("2").unwrap();
    let (_, created) = raw
        .json(
            raw.request(Method::POST, "/sales/")
                .json(&json!({"store_id": 1, "customer_id": 1})),
        )
        .await;
    let sale_id = created["sale_id"].as_i64().unwrap();
    let (status, _) = raw
        .json(
            raw.request(Method::PUT, &format!("/sale/{sale_id}"))
                .form(&[("sale_attribute", "ext_ref"), ("new_value", "abc")]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = raw
        .json(raw.request(Method::POST, "/sales/add_product").json(
            &json!({"sale_id": sale_id, "product_id": "2", "quantity": 2, "stock_withdrawal": 1}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        raw.sim.quantity("2").unwrap(),
        before - 2,
        "taken at add_product"
    );
    let sale = &raw.get(&format!("/sales/{sale_id}")).await[0];
    assert_eq!(sale["completed_at"], json!("0000-00-00 00:00:00"));
    assert_eq!(sale["ext_ref"], json!("abc"));
    assert_eq!(sale["line_items"][0]["quantity"], json!(2));

    let (status, _) = raw
        .json(
            raw.request(Method::POST, "/sales/close/")
                .form(&[("sale_id", sale_id.to_string())]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(
        raw.get(&format!("/sales/{sale_id}")).await[0]["completed_at"],
        json!("0000-00-00 00:00:00")
    );
    assert_eq!(
        raw.get("/sales/search/ext_ref/abc").await[0]["sale_id"],
        json!(sale_id)
    );

    let (status, body) = raw
        .json(
            raw.request(Method::POST, "/sales/close/")
                .form(&[("sale_id", sale_id.to_string())]),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "closing twice: {body}"
    );
    let (status, body) = raw
        .json(
            raw.request(Method::POST, "/sales/")
                .form(&[("customer_id", "1")]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"]["store_id"], json!("Required"));
}

#[tokio::test]
async fn the_till_route_sells_and_the_day_lists_show_it() {
    let raw = Raw::start(sized(2)).await;
    let before = raw.sim.quantity("1/3").unwrap();
    let response = raw
        .client
        .post(raw.sim.base_url().replace("/api", "/_sim/sale"))
        .json(&json!({"pos_ref": "1/3", "quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(raw.sim.quantity("1/3").unwrap(), before - 2);
    assert_eq!(
        raw.sim.recorded_web_sales(),
        0,
        "a till sale is not a web sale"
    );

    let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
    assert_eq!(
        raw.get(&format!("/closed_sales/1/{today}"))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let sold = raw.get(&format!("/products_sold/1/{today}/")).await;
    assert_eq!(
        (
            sold[0]["product_id"].clone(),
            sold[0]["product_size"].clone()
        ),
        (json!(1), json!(3))
    );
    assert_eq!(raw.get("/open_sales/1").await, json!([]));
}

#[tokio::test]
async fn more_calls_in_flight_than_allowed_get_429s() {
    let raw = Raw::start(HiboutikSimOptions {
        max_concurrent: 2,
        ..sized(2)
    })
    .await;
    raw.sim.faults().set(FaultPlan {
        latency: Duration::from_millis(300),
        ..FaultPlan::default()
    });
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let request = raw.request(Method::GET, "/products/1");
        calls.spawn(async move { request.send().await.unwrap().status() });
    }
    let mut refused = 0;
    while let Some(status) = calls.join_next().await {
        refused += usize::from(status.unwrap() == StatusCode::TOO_MANY_REQUESTS);
    }
    // At most 2 of the 5 are served at once (exactly 3 refused when all arrive together).
    assert!((1..=3).contains(&refused), "{refused} refused");
}
