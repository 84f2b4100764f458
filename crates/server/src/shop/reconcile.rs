//! Shop-side reconciliation: every item of the shop read in one listing (`connector.items()`)
//! and each item stocksync keeps (the push queue) compared with what stocksync wants it to show.
//! The report names each drifted item and why (never pushed, changed on the shop, a push still
//! pending, not tracked by the shop, not on the shop). A dry run changes nothing; a real run
//! records what the shop has (`Store::shop_item_reconciled`, only where nothing newer was learnt
//! since the queue was listed) and wakes the worker, which pushes the fixes as any other change.
//! It runs as a reconciliation job whose "account" is the shop's ([`super::job_account`]), beside
//! the POS accounts' jobs: `POST /api/synchronizer/reconcile`, `ReconcileCron`.

use super::ShopHandle;
use crate::metrics::Metrics;
use crate::runner::REPORT_LIST_LIMIT;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::ShopItem;
use stocksync_domain::task::TaskKind;
use stocksync_store::{ShopKept, Store, StoreError, TaskOutcome};
use utoipa::ToSchema;

/// Why an item's shop quantity is not what stocksync wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftWhy {
    /// stocksync has not read or written it on the shop yet (just linked, or the worker is
    /// behind).
    NeverPushed,
    /// The shop has something else than stocksync last saw: a merchant's edit, or an order
    /// not read yet (the worker reads the orders before it writes).
    ChangedOnShop,
    /// stocksync knows; its push is queued (or failing: `detail`).
    PushPending,
    /// The shop does not track the item's stock (`manage_stock` off): stocksync never writes it.
    Unmanaged,
    /// The shop has no such item.
    NotOnShop,
}

/// One item of the shop whose quantity is not what stocksync wants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShopDrift {
    pub item_ecommerce_id: String,
    /// What the shop has (`null`: not tracked, or not on the shop).
    pub shop_quantity: Option<i64>,
    /// What stocksync wants it to show: the sum over its links of `max(0, quantity − limitQuantity)`.
    pub wanted: i64,
    pub why: DriftWhy,
    /// The last push error, when a push is failing.
    pub detail: Option<String>,
}

/// What a shop reconciliation found (the `shop` part of a reconciliation's `result`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShopReport {
    /// Drifted items, at most 500 (`drifted_total` counts them all).
    pub drifted: Vec<ShopDrift>,
    pub drifted_total: usize,
    /// Items stocksync keeps whose shop quantity is what it wants.
    pub in_sync: usize,
    /// Items of the shop that no link feeds (ignored).
    pub unlinked: usize,
    /// Items whose shop quantity was recorded for the worker to push (a real run).
    pub recorded: usize,
    /// `true` when nothing was recorded.
    pub dry_run: bool,
}

impl ShopReport {
    /// One line for people.
    pub fn describe(&self) -> String {
        format!(
            "shop: {} item(s) {}, {} in step, {} shop item(s) not linked",
            self.drifted_total,
            if self.dry_run {
                "differ"
            } else {
                "differ, fixes queued"
            },
            self.in_sync,
            self.unlinked
        )
    }
}

/// The comparison of the queue with the shop: the drift, and what to record.
#[derive(Debug, Default)]
pub struct Comparison<'a> {
    pub drifted: Vec<ShopDrift>,
    pub in_sync: usize,
    pub unlinked: usize,
    /// Shop items whose quantity (or tracking) is not what stocksync last saw, with the
    /// version of the queue row they were compared with.
    pub to_record: Vec<(&'a ShopItem, i64)>,
}

/// Compares each item stocksync keeps with the shop's listing.
pub fn compare<'a>(kept: &[ShopKept], shop: &'a [ShopItem]) -> Comparison<'a> {
    let on_shop: HashMap<&EcommerceId, &ShopItem> =
        shop.iter().map(|item| (&item.item.id, item)).collect();
    let mut comparison = Comparison {
        unlinked: shop
            .iter()
            .filter(|item| !kept.iter().any(|k| k.item == item.item.id))
            .count(),
        ..Comparison::default()
    };
    for row in kept {
        let drift = |shop_quantity, why| ShopDrift {
            item_ecommerce_id: row.item.to_string(),
            shop_quantity,
            wanted: row.wanted,
            why,
            detail: None,
        };
        let Some(item) = on_shop.get(&row.item) else {
            comparison.drifted.push(drift(None, DriftWhy::NotOnShop));
            continue;
        };
        if item.quantity != row.shop_quantity || item.quantity.is_none() != row.unmanaged {
            comparison.to_record.push((item, row.version));
        }
        let why = match item.quantity {
            None => DriftWhy::Unmanaged,
            Some(has) if has == row.wanted => {
                comparison.in_sync += 1;
                continue;
            }
            Some(has) if row.shop_quantity == Some(has) => DriftWhy::PushPending,
            Some(_) if !row.adopted => DriftWhy::NeverPushed,
            Some(_) => DriftWhy::ChangedOnShop,
        };
        let mut found = drift(item.quantity, why);
        if why == DriftWhy::PushPending {
            found.detail.clone_from(&row.last_error);
        }
        comparison.drifted.push(found);
    }
    comparison
}

