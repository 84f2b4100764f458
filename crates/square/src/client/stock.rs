//! Reading stock with `inventory/counts/batch-retrieve` (1 000 rows a page, every page
//! followed): in full, or incrementally with `updated_after`.
//!
//! The cursor is an RFC 3339 time, and means "every change Square received up to then has been
//! reported". After a read it becomes Square's own clock at the start of that read (the `Date`
//! header of its first page) minus [`SETTLE`], never earlier than the previous cursor: Square's
//! counts are eventually consistent, and a change received just before a read may show up only
//! after it, with a `calculated_at` older than rows the read did see. So a read reports what
//! changed in the last `SETTLE` before it again the next time: harmless, since counts are
//! absolute. (Without a `Date` header, the newest `calculated_at` seen minus `SETTLE` is used.)
//!
//! An incremental read sees only the rows that changed; a variation's total needs its other
//! locations too, so the changed variations' counts are read again, in batched calls
//! ([`IDS_PER_CALL`] ids each), when more than one location is summed.

use super::SquareConnector;
use super::api::COUNTS;
use crate::quantity::Quantity;
use crate::wire::{Count, Counts, RetrieveCounts};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use std::collections::{HashMap, HashSet};
use stocksync_domain::pos::{StockCount, StockRead};
use stocksync_domain::{PosError, PosRef};

/// Square's largest counts page.
const PAGE: u32 = 1000;
/// Variation ids per counts call when reading given variations.
const IDS_PER_CALL: usize = 500;
/// How long after a change Square's counts are trusted to show it.
const SETTLE: TimeDelta = TimeDelta::seconds(30);

/// One variation's stock over the account's locations.
#[derive(Debug, Default)]
pub(super) struct Total {
    pub quantity: Quantity,
    /// The newest `calculated_at` of its rows.
    pub counted_at: Option<DateTime<Utc>>,
}

impl Total {
    fn add(&mut self, row: &Count) {
        self.quantity = self.quantity + row.quantity;
        self.counted_at = self.counted_at.max(row.calculated_at);
    }
}

/// Totals by variation id.
pub(super) type Totals = HashMap<String, Total>;

impl SquareConnector {
    #[tracing::instrument(skip_all, fields(account = self.api.http.account()), err)]
    pub(super) async fn read(&self, cursor: Option<&str>) -> Result<StockRead, PosError> {
        let since = cursor.map(|c| self.parse_cursor(c)).transpose()?;
        let mut changed = Totals::new();
        let server_time = self.counts(None, since, &mut changed).await?;
        let totals = if since.is_some() && self.locations().await?.len() > 1 && !changed.is_empty()
        {
            let ids: Vec<String> = changed.keys().cloned().collect();
            let mut totals = self.totals(&ids).await?;
            for (id, total) in changed {
                totals.entry(id).or_insert(total);
            }
            totals
        } else {
            changed
        };
        let newest = totals.values().filter_map(|t| t.counted_at).max();
        let mut counts: Vec<StockCount> = totals
            .into_iter()
            .map(|(id, total)| StockCount {
                pos_ref: PosRef::new(id),
                quantity: total.quantity.whole_units(),
                counted_at: total.counted_at,
            })
            .collect();
        counts.sort_by(|a, b| a.pos_ref.cmp(&b.pos_ref));
        Ok(StockRead {
            counts,
            cursor: next_cursor(since, server_time, newest).map(format_time),
        })
    }

