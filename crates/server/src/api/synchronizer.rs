//! `/api/synchronizer`: status, start, stop, schedules, forceUpdate and reconcile. (Its `sale`
//! and `return` routes are in `sales.rs`.)

use super::extract::{ApiJson, ApiQuery, FlexId};
use super::tasks::Pending;
use super::{AppState, error::ApiError};
use crate::config::{Schedule, parse_time_zone};
use crate::schedules::{Change, Source};
use crate::synchronizer::LastSync;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use stocksync_domain::AccountId;
use stocksync_domain::account::VendorConfig;
use stocksync_domain::budget::PollSpacing;
use stocksync_domain::ports::CallBudget;
use stocksync_domain::task::TaskKind;
use stocksync_store::ScheduleState;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(set_schedule))
        .routes(routes!(force_update))
        .routes(routes!(reconcile))
}

#[utoipa::path(
    get,
    path = "/api/synchronizer",
    tag = "synchronizer",
    description = "Running or not, schedules, accounts with their last sync, calls and budget.",
    responses((status = 200, description = "the status", body = Status))
)]
async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let sync = &state.synchronizer;
    let now = sync.clock.now();
    let month = now.format("%Y-%m").to_string();
    let mut schedules = schedules(&state).await?;
    let mut accounts = Vec::new();
    for account in state.accounts.iter() {
        let id = account.config.id.as_str();
        // Hiboutik counts calls against a monthly quota; the others have none to show.
        let budget = match &account.config.vendor {
            VendorConfig::Hiboutik {
                maximum_requests, ..
            } => Some(Budget {
                used: state.store.used(&account.config.id, &month).await?,
                limit: *maximum_requests,
                month: month.clone(),
            }),
            _ => None,
        };
        accounts.push(AccountStatus {
            account_id: id.to_owned(),
            kind: account.config.kind.as_str(),
            last_sync: sync.last_sync(account).await,
            schedule: schedules.accounts.remove(id),
            poll_spacing: sync.poll_spacing(account).await?.map(Spacing::from),
            calls: state.calls.total(id),
            rate_limited: state.calls.with_status(id, 429),
            budget,
        });
    }
    Ok(Json(Status {
        running: sync.is_running(),
        time_zone: schedules.time_zone,
        cron: schedules.cron,
        cron_source: schedules.cron_source,
        next_run: schedules.next_run,
        reconcile_cron: schedules.reconcile_cron,
        next_reconcile: schedules.next_reconcile,
        pending_sales: state.store.pending_sales_count().await?,
        accounts,
    }))
}

/// The synchronizer's status: started or not, the schedules in force, each account's.
#[derive(Serialize, ToSchema)]
pub struct Status {
    /// Whether the periodic syncs are started.
    running: bool,
    /// The zone schedules are read in.
    time_zone: String,
    /// The default sync schedule (5-field CRON).
    cron: String,
    cron_source: Source,
    /// The next sync of any account (`null` while stopped).
    next_run: Option<DateTime<Utc>>,
    reconcile_cron: String,
    /// The next reconciliation (`null` while stopped).
    next_reconcile: Option<DateTime<Utc>>,
    /// Web sales not yet confirmed or refused by their POS.
    pending_sales: i64,
    accounts: Vec<AccountStatus>,
}

/// One POS account in the status.
#[derive(Serialize, ToSchema)]
pub struct AccountStatus {
    account_id: String,
    /// `square`, `hiboutik` or `lightspeed`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// How its last sync went (`null` before the first).
    last_sync: Option<LastSync>,
    /// Its sync schedule.
    schedule: Option<ScheduleView>,
    /// How far apart its polls must be to last the month (a POS with a call budget).
    poll_spacing: Option<Spacing>,
    /// POS calls made by this process.
    calls: u64,
    /// Of those, the ones the POS answered 429.
    rate_limited: u64,
    /// Its monthly call budget (Hiboutik).
    budget: Option<Budget>,
}

/// A POS's monthly call budget.
#[derive(Serialize, ToSchema)]
pub struct Budget {
    used: i64,
    limit: i64,
    /// `YYYY-MM`.
    month: String,
}

