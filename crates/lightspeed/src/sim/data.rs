//! The simulated account's records: shops, items, stock per (item, shop) with the `shopID=0`
//! summary row kept equal to the sum of the real shops, and sales. Indexed for 10 000 items:
//! by id, by (item, shop), and stock rows by `timeStamp`.
//!
//! Plain data and stock rules only; the HTTP shape lives in `api` and `render`.

use super::filter::{Row, Val};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use stocksync_pos::simkit::SimProduct;

#[derive(Clone, Debug, Default)]
pub struct Shop {
    pub id: i64,
    pub name: String,
    pub time_stamp: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub struct Item {
    pub id: i64,
    pub description: String,
    pub custom_sku: String,
    pub system_sku: String,
    pub upc: String,
    pub ean: String,
    pub price_cents: i64,
    pub create_time: DateTime<Utc>,
    /// Not touched by stock changes (as on Lightspeed).
    pub time_stamp: DateTime<Utc>,
}

/// `ItemShop`: one item's stock in one shop, or (shop 0) in all of them.
#[derive(Clone, Debug, Default)]
pub struct Stock {
    pub id: i64,
    pub item_id: i64,
    pub shop_id: i64,
    pub qoh: i64,
    pub time_stamp: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub struct Sale {
    pub id: i64,
    pub completed: bool,
    pub reference_number: String,
    pub reference_number_source: String,
    pub shop_id: i64,
    pub register_id: i64,
    pub employee_id: i64,
    pub customer_id: i64,
    pub lines: Vec<SaleLine>,
    pub payments: Vec<Payment>,
    pub create_time: DateTime<Utc>,
    pub complete_time: Option<DateTime<Utc>>,
    pub time_stamp: DateTime<Utc>,
    /// Made through the API (by stocksync), not at the till.
    pub from_api: bool,
}

#[derive(Clone, Debug)]
pub struct SaleLine {
    pub id: i64,
    pub item_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub id: i64,
    pub amount_cents: i64,
    pub payment_type_id: i64,
}

impl Sale {
    pub fn total_cents(&self) -> i64 {
        self.lines
            .iter()
            .map(|line| line.quantity * line.unit_price_cents)
            .sum()
    }

    pub fn paid_cents(&self) -> i64 {
        self.payments
            .iter()
            .map(|payment| payment.amount_cents)
            .sum()
    }
}

/// A sale to make: who, where, what, and how it is paid.
#[derive(Debug)]
pub struct NewSale {
    pub completed: bool,
    pub reference_number: String,
    pub reference_number_source: String,
    pub shop_id: i64,
    pub register_id: i64,
    pub employee_id: i64,
    pub customer_id: i64,
    /// `(itemID, quantity, unit price in cents, or the item's price)`.
    pub lines: Vec<(i64, i64, Option<i64>)>,
    /// `(amount in cents, paymentTypeID)`.
    pub payments: Vec<(i64, i64)>,
    pub from_api: bool,
}

#[derive(Debug, Default)]
pub struct Data {
    pub shops: Vec<Shop>,
    pub items: BTreeMap<i64, Item>,
    pub stock: BTreeMap<i64, Stock>,
    /// `(itemID, shopID)` → `itemShopID`.
    stock_of: HashMap<(i64, i64), i64>,
    /// `(timeStamp in seconds, itemShopID)`: the order of `ItemShop.json?sort=timeStamp`.
    pub stock_by_time: BTreeSet<(i64, i64)>,
    pub sales: BTreeMap<i64, Sale>,
    next_stock_id: i64,
    next_line_id: i64,
}

/// Lightspeed's clock: UTC, whole seconds.
pub fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::seconds(1))
        .unwrap_or_else(|_| Utc::now())
}

