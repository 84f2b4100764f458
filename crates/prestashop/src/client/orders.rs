//! Orders in (shop-apis.md §3.5, §4): the Webservice has no webhooks, so orders are polled by
//! `date_upd` (`date=1`, local shop time without an offset: the client's `time_zone` reads and
//! writes it, daylight saving included), with their rows and current state. Which states count as sold, cancelled or
//! refunded is [`OrderStates`], PrestaShop's default ids by default.

use super::call::Params;
use super::{PrestaClient, PrestaError};
use crate::ids::item_id;
use crate::wire::{Order, list};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use stocksync_domain::EcommerceId;
use stocksync_domain::shop::{ShopOrder, ShopOrderLine};
use stocksync_pos::lenient::cents;

const ORDERS: &str = "GET /orders";
const ORDER: &str = "GET /orders/{id}";
const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Which `current_state` ids mean what. By default any state neither cancelled nor refunded
/// counts as sold: PrestaShop takes an order's units from `quantity` when it is validated,
/// whatever its first state (awaiting payment included), and gives them back on a cancel or
/// error state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderStates {
    /// Only these states count as sold (`None`: every state neither cancelled nor refunded);
    /// an order in a state of no list does not count yet.
    pub sold: Option<Vec<i64>>,
    /// The order's units went back to stock (`PS_OS_CANCELED` = 6, `PS_OS_ERROR` = 8).
    pub cancelled: Vec<i64>,
    /// Refunded in full (`PS_OS_REFUND` = 7): its lines are taken as restocked.
    pub refunded: Vec<i64>,
}

impl Default for OrderStates {
    fn default() -> Self {
        Self {
            sold: None,
            cancelled: vec![6, 8],
            refunded: vec![7],
        }
    }
}

impl OrderStates {
    /// Whether an order in `state` counts, and its status as shown to the merchant.
    fn read(&self, state: i64) -> (bool, String) {
        if self.cancelled.contains(&state) {
            (false, format!("state {state}: cancelled"))
        } else if self.refunded.contains(&state) {
            (true, format!("state {state}: refunded"))
        } else if self.sold.as_ref().is_none_or(|sold| sold.contains(&state)) {
            (true, format!("state {state}: sold"))
        } else {
            (false, format!("state {state}: not sold yet"))
        }
    }
}

/// A shop-local `YYYY-MM-DD HH:MM:SS` as a UTC instant.
/// In the hour a clock goes back, the earlier of the two instants is taken (a poll's overlap
/// covers the hour).
fn read_date(value: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let naive = NaiveDateTime::parse_from_str(value.trim(), DATE_FORMAT)
        .map_err(|err| format!("date '{value}': {err}"))?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| format!("date '{value}' does not exist"))
}

/// The order as stocksync sees it.
pub(super) fn shop_order(
    order: Order,
    states: &OrderStates,
    zone: Tz,
) -> Result<ShopOrder, String> {
    let (counts, status) = states.read(order.current_state);
    let refunded = states.refunded.contains(&order.current_state);
    Ok(ShopOrder {
        id: order.id.to_string(),
        counts,
        status,
        created_at: read_date(&order.date_add, zone)?,
        modified_at: read_date(&order.date_upd, zone)?,
        lines: order
            .associations
            .order_rows
            .into_iter()
            .map(|row| ShopOrderLine {
                id: row.id.to_string(),
                item: EcommerceId::new(item_id(
                    row.product_id,
                    row.product_attribute_id.filter(|&a| a > 0),
                )),
                quantity: row.product_quantity,
                restocked: if refunded { row.product_quantity } else { 0 },
                total_cents: row
                    .unit_price_tax_incl
                    .as_deref()
                    .and_then(cents)
                    .unwrap_or(0)
                    * row.product_quantity,
            })
            .collect(),
    })
}

impl PrestaClient {
    /// Orders whose `date_upd` is at or after `since` (to the second), by id, every page;
    /// every order when `since` is `None`.
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn orders_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ShopOrder>, PrestaError> {
        // `date=1`: without it the date fields are unknown to filters. Sorted by id, not by
        // `date_upd`: an order saved while the pages are read stays where it was (by date it
        // would move to the end and shift a later order back onto a page already read).
        let mut params: Params = vec![
            ("display".into(), "full".into()),
            ("date".into(), "1".into()),
            ("sort".into(), "[id_ASC]".into()),
        ];
        if let Some(since) = since {
            let after = since.with_timezone(&self.time_zone) - chrono::Duration::seconds(1);
            params.push((
                "filter[date_upd]".into(),
                format!(">[{}]", after.format(DATE_FORMAT)),
            ));
        }
        let orders: Vec<Order> = self.get_pages(ORDERS, "orders", params).await?;
        orders
            .into_iter()
            .map(|order| shop_order(order, &self.states, self.time_zone))
            .collect::<Result<_, _>>()
            .map_err(|err| self.unreadable(ORDERS, &err))
    }

