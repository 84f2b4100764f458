//! The ledger: the append-only story of every link's shop quantity, so that "why is this item
//! at 3?" has an answer.

use crate::LinkId;
use chrono::{DateTime, Utc};

/// One movement (or notable event) of a link's quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub link_id: LinkId,
    pub at: DateTime<Utc>,
    /// `registered`, `web_sale`, `web_return`, `pos_count`, `pos_gone`, `sale_confirmed`, `sale_refused`,
    /// `sale_retried`.
    pub reason: String,
    pub quantity_before: i64,
    pub quantity_after: i64,
    /// The web sale concerned, if any.
    pub sale_id: Option<String>,
    /// The POS product concerned.
    pub pos_ref: String,
    /// A sentence for people.
    pub detail: Option<String>,
}

/// What is known of one link beyond its `stock` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// The last count read from the POS, when, and the POS's own time for it.
    pub pos_quantity: Option<i64>,
    pub observed_at: Option<DateTime<Utc>>,
    pub counted_at: Option<DateTime<Utc>>,
    /// Units sold online and not yet recorded on the POS.
    pub in_flight: i64,
    /// Dead sales waiting for a retry.
    pub dead_sales: i64,
}
