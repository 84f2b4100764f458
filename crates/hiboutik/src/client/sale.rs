//! Recording a web sale on Hiboutik, idempotently and resumably. Hiboutik has no idempotency
//! key, so the sale carries `ext_ref = "stocksync-{sale_key}"`; an attempt after one that may
//! have reached Hiboutik (`PosSale::sent_before`) looks for it first, then does only what is
//! missing (a first attempt starts at step 2):
//!
//! 1. `GET /sales/search/ext_ref/{ref}/`; if a sale carries it, `GET /sales/{id}` tells how far
//!    it got, and the attempt resumes there;
//! 2. `POST /sales/` opens a sale (store `StoreID`, customer `HiboutikCustomerID`);
//! 3. `PUT /sale/{id}` sets its `ext_ref` at once (retried on a transient failure: setting a
//!    value twice is harmless);
//! 4. `POST /sales/add_product/` adds the one line with `stock_withdrawal=1` (stock moves here);
//! 5. `POST /sales/close/` closes it.
//!
//! A crash (a lost answer, a dropped connection, a restart) between two steps:
//! * after 3, 4 or 5: the next attempt finds the sale by `ext_ref` and adds the line only if
//!   the sale has none, closes it only if it is open: never a second sale, never a second line;
//! * between 2 and 3 (the creation's answer lost, or the `ext_ref` still not set after the
//!   retries): the next attempt
//!   cannot find that sale and opens another. The leftover is an **open sale without lines**,
//!   which moves no stock (stock moves only at step 4, and only on a sale carrying our
//!   `ext_ref`); it stays among the store's open sales until someone deletes it. We do not
//!   adopt "an empty open sale of our customer" from `GET /open_sales/{store}`: a cashier's
//!   fresh sale looks the same, and two sales recorded at once could take each other's.
//!
//! A sale refused at step 4 (unknown product, a package) stays open and empty with our
//! `ext_ref`: it moves no stock, and a retry finds it and is refused the same way. A sale found
//! with other lines than ours, or closed without our line, was changed by hand: refused, never
//! completed by guesswork.

use super::call::none_if_missing;
use super::{HiboutikConnector, item_ref};
use crate::ItemRef;
use crate::wire::{LineItem, Sale, SaleId};
use stocksync_domain::PosError;
use stocksync_domain::pos::{PosSale, PosSaleReceipt};

/// Put before the sale key in a sale's `ext_ref`, so our sales are recognisable on the till.
pub const EXT_REF_PREFIX: &str = "stocksync-";
const CURRENCY: &str = "EUR";
/// The till user the sales are made by (Hiboutik's plugins use 1).
const VENDOR_ID: i64 = 1;

/// How far an earlier attempt got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Open, no line yet.
    Opened,
    /// Open, with our line.
    LineAdded,
    /// Closed, with our line.
    Closed,
}

impl HiboutikConnector {
    /// Records `sale` (see the module doc). The receipt's reference is Hiboutik's `sale_id`;
    /// its time is left out, Hiboutik's clock being the shop's local time without an offset.
    /// Hiboutik documents no 404: one answered to a step of the sale (the sale being completed
    /// vanished, a proxy's page) is retried, never taken as a refusal for good.
    #[tracing::instrument(skip_all, fields(account = %self.account, sale_key = %sale.sale_key), err)]
    pub(super) async fn sell(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        self.sell_steps(sale)
            .await
            .map_err(PosError::not_found_not_final)
    }

    async fn sell_steps(&self, sale: &PosSale) -> Result<PosSaleReceipt, PosError> {
        let item = item_ref(&sale.pos_ref)?;
        if sale.quantity == 0 || sale.balance_cents < 0 {
            return Err(PosError::Rejected(format!(
                "account {}: a sale of {} × {} for {} cents cannot be recorded",
                self.account, sale.quantity, sale.pos_ref, sale.balance_cents
            )));
        }
        let ext_ref = format!("{EXT_REF_PREFIX}{}", sale.sale_key);
        let _one_at_a_time = self.selling.lock().await;
        // Only a sale an earlier attempt may have begun is looked for: a first attempt opens
        // its sale at once.
        let earlier = if sale.sent_before {
            self.find_sale(&ext_ref).await?
        } else {
            None
        };
        let (sale_id, progress) = match earlier {
            Some(sale_id) => {
                let progress = self
                    .progress(sale_id, &ext_ref, item, sale.quantity)
                    .await?;
                tracing::info!(account = %self.account, sale_id, ?progress, "resuming a Hiboutik sale");
                (sale_id, progress)
            }
            None => (self.open_sale(&ext_ref).await?, Progress::Opened),
        };
        if progress == Progress::Opened {
            self.add_line(sale_id, item, sale).await?;
        }
        if progress != Progress::Closed {
            // The line is on the sale (the stock moved): a refused close (say, closed already by
            // an earlier attempt whose answer was lost) is no refusal of the sale. Retried, the
            // sale is looked up and found closed.
            let id = sale_id.to_string();
            self.post(
                "POST /sales/close",
                &["sales", "close", ""],
                &[("sale_id", id)],
            )
            .await
            .map_err(PosError::not_final)?;
        }
        Ok(PosSaleReceipt {
            pos_reference: sale_id.to_string(),
            recorded_at: None,
        })
    }

