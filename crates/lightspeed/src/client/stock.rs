//! Stock reads: `ItemShop.json` sorted by `timeStamp`, in full or from a cursor (see `Cursor`),
//! every page followed. With `ShopID` 0 an item's count is the sum of its real shops; an incremental read
//! then fetches the other shops of the changed items in batches of 100 ids, never one by one
//! (as does a read of named items).

use super::Shops;
use super::api::{Api, Call};
use crate::wire::ItemShop;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use std::collections::{BTreeSet, HashMap, HashSet};
use stocksync_domain::PosError;
use stocksync_domain::PosRef;
use stocksync_domain::pos::{StockCount, StockRead};

const ENDPOINT: &str = "GET ItemShop.json";
/// Lightspeed's largest page, and the most values an `IN,[…]` filter takes.
const PAGE: usize = 100;
/// A cursor remembers at most this many rows of a second that may still get rows; past that,
/// the next read repeats them (harmless: counts are absolute), and closes the second.
const MAX_REMEMBERED: usize = 200;
/// A second is closed, no row will be stamped with it any more, once Lightspeed's clock (its
/// `Date` header, whole seconds) is this far past it.
const SETTLE: TimeDelta = TimeDelta::seconds(2);

pub async fn read(api: &Api, shops: Shops, cursor: Option<&str>) -> Result<StockRead, PosError> {
    let since = cursor
        .map(|text| {
            Cursor::parse(text).ok_or_else(|| {
                PosError::Rejected(api.describe(
                    "read_stock",
                    &format!("'{text}' is not a cursor this connector made"),
                ))
            })
        })
        .transpose()?;
    let mut query = vec![
        ("sort", "timeStamp".to_owned()),
        ("limit", PAGE.to_string()),
        ("shopID", shops.filter()),
    ];
    if let Some(since) = &since {
        query.push(("timeStamp", since.filter()));
    }
    let listed = api
        .list_dated::<ItemShop>(Call::get(ENDPOINT, api.url("ItemShop.json"), query, 1.0))
        .await?;
    let rows = listed.rows;
    let next_cursor = Cursor::after(&rows, listed.first_served_at)
        .or(since.clone())
        .map(|c| c.to_string());
    let changed: Vec<ItemShop> = rows
        .into_iter()
        .filter(|row| {
            shops.covers(row.shop_id) && !since.as_ref().is_some_and(|c| c.already_seen(row))
        })
        .collect();
    let counts = match (shops, &since) {
        // A changed row is one shop's: the item's other shops are read too, to sum them.
        (Shops::All, Some(_)) if !changed.is_empty() => {
            let items = changed
                .iter()
                .filter_map(|row| row.item_id.parse().ok())
                .collect();
            totals(shops, rows_of_items(api, shops, &items).await?)
        }
        _ => totals(shops, changed),
    };
    Ok(StockRead {
        counts,
        cursor: next_cursor,
    })
}

/// The current counts of some items (a ref that is not an itemID names none), 100 items per
/// call; items without a row in the covered shops are left out, as a full read would.
pub async fn read_items(api: &Api, shops: Shops, refs: &[PosRef]) -> Result<StockRead, PosError> {
    let items = refs
        .iter()
        .filter_map(|r| r.as_str().trim().parse().ok())
        .collect();
    Ok(StockRead {
        counts: totals(shops, rows_of_items(api, shops, &items).await?),
        cursor: None,
    })
}

/// The rows of `items` in the covered shops, 100 items per call, every page.
async fn rows_of_items(
    api: &Api,
    shops: Shops,
    items: &BTreeSet<i64>,
) -> Result<Vec<ItemShop>, PosError> {
    let items: Vec<i64> = items.iter().copied().collect();
    let mut rows = Vec::new();
    for chunk in items.chunks(PAGE) {
        let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let query = vec![
            ("itemID", format!("IN,[{}]", ids.join(","))),
            ("shopID", shops.filter()),
            ("limit", PAGE.to_string()),
        ];
        rows.extend(
            api.list::<ItemShop>(Call::get(ENDPOINT, api.url("ItemShop.json"), query, 1.0))
                .await?,
        );
    }
    Ok(rows)
}

