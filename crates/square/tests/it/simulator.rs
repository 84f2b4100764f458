//! The simulator on its own, spoken to in raw HTTP: Square's validation, paging, idempotency
//! and errors, which the connector never provokes on purpose.

use crate::products;
use serde_json::{Value, json};
use stocksync_pos::{CallLog, PosHttp};
use stocksync_square::{SQUARE_VERSION, SquareSim, SquareSimOptions};

struct Raw {
    sim: SquareSim,
    client: reqwest::Client,
}

impl Raw {
    async fn start(count: usize) -> Self {
        let sim = SquareSim::start(SquareSimOptions {
            products: products(count),
            ..SquareSimOptions::default()
        })
        .await
        .unwrap();
        let client = PosHttp::new("raw", CallLog::default()).client().clone();
        Self { sim, client }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.sim.base_url()))
            .bearer_auth(self.sim.access_token())
            .header("Square-Version", SQUARE_VERSION)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.sim.base_url()))
            .bearer_auth(self.sim.access_token())
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

fn code(body: &Value) -> (&str, &str) {
    let error = &body["errors"][0];
    (
        error["code"].as_str().unwrap_or(""),
        error["field"].as_str().unwrap_or(""),
    )
}

fn adjustment(pos_ref: &str, occurred_at: &str, quantity: &str) -> Value {
    json!({ "type": "ADJUSTMENT", "adjustment": {
        "catalog_object_id": pos_ref, "location_id": "L1MAIN", "from_state": "IN_STOCK",
        "to_state": "SOLD", "quantity": quantity, "occurred_at": occurred_at } })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_authentication_error() {
    let raw = Raw::start(2).await;
    let url = format!("{}/v2/locations", raw.sim.base_url());
    for request in [
        raw.client.get(&url),
        raw.client.get(&url).bearer_auth("nope"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["category"], "AUTHENTICATION_ERROR");
        assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn counts_limits_outside_1_to_1000_are_invalid() {
    let raw = Raw::start(2).await;
    for limit in [0, 1001] {
        let (status, body) = raw
            .post(
                "/v2/inventory/counts/batch-retrieve",
                json!({ "limit": limit }),
            )
            .await;
        assert_eq!((status, code(&body)), (400, ("INVALID_VALUE", "limit")));
    }
}

#[tokio::test]
async fn counts_come_newest_first_and_a_cursor_only_serves_its_own_filters() {
    let raw = Raw::start(10).await;
    let refs = raw.sim.product_refs();
    raw.sim.till_sale(&refs[7], 1);
    let filters =
        json!({ "location_ids": ["L1MAIN", "L2SHOP"], "states": ["IN_STOCK"], "limit": 3 });

    let (status, first) = raw
        .post("/v2/inventory/counts/batch-retrieve", filters.clone())
        .await;
    assert_eq!(status, 200);
    assert_eq!(first["counts"].as_array().unwrap().len(), 3);
    assert_eq!(
        first["counts"][0]["catalog_object_id"],
        refs[7].as_str(),
        "the newest first"
    );
    let cursor = first["cursor"].as_str().unwrap();

    let mut next = filters.clone();
    next["cursor"] = cursor.into();
    let (status, second) = raw.post("/v2/inventory/counts/batch-retrieve", next).await;
    assert_eq!(status, 200);
    assert_ne!(second["counts"][0], first["counts"][0]);

    let other = json!({ "location_ids": ["L1MAIN"], "limit": 3, "cursor": cursor });
    let (status, body) = raw.post("/v2/inventory/counts/batch-retrieve", other).await;
    assert_eq!((status, code(&body).0), (400, "INVALID_CURSOR"));
}

#[tokio::test]
async fn updated_after_keeps_only_later_counts() {
    let raw = Raw::start(10).await;
    let refs = raw.sim.product_refs();
    let since = now();
    raw.sim.till_sale(&refs[2], 1);
    let (status, body) = raw
        .post(
            "/v2/inventory/counts/batch-retrieve",
            json!({ "updated_after": since }),
        )
        .await;
    assert_eq!(status, 200);
    let counts = body["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0]["catalog_object_id"], refs[2].as_str());
    assert_eq!(counts[0]["location_id"], "L1MAIN");
    assert!(body.get("cursor").is_none());
}

#[tokio::test]
async fn batch_create_checks_its_changes_like_square() {
    let raw = Raw::start(2).await;
    let pos_ref = raw.sim.product_refs()[0].clone();
    let create = |changes: Vec<Value>| json!({ "idempotency_key": uuid::Uuid::new_v4().to_string(), "changes": changes });
    let path = "/v2/inventory/changes/batch-create";

    let (status, body) = raw
        .post(path, create(vec![adjustment(&pos_ref, &now(), "1"); 101]))
        .await;
    assert_eq!((status, code(&body)), (400, ("INVALID_VALUE", "changes")));

    let old = (chrono::Utc::now() - chrono::TimeDelta::hours(25)).to_rfc3339();
    let (status, body) = raw
        .post(path, create(vec![adjustment(&pos_ref, &old, "1")]))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, ("INVALID_VALUE", "changes[0].adjustment.occurred_at"))
    );

    let future = (chrono::Utc::now() + chrono::TimeDelta::minutes(5)).to_rfc3339();
    let (status, _) = raw
        .post(path, create(vec![adjustment(&pos_ref, &future, "1")]))
        .await;
    assert_eq!(status, 400);

    let (status, body) = raw
        .post(path, create(vec![adjustment(&pos_ref, &now(), "1.123456")]))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, ("INVALID_VALUE", "changes[0].adjustment.quantity"))
    );

    let (status, body) = raw
        .post(path, create(vec![adjustment("NOSUCH", &now(), "1")]))
        .await;
    assert_eq!((status, code(&body).0), (400, "NOT_FOUND"));
    assert_eq!(raw.sim.recorded_web_sales(), 0);

    let (status, body) = raw
        .post(path, create(vec![adjustment(&pos_ref, &now(), "1.5")]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["changes"][0]["adjustment"]["quantity"], "1.5");
    assert_eq!(raw.sim.recorded_web_sales(), 1);
}

#[tokio::test]
async fn the_same_key_replays_the_same_body_and_refuses_another() {
    let raw = Raw::start(2).await;
    let pos_ref = raw.sim.product_refs()[0].clone();
    let occurred_at = now();
    let request =
        json!({ "idempotency_key": "key-1", "changes": [adjustment(&pos_ref, &occurred_at, "1")] });
    let path = "/v2/inventory/changes/batch-create";

    let (status, first) = raw.post(path, request.clone()).await;
    assert_eq!(status, 200);
    let (status, replay) = raw.post(path, request).await;
    assert_eq!((status, &replay), (200, &first));
    assert_eq!(
        raw.sim.recorded_web_sales(),
        1,
        "replayed, not applied again"
    );

    let other =
        json!({ "idempotency_key": "key-1", "changes": [adjustment(&pos_ref, &occurred_at, "2")] });
    let (status, body) = raw.post(path, other).await;
    assert_eq!((status, code(&body).0), (400, "IDEMPOTENCY_KEY_REUSED"));
    assert_eq!(raw.sim.recorded_web_sales(), 1);
}

#[tokio::test]
async fn changes_can_be_read_back_oldest_first() {
    let raw = Raw::start(2).await;
    let pos_ref = raw.sim.product_refs()[1].clone();
    raw.sim.till_sale(&pos_ref, 1);
    raw.sim.till_sale(&pos_ref, 2);
    let (status, body) = raw
        .post(
            "/v2/inventory/changes/batch-retrieve",
            json!({ "catalog_object_ids": [pos_ref], "types": ["ADJUSTMENT"], "limit": 1 }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["changes"][0]["adjustment"]["quantity"], "1");
    let next = json!({ "catalog_object_ids": [pos_ref], "types": ["ADJUSTMENT"], "limit": 1, "cursor": body["cursor"] });
    let (_, body) = raw.post("/v2/inventory/changes/batch-retrieve", next).await;
    assert_eq!(body["changes"][0]["adjustment"]["quantity"], "2");
}

#[tokio::test]
async fn the_catalog_lists_100_objects_a_page() {
    let raw = Raw::start(150).await;
    let (status, first) = raw.get("/v2/catalog/list?types=ITEM").await;
    assert_eq!(status, 200);
    assert_eq!(first["objects"].as_array().unwrap().len(), 100);
    let cursor = first["cursor"].as_str().unwrap();
    let (_, second) = raw
        .get(&format!("/v2/catalog/list?types=ITEM&cursor={cursor}"))
        .await;
    assert_eq!(second["objects"].as_array().unwrap().len(), 50);
    assert!(second.get("cursor").is_none());
    let (status, body) = raw
        .get(&format!(
            "/v2/catalog/list?types=ITEM_VARIATION&cursor={cursor}"
        ))
        .await;
    assert_eq!((status, code(&body).0), (400, "INVALID_CURSOR"));
    let (status, body) = raw
        .get(&format!("/v2/catalog/object/{}", raw.sim.product_refs()[0]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["object"]["type"], "ITEM_VARIATION");
    let (status, _) = raw.get("/v2/catalog/object/NOSUCH").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_control_route_sells_at_the_till() {
    let raw = Raw::start(3).await;
    let pos_ref = raw.sim.product_refs()[0].clone();
    let before = raw.sim.quantity(&pos_ref).unwrap();
    let url = format!("{}/_sim/sale", raw.sim.base_url());

    let response = raw
        .client
        .post(&url)
        .json(&json!({ "pos_ref": pos_ref, "quantity": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(raw.sim.quantity(&pos_ref), Some(before - 2));
    assert_eq!(
        raw.sim.recorded_web_sales(),
        0,
        "a till sale is not a web sale"
    );

    let response = raw
        .client
        .post(&url)
        .json(&json!({ "pos_ref": "NOSUCH", "quantity": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let response = raw
        .client
        .post(&url)
        .json(&json!({ "pos_ref": pos_ref, "quantity": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn the_account_settings_point_at_the_simulator() {
    let raw = Raw::start(1).await;
    let settings = raw.sim.account_settings();
    assert_eq!(settings["Type"], 1);
    assert_eq!(settings["BaseUrl"], raw.sim.base_url().as_str());
    assert_eq!(settings["AccessToken"], raw.sim.access_token());
    assert!(settings["AccountID"].is_string());
    let (_, body) = raw.get("/v2/locations").await;
    let statuses: Vec<&str> = body["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ACTIVE", "ACTIVE", "INACTIVE"]);
}
