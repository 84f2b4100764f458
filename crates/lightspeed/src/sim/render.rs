//! The simulator's JSON, written independently of the client's types: records as Lightspeed
//! shows them, and Lightspeed's quirks (switchable): every scalar a string, a one-element list
//! as a bare object, an empty relation as `""`, an empty page without its key.

use super::data::{Data, Item, Sale, Shop, Stock};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// How JSON is written.
#[derive(Clone, Copy, Debug)]
pub struct Render {
    pub quirks: bool,
}

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

impl Render {
    /// An amount: `"34.48"` with the quirks, `34.48` without.
    fn money(&self, cents: i64) -> Value {
        if self.quirks {
            json!(format!(
                "{}{}.{:02}",
                if cents < 0 { "-" } else { "" },
                cents.abs() / 100,
                cents.abs() % 100
            ))
        } else {
            json!(cents as f64 / 100.0)
        }
    }

    /// `{"@attributes": …, key: rows}`, the shape of every list and single GET.
    pub fn page(&self, key: &str, attributes: Value, rows: Vec<Value>) -> Value {
        let mut page = Map::new();
        page.insert("@attributes".into(), attributes);
        if !(rows.is_empty() && self.quirks) {
            page.insert(key.into(), self.list(rows));
        }
        self.finish(Value::Object(page))
    }

    /// A relation: `{inner: rows}`, or `""` when empty (quirks).
    pub fn relation(&self, inner: &str, rows: Vec<Value>) -> Value {
        if rows.is_empty() && self.quirks {
            return json!("");
        }
        json!({ inner: self.list(rows) })
    }

    fn list(&self, mut rows: Vec<Value>) -> Value {
        if rows.len() == 1 && self.quirks {
            rows.pop().unwrap_or_default()
        } else {
            Value::Array(rows)
        }
    }