/// How far apart the polls of a POS with a call budget must be.
#[derive(Serialize, ToSchema)]
pub struct Spacing {
    min_gap_seconds: i64,
    /// Polls the budget still allows this month.
    polls_left: i64,
    month_end: DateTime<Utc>,
}

impl From<PollSpacing> for Spacing {
    fn from(spacing: PollSpacing) -> Self {
        Self {
            min_gap_seconds: spacing.gap.num_seconds(),
            polls_left: spacing.polls_left,
            month_end: spacing.month_end,
        }
    }
}

/// The schedules in force (the answer of `PUT /api/synchronizer/schedule`).
#[derive(Serialize, ToSchema)]
pub struct Schedules {
    time_zone: String,
    time_zone_source: Source,
    /// The default sync schedule (5-field CRON).
    cron: String,
    cron_source: Source,
    /// The next sync of any account (`null` while stopped).
    next_run: Option<DateTime<Utc>>,
    reconcile_cron: String,
    next_reconcile: Option<DateTime<Utc>>,
    /// The reconciliation's schedule, its ticks skipped for every account together.
    reconcile: ScheduleView,
    /// Each account's sync schedule, by account id.
    accounts: BTreeMap<String, ScheduleView>,
}

/// One schedule: its expression, where it comes from, its next run and skipped ticks.
#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    cron: String,
    source: Source,
    /// `null` while stopped.
    next_run: Option<DateTime<Utc>>,
    /// Ticks skipped because the same job was still waiting or running.
    skipped_overlap: i64,
    /// Ticks skipped because the POS's call budget asks for longer gaps.
    skipped_budget: i64,
}

/// The schedules in force: the time zone, the default sync `cron`, each account's, the
/// reconciliation's, each with its source, next run (while started) and skipped ticks.
async fn schedules(state: &AppState) -> Result<Schedules, ApiError> {
    let sync = &state.synchronizer;
    // Another process may have started or stopped it.
    let (running, now) = (sync.refresh_running().await?, sync.clock.now());
    let plan = sync.schedules.plan().await?;
    let zone = plan.time_zone.value;
    let states: HashMap<String, ScheduleState> = state
        .store
        .schedule_states()
        .await?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut accounts = BTreeMap::new();
    let mut next_run: Option<DateTime<Utc>> = None;
    // Each account's reconciliation follows the one `reconcile_cron`; its skips are added up.
    let (mut reconcile_overlap, mut reconcile_budget) = (0, 0);
    for entry in &plan.entries {
        let skipped = states.get(&entry.name);
        let (overlap, budget) = skipped.map_or((0, 0), |s| (s.skipped_overlap, s.skipped_budget));
        if entry.kind != TaskKind::SyncAll {
            reconcile_overlap += overlap;
            reconcile_budget += budget;
            continue;
        }
        let next = running
            .then(|| entry.schedule.value.next_after(now, zone))
            .flatten();
        next_run = next.into_iter().chain(next_run).min();
        accounts.insert(
            entry.account.to_string(),
            ScheduleView {
                cron: entry.schedule.value.expression.clone(),
                source: entry.schedule.source,
                next_run: next,
                skipped_overlap: overlap,
                skipped_budget: budget,
            },
        );
    }
    let reconcile = ScheduleView {
        cron: plan.reconcile.value.expression.clone(),
        source: plan.reconcile.source,
        next_run: running
            .then(|| plan.reconcile.value.next_after(now, zone))
            .flatten(),
        skipped_overlap: reconcile_overlap,
        skipped_budget: reconcile_budget,
    };
    Ok(Schedules {
        time_zone: plan.time_zone.value.name().to_owned(),
        time_zone_source: plan.time_zone.source,
        cron: plan.cron.value.expression.clone(),
        cron_source: plan.cron.source,
        next_run,
        reconcile_cron: reconcile.cron.clone(),
        next_reconcile: reconcile.next_run,
        reconcile,
        accounts,
    })
}

