//! What each resource answers: `Shop.json`, `Item.json`, `Item/{id}.json`, `ItemShop.json`,
//! `Sale.json`, `Sale/{id}.json` (reads), and the checks of `POST Sale.json`. Lists walk an
//! index in the asked order (ids, `ItemShop` by `timeStamp`) so that paging through 10 000
//! items stays cheap; other orders are sorted on demand.

use super::data::{Data, Item, NewSale, Sale, Shop, Stock};
use super::filter::{Row, Val};
use super::query::{Key, ListQuery, Schema};
use super::render::Render;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::ops::Bound;

/// The resources with lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Shop,
    Item,
    ItemShop,
    Sale,
}

impl Resource {
    pub fn schema(self) -> &'static Schema {
        const SHOP: Schema = Schema {
            name: "Shop",
            sortable: &["shopID", "timeStamp", "name"],
            relations: &[],
        };
        const ITEM: Schema = Schema {
            name: "Item",
            sortable: &["itemID", "timeStamp", "description"],
            relations: &["ItemShops"],
        };
        const ITEM_SHOP: Schema = Schema {
            name: "ItemShop",
            sortable: &["itemShopID", "timeStamp"],
            relations: &[],
        };
        const SALE: Schema = Schema {
            name: "Sale",
            sortable: &["saleID", "timeStamp", "completeTime"],
            relations: &["SaleLines", "SalePayments"],
        };
        match self {
            Self::Shop => &SHOP,
            Self::Item => &ITEM,
            Self::ItemShop => &ITEM_SHOP,
            Self::Sale => &SALE,
        }
    }

    /// The kind of value of a filterable field, `None` if the resource has no such field.
    pub fn field_kind(self, field: &str) -> Option<Val> {
        match self {
            Self::Shop => Shop::default().field(field),
            Self::Item => Item::default().field(field),
            Self::ItemShop => Stock::default().field(field),
            Self::Sale => Sale::default().field(field),
        }
    }

    pub fn parse(self, pairs: Vec<(String, String)>) -> Result<ListQuery, String> {
        ListQuery::parse(self.schema(), pairs, &|field| self.field_kind(field))
    }
}

type Rows<'a, R> = Box<dyn Iterator<Item = &'a R> + 'a>;

/// A list page (or, with `count=1`, the count), `url` being the list's own address.
pub fn list(
    data: &Data,
    resource: Resource,
    query: &ListQuery,
    url: &str,
    render: Render,
) -> Value {
    let sort = query.sort.as_str();
    match resource {
        Resource::Shop => listing(
            query,
            render,
            url,
            "Shop",
            |d, s| sorted(data.shops.iter(), sort, d, s),
            |r| render.shop(r),
        ),
        Resource::Item => {
            let ordered = |d, s: Option<&Key>| match (query.ids("itemID"), sort) {
                (Some(ids), _) => {
                    sorted(ids.iter().filter_map(|id| data.items.get(id)), sort, d, s)
                }
                (None, "itemID") => by_id(&data.items, d, s),
                _ => sorted(data.items.values(), sort, d, s),
            };
            listing(query, render, url, "Item", ordered, |r| {
                render.item(data, r, &query.relations)
            })
        }
        Resource::ItemShop => {
            let ordered = |d, s: Option<&Key>| match (query.ids("itemID"), sort) {
                (Some(ids), _) => sorted(
                    ids.iter().flat_map(|id| data.stock_rows_of(*id)),
                    sort,
                    d,
                    s,
                ),
                (None, "timeStamp") => stock_by_time(data, d, s),
                (None, _) => by_id(&data.stock, d, s),
            };
            listing(query, render, url, "ItemShop", ordered, |r| render.stock(r))
        }
        Resource::Sale => {
            let ordered = |d, s: Option<&Key>| match sort {
                "saleID" => by_id(&data.sales, d, s),
                _ => sorted(data.sales.values(), sort, d, s),
            };
            listing(query, render, url, "Sale", ordered, |r| {
                render.sale(r, &query.relations)
            })
        }
    }
}

fn listing<'a, R: Row + 'a>(
    query: &ListQuery,
    render: Render,
    url: &str,
    key: &str,
    ordered: impl Fn(bool, Option<&Key>) -> Rows<'a, R>,
    row: impl Fn(&R) -> Value,
) -> Value {
    if query.count {
        let count = ordered(false, None).filter(|r| query.matches(*r)).count();
        return render.finish(json!({ "@attributes": { "count": count } }));
    }
    let window = query.window(ordered);
    let attributes = json!({
        "next": query.link(url, window.next.as_ref(), "after"),
        "previous": query.link(url, window.previous.as_ref(), "before"),
    });
    render.page(
        key,
        attributes,
        window.rows.iter().map(|r| row(r)).collect(),
    )
}

/// Rows sorted on demand, strictly past `start`.
fn sorted<'a, R: Row + 'a>(
    rows: impl Iterator<Item = &'a R>,
    field: &str,
    descending: bool,
    start: Option<&Key>,
) -> Rows<'a, R> {
    let mut keyed: Vec<(Key, &R)> = rows.map(|r| (Key::of(r, field), r)).collect();
    keyed.sort_by(|a, b| a.0.compare(&b.0));
    if descending {
        keyed.reverse();
    }
    let past = |key: &Key| {
        start.is_none_or(|start| {
            let order = key.compare(start);
            if descending {
                order.is_lt()
            } else {
                order.is_gt()
            }
        })
    };
    let rows: Vec<&R> = keyed
        .into_iter()
        .filter(|(k, _)| past(k))
        .map(|(_, r)| r)
        .collect();
    Box::new(rows.into_iter())
}

