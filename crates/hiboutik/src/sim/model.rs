//! The simulated shop: products (with or without sizes), stock per product × size × warehouse,
//! and sales, with the rules Hiboutik applies to them. Plain data, no HTTP: `routes.rs` speaks
//! the API over it, `json.rs` renders it.

use super::HiboutikSimOptions;
use crate::ItemRef;
use chrono::Utc;
use std::collections::HashMap;

/// The one store of the simulated account; its stock is warehouse [`MAIN_WAREHOUSE`].
pub const STORE_ID: i64 = 1;
/// The warehouse of store 1 (Hiboutik's plugins assume store N ↔ warehouse N).
pub const MAIN_WAREHOUSE: i64 = 1;
/// A second warehouse with its own stock, when asked for: a connector must not count it.
pub const OTHER_WAREHOUSE: i64 = 2;
/// The customer web sales are made for, in [`super::HiboutikSim::account_settings`].
pub const WEB_CUSTOMER: i64 = 1;
/// Stock of the other warehouse: this much more than the main one, so a mix-up shows.
const OTHER_WAREHOUSE_EXTRA: i64 = 1_000;

#[derive(Clone, Debug)]
pub struct Product {
    pub id: i64,
    pub model: String,
    pub barcode: String,
    pub price_cents: i64,
    /// A package (bundle): `add_product` refuses it.
    pub package: bool,
    pub sizes: Vec<Size>,
}

#[derive(Clone, Debug)]
pub struct Size {
    pub id: i64,
    pub name: String,
    pub barcode: String,
}

/// A sale, as the simulator keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    pub id: i64,
    pub store_id: i64,
    pub customer_id: i64,
    pub created_at: String,
    /// `None` while open.
    pub completed_at: Option<String>,
    pub ext_ref: String,
    pub lines: Vec<Line>,
    /// Made through the API (a web sale), rather than at the till.
    pub via_api: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: i64,
    pub item: ItemRef,
    pub quantity: i64,
    pub price_cents: i64,
}

/// Why a write is refused: Hiboutik's 422 with per-field `details`.
#[derive(Debug)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse<T>(field: &'static str, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        field,
        message: message.into(),
    })
}

/// Everything the simulated account holds.
pub struct Shop {
    /// Product `id` is at index `id - 1`.
    pub products: Vec<Product>,
    /// Every sellable item, in catalog order: the rows of a warehouse read.
    pub items: Vec<ItemRef>,
    pub warehouses: Vec<i64>,
    stock: HashMap<(ItemRef, i64), i64>,
    barcodes: HashMap<String, ItemRef>,
    /// Sale `id` is at index `id - 1`.
    pub sales: Vec<Sale>,
    next_line: i64,
}