impl Data {
    /// `products` as items 1, 2, …, their stock split over `shops` shops. Every seventh item
    /// has no row at all in the last shop (rows are created lazily on Lightspeed). Items were
    /// created a day ago, one second apart, so that stock reads have distinct timestamps.
    pub fn new(products: &[SimProduct], shops: usize) -> Self {
        let shops = shops.max(1);
        let start = now() - Duration::days(1) - Duration::seconds(products.len() as i64);
        let mut data = Data {
            shops: (1..=shops as i64)
                .map(|id| Shop {
                    id,
                    name: format!("Shop {id}"),
                    time_stamp: start,
                })
                .collect(),
            next_stock_id: 1,
            next_line_id: 1,
            ..Data::default()
        };
        for (i, product) in products.iter().enumerate() {
            let id = i as i64 + 1;
            let created = start + Duration::seconds(i as i64);
            data.items.insert(
                id,
                Item {
                    id,
                    description: product.name.clone(),
                    custom_sku: product.sku.clone(),
                    system_sku: format!("21{:010}", 100_000 + id),
                    upc: format!("0{:011}", 4_000_000 + id),
                    ean: String::new(),
                    price_cents: 500 + (id % 50) * 100,
                    create_time: created,
                    time_stamp: created,
                },
            );
            let present: Vec<i64> = (1..=shops as i64)
                .filter(|shop| shops == 1 || i % 7 != 3 || *shop != shops as i64)
                .collect();
            let count = present.len() as i64;
            for (k, shop) in present.iter().enumerate() {
                let share =
                    product.quantity / count + i64::from((k as i64) < product.quantity % count);
                data.set_row(id, *shop, share, created);
            }
            data.set_row(id, 0, product.quantity, created);
        }
        data
    }

    pub fn stock_row(&self, item_id: i64, shop_id: i64) -> Option<&Stock> {
        self.stock_of
            .get(&(item_id, shop_id))
            .and_then(|id| self.stock.get(id))
    }

    /// The rows of some items (for `itemID=` and `itemID=IN,[…]` without scanning the table).
    pub fn stock_rows_of(&self, item_id: i64) -> impl Iterator<Item = &Stock> + '_ {
        std::iter::once(0)
            .chain(self.shops.iter().map(|shop| shop.id))
            .filter_map(move |shop| self.stock_row(item_id, shop))
    }

    /// Units of `item_id` in `shop_id`, or in every real shop for 0 (a missing row is 0).
    pub fn quantity(&self, item_id: i64, shop_id: i64) -> i64 {
        if shop_id != 0 {
            return self.stock_row(item_id, shop_id).map_or(0, |row| row.qoh);
        }
        self.shops
            .iter()
            .filter_map(|shop| self.stock_row(item_id, shop.id))
            .map(|row| row.qoh)
            .sum()
    }

    /// Moves the stock of one item in one shop by `delta`, and the summary row with it.
    pub fn adjust(&mut self, item_id: i64, shop_id: i64, delta: i64, at: DateTime<Utc>) {
        for shop in [shop_id, 0] {
            let qoh = self.stock_row(item_id, shop).map_or(0, |row| row.qoh);
            self.set_row(item_id, shop, qoh + delta, at);
        }
    }

    fn set_row(&mut self, item_id: i64, shop_id: i64, qoh: i64, at: DateTime<Utc>) {
        let id = match self.stock_of.get(&(item_id, shop_id)) {
            Some(id) => *id,
            None => {
                let id = self.next_stock_id;
                self.next_stock_id += 1;
                self.stock_of.insert((item_id, shop_id), id);
                id
            }
        };
        if let Some(old) = self.stock.get(&id) {
            self.stock_by_time.remove(&(old.time_stamp.timestamp(), id));
        }
        self.stock_by_time.insert((at.timestamp(), id));
        self.stock.insert(
            id,
            Stock {
                id,
                item_id,
                shop_id,
                qoh,
                time_stamp: at,
            },
        );
    }

    /// Stamps every stock row (summary rows too) within `seconds` seconds from `start`, in
    /// `itemShopID` order, `qoh` unchanged: what a bulk import or a stock count applied at once
    /// leaves behind.
    pub fn stamp_all_stock(&mut self, start: DateTime<Utc>, seconds: i64) {
        let rows = self.stock.len().max(1) as i64;
        for (i, row) in self.stock.values_mut().enumerate() {
            let at = start + Duration::seconds(i as i64 * seconds.max(1) / rows);
            self.stock_by_time
                .remove(&(row.time_stamp.timestamp(), row.id));
            self.stock_by_time.insert((at.timestamp(), row.id));
            row.time_stamp = at;
        }
    }

    /// Records a sale; a completed one takes its lines out of stock. The caller has checked it.
    pub fn record_sale(&mut self, sale: NewSale) -> &Sale {
        let at = now();
        let id = self.sales.keys().next_back().map_or(1, |last| last + 1);
        let mut lines = Vec::new();
        for (item_id, quantity, price) in sale.lines {
            let unit_price_cents = price
                .unwrap_or_else(|| self.items.get(&item_id).map_or(0, |item| item.price_cents));
            lines.push(SaleLine {
                id: self.next_line_id,
                item_id,
                quantity,
                unit_price_cents,
            });
            self.next_line_id += 1;
            if sale.completed {
                self.adjust(item_id, sale.shop_id, -quantity, at);
            }
        }
        let payments = sale
            .payments
            .into_iter()
            .enumerate()
            .map(|(i, (amount_cents, payment_type_id))| Payment {
                id: id * 100 + i as i64,
                amount_cents,
                payment_type_id,
            })
            .collect();
        self.sales.entry(id).or_insert(Sale {
            id,
            completed: sale.completed,
            reference_number: sale.reference_number,
            reference_number_source: sale.reference_number_source,
            shop_id: sale.shop_id,
            register_id: sale.register_id,
            employee_id: sale.employee_id,
            customer_id: sale.customer_id,
            lines,
            payments,
            create_time: at,
            complete_time: sale.completed.then_some(at),
            time_stamp: at,
            from_api: sale.from_api,
        })
    }

    /// What a sale's lines would cost, at their prices or the items' own.
    pub fn price_cents(&self, lines: &[(i64, i64, Option<i64>)]) -> i64 {
        lines
            .iter()
            .map(|(item, quantity, price)| {
                quantity
                    * price
                        .unwrap_or_else(|| self.items.get(item).map_or(0, |item| item.price_cents))
            })
            .sum()
    }
}

