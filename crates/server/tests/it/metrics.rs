//! `GET /metrics`: the Prometheus text the service exposes.

use stocksync_testkit::{ACCOUNT, Backend, OTHER_ACCOUNT, TestApp, on_every_backend};

on_every_backend!(metrics_count_syncs_sales_calls_and_webhooks);

pub(crate) async fn scrape(app: &TestApp) -> String {
    let response = app
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

async fn metrics_count_syncs_sales_calls_and_webhooks(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.link("VAR-1", "1").await;
    app.catalog.fail_next_sales(usize::MAX);
    let sale = app.sell("1", 1).await;
    app.wait_sale(&sale).await;
    let (_, answer) = app.post_empty("/api/synchronizer/reconcile").await;
    app.wait_task(answer["location"].as_str().unwrap()).await;
    let rejected = stocksync_testkit::http_client()
        .post(app.url(&format!("/webhooks/square/{ACCOUNT}")))
        .header("x-square-hmacsha256-signature", "forged")
        .body("{}");
    assert_eq!(stocksync_testkit::send(rejected).await.0, 401);

    let text = scrape(&app).await;
    for line in [
        "# TYPE stocksync_sync_cycles_total counter",
        &format!(
            "stocksync_sync_cycles_total{{account=\"{ACCOUNT}\",kind=\"reconcile\",outcome=\"ok\"}} 1"
        ),
        &format!(
            "stocksync_sync_duration_seconds_count{{account=\"{OTHER_ACCOUNT}\",kind=\"reconcile\"}} 1"
        ),
        &format!("stocksync_reconcile_drift_total{{account=\"{ACCOUNT}\",kind=\"reconcile\"}} 0"),
        "stocksync_webhook_events_total{source=\"square\",outcome=\"rejected\"} 1",
        "stocksync_sales{state=\"dead\"} 1",
        "stocksync_outbox_oldest_pending_seconds 0",
        &format!("stocksync_pos_rate_limited_total{{account=\"{ACCOUNT}\"}} 0"),
        &format!("stocksync_pos_budget_used{{account=\"{OTHER_ACCOUNT}\"}} 0"),
        &format!("stocksync_pos_budget_limit{{account=\"{OTHER_ACCOUNT}\"}} 10000"),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing '{line}' in:\n{text}"
        );
    }
    for secret in stocksync_testkit::SECRETS {
        assert!(!text.contains(secret));
    }
}