/// Reads the shop in full and reports its drift; unless `dry_run`, records what the shop has
/// so that the worker pushes the fixes (and wakes it). `Err` when the shop cannot be read.
pub async fn reconcile(
    store: &Store,
    shop: &ShopHandle,
    dry_run: bool,
) -> Result<ShopReport, String> {
    let store_error = |err: StoreError| format!("the database failed: {err}");
    // The queue first: a record is dropped if anything was learnt of its item after this.
    let kept = store.shop_queue().await.map_err(store_error)?;
    let items = shop
        .connector
        .items()
        .await
        .map_err(|err| format!("the shop's items could not be read: {err}"))?;
    let comparison = compare(&kept, &items);
    let mut report = ShopReport {
        drifted_total: comparison.drifted.len(),
        in_sync: comparison.in_sync,
        unlinked: comparison.unlinked,
        dry_run,
        recorded: 0,
        drifted: comparison.drifted,
    };
    report.drifted.truncate(REPORT_LIST_LIMIT);
    if dry_run {
        return Ok(report);
    }
    for (item, version) in comparison.to_record {
        if store
            .shop_item_reconciled(item, version)
            .await
            .map_err(store_error)?
        {
            report.recorded += 1;
        }
    }
    if report.recorded > 0 {
        shop.wake.notify_one();
    }
    Ok(report)
}

/// A reconciliation job of the shop (`kind`: reconcile or its dry run), as the runner records it:
/// its report under `shop` in the result, in the shape a group of reconciliations merges. A real
/// run adds the items it found drifted to `stocksync_reconcile_drift_total`, under the shop's
/// job account, as an account's reconciliation does.
pub async fn run_job(
    store: &Store,
    shop: &ShopHandle,
    kind: TaskKind,
    metrics: &Metrics,
) -> TaskOutcome {
    let dry_run = match kind {
        TaskKind::Reconcile => false,
        TaskKind::ReconcileDryRun => true,
        other => {
            let error = format!("the shop has no {} jobs", other.as_str());
            return TaskOutcome {
                summary: error.clone(),
                error: Some(error),
                result: None,
            };
        }
    };
    match reconcile(store, shop, dry_run).await {
        Ok(report) => {
            if !dry_run {
                metrics.add(
                    "stocksync_reconcile_drift_total",
                    &[
                        ("account", shop.job_account().as_str()),
                        ("kind", "reconcile"),
                    ],
                    report.drifted_total as f64,
                );
            }
            TaskOutcome {
                summary: report.describe(),
                error: None,
                result: Some(json!({ "dry_run": dry_run, "shop": report }).to_string()),
            }
        }
        Err(error) => {
            let error = format!("shop: {error}");
            TaskOutcome {
                summary: error.clone(),
                error: Some(error),
                result: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stocksync_domain::shop::ItemRef;

    fn kept(id: &str, wanted: i64, shop_quantity: Option<i64>, adopted: bool) -> ShopKept {
        ShopKept {
            item: EcommerceId::new(id),
            wanted,
            shop_quantity,
            adopted,
            unmanaged: false,
            last_error: None,
            version: 7,
        }
    }

    fn on_shop(id: &str, quantity: Option<i64>) -> ShopItem {
        ShopItem {
            item: ItemRef {
                id: EcommerceId::new(id),
                locator: None,
            },
            name: String::new(),
            sku: None,
            barcode: None,
            quantity,
        }
    }

    #[test]
    fn each_drifted_item_says_why() {
        let queue = [
            kept("1", 5, Some(5), true),
            kept("2", 5, None, false),
            kept("3", 5, Some(5), true),
            kept("4", 5, Some(3), true),
            kept("5", 5, Some(5), true),
            kept("6", 5, None, true),
        ];
        let shop = [
            on_shop("1", Some(5)),
            on_shop("2", Some(9)),
            on_shop("3", Some(4)),
            on_shop("4", Some(3)),
            on_shop("5", None),
            on_shop("99", Some(1)),
        ];
        let found = compare(&queue, &shop);
        let whys: Vec<(&str, DriftWhy)> = found
            .drifted
            .iter()
            .map(|d| (d.item_ecommerce_id.as_str(), d.why))
            .collect();
        assert_eq!(
            whys,
            [
                ("2", DriftWhy::NeverPushed),
                ("3", DriftWhy::ChangedOnShop),
                ("4", DriftWhy::PushPending),
                ("5", DriftWhy::Unmanaged),
                ("6", DriftWhy::NotOnShop),
            ]
        );
        assert_eq!((found.in_sync, found.unlinked), (1, 1));
        let recorded: Vec<&str> = found
            .to_record
            .iter()
            .map(|(item, version)| {
                assert_eq!(*version, 7);
                item.item.id.as_str()
            })
            .collect();
        assert_eq!(
            recorded,
            ["2", "3", "5"],
            "only what stocksync did not know is recorded"
        );
    }
}
