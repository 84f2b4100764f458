//! The simulated shop's data and PrestaShop's rules over it (shop-apis.md §3.4–3.5): products,
//! combinations, one `stock_availables` row per product and per combination, the product-level
//! row of a product with combinations recomputed as the sum of its combinations' rows after
//! every save, orders that take units when placed and give them back in a cancel or error
//! state, a `date_upd` that moves on every order save, and every row write counted.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// PrestaShop's default cancel and error states: their orders' units are back in stock.
const RESTOCKING_STATES: [i64; 2] = [6, 8];

pub(crate) type Record = Map<String, Value>;

#[derive(Clone, Debug)]
struct Product {
    name: String,
    reference: String,
    ean13: String,
}

#[derive(Clone, Debug)]
struct Combination {
    id_product: i64,
    reference: String,
    ean13: String,
}

/// A `stock_availables` row, every field as PrestaShop stores it.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub id_product: i64,
    pub id_product_attribute: i64,
    pub id_shop: i64,
    pub id_shop_group: i64,
    pub quantity: i64,
    pub depends_on_stock: i64,
    pub out_of_stock: i64,
    pub location: String,
}

#[derive(Clone, Debug)]
struct OrderRow {
    id: i64,
    product_id: i64,
    product_attribute_id: i64,
    quantity: i64,
    reference: String,
    unit_price: String,
}

#[derive(Clone, Debug)]
struct Order {
    current_state: i64,
    date_add: DateTime<Utc>,
    date_upd: DateTime<Utc>,
    rows: Vec<OrderRow>,
}

#[derive(Debug)]
pub(crate) struct Shop {
    pub shop_id: i64,
    offset: FixedOffset,
    clock: DateTime<Utc>,
    /// The last id of each table (PrestaShop's tables count apart).
    last_ids: BTreeMap<&'static str, i64>,
    products: BTreeMap<i64, Product>,
    combinations: BTreeMap<i64, Combination>,
    pub rows: BTreeMap<i64, Row>,
    orders: BTreeMap<i64, Order>,
    /// Writes per row id, each PUT and PATCH counted.
    pub writes: BTreeMap<i64, u64>,
}

