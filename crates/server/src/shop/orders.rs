//! Orders in: each line of a shop order becomes the web sales and returns that bring it to what
//! it owes the POS now (`line_target`), each keyed by its shop, order, line and move number, so
//! that a line seen again — by the poll, a webhook, another process — moves nothing twice.
//! `poll` reads the orders modified since the stored watermark (less an overlap) and ingests
//! them; `ingest` is also what `POST /webhooks/shop` calls with the one order it names. A line
//! first seen while no link fed its item is recorded unlinked and never moves a POS.

use super::ShopHandle;
use crate::outbox::OutboxWake;
use chrono::{DateTime, Utc};
use stocksync_domain::sale::SaleRequest;
use stocksync_domain::shop::{ShopOrder, ShopOrderLine, line_move, line_move_key, line_target};
use stocksync_domain::{EcommerceId, ShopKind};
use stocksync_store::{LineSeen, SaleOutcome, Store, StoreError};

/// How far back each poll reads before the watermark: orders modified within this much of the
/// newest one read are read again (the shop's clock and its commits are not ordered; shop-apis.md
/// §4.3 asks for at least 2 minutes, more for WooCommerce's queued webhooks). The same on every
/// platform: a line read again moves only by what it owes beyond what it took.
pub const OVERLAP: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Orders placed this long before stocksync was connected still count as placed after: the
/// shop's clock is not ours, and WooCommerce's and PrestaShop's dates are whole seconds.
const CONNECTION_MARGIN: chrono::Duration = chrono::Duration::minutes(1);

/// What reading orders did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Web sales and returns accepted (or found accepted before).
    pub moves: usize,
    /// Items whose shop quantity the orders moved on the shop's own side.
    pub items: Vec<EcommerceId>,
}

/// The part of a line's paid total that `units` of its `quantity` stand for, in cents (never
/// negative).
pub fn line_balance(total_cents: i64, quantity: i64, units: i64) -> i64 {
    if quantity <= 0 {
        return 0;
    }
    let share = i128::from(total_cents.max(0)) * i128::from(units.abs()) / i128::from(quantity);
    i64::try_from(share).unwrap_or(i64::MAX)
}

/// Ingests `order`: every line brought to what it owes the POS (none for an order placed before
/// stocksync was connected to the shop, `connected_at` of `Store::shop_read_state`). The POS's outbox is woken for
/// each sale; the items whose lines moved have their shop quantity forgotten (the shop moved
/// its own stock with the order: it is read before the next write, never overwritten blind).
pub async fn ingest(
    store: &Store,
    shop: &ShopHandle,
    connected_at: Option<DateTime<Utc>>,
    outbox: &OutboxWake,
    order: &ShopOrder,
) -> Result<Ingested, StoreError> {
    let mut ingested = Ingested::default();
    if connected_at.is_some_and(|at| order.created_at < at - CONNECTION_MARGIN) {
        // Placed before stocksync was connected: not its to send to the POS. Its change may
        // still have moved the shop's own stock: read again before the next write, once per
        // change of the order (every poll's overlap reads it again).
        let version = format!("{}@{}", order.id, order.modified_at.timestamp_micros());
        let seen = |version: &str| shop.old_orders.lock().expect("not poisoned").seen(version);
        if !seen(&version) {
            let items: Vec<EcommerceId> = order.lines.iter().map(|l| l.item.clone()).collect();
            store.forget_shop_quantities(&items).await?;
            shop.old_orders
                .lock()
                .expect("not poisoned")
                .handled(&version);
        }
        return Ok(ingested);
    }
    let kind = shop.config.kind;
    for line in &order.lines {
        if ingest_line(store, kind, outbox, order, line).await? {
            ingested.moves += 1;
            if !ingested.items.contains(&line.item) {
                ingested.items.push(line.item.clone());
            }
        }
    }
    if !ingested.items.is_empty() {
        store.forget_shop_quantities(&ingested.items).await?;
    }
    Ok(ingested)
}