/// One count per item: the sum of its rows in the covered shops (a row read twice, because it
/// changed during the read, counts once, as last read), dated by its newest row.
fn totals(shops: Shops, rows: Vec<ItemShop>) -> Vec<StockCount> {
    let mut latest: HashMap<String, ItemShop> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for row in rows.into_iter().filter(|row| shops.covers(row.shop_id)) {
        if known.insert(row.item_id.clone()) {
            order.push(row.item_id.clone());
        }
        latest.insert(row.item_shop_id.clone(), row);
    }
    let mut by_item: HashMap<&str, (i64, Option<DateTime<Utc>>)> = HashMap::new();
    for row in latest.values() {
        let entry = by_item.entry(row.item_id.as_str()).or_default();
        entry.0 += row.qoh;
        entry.1 = entry.1.max(row.time_stamp);
    }
    order
        .iter()
        .map(|item| {
            let (quantity, counted_at) = by_item[item.as_str()];
            StockCount {
                pos_ref: PosRef::new(item.as_str()),
                quantity,
                counted_at,
            }
        })
        .collect()
}

/// Where an incremental read starts: the newest `timeStamp` read (a second), and what is known
/// of that second's rows.
///
/// When the read began after that second had closed (Lightspeed's `Date` at least `SETTLE`
/// past it), every row stamped in it was read: the next read asks for `timeStamp >` it, so an
/// idle cycle is one call however many rows share the second (a bulk import, a stock count).
/// Otherwise a row may still change within it: the next read asks for `timeStamp >=` it and
/// leaves out the remembered rows that did not change.
///
/// Text form: `2025-06-18T18:30:09+00:00|closed`, `2025-06-18T18:30:09+00:00` (open, nothing
/// remembered) or `2025-06-18T18:30:09+00:00|897:33,898:-2`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cursor {
    since: DateTime<Utc>,
    tie: Tie,
}

/// The rows of the cursor's second.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tie {
    /// All read after the second had closed.
    Closed,
    /// `(itemShopID, qoh)` of the rows read at that second, which may still get more (empty
    /// past `MAX_REMEMBERED`).
    Open(Vec<(String, i64)>),
}

const CLOSED: &str = "closed";

impl Cursor {
    fn parse(text: &str) -> Option<Self> {
        let (time, tie) = text.split_once('|').unwrap_or((text, ""));
        let since = DateTime::parse_from_rfc3339(time.trim())
            .ok()?
            .with_timezone(&Utc);
        if tie == CLOSED {
            return Some(Self {
                since,
                tie: Tie::Closed,
            });
        }
        let seen = tie
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (id, qoh) = pair.split_once(':')?;
                Some((id.to_owned(), qoh.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            since,
            tie: Tie::Open(seen),
        })
    }

    /// The cursor after reading `rows`, the first page served at `served_at` by Lightspeed's
    /// clock; `None` if no row had a time.
    fn after(rows: &[ItemShop], served_at: Option<DateTime<Utc>>) -> Option<Self> {
        let since = rows.iter().filter_map(|row| row.time_stamp).max()?;
        if served_at.is_some_and(|served| served >= since + SETTLE) {
            return Some(Self {
                since,
                tie: Tie::Closed,
            });
        }
        let mut last: HashMap<&str, i64> = HashMap::new();
        for row in rows.iter().filter(|row| row.time_stamp == Some(since)) {
            last.insert(&row.item_shop_id, row.qoh);
        }
        let mut seen: Vec<(String, i64)> = if last.len() <= MAX_REMEMBERED {
            last.into_iter()
                .map(|(id, qoh)| (id.to_owned(), qoh))
                .collect()
        } else {
            Vec::new()
        };
        seen.sort();
        Some(Self {
            since,
            tie: Tie::Open(seen),
        })
    }

    /// The `timeStamp` filter of the next read.
    fn filter(&self) -> String {
        let op = match self.tie {
            Tie::Closed => ">",
            Tie::Open(_) => ">=",
        };
        format!("{op},{}", self.time_text())
    }

    fn already_seen(&self, row: &ItemShop) -> bool {
        let Tie::Open(seen) = &self.tie else {
            return false;
        };
        row.time_stamp == Some(self.since)
            && seen
                .iter()
                .any(|(id, qoh)| *id == row.item_shop_id && *qoh == row.qoh)
    }