impl Shop {
    /// Every sellable item's `item_ecommerce_id`: products without combinations, then each
    /// product's combinations, by id.
    pub fn item_ids(&self) -> Vec<String> {
        let with_combinations: std::collections::BTreeSet<i64> =
            self.combinations.values().map(|c| c.id_product).collect();
        let mut ids: Vec<(i64, i64)> = self
            .products
            .keys()
            .filter(|id| !with_combinations.contains(id))
            .map(|&id| (id, 0))
            .chain(self.combinations.iter().map(|(&id, c)| (c.id_product, id)))
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|(product, combination)| {
                crate::ids::item_id(product, (combination > 0).then_some(combination))
            })
            .collect()
    }

    /// The merchant sets a row's quantity in the back office (not a Webservice write).
    pub fn set_stock(&mut self, product: i64, attribute: i64, quantity: i64) {
        if let Some(id) = self.row_id(product, attribute) {
            self.rows.get_mut(&id).expect("found").quantity = quantity;
            self.tick();
        }
    }

    pub fn new(shop_id: i64, offset: FixedOffset, clock: DateTime<Utc>) -> Self {
        Self {
            shop_id,
            offset,
            clock,
            last_ids: BTreeMap::new(),
            products: BTreeMap::new(),
            combinations: BTreeMap::new(),
            rows: BTreeMap::new(),
            orders: BTreeMap::new(),
            writes: BTreeMap::new(),
        }
    }

    fn id(&mut self, table: &'static str) -> i64 {
        let last = self.last_ids.entry(table).or_default();
        *last += 1;
        *last
    }

    /// The time of a save: the clock moves a second.
    fn tick(&mut self) -> DateTime<Utc> {
        self.clock += Duration::seconds(1);
        self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock
    }

    pub fn advance(&mut self, by: Duration) {
        self.clock += by;
    }

    fn add_row(&mut self, product: i64, attribute: i64, quantity: i64) -> i64 {
        let id = self.id("stock_available");
        let row = Row {
            id_product: product,
            id_product_attribute: attribute,
            id_shop: self.shop_id,
            id_shop_group: 0,
            quantity,
            depends_on_stock: 0,
            out_of_stock: 2,
            location: format!("Aisle {id}"),
        };
        self.rows.insert(id, row);
        id
    }

    pub fn add_product(&mut self, name: &str, reference: &str, ean13: &str, quantity: i64) -> i64 {
        let id = self.id("product");
        let product = Product {
            name: name.into(),
            reference: reference.into(),
            ean13: ean13.into(),
        };
        self.products.insert(id, product);
        self.add_row(id, 0, quantity);
        id
    }

    pub fn add_combinations(
        &mut self,
        name: &str,
        variants: &[(&str, &str, i64)],
    ) -> (i64, Vec<i64>) {
        let product = self.add_product(name, "", "", 0);
        let ids = variants
            .iter()
            .map(|&(reference, ean13, quantity)| {
                let id = self.id("product_attribute");
                let combination = Combination {
                    id_product: product,
                    reference: reference.into(),
                    ean13: ean13.into(),
                };
                self.combinations.insert(id, combination);
                self.add_row(product, id, quantity);
                id
            })
            .collect();
        self.recompute(product);
        (product, ids)
    }

    pub fn row_id(&self, product: i64, attribute: i64) -> Option<i64> {
        self.rows
            .iter()
            .find(|(_, row)| row.id_product == product && row.id_product_attribute == attribute)
            .map(|(&id, _)| id)
    }

    /// The product-level row of a product with combinations is the sum of theirs (postSave).
    pub fn recompute(&mut self, product: i64) {
        let combination_rows: Vec<i64> = self
            .rows
            .values()
            .filter(|row| row.id_product == product && row.id_product_attribute != 0)
            .map(|row| row.quantity)
            .collect();
        if combination_rows.is_empty() {
            return;
        }
        let sum = combination_rows.iter().sum();
        if let Some(id) = self.row_id(product, 0) {
            self.rows.get_mut(&id).expect("found").quantity = sum;
        }
    }

    /// Moves `delta` units on an item's row, then its product's sum.
    fn move_stock(&mut self, product: i64, attribute: i64, delta: i64) {
        if let Some(id) = self.row_id(product, attribute) {
            self.rows.get_mut(&id).expect("found").quantity += delta;
        }
        self.recompute(product);
    }

    pub fn place_order(&mut self, lines: &[(i64, i64, i64)], state: i64) -> i64 {
        let id = self.id("orders");
        let at = self.tick();
        let rows = lines
            .iter()
            .map(|&(product, attribute, quantity)| {
                let reference = if attribute == 0 {
                    self.products.get(&product).map(|p| p.reference.clone())
                } else {
                    self.combinations
                        .get(&attribute)
                        .map(|c| c.reference.clone())
                };
                OrderRow {
                    id: self.id("order_detail"),
                    product_id: product,
                    product_attribute_id: attribute,
                    quantity,
                    reference: reference.unwrap_or_default(),
                    unit_price: "12.500000".into(),
                }
            })
            .collect::<Vec<_>>();
        if !RESTOCKING_STATES.contains(&state) {
            for row in &rows {
                self.move_stock(row.product_id, row.product_attribute_id, -row.quantity);
            }
        }
        self.orders.insert(
            id,
            Order {
                current_state: state,
                date_add: at,
                date_upd: at,
                rows,
            },
        );
        id
    }

    /// The ids of an order's rows, in order (empty for an unknown order).
    pub fn order_rows(&self, id: i64) -> Vec<i64> {
        self.orders
            .get(&id)
            .map(|order| order.rows.iter().map(|row| row.id).collect())
            .unwrap_or_default()
    }

    /// Moves an order to `state`, its units back to stock on entering a cancel/error state
    /// and taken again on leaving one. `false` for an unknown order.
    pub fn set_order_state(&mut self, id: i64, state: i64) -> bool {
        let at = self.tick();
        let Some(order) = self.orders.get_mut(&id) else {
            return false;
        };
        let was = RESTOCKING_STATES.contains(&order.current_state);
        let is = RESTOCKING_STATES.contains(&state);
        order.current_state = state;
        order.date_upd = at;
        let rows = order.rows.clone();
        let sign = match (was, is) {
            (false, true) => 1,
            (true, false) => -1,
            _ => 0,
        };
        for row in rows {
            self.move_stock(
                row.product_id,
                row.product_attribute_id,
                sign * row.quantity,
            );
        }
        true
    }

    fn date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The records of a resource, as the Webservice shows them (values as strings); `None`
    /// for a resource the simulator does not have.
    pub fn records(&self, resource: &str) -> Option<Vec<Record>> {
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => unreachable!("records are objects"),
        };
        let records = match resource {
            "products" => self
                .products
                .iter()
                .map(|(id, p)| object(json!({
                    "id": id.to_string(), "name": [{"id": "1", "value": p.name}], "reference": p.reference,
                    "ean13": p.ean13, "quantity": "0", "active": "1",
                })))
                .collect(),
            "combinations" => self
                .combinations
                .iter()
                .map(|(id, c)| object(json!({
                    "id": id.to_string(), "id_product": c.id_product.to_string(),
                    "reference": c.reference, "ean13": c.ean13, "quantity": "0",
                })))
                .collect(),
            "stock_availables" => self.rows.iter().map(|(&id, row)| row_record(id, row)).collect(),
            "orders" => self
                .orders
                .iter()
                .map(|(id, o)| {
                    let rows: Vec<Value> = o.rows.iter().map(|r| json!({
                        "id": r.id.to_string(), "product_id": r.product_id.to_string(),
                        "product_attribute_id": r.product_attribute_id.to_string(),
                        "product_quantity": r.quantity.to_string(),
                        "product_reference": r.reference, "unit_price_tax_incl": r.unit_price,
                    })).collect();
                    object(json!({
                        "id": id.to_string(), "reference": format!("REF{id:06}"),
                        "current_state": o.current_state.to_string(),
                        "valid": if RESTOCKING_STATES.contains(&o.current_state) { "0" } else { "1" },
                        "id_shop": self.shop_id.to_string(),
                        "date_add": self.date(o.date_add), "date_upd": self.date(o.date_upd),
                        "associations": {"order_rows": rows},
                    }))
                })
                .collect(),
            _ => return None,
        };
        Some(records)
    }
}

