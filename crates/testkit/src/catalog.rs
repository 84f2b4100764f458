//! An in-process POS: a list of products with quantities behind the connector trait, so API
//! tests can register, read, sell and fail without a network. (The vendor simulators, which
//! speak each POS's real HTTP API, are in the vendor crates.)

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Every sale write received, in order, repeats included: like Hiboutik or Lightspeed,
    /// this POS has no idempotency key, and a sale written twice is on it twice. (A push marked
    /// `sent_before` looks its key up first, as the vendor clients do.)
    writes: Mutex<Vec<PosSale>>,
    /// The next N `record_sale` calls fail as an outage would.
    failing_sales: AtomicUsize,
    /// The next N `record_sale` calls write the sale, then fail as a lost answer would.
    losing_answers: AtomicUsize,
    /// Products whose sales are refused for good (archived on the POS, say).
    refused: Mutex<BTreeSet<String>>,
    /// Products left out of bulk reads though they exist (never counted, as Square does).
    uncounted: Mutex<BTreeSet<String>>,
    /// When set, a bulk read takes its snapshot, then waits for [`Catalog::release_reads`]
    /// before answering: a read in flight while other things happen.
    held_reads: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
    /// Bulk reads that took their snapshot and are being held.
    pub reads_held: AtomicUsize,
    /// Milliseconds each `record_sale` takes, as a slow POS would.
    sale_delay_ms: AtomicUsize,
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
            barcode: None,
            quantity,
        });
    }

    /// Gives a product a barcode (`None` takes it away).
    pub fn set_barcode(&self, pos_ref: &str, barcode: Option<&str>) {
        let mut products = self.products.lock().unwrap();
        let product = products
            .iter_mut()
            .find(|p| p.pos_ref.as_str() == pos_ref)
            .expect("a product of the catalog");
        product.barcode = barcode.map(str::to_owned);
    }

    /// Adds many products at once, `(pos_ref, name, quantity)`, without checking for twins.
    pub fn extend(&self, products: impl IntoIterator<Item = (String, String, i64)>) {
        let mut all = self.products.lock().unwrap();
        all.extend(
            products
                .into_iter()
                .map(|(pos_ref, name, quantity)| PosProduct {
                    pos_ref: PosRef::new(pos_ref),
                    name,
                    sku: None,
                    barcode: None,
                    quantity,
                }),
        );
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

    /// Deletes a product, as archiving it on the POS would.
    pub fn remove(&self, pos_ref: &str) {
        self.products
            .lock()
            .unwrap()
            .retain(|p| p.pos_ref.as_str() != pos_ref);
    }

    /// Leaves a product out of bulk reads, though lookups still find it.
    pub fn leave_out_of_reads(&self, pos_ref: &str) {
        self.uncounted.lock().unwrap().insert(pos_ref.to_owned());
    }

    /// From now on, bulk reads are held after their snapshot until released.
    pub fn hold_reads(&self) {
        *self.held_reads.lock().unwrap() = Some(Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Lets held reads (and later ones) answer.
    pub fn release_reads(&self) {
        if let Some(gate) = self.held_reads.lock().unwrap().take() {
            gate.add_permits(usize::MAX >> 4);
        }
    }

    /// Every sale takes this long from now on (a POS that is slow, or timing out).
    pub fn slow_sales(&self, delay: std::time::Duration) {
        self.sale_delay_ms
            .store(delay.as_millis() as usize, Ordering::SeqCst);
    }

    /// The next `n` sales fail with a transient error.
    pub fn fail_next_sales(&self, n: usize) {
        self.failing_sales.store(n, Ordering::SeqCst);
    }

    /// The next `n` sales are written, then their answer is lost (a transient error).
    pub fn lose_answers_of_next_sales(&self, n: usize) {
        self.losing_answers.store(n, Ordering::SeqCst);
    }

    /// Sales of `pos_ref` are refused for good from now on.
    pub fn refuse_sales_of(&self, pos_ref: &str) {
        self.refused.lock().unwrap().insert(pos_ref.to_owned());
    }

    /// Every web sale written, in order: a sale written twice is here twice.
    pub fn recorded_sales(&self) -> Vec<PosSale> {
        self.writes.lock().unwrap().clone()
    }

    /// How many times each sale key was written.
    pub fn writes_per_key(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for sale in self.writes.lock().unwrap().iter() {
            *counts.entry(sale.sale_key.clone()).or_default() += 1;
        }
        counts
    }

    /// A product's count.
    pub fn quantity(&self, pos_ref: &str) -> i64 {
        let products = self.products.lock().unwrap();
        products
            .iter()
            .find(|p| p.pos_ref.as_str() == pos_ref)
            .expect("a product")
            .quantity
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

    /// Every product, in one call (counted like every other), whether or not bulk reads
    /// leave it out.
    async fn products(&self) -> Result<Vec<PosProduct>, PosError> {
        self.check()?;
        Ok(self.products.lock().unwrap().clone())
    }

    async fn read_stock(&self, _cursor: Option<&str>) -> Result<StockRead, PosError> {
        self.check()?;
        let read = {
            let products = self.products.lock().unwrap();
            let uncounted = self.uncounted.lock().unwrap();
            StockRead {
                counts: products
                    .iter()
                    .filter(|p| !uncounted.contains(p.pos_ref.as_str()))
                    .map(|p| StockCount {
                        pos_ref: p.pos_ref.clone(),
                        quantity: p.quantity,
                        counted_at: None,
                    })
                    .collect(),
                cursor: None,
            }
        };
        let gate = self.held_reads.lock().unwrap().clone();
        if let Some(gate) = gate {
            self.reads_held.fetch_add(1, Ordering::SeqCst);
            let _ = gate.acquire().await;
        }
        Ok(read)
    }

    /// Writes a sale, decrementing the product like a real POS; a sale `sent_before` is looked
    /// up by its key first and not written again if it is there.
    async fn record_sale(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.check()?;
        let delay = self.sale_delay_ms.load(Ordering::SeqCst) as u64;
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        let receipt = || PosSaleReceipt {
            pos_reference: format!("catalog-{}", sale.sale_key),
            recorded_at: None,
        };
        if self
            .failing_sales
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(PosError::Unavailable("the test catalog timed out".into()));
        }
        if self.refused.lock().unwrap().contains(sale.pos_ref.as_str()) {
            return Err(PosError::Rejected(format!(
                "product {} is archived",
                sale.pos_ref
            )));
        }
        let mut writes = self.writes.lock().unwrap();
        if sale.sent_before && writes.iter().any(|w| w.sale_key == sale.sale_key) {
            return Ok(receipt());
        }
        let mut products = self.products.lock().unwrap();
        let product = products
            .iter_mut()
            .find(|p| p.pos_ref == sale.pos_ref)
            .ok_or_else(|| PosError::NotFound(format!("product {}", sale.pos_ref)))?;
        product.quantity -= sale.quantity;
        writes.push(sale.clone());
        if self
            .losing_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(PosError::Unavailable(
                "the test catalog's answer was lost".into(),
            ));
        }
        Ok(receipt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(key: &str, sent_before: bool) -> PosSale {
        PosSale {
            sale_key: key.into(),
            pos_ref: PosRef::new("VAR-1"),
            quantity: 1,
            balance_cents: 100,
            sent_before,
        }
    }

    #[tokio::test]
    async fn every_write_is_counted_and_only_a_marked_retry_is_looked_up() {
        let catalog = Catalog::default();
        catalog.put("VAR-1", "Mug", None, 5);
        catalog.record_sale(&sale("a", false)).await.unwrap();
        // A push sent again as if it were the first: a second sale, as on Hiboutik.
        catalog.record_sale(&sale("a", false)).await.unwrap();
        // A retry that knows an earlier push may have landed: found, not written.
        catalog.record_sale(&sale("a", true)).await.unwrap();
        catalog.record_sale(&sale("b", true)).await.unwrap();
        assert_eq!(
            catalog.writes_per_key(),
            BTreeMap::from([("a".to_owned(), 2), ("b".to_owned(), 1)])
        );
        assert_eq!(catalog.recorded_sales().len(), 3);
        assert_eq!(catalog.quantity("VAR-1"), 2);
    }

    #[tokio::test]
    async fn the_listing_is_one_counted_call_with_skus_and_barcodes() {
        let catalog = Catalog::default();
        catalog.put("VAR-1", "Mug", Some("MUG"), 5);
        catalog.put("VAR-2", "Tee", None, 3);
        catalog.set_barcode("VAR-2", Some("4006381333931"));
        catalog.leave_out_of_reads("VAR-2");

        let listed = catalog.products().await.unwrap();

        let codes: Vec<_> = listed
            .iter()
            .map(|p| (p.pos_ref.as_str(), p.sku.as_deref(), p.barcode.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [
                ("VAR-1", Some("MUG"), None),
                ("VAR-2", None, Some("4006381333931"))
            ]
        );
        assert_eq!(catalog.calls.load(Ordering::SeqCst), 1);
        catalog.set_down(true);
        assert!(catalog.products().await.unwrap_err().is_transient());
        assert_eq!(catalog.calls.load(Ordering::SeqCst), 2);
    }
}
