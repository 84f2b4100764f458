//! Recording a web sale, exactly once: Lightspeed has no idempotency key, so the sale carries
//! `referenceNumber = "stocksync-" + sale_key`. A first attempt posts the completed, balanced
//! sale at once; an attempt after one that may have reached Lightspeed (`PosSale::sent_before`,
//! or a lost answer, a timeout or a 429 within this call) first looks that reference up
//! (`Sale.json?referenceNumber=`) and posts only when no sale has it, so the POS never gets two.

use super::api::{Api, Call};
use crate::wire::{
    NewSale, NewSaleLine, NewSaleLines, NewSalePayment, NewSalePayments, Page, Sale, Shop,
};
use reqwest::Method;
use stocksync_domain::PosError;
use stocksync_domain::pos::{PosSale, PosSaleReceipt};
use tokio::sync::OnceCell;

const LOOKUP: &str = "GET Sale.json";
const CREATE: &str = "POST Sale.json";
/// `referenceNumberSource` of our sales, and the prefix of their `referenceNumber`.
const SOURCE: &str = "stocksync";
/// The payment type that balances the sale. Lightspeed numbers them per account
/// (`GET PaymentType.json`); 1 is Cash on a new account.
const PAYMENT_TYPE_ID: i64 = 1;
/// A completed sale costs 2 + 3, plus 0.5 for each nested line and payment.
const CREATE_COST: f64 = 6.0;

/// Who and where, from the account's configuration.
#[derive(Debug)]
pub struct SaleSettings {
    employee_id: i64,
    register_id: i64,
    /// 0: the account's first shop, asked once.
    shop_id: i64,
    customer_id: i64,
    first_shop: OnceCell<i64>,
}

impl SaleSettings {
    pub fn new(employee_id: i64, register_id: i64, shop_id: i64, customer_id: i64) -> Self {
        Self {
            employee_id,
            register_id,
            shop_id,
            customer_id,
            first_shop: OnceCell::new(),
        }
    }

    /// The shop the sale is made in: the configured one, or with `ShopID` 0 the account's
    /// first active shop.
    async fn shop(&self, api: &Api) -> Result<i64, PosError> {
        if self.shop_id != 0 {
            return Ok(self.shop_id);
        }
        let shop =
            self.first_shop
                .get_or_try_init(|| async {
                    let query = vec![("sort", "shopID".to_owned()), ("limit", "100".to_owned())];
                    let shops: Vec<Shop> = api
                        .list(Call::get("GET Shop.json", api.url("Shop.json"), query, 1.0))
                        .await?;
                    shops
                        .iter()
                        .filter(|shop| !shop.archived && shop.shop_id != 0)
                        .map(|shop| shop.shop_id)
                        .min()
                        .ok_or_else(|| {
                            PosError::Rejected(api.describe(
                                "GET Shop.json",
                                "the account has no active shop to sell in",
                            ))
                        })
                })
                .await?;
        Ok(*shop)
    }
}

/// Records `sale` (see the module doc). Lightspeed's 404 is no refusal of the sale (an
/// unknown item is a 422): one answered here is retried, never final.
pub async fn record(
    api: &Api,
    settings: &SaleSettings,
    sale: &PosSale,
) -> Result<PosSaleReceipt, PosError> {
    sell(api, settings, sale)
        .await
        .map_err(PosError::not_found_not_final)
}

async fn sell(
    api: &Api,
    settings: &SaleSettings,
    sale: &PosSale,
) -> Result<PosSaleReceipt, PosError> {
    let item_id = check(api, sale)?;
    let reference = format!("{SOURCE}-{}", sale.sale_key);
    let body = serde_json::to_value(NewSale {
        employee_id: settings.employee_id,
        register_id: settings.register_id,
        shop_id: settings.shop(api).await?,
        customer_id: settings.customer_id,
        completed: true,
        reference_number: reference.clone(),
        reference_number_source: SOURCE,
        sale_lines: NewSaleLines {
            rows: vec![NewSaleLine {
                item_id,
                // Negative for a return (a refund line).
                unit_quantity: sale.quantity,
                // Whole cents: the line never costs more than the payment (the rest is change).
                unit_price: (sale.balance_cents / sale.quantity.abs()) as f64 / 100.0,
            }],
        },
        sale_payments: NewSalePayments {
            rows: vec![NewSalePayment {
                // A refund is a negative payment.
                amount: sale.balance_cents as f64 * sale.quantity.signum() as f64 / 100.0,
                payment_type_id: PAYMENT_TYPE_ID,
            }],
        },
    })
    .map_err(|err| {
        PosError::Rejected(api.describe(CREATE, &format!("the sale could not be written: {err}")))
    })?;
    let create = Call {
        endpoint: CREATE,
        method: Method::POST,
        url: api.url("Sale.json"),
        query: Vec::new(),
        body: Some(&body),
        cost: CREATE_COST,
    };
    let backoff = api.backoff();
    let mut failures = 0;
    loop {
        // Looked up only when an earlier attempt may have reached Lightspeed.
        // A failed look-up says nothing about the sale, which may exist: never final.
        if (sale.sent_before || failures > 0)
            && let Some(found) = lookup(api, &reference).await.map_err(PosError::not_final)?
        {
            return receipt(api, found);
        }
        match api.send::<Page<Sale>>(&create).await {
            Ok(page) => {
                let created = page.rows.into_iter().next().ok_or_else(|| {
                    PosError::Unavailable(api.describe(CREATE, "the answer holds no sale"))
                })?;
                return receipt(api, created);
            }
            // The sale may or may not exist: the next lookup tells.
            Err(err) if err.is_transient() && failures < backoff.retries => {
                tracing::info!(error = %err, "the sale may not be recorded; looking it up again");
                if !matches!(err, PosError::RateLimited { .. }) {
                    tokio::time::sleep(backoff.delay(failures)).await;
                }
                failures += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// The item id, after checking what Lightspeed would refuse anyway.
fn check(api: &Api, sale: &PosSale) -> Result<i64, PosError> {
    let refuse = |what: String| Err(PosError::Rejected(api.describe(CREATE, &what)));
    let Ok(item_id) = sale.pos_ref.as_str().trim().parse::<i64>() else {
        return refuse(format!("'{}' is not a Lightspeed itemID", sale.pos_ref));
    };
    if sale.quantity == 0 {
        return refuse("a sale needs a quantity other than 0".to_owned());
    }
    if sale.balance_cents < 0 {
        return refuse(format!(
            "a sale cannot have a negative balance ({} cents)",
            sale.balance_cents
        ));
    }
    Ok(item_id)
}

/// Our sale with this reference, if Lightspeed has it.
async fn lookup(api: &Api, reference: &str) -> Result<Option<Sale>, PosError> {
    let query = vec![
        ("referenceNumber", format!("=,{reference}")),
        ("sort", "saleID".to_owned()),
        ("limit", "100".to_owned()),
    ];
    let page: Page<Sale> = api
        .get(&Call::get(LOOKUP, api.url("Sale.json"), query, 1.0))
        .await?;
    Ok(page.rows.into_iter().next())
}

fn receipt(api: &Api, sale: Sale) -> Result<PosSaleReceipt, PosError> {
    if sale.sale_id.trim().is_empty() {
        return Err(PosError::Unavailable(
            api.describe(CREATE, "the sale has no saleID"),
        ));
    }
    Ok(PosSaleReceipt {
        pos_reference: sale.sale_id,
        recorded_at: sale.complete_time.or(sale.time_stamp),
    })
}