pub(crate) fn row_record(id: i64, row: &Row) -> Record {
    match json!({
        "id": id.to_string(),
        "id_product": row.id_product.to_string(),
        "id_product_attribute": row.id_product_attribute.to_string(),
        "id_shop": row.id_shop.to_string(),
        "id_shop_group": row.id_shop_group.to_string(),
        "quantity": row.quantity.to_string(),
        "depends_on_stock": row.depends_on_stock.to_string(),
        "out_of_stock": row.out_of_stock.to_string(),
        "location": row.location,
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Why a write of a row is refused: (HTTP status, Webservice code, message).
pub(crate) type Refusal = (u16, i64, String);

/// How a write treats the fields its body leaves out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// PUT: the whole row replaced, absent optional fields reset, absent required ones refused.
    Replace,
    /// PATCH (8.0+): absent fields keep their values.
    Merge,
}

impl Shop {
    /// A PUT or PATCH of row `id` with these fields, as PrestaShop does it: the body's id
    /// checked, the fields validated (a required one sent empty, or left out of a PUT, is
    /// refused), then the product's sum recomputed.
    pub fn write_row(
        &mut self,
        id: i64,
        fields: &BTreeMap<String, String>,
        write: Write,
    ) -> Result<Record, Refusal> {
        let Some(body_id) = fields.get("id") else {
            return Err((400, 90, "id is required when modifying a resource".into()));
        };
        if body_id.trim() != id.to_string() {
            return Err((400, 89, "id is invalid".into()));
        }
        let Some(current) = self.rows.get(&id).cloned() else {
            return Err((404, 92, format!("Invalid ID {id}")));
        };
        let int = |name: &str, required: bool, kept: i64| -> Result<i64, Refusal> {
            match fields.get(name).map(|v| v.trim()) {
                None if write == Write::Merge => Ok(kept),
                None | Some("") if required => {
                    Err((400, 41, format!("parameter \"{name}\" required")))
                }
                None | Some("") => Ok(0),
                Some(v) => v.parse().map_err(|_| {
                    (
                        400,
                        85,
                        format!("Validation error: \"{name}\" is not an integer"),
                    )
                }),
            }
        };
        let location = match (fields.get("location"), write) {
            (Some(location), _) => location.clone(),
            (None, Write::Merge) => current.location.clone(),
            (None, Write::Replace) => String::new(),
        };
        let row = Row {
            id_product: int("id_product", true, current.id_product)?,
            id_product_attribute: int("id_product_attribute", true, current.id_product_attribute)?,
            quantity: int("quantity", true, current.quantity)?,
            depends_on_stock: int("depends_on_stock", true, current.depends_on_stock)?,
            out_of_stock: int("out_of_stock", true, current.out_of_stock)?,
            id_shop: int("id_shop", false, current.id_shop)?,
            id_shop_group: int("id_shop_group", false, current.id_shop_group)?,
            location,
        };
        let product = row.id_product;
        self.rows.insert(id, row);
        *self.writes.entry(id).or_default() += 1;
        self.recompute(product);
        Ok(row_record(id, &self.rows[&id]))
    }
}