/// Rows of an id-keyed table, in id order, strictly past `start`.
fn by_id<'a, R>(table: &'a BTreeMap<i64, R>, descending: bool, start: Option<&Key>) -> Rows<'a, R> {
    let id = start.map(|k| k.id);
    if descending {
        let upper = id.map_or(Bound::Unbounded, Bound::Excluded);
        Box::new(table.range((Bound::Unbounded, upper)).rev().map(|(_, r)| r))
    } else {
        let lower = id.map_or(Bound::Unbounded, Bound::Excluded);
        Box::new(table.range((lower, Bound::Unbounded)).map(|(_, r)| r))
    }
}

/// `ItemShop` rows by (`timeStamp`, `itemShopID`), strictly past `start`.
fn stock_by_time<'a>(data: &'a Data, descending: bool, start: Option<&Key>) -> Rows<'a, Stock> {
    let start = start.map(|k| match k.value {
        Val::Time(t) => (t, k.id),
        _ => (0, k.id),
    });
    let rows = move |(_, id): &(i64, i64)| data.stock.get(id);
    if descending {
        let upper = start.map_or(Bound::Unbounded, Bound::Excluded);
        Box::new(
            data.stock_by_time
                .range((Bound::Unbounded, upper))
                .rev()
                .filter_map(rows),
        )
    } else {
        let lower = start.map_or(Bound::Unbounded, Bound::Excluded);
        Box::new(
            data.stock_by_time
                .range((lower, Bound::Unbounded))
                .filter_map(rows),
        )
    }
}

/// `Item/{id}.json` or `Sale/{id}.json`: `{"@attributes":{"count":"1"}, key: record}`.
pub fn one(render: Render, key: &str, record: Value) -> Value {
    render.page(key, json!({ "count": 1 }), vec![record])
}

/// Reads the body of `POST Sale.json` (numbers may be strings, lists single objects).
pub fn read_sale(body: &Value) -> Result<NewSale, String> {
    let int = |value: &Value, name: &str| -> Result<i64, String> {
        lenient_int(value.get(name)).ok_or_else(|| format!("{name} must be an integer"))
    };
    let lines = many(body.get("SaleLines"), "SaleLine")
        .iter()
        .map(|line| {
            let item = int(line, "itemID")?;
            let quantity = int(line, "unitQuantity")?;
            let price = match line.get("unitPrice") {
                None | Some(Value::Null) => None,
                Some(price) => Some(cents(price).ok_or("unitPrice must be an amount")?),
            };
            Ok((item, quantity, price))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let payments = many(body.get("SalePayments"), "SalePayment")
        .iter()
        .map(|payment| {
            let amount = payment
                .get("amount")
                .and_then(cents)
                .ok_or("SalePayment amount must be an amount")?;
            Ok((amount, int(payment, "paymentTypeID")?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(NewSale {
        completed: match body.get("completed") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true" || s == "1",
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        },
        reference_number: text("referenceNumber"),
        reference_number_source: text("referenceNumberSource"),
        shop_id: int(body, "shopID")?,
        register_id: int(body, "registerID")?,
        employee_id: int(body, "employeeID")?,
        customer_id: lenient_int(body.get("customerID")).unwrap_or(0),
        lines,
        payments,
        from_api: true,
    })
}

/// What Lightspeed would refuse with a 422.
pub fn check_sale(data: &Data, sale: &NewSale) -> Result<(), String> {
    if !data.shops.iter().any(|shop| shop.id == sale.shop_id) {
        return Err(format!("Shop {} does not exist", sale.shop_id));
    }
    if sale.register_id <= 0 || sale.employee_id <= 0 {
        return Err("A sale needs a registerID and an employeeID".to_owned());
    }
    for (item, quantity, _) in &sale.lines {
        if !data.items.contains_key(item) {
            return Err(format!("Item {item} does not exist"));
        }
        if *quantity == 0 {
            return Err("A sale line needs a unitQuantity".to_owned());
        }
    }
    if sale.completed {
        if sale.lines.is_empty() {
            return Err("A completed sale needs at least one line".to_owned());
        }
        let paid: i64 = sale.payments.iter().map(|(amount, _)| amount).sum();
        if paid < data.price_cents(&sale.lines) {
            return Err("Sale must be balanced: the payments do not cover the total".to_owned());
        }
    }
    Ok(())
}

/// A list that may be a bare object: `{"SaleLine": {…}}` or `{"SaleLine": [{…}, …]}`.
fn many<'a>(relation: Option<&'a Value>, key: &str) -> Vec<&'a Value> {
    match relation.and_then(|r| r.get(key)) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

fn lenient_int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `12.5`, `"12.50"` → 1250.
fn cents(value: &Value) -> Option<i64> {
    let amount = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    amount.is_finite().then(|| (amount * 100.0).round() as i64)
}
