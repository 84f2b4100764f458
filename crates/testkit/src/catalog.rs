//! An in-process POS: a list of products with quantities behind the connector trait, so API
//! tests can register, read and fail without a network. (The vendor simulators, which speak
//! each POS's real HTTP API, come with the POS connectors.)

use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use stocksync_domain::pos::{
    PosProduct, PosSale, PosSaleReceipt, ProductQuery, StockCount, StockRead,
};
use stocksync_domain::{PosConnector, PosError, PosRef};

#[derive(Default)]
pub struct Catalog {
    products: Mutex<Vec<PosProduct>>,
    /// When set, every call fails as a POS outage would.
    down: AtomicBool,
    /// Calls made, of any kind.
    pub calls: AtomicUsize,
}

impl Catalog {
    /// Adds (or replaces) a product.
    pub fn put(&self, pos_ref: &str, name: &str, sku: Option<&str>, quantity: i64) {
        let mut products = self.products.lock().unwrap();
        products.retain(|p| p.pos_ref.as_str() != pos_ref);
        products.push(PosProduct {
            pos_ref: PosRef::new(pos_ref),
            name: name.to_owned(),
            sku: sku.map(str::to_owned),
            quantity,
        });
    }

    /// Changes a product's count, as a till sale or a delivery would.
    pub fn set_quantity(&self, pos_ref: &str, quantity: i64) {
        let mut products = self.products.lock().unwrap();
        let product = products
            .iter_mut()
            .find(|p| p.pos_ref.as_str() == pos_ref)
            .expect("a product of the catalog");
        product.quantity = quantity;
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), PosError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(PosError::Unavailable("the test catalog is down".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl PosConnector for Catalog {
    async fn find_products(&self, query: &ProductQuery) -> Result<Vec<PosProduct>, PosError> {
        self.check()?;
        let products = self.products.lock().unwrap();
        Ok(products
            .iter()
            .filter(|p| match query {
                ProductQuery::Id(id) => &p.pos_ref == id,
                ProductQuery::Sku(sku) => p.sku.as_deref() == Some(sku.as_str()),
                ProductQuery::Name(name) => p.name.to_lowercase().contains(&name.to_lowercase()),
            })
            .cloned()
            .collect())
    }

    async fn read_stock(&self, _cursor: Option<&str>) -> Result<StockRead, PosError> {
        self.check()?;
        let products = self.products.lock().unwrap();
        Ok(StockRead {
            counts: products
                .iter()
                .map(|p| StockCount {
                    pos_ref: p.pos_ref.clone(),
                    quantity: p.quantity,
                    counted_at: None,
                })
                .collect(),
            cursor: None,
        })
    }

    async fn record_sale(&self, _sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.check()?;
        Err(PosError::Unsupported(
            "the test catalog does not record sales".into(),
        ))
    }
}