/// A change of schedule: each field given replaces the configuration's until set to `null`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ScheduleChange {
    /// The account whose own sync schedule `cron` sets (the default one when absent).
    #[schema(value_type = Option<String>)]
    account_id: Option<FlexId>,
    /// The sync schedule (5-field CRON), `null` for the configuration's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    cron: Option<Option<String>>,
    /// The reconciliation's schedule, `null` for the configuration's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    reconcile_cron: Option<Option<String>>,
    /// The zone schedules are read in (`Europe/Paris`), `null` for the configuration's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Option<String>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[utoipa::path(
    put,
    path = "/api/synchronizer/schedule",
    tag = "synchronizer",
    description = "Changes the schedules at run time (kept in the database, for every process and restart): \
        `cron` (with `account_id`: that account's), `reconcile_cron`, `time_zone`; `null` goes back to the configuration's. \
        Answers the schedules in force.",
    request_body = ScheduleChange,
    responses((status = 200, description = "the schedules in force", body = Schedules), (status = 400, description = "an invalid expression or time zone, with the reason", body = super::error::ErrorBody), (status = 404, description = "unknown account", body = super::error::ErrorBody))
)]
async fn set_schedule(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ScheduleChange>,
) -> Result<Json<Schedules>, ApiError> {
    if body.cron.is_none() && body.reconcile_cron.is_none() && body.time_zone.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give cron, reconcile_cron or time_zone",
        ));
    }
    let account = match body.account_id {
        Some(FlexId(id)) => {
            let id = AccountId::new(id);
            known_account(&state, &id)?;
            if body.reconcile_cron.is_some() || body.time_zone.is_some() {
                return Err(ApiError::bad_request(
                    "reconcile_cron and time_zone are for every account: send them without account_id",
                ));
            }
            Some(id)
        }
        None => None,
    };
    let cron = |field: &str, value: Option<Option<String>>| {
        value
            .map(|value| {
                value
                    .map(|expression| Schedule::parse(&expression))
                    .transpose()
                    .map_err(|reason| ApiError::bad_request(format!("{field}: {reason}")))
            })
            .transpose()
    };
    let change = Change {
        cron: cron("cron", body.cron)?,
        reconcile_cron: cron("reconcile_cron", body.reconcile_cron)?,
        time_zone: body
            .time_zone
            .map(|zone| {
                zone.map(|name| parse_time_zone(&name))
                    .transpose()
                    .map_err(|reason| ApiError::bad_request(format!("time_zone: {reason}")))
            })
            .transpose()?,
        account,
    };
    state.synchronizer.schedules.change(change).await?;
    state.synchronizer.schedules_changed.notify_one();
    Ok(Json(schedules(&state).await?))
}

fn known_account(state: &AppState, id: &AccountId) -> Result<(), ApiError> {
    if state.accounts.get(id).is_none() {
        return Err(ApiError::not_found(format!(
            "no POS account '{id}' is configured (configured: {})",
            state.accounts.ids().join(", ")
        )));
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/synchronizer/start",
    tag = "synchronizer",
    description = "Starts the periodic syncs (idempotent, remembered).",
    responses((status = 200, description = "started", body = Switched))
)]
async fn start(State(state): State<AppState>) -> Result<Json<Switched>, ApiError> {
    state.synchronizer.set_running(true).await?;
    Ok(Json(Switched {
        status: Running::Started,
    }))
}

#[utoipa::path(
    post,
    path = "/api/synchronizer/stop",
    tag = "synchronizer",
    description = "Stops the periodic syncs (idempotent, remembered).",
    responses((status = 200, description = "stopped", body = Switched))
)]
async fn stop(State(state): State<AppState>) -> Result<Json<Switched>, ApiError> {
    state.synchronizer.set_running(false).await?;
    Ok(Json(Switched {
        status: Running::Stopped,
    }))
}

/// The answer of `start` and `stop`.
#[derive(Serialize, ToSchema)]
pub struct Switched {
    status: Running,
}

/// Whether the periodic syncs are now started or stopped.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Running {
    Started,
    Stopped,
}