impl Shop {
    pub fn new(options: &HiboutikSimOptions) -> Self {
        let mut warehouses = vec![MAIN_WAREHOUSE];
        if options.other_warehouse {
            warehouses.push(OTHER_WAREHOUSE);
        }
        let mut shop = Self {
            products: Vec::with_capacity(options.products.len()),
            items: Vec::new(),
            warehouses,
            stock: HashMap::new(),
            barcodes: HashMap::new(),
            sales: Vec::new(),
            next_line: 1,
        };
        for (index, source) in options.products.iter().enumerate() {
            let id = index as i64 + 1;
            let sized = options.sized_every > 0 && index % options.sized_every == 0;
            let sizes: Vec<Size> = if sized {
                (options.sizes.iter().enumerate())
                    .map(|(at, name)| Size {
                        id: at as i64 + 1,
                        name: name.clone(),
                        barcode: if source.sku.is_empty() {
                            String::new()
                        } else {
                            format!("{}-{name}", source.sku)
                        },
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let product = Product {
                id,
                model: source.name.clone(),
                barcode: source.sku.clone(),
                price_cents: 500 + 10 * (id % 100),
                package: options.package_products.contains(&index),
                sizes,
            };
            shop.add_barcode(&product.barcode, ItemRef::new(id, 0));
            let items: Vec<(ItemRef, i64)> = if product.sizes.is_empty() {
                vec![(ItemRef::new(id, 0), source.quantity)]
            } else {
                (product.sizes.iter().enumerate())
                    .map(|(at, size)| {
                        shop.add_barcode(&size.barcode, ItemRef::new(id, size.id));
                        (ItemRef::new(id, size.id), source.quantity + at as i64)
                    })
                    .collect()
            };
            for (item, quantity) in items {
                shop.items.push(item);
                shop.stock.insert((item, MAIN_WAREHOUSE), quantity);
                if options.other_warehouse {
                    shop.stock
                        .insert((item, OTHER_WAREHOUSE), quantity + OTHER_WAREHOUSE_EXTRA);
                }
            }
            shop.products.push(product);
        }
        shop
    }

    /// Makes `barcode` find `item` (an empty barcode is none, and finds nothing).
    fn add_barcode(&mut self, barcode: &str, item: ItemRef) {
        if !barcode.is_empty() {
            self.barcodes.insert(barcode.to_owned(), item);
        }
    }

    pub fn product(&self, id: i64) -> Option<&Product> {
        usize::try_from(id - 1)
            .ok()
            .and_then(|at| self.products.get(at))
    }

    /// The sellable items of a product: itself, or each of its sizes.
    pub fn items_of(&self, product: &Product) -> Vec<ItemRef> {
        if product.sizes.is_empty() {
            vec![ItemRef::new(product.id, 0)]
        } else {
            (product.sizes.iter())
                .map(|size| ItemRef::new(product.id, size.id))
                .collect()
        }
    }

    pub fn exists(&self, item: ItemRef) -> bool {
        self.product(item.product_id).is_some_and(|product| {
            if item.size_id == 0 {
                product.sizes.is_empty()
            } else {
                product.sizes.iter().any(|size| size.id == item.size_id)
            }
        })
    }

    pub fn stock(&self, item: ItemRef, warehouse: i64) -> Option<i64> {
        self.stock.get(&(item, warehouse)).copied()
    }

    pub fn by_barcode(&self, barcode: &str) -> Option<ItemRef> {
        self.barcodes.get(barcode).copied()
    }

    /// The product's name, and the size's (`""` without one).
    pub fn names(&self, item: ItemRef) -> (String, String) {
        let product = self.product(item.product_id);
        let size = product.and_then(|p| p.sizes.iter().find(|s| s.id == item.size_id));
        (
            product.map(|p| p.model.clone()).unwrap_or_default(),
            size.map(|s| s.name.clone()).unwrap_or_default(),
        )
    }

    pub fn barcode(&self, item: ItemRef) -> String {
        let product = self.product(item.product_id);
        match product.and_then(|p| p.sizes.iter().find(|s| s.id == item.size_id)) {
            Some(size) => size.barcode.clone(),
            None => product.map(|p| p.barcode.clone()).unwrap_or_default(),
        }
    }

    pub fn sale(&self, id: i64) -> Option<&Sale> {
        usize::try_from(id - 1)
            .ok()
            .and_then(|at| self.sales.get(at))
    }

    fn sale_mut(&mut self, id: i64) -> Result<&mut Sale, Refusal> {
        match usize::try_from(id - 1)
            .ok()
            .and_then(|at| self.sales.get_mut(at))
        {
            Some(sale) => Ok(sale),
            None => refuse("sale_id", format!("Sale {id} does not exist")),
        }
    }

    /// `POST /sales/`: an open, empty sale.
    pub fn open_sale(&mut self, store_id: i64, customer_id: i64) -> Result<i64, Refusal> {
        if store_id != STORE_ID {
            return refuse("store_id", format!("Store {store_id} does not exist"));
        }
        let id = self.sales.len() as i64 + 1;
        self.sales.push(Sale {
            id,
            store_id,
            customer_id,
            created_at: local_now(),
            completed_at: None,
            ext_ref: String::new(),
            lines: Vec::new(),
            via_api: true,
        });
        Ok(id)
    }

    /// `PUT /sale/{id}`: `ext_ref` and a few other attributes.
    pub fn set_attribute(&mut self, id: i64, attribute: &str, value: &str) -> Result<(), Refusal> {
        let sale = self.sale_mut(id)?;
        match attribute {
            "ext_ref" => sale.ext_ref = value.to_owned(),
            "customer_id" => {
                sale.customer_id = value
                    .parse()
                    .or_else(|_| refuse("new_value", "A customer id is a number"))?
            }
            "payment" | "comments" => {}
            other => return refuse("sale_attribute", format!("Unknown attribute {other}")),
        }
        Ok(())
    }

    /// What `add_product` checks about a line; the product's catalogue price.
    fn check_line(&self, item: ItemRef, quantity: i64) -> Result<i64, Refusal> {
        let Some(product) = self.product(item.product_id) else {
            return refuse(
                "product_id",
                format!("Product {} does not exist", item.product_id),
            );
        };
        if product.package {
            return refuse("product_id", "This function does not handle packages");
        }
        if !self.exists(item) {
            return refuse(
                "size_id",
                format!("Size {} is not a size of this product", item.size_id),
            );
        }
        // A negative quantity is a returned line (stock comes back). Whether the real API takes
        // returns this way is not documented (`products_returned` exists): see pos-apis.md §7.
        if quantity == 0 {
            return refuse("quantity", "The quantity must not be 0");
        }
        Ok(product.price_cents)
    }

    /// `POST /sales/add_product/`: a line, and (with `withdraw`) stock taken from the store's
    /// warehouse at once, even below zero.
    pub fn add_product(
        &mut self,
        sale_id: i64,
        item: ItemRef,
        quantity: i64,
        price_cents: Option<i64>,
        withdraw: bool,
    ) -> Result<i64, Refusal> {
        let catalogue_price = self.check_line(item, quantity)?;
        let line_id = self.next_line;
        let sale = self.sale_mut(sale_id)?;
        if sale.completed_at.is_some() {
            return refuse("sale_id", format!("Sale {sale_id} is closed"));
        }
        let store = sale.store_id;
        sale.lines.push(Line {
            id: line_id,
            item,
            quantity,
            price_cents: price_cents.unwrap_or(catalogue_price),
        });
        self.next_line += 1;
        if withdraw {
            *self.stock.entry((item, store)).or_default() -= quantity;
        }
        Ok(line_id)
    }

    /// `POST /sales/close/`.
    pub fn close(&mut self, sale_id: i64) -> Result<(), Refusal> {
        let sale = self.sale_mut(sale_id)?;
        if sale.completed_at.is_some() {
            return refuse("sale_id", format!("Sale {sale_id} is already closed"));
        }
        sale.completed_at = Some(local_now());
        Ok(())
    }

    /// A cashier's sale of one line at the till: made, stock taken, closed.
    pub fn till_sale(&mut self, item: ItemRef, quantity: i64) -> Result<i64, Refusal> {
        self.check_line(item, quantity)?;
        let id = self.open_sale(STORE_ID, 0)?;
        self.add_product(id, item, quantity, None, true)?;
        self.close(id)?;
        self.sales[id as usize - 1].via_api = false;
        Ok(id)
    }
}

/// Hiboutik's timestamps: the shop's local time, without an offset (the simulated shop keeps
/// UTC).
pub fn local_now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}
