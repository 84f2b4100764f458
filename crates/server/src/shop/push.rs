//! Stock out: one batch of the push queue brought to the shop. Items whose shop quantity is
//! unknown are read first (in bulk; items without a locator that the read misses, in one
//! listing of the shop, and their locator kept), and that batch ends there: the worker reads the
//! orders before the next, so an order the read saw on the shop is counted before anything is
//! written over it (and on a compare-and-set platform, an order placed after the read makes the
//! write stale instead of being overwritten). A batch whose quantities are all known writes
//! only the items whose shop quantity differs from what stocksync wants, with what the shop was
//! read to have as the expected value.
//! Each write's outcome is recorded on its own: written, not tracked by the shop (reported,
//! never written), changed under us (read again), refused for good (a long wait and a
//! `refused` event), or failed (retried with backoff).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;
use stocksync_domain::shop::{ItemRef, LevelWrite, ShopError, ShopItem, WriteOutcome};
use stocksync_domain::{EcommerceId, ShopConnector, ShopKind};
use stocksync_pos::backoff::Backoff;
use stocksync_store::{ShopPush, Store, StoreError};

/// Items pushed per batch (the connector splits them to the platform's own limits).
pub const BATCH: i64 = 300;
/// How long an item the shop refused for good waits before it is tried again (its next change
/// tries it at once).
pub const REFUSED_WAIT: Duration = Duration::from_secs(6 * 3600);
/// Waits between failed pushes of an item.
pub const BACKOFF: Backoff = Backoff {
    initial: Duration::from_secs(1),
    max: Duration::from_secs(300),
    retries: u32::MAX,
};

/// What one batch did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Rows the batch took from the queue.
    pub due: usize,
    /// Shop quantities read (the batch then wrote nothing).
    pub read: usize,
    /// Quantities written.
    pub written: usize,
}

/// What to write of `due`, knowing what the shop has (`shop_has`): only items whose shop
/// quantity is known and differs from what stocksync wants.
pub fn writes(due: &[ShopPush], shop_has: &HashMap<EcommerceId, i64>) -> Vec<LevelWrite> {
    due.iter()
        .filter_map(|push| {
            let has = *shop_has.get(&push.item.id)?;
            (has != push.wanted).then(|| LevelWrite {
                item: push.item.clone(),
                quantity: push.wanted,
                expected: Some(has),
            })
        })
        .collect()
}

fn at(wait: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

fn retry_at(attempts: i64) -> DateTime<Utc> {
    at(BACKOFF.delay(u32::try_from(attempts).unwrap_or(u32::MAX)))
}

/// The shop's own view of an item, for recording it.
fn seen(item: &ItemRef, quantity: Option<i64>) -> ShopItem {
    ShopItem {
        item: item.clone(),
        name: String::new(),
        sku: None,
        barcode: None,
        quantity,
    }
}

/// Pushes one batch of due items; `Ok` with `due` 0 when nothing is due.
pub async fn push_batch(
    store: &Store,
    kind: ShopKind,
    connector: &dyn ShopConnector,
) -> Result<Pushed, StoreError> {
    let due = store.due_shop_pushes(BATCH).await?;
    let mut pushed = Pushed {
        due: due.len(),
        ..Pushed::default()
    };
    if due.is_empty() {
        return Ok(pushed);
    }
    let unknown = due
        .iter()
        .filter(|push| push.shop_quantity.is_none())
        .count();
    if unknown > 0 {
        read_unknown(store, kind, connector, &due).await?;
        pushed.read = unknown;
        return Ok(pushed);
    }
    let shop_has: HashMap<EcommerceId, i64> = due
        .iter()
        .filter_map(|push| Some((push.item.id.clone(), push.shop_quantity?)))
        .collect();
    let writes = writes(&due, &shop_has);
    if writes.is_empty() {
        return Ok(pushed);
    }
    let attempts: HashMap<&EcommerceId, i64> =
        due.iter().map(|p| (&p.item.id, p.attempts)).collect();
    let outcomes = connector.set_quantities(&writes).await;
    for (write, outcome) in writes.iter().zip(outcomes) {
        let id = &write.item.id;
        match outcome {
            WriteOutcome::Written { quantity } => {
                pushed.written += 1;
                store.shop_item_written(id, quantity).await?;
            }
            WriteOutcome::Unmanaged => unmanaged(store, kind, &write.item).await?,
            WriteOutcome::Changed { actual } => {
                store
                    .shop_item_read(&seen(&write.item, Some(actual)))
                    .await?;
            }
            WriteOutcome::Refused(why) => refused(store, id, &why).await?,
            WriteOutcome::Failed(err) => {
                failed(store, id, &err, attempts.get(id).copied().unwrap_or(0)).await?;
            }
        }
    }
    Ok(pushed)
}

/// The items a read by ref did not find that have no locator: a variation registered by its
/// bare id, which the platform only finds under its parent (WooCommerce's `include=` does not
/// list variations). They are looked for in the whole listing.
pub fn unlocated<'a>(asked: &'a [ItemRef], found: &[ShopItem]) -> Vec<&'a EcommerceId> {
    asked
        .iter()
        .filter(|item| item.locator.is_none() && !found.iter().any(|f| f.item.id == item.id))
        .map(|item| &item.id)
        .collect()
}