    /// One order; `None` when the shop has no such order (or `id` is not an order id).
    #[tracing::instrument(skip_all, fields(account = self.http.account()), err)]
    pub(super) async fn order_by_id(&self, id: &str) -> Result<Option<ShopOrder>, PrestaError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let answer = match self.get_json(ORDER, &["orders", id], Vec::new()).await {
            Ok(answer) => answer,
            Err(PrestaError::NotFound(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        let order: Order = match answer {
            Value::Object(mut map) if map.contains_key("order") => {
                serde_json::from_value(map.remove("order").unwrap_or_default())
            }
            other => list::<Order>(other, "orders").and_then(|mut orders| {
                orders
                    .pop()
                    .ok_or_else(|| serde::de::Error::custom("no order"))
            }),
        }
        .map_err(|err| self.unreadable(ORDER, &err))?;
        shop_order(order, &self.states, self.time_zone)
            .map(Some)
            .map_err(|err| self.unreadable(ORDER, &err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{OrderAssociations, OrderRow};

    fn order(state: i64) -> Order {
        Order {
            id: 9,
            current_state: state,
            date_add: "2026-03-01 10:00:00".into(),
            date_upd: "2026-03-01 12:30:05".into(),
            associations: OrderAssociations {
                order_rows: vec![
                    OrderRow {
                        id: 1,
                        product_id: 7,
                        product_attribute_id: Some(13),
                        product_quantity: 2,
                        unit_price_tax_incl: Some("12.500000".into()),
                    },
                    OrderRow {
                        id: 2,
                        product_id: 8,
                        product_attribute_id: Some(0),
                        product_quantity: 1,
                        unit_price_tax_incl: None,
                    },
                ],
            },
        }
    }

    #[test]
    fn states_count_as_prestashop_defaults_say() {
        let utc = Tz::UTC;
        let states = OrderStates::default();
        for (state, counts) in [
            (1, true),
            (2, true),
            (4, true),
            (5, true),
            (10, true),
            (6, false),
            (8, false),
            (7, true),
        ] {
            assert_eq!(
                shop_order(order(state), &states, utc).unwrap().counts,
                counts,
                "state {state}"
            );
        }
        let refunded = shop_order(order(7), &states, utc).unwrap();
        assert!(refunded.lines.iter().all(|l| l.restocked == l.quantity));
        let custom = OrderStates {
            sold: None,
            cancelled: vec![1],
            refunded: vec![],
        };
        assert!(!shop_order(order(1), &custom, utc).unwrap().counts);
        assert!(shop_order(order(6), &custom, utc).unwrap().counts);
        let paid_only = OrderStates {
            sold: Some(vec![2, 4, 5]),
            ..OrderStates::default()
        };
        let awaiting = shop_order(order(1), &paid_only, utc).unwrap();
        assert!(
            !awaiting.counts,
            "awaiting payment is not sold when Sold lists the paid states"
        );
        assert!(shop_order(order(2), &paid_only, utc).unwrap().counts);
        assert!(!shop_order(order(6), &paid_only, utc).unwrap().counts);
    }

    #[test]
    fn rows_become_lines_and_local_dates_become_utc() {
        let paris = chrono_tz::Europe::Paris;
        let read = shop_order(order(2), &OrderStates::default(), paris).unwrap();
        assert_eq!(read.modified_at.to_rfc3339(), "2026-03-01T11:30:05+00:00");
        let mut summer = order(2);
        summer.date_upd = "2026-07-01 12:30:05".into();
        let summer = shop_order(summer, &OrderStates::default(), paris).unwrap();
        assert_eq!(summer.modified_at.to_rfc3339(), "2026-07-01T10:30:05+00:00");
        assert_eq!(read.lines[0].item.as_str(), "7-13");
        assert_eq!(read.lines[0].total_cents, 2500);
        assert_eq!(read.lines[1].item.as_str(), "8");
        assert_eq!(read.lines[1].total_cents, 0);
        let mut bad = order(2);
        bad.date_upd = "yesterday".into();
        assert!(shop_order(bad, &OrderStates::default(), paris).is_err());
    }
}