    /// The totals of the given variations (those without any count are left out).
    pub(super) async fn totals(&self, ids: &[String]) -> Result<Totals, PosError> {
        let mut totals = Totals::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            self.counts(Some(chunk), None, &mut totals).await?;
        }
        Ok(totals)
    }

    /// The totals of every counted variation: the full read, without its cursor.
    pub(super) async fn all_totals(&self) -> Result<Totals, PosError> {
        let mut totals = Totals::new();
        self.counts(None, None, &mut totals).await?;
        Ok(totals)
    }

    /// Adds every `IN_STOCK` row of the account's locations (of `ids` only, changed after
    /// `updated_after` only, when given) to `totals`, page after page. Returns Square's clock
    /// at the first page.
    async fn counts(
        &self,
        ids: Option<&[String]>,
        updated_after: Option<DateTime<Utc>>,
        totals: &mut Totals,
    ) -> Result<Option<DateTime<Utc>>, PosError> {
        let locations = self.locations().await?;
        let wanted: HashSet<&str> = locations.iter().map(String::as_str).collect();
        let updated_after = updated_after.map(format_time);
        let mut server_time = None;
        let mut cursor = None;
        loop {
            let body = RetrieveCounts {
                catalog_object_ids: ids,
                location_ids: locations,
                updated_after: updated_after.clone(),
                states: ["IN_STOCK"],
                limit: PAGE,
                cursor: cursor.clone(),
            };
            let answer = self.api.call::<Counts>(&COUNTS, Some(&body)).await?;
            server_time.get_or_insert(answer.date);
            let rows = answer.body.counts.iter().filter(|row| {
                row.state == "IN_STOCK"
                    && wanted.contains(row.location_id.as_str())
                    && row
                        .catalog_object_type
                        .as_deref()
                        .is_none_or(|t| t == "ITEM_VARIATION")
            });
            for row in rows {
                totals
                    .entry(row.catalog_object_id.clone())
                    .or_default()
                    .add(row);
            }
            cursor = self
                .api
                .next_page(&COUNTS, cursor.as_deref(), answer.body.cursor)?;
            if cursor.is_none() {
                return Ok(server_time.flatten());
            }
        }
    }

    fn parse_cursor(&self, cursor: &str) -> Result<DateTime<Utc>, PosError> {
        DateTime::parse_from_rfc3339(cursor.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                let shown: String = cursor.chars().take(40).collect();
                let what = format!("'{shown}' is not a Square stock cursor (an RFC 3339 time)");
                PosError::Rejected(self.api.http.describe("read_stock", &what))
            })
    }
}

/// See the module comment: Square's clock at the read (or the newest count seen) minus
/// [`SETTLE`], never before the previous cursor.
fn next_cursor(
    previous: Option<DateTime<Utc>>,
    server_time: Option<DateTime<Utc>>,
    newest_seen: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let settled = server_time.or(newest_seen).map(|t| t - SETTLE);
    match (previous, settled) {
        (Some(previous), Some(settled)) => Some(previous.max(settled)),
        (previous, settled) => previous.or(settled),
    }
}

/// RFC 3339 in UTC with milliseconds, as Square writes times.
pub(super) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_cursor_is_the_server_clock_minus_the_settling_time() {
        let next = next_cursor(
            None,
            Some(at("2025-05-01T10:00:30Z")),
            Some(at("2025-04-01T00:00:00Z")),
        );
        assert_eq!(next, Some(at("2025-05-01T10:00:00Z")));
    }

    #[test]
    fn the_cursor_never_goes_back() {
        let previous = Some(at("2025-05-01T10:00:00Z"));
        assert_eq!(
            next_cursor(previous, Some(at("2025-05-01T10:00:10Z")), None),
            previous
        );
        assert_eq!(next_cursor(previous, None, None), previous);
    }

    #[test]
    fn without_a_server_clock_the_newest_count_is_used() {
        let next = next_cursor(None, None, Some(at("2025-05-01T10:00:30Z")));
        assert_eq!(next, Some(at("2025-05-01T10:00:00Z")));
        assert_eq!(next_cursor(None, None, None), None);
    }

    #[test]
    fn times_are_written_like_square_writes_them() {
        assert_eq!(
            format_time(at("2025-05-01T10:00:00.5+02:00")),
            "2025-05-01T08:00:00.500Z"
        );
    }
}
