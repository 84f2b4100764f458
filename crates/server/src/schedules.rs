//! Which schedule each piece of periodic work follows: the configuration's (`Cron`, an account's
//! own `Cron`, `ReconcileCron`, `TimeZone`) unless changed at run time
//! (`PUT /api/synchronizer/schedule`); changes are kept in the database, so that every process
//! and every restart follows them, until they are reset (`null`) to the configuration's.

use crate::accounts::Accounts;
use crate::config::{Schedule, Settings, parse_time_zone};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use stocksync_domain::AccountId;
use stocksync_domain::task::TaskKind;
use stocksync_store::{Store, StoreError};

/// The prefix of every setting below.
const SCHEDULE_SETTINGS: &str = "schedule.";
const CRON: &str = "schedule.cron";
const RECONCILE_CRON: &str = "schedule.reconcile_cron";
const TIME_ZONE: &str = "schedule.time_zone";

fn account_cron(account: &AccountId) -> String {
    format!("{CRON}.{account}")
}

/// Where a schedule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `appsettings.json` (or the built-in default).
    Config,
    /// Set at run time with `PUT /api/synchronizer/schedule`.
    Api,
}

/// A schedule and where it comes from.
#[derive(Debug, Clone)]
pub struct Chosen<T> {
    pub value: T,
    pub source: Source,
}

/// One periodic piece of work, for one account.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `sync:<account id>` or `reconcile:<account id>`: its row in `stocksync_schedules`.
    pub name: String,
    pub kind: TaskKind,
    pub account: AccountId,
    pub schedule: Chosen<Schedule>,
}

/// Every schedule in force.
#[derive(Debug, Clone)]
pub struct Plan {
    pub time_zone: Chosen<Tz>,
    /// The sync schedule of accounts without their own.
    pub cron: Chosen<Schedule>,
    /// The reconciliation's schedule (each account has an entry of its own on it).
    pub reconcile: Chosen<Schedule>,
    pub entries: Vec<Entry>,
}

/// The configured schedules, and the database that holds the run-time changes.
#[derive(Clone)]
pub struct Schedules {
    store: Store,
    cron: Schedule,
    account_crons: HashMap<AccountId, Schedule>,
    reconcile: Schedule,
    time_zone: Tz,
    accounts: Vec<AccountId>,
    /// The shop's job account (`shop::job_account`), when a shop platform is configured: it is
    /// reconciled on the same schedule as the accounts.
    shop: Option<AccountId>,
}

/// A run-time change: each field set to `Some(None)` goes back to the configuration's.
#[derive(Debug, Default)]
pub struct Change {
    /// The account whose own `cron` this sets; the default one when `None`.
    pub account: Option<AccountId>,
    pub cron: Option<Option<Schedule>>,
    pub reconcile_cron: Option<Option<Schedule>>,
    pub time_zone: Option<Option<Tz>>,
}

impl Schedules {
    pub fn new(store: Store, settings: &Settings, accounts: &Accounts) -> Self {
        Self {
            store,
            cron: settings.cron.clone(),
            account_crons: settings.account_crons.iter().cloned().collect(),
            reconcile: settings.reconcile_cron.clone(),
            time_zone: settings.time_zone,
            accounts: accounts.iter().map(|a| a.config.id.clone()).collect(),
            shop: settings
                .shop
                .as_ref()
                .map(|shop| crate::shop::job_account(shop.kind)),
        }
    }

    /// The schedules in force now (the database's changes over the configuration).
    pub async fn plan(&self) -> Result<Plan, StoreError> {
        // Every run-time change, in one read.
        let changes = self.store.settings_with_prefix(SCHEDULE_SETTINGS).await?;
        let stored = |name: &str| changes.get(name).cloned();
        let pick = |stored: Option<String>, name: &str, configured: &Schedule| match stored
            .map(|expression| Schedule::parse(&expression))
        {
            Some(Ok(value)) => Chosen {
                value,
                source: Source::Api,
            },
            Some(Err(problem)) => {
                tracing::warn!(setting = name, %problem, "stored schedule ignored");
                configured_choice(configured)
            }
            None => configured_choice(configured),
        };
        let time_zone = match stored(TIME_ZONE).map(|n| parse_time_zone(&n)) {
            Some(Ok(value)) => Chosen {
                value,
                source: Source::Api,
            },
            _ => Chosen {
                value: self.time_zone,
                source: Source::Config,
            },
        };
        let cron = pick(stored(CRON), CRON, &self.cron);
        let reconcile = pick(stored(RECONCILE_CRON), RECONCILE_CRON, &self.reconcile);
        let mut entries = Vec::new();
        for account in &self.accounts {
            let name = account_cron(account);
            let schedule = match (stored(&name), self.account_crons.get(account)) {
                (None, None) => cron.clone(),
                (stored, own) => pick(stored, &name, own.unwrap_or(&cron.value)),
            };
            entries.push(Entry {
                name: format!("sync:{account}"),
                kind: TaskKind::SyncAll,
                account: account.clone(),
                schedule,
            });
        }
        // One reconciliation per account (and the shop's) on the same schedule: a slow or
        // failing account holds up, and retries, only its own.
        for account in self.accounts.iter().chain(&self.shop) {
            entries.push(Entry {
                name: format!("reconcile:{account}"),
                kind: TaskKind::Reconcile,
                account: account.clone(),
                schedule: reconcile.clone(),
            });
        }
        Ok(Plan {
            time_zone,
            cron,
            reconcile,
            entries,
        })
    }

    /// Stores a change (all of it or nothing).
    pub async fn change(&self, change: Change) -> Result<(), StoreError> {
        let expression = |schedule: Option<Schedule>| schedule.map(|s| s.expression);
        let mut settings = Vec::new();
        if let Some(cron) = change.cron {
            let name = change.account.as_ref().map_or(CRON.into(), account_cron);
            settings.push((name, expression(cron)));
        }
        if let Some(cron) = change.reconcile_cron {
            settings.push((RECONCILE_CRON.into(), expression(cron)));
        }
        if let Some(zone) = change.time_zone {
            settings.push((TIME_ZONE.into(), zone.map(|z| z.name().to_owned())));
        }
        self.store.change_settings(&settings).await
    }
}

fn configured_choice(schedule: &Schedule) -> Chosen<Schedule> {
    Chosen {
        value: schedule.clone(),
        source: Source::Config,
    }
}
