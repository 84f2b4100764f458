//! `GET /metrics`: Prometheus text format. Sync cycles, their duration, drift and webhook
//! events are counted as they happen; POS calls come from the call log; sales by state, the age
//! of the outbox, Hiboutik budgets and, with a shop platform, its push queue, events and order
//! polls are read from the database at each scrape.

use super::shop::EVENT_KINDS;
use super::{AppState, error::ApiError};
use crate::metrics::sample;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::ports::CallBudget;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// What each metric is, for the `# HELP` and `# TYPE` lines.
const DESCRIPTIONS: &[(&str, &str, &str)] = &[
    (
        "stocksync_sync_cycles_total",
        "counter",
        "Sync cycles and reconciliations run, by account, kind and outcome.",
    ),
    (
        "stocksync_sync_duration_seconds_sum",
        "counter",
        "Seconds spent in sync cycles, by account and kind.",
    ),
    (
        "stocksync_sync_duration_seconds_count",
        "counter",
        "Sync cycles timed, by account and kind.",
    ),
    (
        "stocksync_reconcile_drift_total",
        "counter",
        "Links found drifted by reconciliation.",
    ),
    (
        "stocksync_reconcile_missing_total",
        "counter",
        "Linked products found gone from their POS by reconciliation.",
    ),
    (
        "stocksync_webhook_events_total",
        "counter",
        "Webhook notifications, by source and outcome (accepted, duplicate, rejected).",
    ),
    (
        "stocksync_pos_calls_total",
        "counter",
        "Calls to the POS APIs, by account, endpoint and HTTP status (0: no answer).",
    ),
    (
        "stocksync_pos_rate_limited_total",
        "counter",
        "POS calls answered 429, by account.",
    ),
    (
        "stocksync_pos_budget_used",
        "gauge",
        "Calls counted this month against a monthly budget (Hiboutik), by account.",
    ),
    (
        "stocksync_pos_budget_limit",
        "gauge",
        "The monthly call budget (MaximumRequests), by account.",
    ),
    (
        "stocksync_sales",
        "gauge",
        "Web sales and returns by state (accepted: still on their way to the POS).",
    ),
    (
        "stocksync_outbox_oldest_pending_seconds",
        "gauge",
        "Age of the oldest sale not yet recorded on its POS (0 when none).",
    ),
    (
        "stocksync_jobs",
        "gauge",
        "Jobs kept in the database, by state.",
    ),
    (
        "stocksync_shop_push_items",
        "gauge",
        "Shop items stocksync keeps on the shop platform.",
    ),
    (
        "stocksync_shop_push_due",
        "gauge",
        "Shop items whose quantity on the shop is not yet what stocksync wants.",
    ),
    (
        "stocksync_shop_push_failing",
        "gauge",
        "Shop items whose last push failed (waiting for their retry).",
    ),
    (
        "stocksync_shop_push_unmanaged",
        "gauge",
        "Shop items the shop does not track (manage_stock off): never written.",
    ),
    (
        "stocksync_shop_push_oldest_due_seconds",
        "gauge",
        "Age of the oldest change not yet on the shop (0 when none).",
    ),
    (
        "stocksync_shop_events_total",
        "counter",
        "Shop events, by kind (oversold, unlinked, unmanaged, refused).",
    ),
    (
        "stocksync_shop_orders_last_poll_age_seconds",
        "gauge",
        "Seconds since the shop's orders were last polled (absent before the first poll).",
    ),
    (
        "stocksync_shop_order_lines_total",
        "counter",
        "Shop order lines read that moved stock on the POS (a web sale, a return).",
    ),
    (
        "stocksync_shop_order_units",
        "gauge",
        "Units the shop's order lines have taken from the POS, net of their returns.",
    ),
    (
        "stocksync_schedule_skipped_total",
        "counter",
        "Schedule ticks skipped, by schedule and reason (overlap: the previous run was still going; budget: the POS's monthly budget spaces polls).",
    ),
];

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    description = "Prometheus text format.",
    responses((status = 200, description = "the metrics"))
)]
async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let mut samples: BTreeMap<&str, String> = BTreeMap::new();
    let mut counters = String::new();
    state.synchronizer.metrics.render_counters(&mut counters);
    for line in counters.lines() {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        if let Some((known, _, _)) = DESCRIPTIONS.iter().find(|(n, _, _)| *n == name) {
            let _ = writeln!(samples.entry(known).or_default(), "{line}");
        }
    }
    let mut rate_limited: BTreeMap<String, u64> = BTreeMap::new();
    for (key, count) in state.calls.snapshot() {
        let labels = [
            ("account", key.account.clone()),
            ("endpoint", key.endpoint.to_owned()),
            ("status", key.status.to_string()),
        ];
        sample(
            samples.entry("stocksync_pos_calls_total").or_default(),
            "stocksync_pos_calls_total",
            &labels,
            count as f64,
        );
        if key.status == 429 {
            *rate_limited.entry(key.account).or_default() += count;
        }
    }
    for account in state.accounts.iter() {
        let id = account.config.id.to_string();
        let limited = rate_limited.get(&id).copied().unwrap_or(0);
        let labels = [("account", id.clone())];
        sample(
            samples
                .entry("stocksync_pos_rate_limited_total")
                .or_default(),
            "stocksync_pos_rate_limited_total",
            &labels,
            limited as f64,
        );
        if let VendorConfig::Hiboutik {
            maximum_requests, ..
        } = &account.config.vendor
        {
            let month = Utc::now().format("%Y-%m").to_string();
            let used = state.store.used(&account.config.id, &month).await?;
            sample(
                samples.entry("stocksync_pos_budget_used").or_default(),
                "stocksync_pos_budget_used",
                &labels,
                used as f64,
            );
            sample(
                samples.entry("stocksync_pos_budget_limit").or_default(),
                "stocksync_pos_budget_limit",
                &labels,
                *maximum_requests as f64,
            );
        }
    }
    for (sale_state, count) in state.store.sales_by_state().await? {
        sample(
            samples.entry("stocksync_sales").or_default(),
            "stocksync_sales",
            &[("state", sale_state)],
            count as f64,
        );
    }
    for (job_state, count) in state.store.task_counts().await? {
        sample(
            samples.entry("stocksync_jobs").or_default(),
            "stocksync_jobs",
            &[("state", job_state.as_str().to_owned())],
            count as f64,
        );
    }
    // Schedules of accounts no longer configured keep their row, but are not shown.
    let plan = state.synchronizer.schedules.plan().await?;
    let in_force = |name: &str| plan.entries.iter().any(|entry| entry.name == name);
    for schedule in state.store.schedule_states().await? {
        if !in_force(&schedule.name) {
            continue;
        }
        for (reason, count) in [
            ("overlap", schedule.skipped_overlap),
            ("budget", schedule.skipped_budget),
        ] {
            sample(
                samples
                    .entry("stocksync_schedule_skipped_total")
                    .or_default(),
                "stocksync_schedule_skipped_total",
                &[
                    ("schedule", schedule.name.clone()),
                    ("reason", reason.to_owned()),
                ],
                count as f64,
            );
        }
    }
    let oldest = state
        .store
        .oldest_pending_sale()
        .await?
        .map_or(0.0, seconds_since);
    sample(
        samples
            .entry("stocksync_outbox_oldest_pending_seconds")
            .or_default(),
        "stocksync_outbox_oldest_pending_seconds",
        &[],
        oldest,
    );
    if let Some(shop) = &state.shop {
        shop_samples(&state, shop, &mut samples).await?;
    }

    let mut out = String::new();
    for (name, kind, help) in DESCRIPTIONS {
        if let Some(lines) = samples.get(name) {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            out.push_str(lines);
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

/// Seconds from `at` to now (0 for an instant in the future).
fn seconds_since(at: DateTime<Utc>) -> f64 {
    (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
}

/// The shop platform's push queue, events and order polls, read from the store.
async fn shop_samples(
    state: &AppState,
    shop: &crate::shop::ShopHandle,
    samples: &mut BTreeMap<&'static str, String>,
) -> Result<(), ApiError> {
    let mut gauge = |name: &'static str, labels: &[(&'static str, String)], value: f64| {
        sample(samples.entry(name).or_default(), name, labels, value);
    };
    let pushes = state.store.shop_push_stats().await?;
    gauge("stocksync_shop_push_items", &[], pushes.items as f64);
    gauge("stocksync_shop_push_due", &[], pushes.due as f64);
    gauge("stocksync_shop_push_failing", &[], pushes.failing as f64);
    gauge(
        "stocksync_shop_push_unmanaged",
        &[],
        pushes.unmanaged as f64,
    );
    gauge(
        "stocksync_shop_push_oldest_due_seconds",
        &[],
        pushes.oldest_due_at.map_or(0.0, seconds_since),
    );
    let counts = state.store.shop_event_counts().await?;
    let known = EVENT_KINDS.iter().map(|kind| (*kind).to_owned());
    let others = counts
        .iter()
        .map(|(kind, _)| kind.clone())
        .filter(|kind| !EVENT_KINDS.contains(&kind.as_str()));
    for kind in known.chain(others) {
        let count: i64 = counts
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        gauge(
            "stocksync_shop_events_total",
            &[("kind", kind)],
            count as f64,
        );
    }
    let (lines, units) = state.store.shop_line_totals().await?;
    gauge("stocksync_shop_order_lines_total", &[], lines as f64);
    gauge("stocksync_shop_order_units", &[], units as f64);
    let read = state.store.shop_read_state(shop.state_name()).await?;
    if let Some(at) = read.last_poll_at {
        gauge(
            "stocksync_shop_orders_last_poll_age_seconds",
            &[],
            seconds_since(at),
        );
    }
    Ok(())
}
