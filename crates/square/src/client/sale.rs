//! Recording a web sale: one `IN_STOCK → SOLD` adjustment (a return: `NONE → IN_STOCK`) through
//! `inventory/changes/batch-create`, at the account's first location, under an idempotency key
//! derived from the sale's key, so that Square applies it once whatever happens to the answers.
//!
//! Retries inside one call send the very same bytes. A later call for the same sale (after a
//! crash, or from the outbox) carries a new `occurred_at`, which Square answers with
//! `IDEMPOTENCY_KEY_REUSED`: the sale is then already recorded, and its adjustment is looked up
//! by its `reference_id` (the sale key) with `inventory/changes/batch-retrieve`.

use super::SquareConnector;
use super::api::{CHANGES_CREATE, CHANGES_RETRIEVE, CallError};
use super::stock::format_time;
use crate::wire::{
    Adjustment, AdjustmentRequest, BatchChange, ChangeRequest, Changed, ChangesPage,
    RetrieveChanges,
};
use chrono::{TimeDelta, Utc};
use sha2::{Digest, Sha256};
use stocksync_domain::PosError;
use stocksync_domain::pos::{PosSale, PosSaleReceipt};

/// Square's longest idempotency key.
const MAX_KEY: usize = 128;
const KEY_PREFIX: &str = "stocksync-";
/// How far back a sale already recorded is looked for.
const LOOKUP_WINDOW: TimeDelta = TimeDelta::days(31);
const LOOKUP_PAGE: u32 = 1000;

impl SquareConnector {
    #[tracing::instrument(skip_all, fields(account = self.api.http.account()), err)]
    pub(super) async fn record(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        if sale.quantity == 0 {
            let what = "a sale of 0 units cannot be recorded".to_owned();
            return Err(PosError::Rejected(
                self.api.http.describe(CHANGES_CREATE.name, &what),
            ));
        }
        let location = self.locations().await?[0].as_str();
        let key = idempotency_key(&sale.sale_key);
        // Units sold leave IN_STOCK; units returned come back into it.
        let (from_state, to_state) = if sale.quantity > 0 {
            ("IN_STOCK", "SOLD")
        } else {
            ("NONE", "IN_STOCK")
        };
        let body = BatchChange {
            idempotency_key: &key,
            ignore_unchanged_counts: true,
            changes: [ChangeRequest {
                kind: "ADJUSTMENT",
                adjustment: AdjustmentRequest {
                    catalog_object_id: sale.pos_ref.as_str(),
                    location_id: location,
                    from_state,
                    to_state,
                    quantity: sale.quantity.abs().to_string(),
                    occurred_at: format_time(Utc::now()),
                    reference_id: &sale.sale_key,
                },
            }],
        };
        let changed = match self.api.call::<Changed>(&CHANGES_CREATE, Some(&body)).await {
            Ok(answer) => answer.body,
            Err(CallError::Refused { code, .. }) if code == "IDEMPOTENCY_KEY_REUSED" => {
                return self.recorded(sale, location).await;
            }
            Err(err) => return Err(err.into()),
        };
        let adjustment = changed
            .changes
            .iter()
            .filter_map(|c| c.adjustment.as_ref())
            .find(|a| is_for(a, sale));
        let Some(adjustment) = adjustment else {
            // The answer's `changes` list is a beta field: without it, ask for the adjustment.
            return self.recorded(sale, location).await;
        };
        let recorded_at = changed
            .counts
            .iter()
            .filter(|c| c.catalog_object_id == sale.pos_ref.as_str() && c.location_id == location)
            .filter_map(|c| c.calculated_at)
            .max()
            .or(adjustment.created_at);
        Ok(PosSaleReceipt {
            pos_reference: adjustment.id.clone(),
            recorded_at,
        })
    }

    /// The receipt of a sale Square already has, found by its reference among the
    /// variation's adjustments at `location`.
    async fn recorded(&self, sale: &PosSale, location: &str) -> Result<PosSaleReceipt, PosError> {
        let updated_after = format_time(Utc::now() - LOOKUP_WINDOW);
        let mut cursor = None;
        loop {
            let body = RetrieveChanges {
                catalog_object_ids: [sale.pos_ref.as_str()],
                location_ids: [location],
                types: ["ADJUSTMENT"],
                updated_after: updated_after.clone(),
                limit: LOOKUP_PAGE,
                cursor: cursor.clone(),
            };
            let page = self
                .api
                .call::<ChangesPage>(&CHANGES_RETRIEVE, Some(&body))
                .await?
                .body;
            let mut adjustments = page.changes.iter().filter_map(|c| c.adjustment.as_ref());
            if let Some(found) = adjustments.find(|a| is_for(a, sale)) {
                return Ok(PosSaleReceipt {
                    pos_reference: found.id.clone(),
                    recorded_at: found.created_at,
                });
            }
            cursor = self
                .api
                .next_page(&CHANGES_RETRIEVE, cursor.as_deref(), page.cursor)?;
            if cursor.is_none() {
                // Square took the key, so the sale may well be recorded (its reads can lag, or
                // it went to another location): never a final refusal, which would give the
                // units back; retried, and at worst dead with its units kept sold.
                let what = format!(
                    "Square knows the sale's idempotency key but shows no adjustment with reference '{}' on {} at {location} yet",
                    sale.sale_key, sale.pos_ref
                );
                return Err(PosError::Unavailable(
                    self.api.http.describe(CHANGES_CREATE.name, &what),
                ));
            }
        }
    }
}

/// Whether the adjustment is the one recorded for `sale`: its reference is the sale key, on
/// the sale's variation.
fn is_for(adjustment: &Adjustment, sale: &PosSale) -> bool {
    adjustment.reference_id.as_deref() == Some(sale.sale_key.as_str())
        && adjustment
            .catalog_object_id
            .as_deref()
            .is_none_or(|id| id == sale.pos_ref.as_str())
}

/// `stocksync-` + the sale key, or, when that is longer than Square allows, `stocksync-` +
/// the SHA-256 of the sale key in hex. The same sale always gets the same key.
pub fn idempotency_key(sale_key: &str) -> String {
    let plain = format!("{KEY_PREFIX}{sale_key}");
    if plain.len() <= MAX_KEY {
        return plain;
    }
    let digest = Sha256::digest(sale_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{KEY_PREFIX}{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_fit_square() {
        assert_eq!(idempotency_key("order-42"), "stocksync-order-42");
        let fits = "k".repeat(MAX_KEY - KEY_PREFIX.len());
        assert_eq!(idempotency_key(&fits), format!("{KEY_PREFIX}{fits}"));
        let long = "k".repeat(128);
        let key = idempotency_key(&long);
        assert_eq!(key, idempotency_key(&long));
        assert!(key.len() <= MAX_KEY && key.starts_with(KEY_PREFIX), "{key}");
        assert_ne!(key, idempotency_key(&"j".repeat(128)));
    }
}