/// Enqueues a sync of every account (one job per account) or of `?account=ID` now; the
/// answer lists the jobs, and its `location` follows them all.
#[utoipa::path(
    post,
    path = "/api/synchronizer/forceUpdate",
    tag = "synchronizer",
    description = "Enqueues a sync of every account now, one job per account (or of one: `?account=ID`). \
        `tasks` lists the jobs; `location` follows them together.",
    responses((status = 202, description = "enqueued: the jobs, and where to follow them", body = super::tasks::Pending), (status = 404, description = "unknown account", body = super::error::ErrorBody), (status = 409, description = "no POS account is configured", body = super::error::ErrorBody))
)]
async fn force_update(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<(StatusCode, Json<Pending>), ApiError> {
    enqueue(&state, TaskKind::SyncAll, query.account).await
}

#[derive(Deserialize)]
struct AccountQuery {
    account: Option<String>,
}

#[derive(Deserialize)]
struct ReconcileQuery {
    #[serde(default)]
    dry_run: bool,
    account: Option<String>,
}

/// Enqueues a full read of every account (one job per account) or of `?account=ID` that
/// reports (and, unless `dry_run`, fixes) every link whose shop quantity differs from the POS,
/// and every linked product gone from the POS; with a shop platform, a job of the shop too,
/// that reports every item whose shop quantity is not what stocksync wants (and, unless
/// `dry_run`, has the worker push it).
#[utoipa::path(
    post,
    path = "/api/synchronizer/reconcile",
    tag = "synchronizer",
    description = "Enqueues a full read of every account, one job per account (or of one: `?account=ID`), \
        that reports drift and fixes it unless `dry_run=true`. With a `Shop` configured, one more job (account \
        `shop:woocommerce`, which `?account=` also takes) reads every item of the shop and reports the items whose \
        quantity there is not what stocksync wants, and why (`never_pushed`, `changed_on_shop`, `push_pending`, \
        `unmanaged`, `not_on_shop`); unless `dry_run=true`, it records what the shop has and the shop worker pushes the fixes. \
        `tasks` lists the jobs; `location` follows them together; the result is `{dry_run, accounts: [...], shop: {...}}` (`ReconcileResult`).",
    responses((status = 202, description = "enqueued: the jobs, and where to follow them", body = super::tasks::Pending), (status = 400, description = "bad query", body = super::error::ErrorBody), (status = 404, description = "unknown account", body = super::error::ErrorBody), (status = 409, description = "no POS account is configured", body = super::error::ErrorBody))
)]
async fn reconcile(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReconcileQuery>,
) -> Result<(StatusCode, Json<Pending>), ApiError> {
    let kind = if query.dry_run {
        TaskKind::ReconcileDryRun
    } else {
        TaskKind::Reconcile
    };
    enqueue(&state, kind, query.account).await
}

/// Enqueues `kind` for `account`, or for each configured account; a reconciliation also for
/// the shop platform, when one is configured (its job account, `shop:<type>`, may be asked
/// for alone).
async fn enqueue(
    state: &AppState,
    kind: TaskKind,
    account: Option<String>,
) -> Result<(StatusCode, Json<Pending>), ApiError> {
    let sync = &state.synchronizer;
    let shop = state
        .shop
        .as_ref()
        .filter(|_| kind != TaskKind::SyncAll)
        .map(crate::shop::ShopHandle::job_account);
    let tasks = match account {
        Some(id) => {
            let id = AccountId::new(id);
            if shop.as_ref() != Some(&id) {
                known_account(state, &id)?;
            }
            vec![sync.request_for(kind, &id).await?]
        }
        None => {
            let ids: Vec<&AccountId> = state
                .accounts
                .iter()
                .map(|account| &account.config.id)
                .chain(&shop)
                .collect();
            sync.request_for_each(kind, &ids).await?
        }
    };
    if tasks.is_empty() {
        return Err(ApiError::conflict(
            "no POS account is configured: there is nothing to read",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(Pending::from(tasks.as_slice()))))
}