impl Row for Shop {
    fn id(&self) -> i64 {
        self.id
    }
    fn field(&self, name: &str) -> Option<Val> {
        Some(match name {
            "shopID" => Val::Int(self.id),
            "name" => Val::Text(self.name.clone()),
            "timeStamp" => Val::Time(self.time_stamp.timestamp()),
            "archived" => Val::Bool(false),
            _ => return None,
        })
    }
}

impl Row for Item {
    fn id(&self) -> i64 {
        self.id
    }
    fn field(&self, name: &str) -> Option<Val> {
        Some(match name {
            "itemID" => Val::Int(self.id),
            "description" => Val::Text(self.description.clone()),
            "customSku" => Val::Text(self.custom_sku.clone()),
            "systemSku" => Val::Text(self.system_sku.clone()),
            "manufacturerSku" => Val::Text(String::new()),
            "upc" => Val::Text(self.upc.clone()),
            "ean" => Val::Text(self.ean.clone()),
            "timeStamp" => Val::Time(self.time_stamp.timestamp()),
            "createTime" => Val::Time(self.create_time.timestamp()),
            "archived" => Val::Bool(false),
            _ => return None,
        })
    }
}

impl Row for Stock {
    fn id(&self) -> i64 {
        self.id
    }
    fn field(&self, name: &str) -> Option<Val> {
        Some(match name {
            "itemShopID" => Val::Int(self.id),
            "itemID" => Val::Int(self.item_id),
            "shopID" => Val::Int(self.shop_id),
            "qoh" => Val::Int(self.qoh),
            "timeStamp" => Val::Time(self.time_stamp.timestamp()),
            _ => return None,
        })
    }
}

impl Row for Sale {
    fn id(&self) -> i64 {
        self.id
    }
    fn field(&self, name: &str) -> Option<Val> {
        Some(match name {
            "saleID" => Val::Int(self.id),
            "completed" => Val::Bool(self.completed),
            "referenceNumber" => Val::Text(self.reference_number.clone()),
            "referenceNumberSource" => Val::Text(self.reference_number_source.clone()),
            "shopID" => Val::Int(self.shop_id),
            "customerID" => Val::Int(self.customer_id),
            "timeStamp" => Val::Time(self.time_stamp.timestamp()),
            "completeTime" => Val::Time(self.complete_time.map_or(0, |t| t.timestamp())),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stocksync_pos::simkit::catalog;

    #[test]
    fn the_summary_row_stays_the_sum_of_the_shops() {
        let products = catalog(30, 5);
        let mut data = Data::new(&products, 2);
        for (i, product) in products.iter().enumerate() {
            let id = i as i64 + 1;
            assert_eq!(data.quantity(id, 0), product.quantity);
            assert_eq!(data.stock_row(id, 0).unwrap().qoh, product.quantity);
        }
        // Item 4 has no row in shop 2; selling there creates it.
        assert!(data.stock_row(4, 2).is_none());
        data.adjust(4, 2, -3, now());
        assert_eq!(data.stock_row(4, 2).unwrap().qoh, -3);
        assert_eq!(data.stock_row(4, 0).unwrap().qoh, data.quantity(4, 0));
        assert_eq!(data.stock_by_time.len(), data.stock.len());
    }
}