/// Reads the shop's quantity of the items of `due` whose quantity is unknown (one bulk read;
/// those it misses for want of a locator, one listing of the shop), recording each with where
/// it is (the first read of an item is its adoption; a located item keeps its locator for its
/// writes); an item the shop does not have is refused, one it does not track is reported.
async fn read_unknown(
    store: &Store,
    kind: ShopKind,
    connector: &dyn ShopConnector,
    due: &[ShopPush],
) -> Result<(), StoreError> {
    let unknown = |push: &&ShopPush| push.shop_quantity.is_none();
    let refs: Vec<ItemRef> = due
        .iter()
        .filter(|push| push.shop_quantity.is_none())
        .map(|push| push.item.clone())
        .collect();
    let mut items = match connector.items_by_ref(&refs).await {
        Ok(items) => items,
        Err(err) => {
            tracing::warn!(error = %err, items = refs.len(), "the shop's items could not be read before a push");
            for push in due.iter().filter(unknown) {
                failed(store, &push.item.id, &err, push.attempts).await?;
            }
            return Ok(());
        }
    };
    let mut unread: Vec<EcommerceId> = Vec::new();
    let lost = unlocated(&refs, &items);
    if !lost.is_empty() {
        tracing::info!(
            items = lost.len(),
            "items without a locator were not found by id; looking for them in the shop's listing"
        );
        match connector.items().await {
            Ok(all) => items.extend(all.into_iter().filter(|item| lost.contains(&&item.item.id))),
            Err(err) => {
                tracing::warn!(error = %err, "the shop's listing could not be read to locate items");
                for push in due.iter().filter(|p| lost.contains(&&p.item.id)) {
                    failed(store, &push.item.id, &err, push.attempts).await?;
                }
                unread = lost.into_iter().cloned().collect();
            }
        }
    }
    let by_id: HashMap<&EcommerceId, &ShopItem> =
        items.iter().map(|item| (&item.item.id, item)).collect();
    for push in due.iter().filter(unknown) {
        match by_id.get(&push.item.id) {
            Some(item) => {
                store.shop_item_read(item).await?;
                if item.quantity.is_none() {
                    unmanaged_event(store, kind, &push.item.id).await?;
                }
            }
            None if unread.contains(&push.item.id) => {}
            None => refused(store, &push.item.id, "the shop has no such item").await?,
        }
    }
    Ok(())
}

async fn unmanaged(store: &Store, kind: ShopKind, item: &ItemRef) -> Result<(), StoreError> {
    store.shop_item_read(&seen(item, None)).await?;
    unmanaged_event(store, kind, &item.id).await
}

async fn unmanaged_event(
    store: &Store,
    kind: ShopKind,
    item: &EcommerceId,
) -> Result<(), StoreError> {
    tracing::warn!(%item, "the shop does not track this item's stock; stocksync cannot set it");
    store
        .shop_event(
            "unmanaged",
            item.as_str(),
            None,
            0,
            format!(
                "{} does not track the stock of item {item} ({}): stocksync never writes it",
                kind.display_name(),
                kind.untracked_because()
            ),
        )
        .await
}

async fn refused(store: &Store, item: &EcommerceId, why: &str) -> Result<(), StoreError> {
    tracing::warn!(%item, why, "the shop refused a quantity for good");
    store.shop_push_failed(item, why, at(REFUSED_WAIT)).await?;
    store
        .shop_event("refused", item.as_str(), None, 0, why.to_owned())
        .await
}

async fn failed(
    store: &Store,
    item: &EcommerceId,
    err: &ShopError,
    attempts: i64,
) -> Result<(), StoreError> {
    tracing::info!(%item, error = %err, attempts = attempts + 1, "a shop push failed; will retry");
    store
        .shop_push_failed(item, &err.to_string(), retry_at(attempts))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(id: &str, wanted: i64, shop: Option<i64>) -> ShopPush {
        ShopPush {
            item: ItemRef {
                id: EcommerceId::new(id),
                locator: None,
            },
            wanted,
            shop_quantity: shop,
            attempts: 0,
            changed_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_items_without_a_locator_that_a_read_missed_are_looked_for() {
        let item = |id: &str, locator: Option<&str>| ItemRef {
            id: EcommerceId::new(id),
            locator: locator.map(str::to_owned),
        };
        let asked = [item("1", None), item("2", Some("9")), item("3", None)];
        let found = [seen(&item("1", None), Some(4))];
        let lost: Vec<&str> = unlocated(&asked, &found)
            .into_iter()
            .map(EcommerceId::as_str)
            .collect();
        assert_eq!(
            lost,
            ["3"],
            "2 has its parent: not found means not on the shop"
        );
        assert!(unlocated(&asked[..1], &found).is_empty());
    }

    #[test]
    fn only_known_different_quantities_are_written_with_what_the_shop_has() {
        let due = [
            push("1", 5, Some(3)),
            push("2", 4, Some(4)),
            push("3", 2, None),
        ];
        let shop_has = due
            .iter()
            .filter_map(|p| Some((p.item.id.clone(), p.shop_quantity?)))
            .collect();
        let writes = writes(&due, &shop_has);
        assert_eq!(
            writes.len(),
            1,
            "the same value is never written; unknown is read first"
        );
        assert_eq!(writes[0].item.id.as_str(), "1");
        assert_eq!((writes[0].quantity, writes[0].expected), (5, Some(3)));
    }
}