    /// With quirks, every number and boolean becomes a string.
    pub fn finish(&self, value: Value) -> Value {
        if !self.quirks {
            return value;
        }
        match value {
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.finish(v)).collect())
            }
            Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, self.finish(v))).collect())
            }
            other => other,
        }
    }

    pub fn shop(&self, shop: &Shop) -> Value {
        json!({
            "shopID": shop.id, "name": shop.name, "serviceRate": 0, "timeZone": "UTC",
            "taxLabor": false, "labelTitle": "Shop Name", "archived": false,
            "timeStamp": time(shop.time_stamp), "companyRegistrationNumber": "", "vatNumber": "",
        })
    }

    pub fn stock(&self, row: &Stock) -> Value {
        json!({
            "itemShopID": row.id, "qoh": row.qoh, "sellable": row.qoh.max(0), "backorder": 0,
            "componentQoh": 0, "componentBackorder": 0, "reorderPoint": 0, "reorderLevel": 0,
            "timeStamp": time(row.time_stamp), "itemID": row.item_id, "shopID": row.shop_id,
        })
    }

    pub fn item(&self, data: &Data, item: &Item, relations: &[String]) -> Value {
        let mut value = json!({
            "itemID": item.id, "systemSku": item.system_sku, "defaultCost": 0, "avgCost": 0,
            "discountable": true, "tax": true, "archived": false, "itemType": "default",
            "serialized": false, "description": item.description, "modelYear": 0,
            "upc": item.upc, "ean": item.ean, "customSku": item.custom_sku, "manufacturerSku": "",
            "createTime": time(item.create_time), "timeStamp": time(item.time_stamp),
            "publishToEcom": false, "categoryID": 0, "taxClassID": 1, "departmentID": 0,
            "itemMatrixID": 0, "manufacturerID": 0, "seasonID": 0, "defaultVendorID": 0,
            "Prices": self.relation("ItemPrice", vec![
                json!({"amount": self.money(item.price_cents), "useTypeID": 1, "useType": "Default"}),
            ]),
        });
        if relations.iter().any(|r| r == "ItemShops") {
            let rows = data
                .stock_rows_of(item.id)
                .map(|row| self.stock(row))
                .collect();
            value["ItemShops"] = self.relation("ItemShop", rows);
        }
        value
    }

    pub fn sale(&self, sale: &Sale, relations: &[String]) -> Value {
        let total = self.money(sale.total_cents());
        let mut value = json!({
            "saleID": sale.id, "timeStamp": time(sale.time_stamp),
            "discountPercent": 0, "completed": sale.completed, "archived": false, "voided": false,
            "enablePromotions": false, "isTaxInclusive": false, "createTime": time(sale.create_time),
            "updateTime": time(sale.time_stamp),
            "completeTime": sale.complete_time.map(time).unwrap_or_default(),
            "referenceNumber": sale.reference_number, "referenceNumberSource": sale.reference_number_source,
            "tax1Rate": 0, "tax2Rate": 0, "change": self.money((sale.paid_cents() - sale.total_cents()).max(0)),
            "receiptPreference": "printed", "displayableSubtotal": total, "ticketNumber": format!("220000{:06}", sale.id),
            "calcDiscount": 0, "calcTotal": total, "calcSubtotal": total, "calcTaxable": 0, "calcNonTaxable": total,
            "calcAvgCost": 0, "calcFIFOCost": 0, "calcTax1": 0, "calcTax2": 0, "calcPayments": self.money(sale.paid_cents()),
            "total": total, "totalDue": total, "displayableTotal": total,
            "balance": self.money((sale.total_cents() - sale.paid_cents()).max(0)),
            "customerID": sale.customer_id, "discountID": 0, "employeeID": sale.employee_id,
            "quoteID": 0, "registerID": sale.register_id, "shipToID": 0, "shopID": sale.shop_id, "taxCategoryID": 0,
        });
        if relations.iter().any(|r| r == "SaleLines") {
            let lines = sale
                .lines
                .iter()
                .map(|line| {
                    json!({
                        "saleLineID": line.id, "createTime": time(sale.create_time), "timeStamp": time(sale.time_stamp),
                        "unitQuantity": line.quantity, "unitPrice": self.money(line.unit_price_cents),
                        "normalUnitPrice": self.money(line.unit_price_cents), "discountAmount": 0, "discountPercent": 0,
                        "avgCost": 0, "fifoCost": 0, "tax": false, "tax1Rate": 0, "tax2Rate": 0, "isLayaway": false,
                        "isWorkorder": false, "isSpecialOrder": false,
                        "calcLineDiscount": 0, "calcTransactionDiscount": 0, "calcTotal": self.money(line.quantity * line.unit_price_cents),
                        "calcSubtotal": self.money(line.quantity * line.unit_price_cents), "calcTax1": 0, "calcTax2": 0,
                        "itemID": line.item_id, "saleID": sale.id, "shopID": sale.shop_id, "employeeID": sale.employee_id,
                    })
                })
                .collect();
            value["SaleLines"] = self.relation("SaleLine", lines);
        }
        if relations.iter().any(|r| r == "SalePayments") {
            let payments = sale
                .payments
                .iter()
                .map(|payment| {
                    json!({
                        "salePaymentID": payment.id, "amount": self.money(payment.amount_cents),
                        "createTime": time(sale.create_time), "archived": false,
                        "paymentTypeID": payment.payment_type_id, "saleID": sale.id, "registerID": sale.register_id,
                    })
                })
                .collect();
            value["SalePayments"] = self.relation("SalePayment", payments);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks_stringify_scalars_and_collapse_single_lists() {
        let quirky = Render { quirks: true };
        let page = quirky.page(
            "ItemShop",
            json!({"next": "", "previous": ""}),
            vec![json!({"qoh": 3, "ok": true})],
        );
        assert_eq!(
            page,
            json!({"@attributes": {"next": "", "previous": ""}, "ItemShop": {"qoh": "3", "ok": "true"}})
        );
        let empty = quirky.page("ItemShop", json!({"next": ""}), vec![]);
        assert_eq!(empty, json!({"@attributes": {"next": ""}}));
        assert_eq!(quirky.relation("ItemShop", vec![]), json!(""));
        let plain = Render { quirks: false };
        let page = plain.page("ItemShop", json!({"next": ""}), vec![json!({"qoh": 3})]);
        assert_eq!(
            page,
            json!({"@attributes": {"next": ""}, "ItemShop": [{"qoh": 3}]})
        );
    }
}
