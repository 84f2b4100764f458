//! Sale webhooks: when a sale is closed (at the till or through the API), a form-urlencoded
//! `POST` to the configured URL with `sale_id`, `sale_ext_ref` and `line_items[i][…]`
//! (`product_id`, `product_size`, `quantity`, `product_model`, `product_barcode`), unsigned as
//! Hiboutik's are: the receiver's secret goes in the URL. Sent in the background (Hiboutik's
//! `webhook_async=1`), once; a failed delivery is logged, not retried.

use super::model::Shop;
use std::time::Duration;
use stocksync_pos::{CallLog, PosHttp};
use tokio::runtime::Handle;

pub struct Webhooks {
    url: String,
    http: PosHttp,
    runtime: Handle,
}

impl Webhooks {
    /// Must be made inside the runtime the deliveries will run on.
    pub fn new(url: String) -> Self {
        Self {
            url,
            http: PosHttp::with_timeout("hiboutik-sim", CallLog::default(), Duration::from_secs(5)),
            runtime: Handle::current(),
        }
    }

    /// Notifies that sale `sale_id` was closed.
    pub fn sale_closed(&self, shop: &Shop, sale_id: i64) {
        let Some(sale) = shop.sale(sale_id) else {
            return;
        };
        let mut fields = vec![
            ("sale_id".to_owned(), sale.id.to_string()),
            ("sale_ext_ref".to_owned(), sale.ext_ref.clone()),
            ("store_id".to_owned(), sale.store_id.to_string()),
            ("customer_id".to_owned(), sale.customer_id.to_string()),
        ];
        for (i, line) in sale.lines.iter().enumerate() {
            let (model, _) = shop.names(line.item);
            let field = |name: &str| format!("line_items[{i}][{name}]");
            fields.push((field("product_id"), line.item.product_id.to_string()));
            fields.push((field("product_size"), line.item.size_id.to_string()));
            fields.push((field("quantity"), line.quantity.to_string()));
            fields.push((field("product_model"), model));
            fields.push((field("product_barcode"), shop.barcode(line.item)));
        }
        let http = self.http.clone();
        let request = http.client().post(&self.url).form(&fields);
        self.runtime.spawn(async move {
            match http.send("POST sale webhook", request).await {
                Ok(answer) if answer.status().is_success() => {}
                Ok(answer) => {
                    tracing::warn!(sale_id, status = %answer.status(), "a sale webhook was refused")
                }
                Err(err) => {
                    tracing::warn!(sale_id, error = %err, "a sale webhook was not delivered")
                }
            }
        });
    }
}