    fn time_text(&self) -> String {
        self.since.to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.time_text())?;
        match &self.tie {
            Tie::Closed => write!(f, "|{CLOSED}"),
            Tie::Open(seen) => {
                for (i, (id, qoh)) in seen.iter().enumerate() {
                    write!(f, "{}{id}:{qoh}", if i == 0 { '|' } else { ',' })?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, item: &str, shop: i64, qoh: i64, at: &str) -> ItemShop {
        ItemShop {
            item_shop_id: id.into(),
            item_id: item.into(),
            shop_id: shop,
            qoh,
            time_stamp: Some(
                DateTime::parse_from_rfc3339(at)
                    .unwrap()
                    .with_timezone(&Utc),
            ),
        }
    }

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn a_cursor_remembers_the_rows_of_its_last_second() {
        let rows = [
            row("1", "10", 1, 4, "2025-06-18T18:30:08+00:00"),
            row("2", "11", 1, 5, "2025-06-18T18:30:09+00:00"),
            row("3", "12", 1, -2, "2025-06-18T18:30:09+00:00"),
        ];
        // Read while 18:30:09 could still get rows (one second later, or with no `Date`).
        assert_eq!(
            Cursor::after(&rows, at("2025-06-18T18:30:10+00:00")),
            Cursor::after(&rows, None)
        );
        let cursor = Cursor::after(&rows, None).unwrap();
        assert_eq!(cursor.filter(), ">=,2025-06-18T18:30:09+00:00");
        assert_eq!(cursor.to_string(), "2025-06-18T18:30:09+00:00|2:5,3:-2");
        assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor.clone()));
        assert!(cursor.already_seen(&rows[1]));
        // Changed again within the same second: not seen.
        assert!(!cursor.already_seen(&row("2", "11", 1, 4, "2025-06-18T18:30:09+00:00")));
        assert!(!cursor.already_seen(&row("2", "11", 1, 5, "2025-06-18T18:30:10+00:00")));
    }

    #[test]
    fn a_second_read_after_it_closed_needs_no_memory_however_many_rows_share_it() {
        let rows: Vec<ItemShop> = (1..=5_000)
            .map(|id| {
                let id = id.to_string();
                row(&id, &id, 1, 3, "2025-06-18T18:30:09+00:00")
            })
            .collect();
        let open = Cursor::after(&rows, at("2025-06-18T18:30:10+00:00")).unwrap();
        assert_eq!(
            open.to_string(),
            "2025-06-18T18:30:09+00:00",
            "too many to remember"
        );
        let closed = Cursor::after(&rows, at("2025-06-18T18:30:11+00:00")).unwrap();
        assert_eq!(closed.to_string(), "2025-06-18T18:30:09+00:00|closed");
        assert_eq!(Cursor::parse(&closed.to_string()), Some(closed.clone()));
        assert_eq!(closed.filter(), ">,2025-06-18T18:30:09+00:00");
        assert!(!closed.already_seen(&rows[0]));
    }

    #[test]
    fn a_plain_time_is_a_cursor_and_garbage_is_not() {
        let cursor = Cursor::parse("2025-06-18T18:30:09Z").unwrap();
        assert_eq!(cursor.tie, Tie::Open(Vec::new()));
        assert_eq!(cursor.to_string(), "2025-06-18T18:30:09+00:00");
        assert_eq!(Cursor::parse("yesterday"), None);
        assert_eq!(Cursor::parse("2025-06-18T18:30:09+00:00|2:x"), None);
    }

    #[test]
    fn totals_never_add_the_summary_row_and_count_a_reread_row_once() {
        let rows = vec![
            row("1", "10", 0, 9, "2025-06-18T18:30:00+00:00"),
            row("2", "10", 1, 5, "2025-06-18T18:30:00+00:00"),
            row("3", "10", 2, 4, "2025-06-18T18:30:01+00:00"),
            row("2", "10", 1, 3, "2025-06-18T18:30:02+00:00"),
            row("4", "11", 2, 7, "2025-06-18T18:30:00+00:00"),
        ];
        let all = totals(Shops::All, rows.clone());
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].pos_ref.as_str(), all[0].quantity), ("10", 7));
        assert_eq!(
            all[0].counted_at.unwrap().to_rfc3339(),
            "2025-06-18T18:30:02+00:00"
        );
        assert_eq!((all[1].pos_ref.as_str(), all[1].quantity), ("11", 7));
        let one = totals(Shops::One(1), rows);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].quantity, 3);
    }
}
