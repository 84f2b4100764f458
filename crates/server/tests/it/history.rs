//! One link seen closely (`GET /api/items/{id}`) and its ledger (`…/history`): every change of
//! its quantity, why, and the ids on both sides.

use serde_json::Value;
use stocksync_testkit::{ACCOUNT, Backend, TestApp, on_every_backend};

on_every_backend!(
    the_ledger_explains_every_step,
    the_link_view_shows_pos_and_shop_sides
);

async fn the_ledger_explains_every_step(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "1").await;
    let id = link["id"].as_str().unwrap();
    let sale = app.sell("1", 2).await;
    app.wait_sale(&sale).await;
    app.catalog.set_quantity("VAR-1", 2);
    let (_, answer) = app.post_empty("/api/synchronizer/forceUpdate").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;

    let (status, history) = app.get(&format!("/api/items/{id}/history")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["total"], 4);
    let steps: Vec<(&str, i64, i64)> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap(),
                e["quantity_before"].as_i64().unwrap(),
                e["quantity_after"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("pos_count", 3, 2),
            ("sale_confirmed", 3, 3),
            ("web_sale", 5, 3),
            ("registered", 0, 5)
        ],
        "newest first"
    );
    let sale_id = sale.rsplit('/').next().unwrap();
    assert_eq!(history["entries"][2]["sale_id"], sale_id);
    assert_eq!(history["entries"][1]["sale_id"], sale_id);
    assert_eq!(history["entries"][0]["change"], -1);
    assert_eq!(history["entries"][0]["item_pos_id"], "VAR-1");

    let (_, page) = app
        .get(&format!("/api/items/{id}/history?page=2&per_page=3"))
        .await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    assert_eq!(page["entries"][0]["reason"], "registered");
    assert_eq!(app.get("/api/items/999/history").await.0, 404);
    assert_eq!(
        app.get(&format!("/api/items/{id}/history?per_page=0"))
            .await
            .0,
        400
    );
}

async fn the_link_view_shows_pos_and_shop_sides(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "1").await;
    let id = link["id"].as_str().unwrap();
    app.catalog.fail_next_sales(usize::MAX);
    let sale = app.sell("1", 2).await;

    let (status, view) = app.get(&format!("/api/items/{id}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["id"], id);
    assert_eq!(view["quantity"], 3);
    assert_eq!(view["pos_quantity"], 5);
    assert_eq!(view["account_configured"], true);
    let in_flight_or_dead =
        view["in_flight"].as_i64().unwrap() + view["dead_sales"].as_i64().unwrap();
    assert!(in_flight_or_dead >= 1, "{view}");
    app.wait_sale(&sale).await;
    let (_, view) = app.get(&format!("/api/items/{id}")).await;
    assert_eq!(
        (view["in_flight"].clone(), view["dead_sales"].clone()),
        (0.into(), 1.into())
    );
    assert_eq!(view["last_sync"], Value::Null, "no sync ran yet");

    // The original route keeps its meaning: an account id lists that account's links.
    let (status, listed) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    assert_eq!(status, 200);
    assert!(listed.is_array());
    assert_eq!(app.get("/api/items/999").await.0, 404);
}