    /// The sale carrying `ext_ref`, if any (the oldest, should there be several).
    async fn find_sale(&self, ext_ref: &str) -> Result<Option<i64>, PosError> {
        let found: Vec<SaleId> = none_if_missing(
            self.get(
                "GET /sales/search/ext_ref/{ref}",
                &["sales", "search", "ext_ref", ext_ref, ""],
            )
            .await,
        )?;
        if found.len() > 1 {
            tracing::warn!(account = %self.account, ext_ref, sales = found.len(), "several Hiboutik sales carry one ext_ref; using the oldest");
        }
        Ok(found.iter().map(|sale| sale.sale_id).min())
    }

    async fn progress(
        &self,
        sale_id: i64,
        ext_ref: &str,
        item: ItemRef,
        quantity: i64,
    ) -> Result<Progress, PosError> {
        const ENDPOINT: &str = "GET /sales/{id}";
        let id = sale_id.to_string();
        let sales: Vec<Sale> = self.get(ENDPOINT, &["sales", &id]).await?;
        let sale = sales
            .into_iter()
            .find(|sale| sale.sale_id == sale_id)
            .ok_or_else(|| {
                PosError::Unavailable(self.http.describe(
                    ENDPOINT,
                    &format!("sale {sale_id}, found by its ext_ref, did not come back"),
                ))
            })?;
        let ours = |line: &LineItem| {
            ItemRef::new(line.product_id, line.product_size.unwrap_or(0)) == item
                && line.quantity == quantity
        };
        match (sale.line_items.as_slice(), sale.is_closed()) {
            ([], false) => Ok(Progress::Opened),
            ([line], false) if ours(line) => Ok(Progress::LineAdded),
            ([line], true) if ours(line) => Ok(Progress::Closed),
            _ => Err(PosError::Rejected(self.http.describe(
                ENDPOINT,
                &format!(
                    "sale {sale_id} carries ext_ref {ext_ref} but not just this sale's line \
                     ({quantity} × {item}); it was changed on the till, so it is not completed \
                     again"
                ),
            ))),
        }
    }

    /// Opens a sale and sets its `ext_ref` at once.
    async fn open_sale(&self, ext_ref: &str) -> Result<i64, PosError> {
        const ENDPOINT: &str = "POST /sales";
        let body = self
            .post(
                ENDPOINT,
                &["sales", ""],
                &[
                    ("store_id", self.store_id.to_string()),
                    ("customer_id", self.customer_id.to_string()),
                    ("currency_code", CURRENCY.to_owned()),
                    ("vendor_id", VENDOR_ID.to_string()),
                ],
            )
            .await?;
        let created: Vec<SaleId> = self.parse(ENDPOINT, &body)?;
        let sale_id = created.first().map(|sale| sale.sale_id).ok_or_else(|| {
            PosError::Unavailable(self.http.describe(ENDPOINT, "answered no sale_id"))
        })?;
        self.put(
            "PUT /sale/{id}",
            &["sale", &sale_id.to_string()],
            &[
                ("sale_attribute", "ext_ref".to_owned()),
                ("new_value", ext_ref.to_owned()),
            ],
        )
        .await?;
        Ok(sale_id)
    }

    async fn add_line(&self, sale_id: i64, item: ItemRef, sale: &PosSale) -> Result<(), PosError> {
        let mut form = vec![
            ("sale_id", sale_id.to_string()),
            ("product_id", item.product_id.to_string()),
            ("size_id", item.size_id.to_string()),
            ("quantity", sale.quantity.to_string()),
            ("stock_withdrawal", "1".to_owned()),
        ];
        if let Some(price) = unit_price(sale.balance_cents, sale.quantity) {
            form.push(("product_price", price));
        }
        self.post(
            "POST /sales/add_product",
            &["sales", "add_product", ""],
            &form,
        )
        .await?;
        Ok(())
    }
}

/// The unit price for a line of `quantity` units (negative for a return) paid (or refunded)
/// `balance_cents` in all, as Hiboutik's decimal string, rounded to the cent; `None` (the
/// catalogue price) when nothing was paid.
fn unit_price(balance_cents: i64, quantity: i64) -> Option<String> {
    let units = quantity.abs();
    (balance_cents > 0).then(|| {
        let cents = (balance_cents + units / 2) / units;
        format!("{}.{:02}", cents / 100, cents % 100)
    })
}

#[cfg(test)]
mod tests {
    use super::unit_price;

    #[test]
    fn unit_prices_are_decimal_strings_rounded_to_the_cent() {
        assert_eq!(unit_price(1990, 1).as_deref(), Some("19.90"));
        assert_eq!(unit_price(1000, 3).as_deref(), Some("3.33"));
        assert_eq!(unit_price(5, 2).as_deref(), Some("0.03"));
        assert_eq!(unit_price(0, 2), None);
    }
}