/// Brings one line to what it owes; `true` when it moved stock (a sale or return accepted).
async fn ingest_line(
    store: &Store,
    kind: ShopKind,
    outbox: &OutboxWake,
    order: &ShopOrder,
    line: &ShopOrderLine,
) -> Result<bool, StoreError> {
    let key_of = |n| line_move_key(kind, &order.id, &line.id, n);
    let target = line_target(order, line);
    let seen = store.shop_line(&order.id, &line.id, key_of).await?;
    if seen.unlinked {
        // Its sale never reached a POS: neither may its cancellation or refund.
        return Ok(false);
    }
    let Some(delta) = line_move(target, seen.applied) else {
        return Ok(false);
    };
    let request = SaleRequest {
        ecommerce_id: line.item.clone(),
        delta,
        balance_cents: line_balance(line.total_cents, line.quantity, delta),
        idempotency_key: Some(key_of(seen.moves)),
    };
    let (now, moved) = match store.accept_shop_sale(&request, &order.id).await? {
        SaleOutcome::Accepted(sale) | SaleOutcome::Oversold(sale) | SaleOutcome::Replayed(sale) => {
            tracing::info!(order = %order.id, line = %line.id, item = %line.item, delta, sale = %sale.id, "a shop order line moved stock");
            outbox.wake(&sale.account_id);
            let now = LineSeen {
                applied: target,
                moves: seen.moves + 1,
                unlinked: false,
            };
            (now, true)
        }
        SaleOutcome::UnknownItem => {
            if seen == LineSeen::default() {
                store
                    .shop_event(
                        "unlinked",
                        line.item.as_str(),
                        Some(&order.id),
                        delta,
                        format!(
                            "order {} sold {delta} of shop item {}, which no POS product is linked to",
                            order.id, line.item
                        ),
                    )
                    .await?;
            }
            // A line that never moved is unlinked for good (its sale never reached a POS).
            let now = LineSeen {
                applied: target,
                moves: seen.moves,
                unlinked: seen.moves == 0,
            };
            (now, false)
        }
        SaleOutcome::KeyReused(sale) => {
            tracing::error!(order = %order.id, line = %line.id, key = ?request.idempotency_key, sale = %sale.id, "a shop line's key is taken by another sale; the line is left for the next read");
            return Ok(false);
        }
        SaleOutcome::NotEnoughStock { .. } => {
            // accept_shop_sale takes what the stock does not cover; not reached.
            tracing::error!(order = %order.id, line = %line.id, "a shop line was refused for stock; left for the next read");
            return Ok(false);
        }
    };
    if !store
        .record_shop_line(&order.id, &line.id, line.item.as_str(), &order.status, now)
        .await?
    {
        tracing::info!(order = %order.id, line = %line.id, "another process recorded a later move of this line first");
    }
    Ok(moved)
}

/// What one poll read.
#[derive(Debug, Default)]
pub struct Polled {
    pub orders: usize,
    pub ingested: Ingested,
}

/// The watermark after reading `orders`: the newest modification read, never older than
/// `before`.
pub fn next_watermark(
    before: Option<DateTime<Utc>>,
    orders: &[ShopOrder],
) -> Option<DateTime<Utc>> {
    orders.iter().map(|o| o.modified_at).chain(before).max()
}

/// Where the next poll starts: the watermark less the overlap (every order when there is none).
pub fn poll_since(watermark: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    watermark.map(|w| w - chrono::Duration::from_std(OVERLAP).unwrap_or_default())
}

/// Reads the orders modified since the watermark (one call when nothing is new) and ingests
/// them; records the poll (its new watermark, or its error). A shop that cannot be read is
/// `Ok` with nothing read: the next poll tries again from the same watermark.
pub async fn poll(
    store: &Store,
    shop: &ShopHandle,
    outbox: &OutboxWake,
) -> Result<Polled, StoreError> {
    let name = shop.state_name();
    let state = store.shop_read_state(name).await?;
    let orders = match shop
        .connector
        .orders_since(poll_since(state.watermark))
        .await
    {
        Ok(orders) => orders,
        Err(err) => {
            tracing::warn!(error = %err, "the shop's orders could not be read; the next poll tries again");
            store
                .shop_polled(name, None, false, Some(&err.to_string()))
                .await?;
            return Ok(Polled::default());
        }
    };
    let mut polled = Polled {
        orders: orders.len(),
        ..Polled::default()
    };
    for order in &orders {
        let ingested = ingest(store, shop, state.connected_at, outbox, order).await?;
        polled.ingested.moves += ingested.moves;
        polled.ingested.items.extend(ingested.items);
    }
    store
        .shop_polled(
            name,
            next_watermark(state.watermark, &orders),
            polled.ingested.moves > 0,
            None,
        )
        .await?;
    Ok(polled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_carries_its_share_of_the_line_total() {
        assert_eq!(line_balance(3000, 3, 3), 3000);
        assert_eq!(
            line_balance(3000, 3, -1),
            1000,
            "a return: its units' share"
        );
        assert_eq!(line_balance(1000, 3, 1), 333);
        assert_eq!(line_balance(1000, 0, 1), 0);
        assert_eq!(line_balance(-50, 1, 1), 0, "never negative");
    }

    fn order_at(minute: u32) -> ShopOrder {
        ShopOrder {
            id: minute.to_string(),
            counts: true,
            status: "processing".into(),
            created_at: format!("2025-01-01T10:{minute:02}:00Z").parse().unwrap(),
            modified_at: format!("2025-01-01T10:{minute:02}:00Z").parse().unwrap(),
            lines: Vec::new(),
        }
    }

    #[test]
    fn the_watermark_is_the_newest_order_read_and_never_goes_back() {
        let before = Some("2025-01-01T10:30:00Z".parse().unwrap());
        assert_eq!(next_watermark(before, &[]), before);
        assert_eq!(
            next_watermark(before, &[order_at(10), order_at(40), order_at(20)]),
            Some(order_at(40).modified_at)
        );
        assert_eq!(next_watermark(before, &[order_at(10)]), before);
        assert_eq!(next_watermark(None, &[]), None);
    }

    #[test]
    fn a_poll_reads_from_the_watermark_less_the_overlap() {
        assert_eq!(poll_since(None), None, "the first poll reads every order");
        assert_eq!(
            poll_since(Some(order_at(30).modified_at)),
            Some(order_at(25).modified_at)
        );
    }
}
