//! The simulator's write endpoints: the web sale's steps (`POST /sales/`, `PUT /sale/{id}`,
//! `POST /sales/add_product/`, `POST /sales/close/`, each able to crash once after it is carried
//! out), the till route, and the request bodies they read (JSON or form-urlencoded).

use super::model::Refusal;
use super::routes::{Sim, bad_body, invalid};
use super::{SaleStep, Shared};
use crate::ItemRef;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use stocksync_pos::simkit::drop_connection;

/// A write's answer, or Hiboutik's 422 naming the field at fault.
type Answer = Result<Response, Refusal>;

pub(super) async fn create_sale(State(sim): Sim, fields: Fields) -> Answer {
    let store = fields.int("store_id")?;
    let customer = fields.opt_int("customer_id")?.unwrap_or(0);
    let id = sim.shop().open_sale(store, customer)?;
    crash_if_armed(&sim, SaleStep::Create);
    Ok(Json(json!({"sale_id": sim.render.n(id)})).into_response())
}

pub(super) async fn update_sale(State(sim): Sim, Path(id): Path<i64>, fields: Fields) -> Answer {
    let attribute = fields.text("sale_attribute")?;
    let value = fields
        .0
        .get("new_value")
        .map(String::as_str)
        .unwrap_or_default();
    sim.shop().set_attribute(id, attribute, value)?;
    if attribute == "ext_ref" {
        crash_if_armed(&sim, SaleStep::ExtRef);
    }
    Ok(
        Json(json!({"sale_id": sim.render.n(id), "sale_attribute": attribute, "new_value": value}))
            .into_response(),
    )
}

/// `stock_withdrawal` defaults to 1, as Hiboutik's plugins always send it.
pub(super) async fn add_product(State(sim): Sim, fields: Fields) -> Answer {
    let sale_id = fields.int("sale_id")?;
    let item = ItemRef::new(
        fields.int("product_id")?,
        fields.opt_int("size_id")?.unwrap_or(0),
    );
    let quantity = fields.opt_int("quantity")?.unwrap_or(1);
    let price = match fields
        .0
        .get("product_price")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(text) => {
            Some(cents(text).ok_or_else(|| invalid("product_price", "Must be a decimal number"))?)
        }
    };
    let withdraw = fields.opt_int("stock_withdrawal")?.unwrap_or(1) != 0;
    let line = (sim.shop()).add_product(sale_id, item, quantity, price, withdraw)?;
    crash_if_armed(&sim, SaleStep::AddProduct);
    Ok(
        Json(json!({"sale_id": sim.render.n(sale_id), "line_item_id": sim.render.n(line)}))
            .into_response(),
    )
}

pub(super) async fn close_sale(State(sim): Sim, fields: Fields) -> Answer {
    let sale_id = fields.int("sale_id")?;
    {
        let mut shop = sim.shop();
        shop.close(sale_id)?;
        if let Some(webhooks) = &sim.webhooks {
            webhooks.sale_closed(&shop, sale_id);
        }
    }
    crash_if_armed(&sim, SaleStep::Close);
    Ok(Json(json!({"sale_id": sim.render.n(sale_id)})).into_response())
}

/// Drops the connection after `step` was carried out, if that crash is armed.
fn crash_if_armed(sim: &Shared, step: SaleStep) {
    if sim.crash_after(step) {
        drop_connection();
    }
}

#[derive(Deserialize)]
pub(super) struct TillSale {
    pos_ref: String,
    quantity: i64,
}

/// `POST /_sim/sale {"pos_ref": "12/3", "quantity": 1}`: a cashier's sale.
pub(super) async fn till(State(sim): Sim, Json(sale): Json<TillSale>) -> Response {
    match sim.till_sale(&sale.pos_ref, sale.quantity) {
        Ok(sale_id) => Json(json!({"sale_id": sale_id})).into_response(),
        Err(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": message})),
        )
            .into_response(),
    }
}

/// A POST/PUT body's fields, from JSON or form-urlencoded (bracketed keys such as
/// `a[0][b]` stay flat keys).
pub(super) struct Fields(HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let is_json = (request.headers().get(header::CONTENT_TYPE))
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("json"));
        if !is_json {
            let Form(fields) = Form::<HashMap<String, String>>::from_request(request, state)
                .await
                .map_err(|err| bad_body(&err.body_text()))?;
            return Ok(Self(fields));
        }
        let Json(body) = Json::<Value>::from_request(request, state)
            .await
            .map_err(|err| bad_body(&err.body_text()))?;
        let Value::Object(body) = body else {
            return Err(bad_body("the JSON body must be an object"));
        };
        let text = |value: Value| match value {
            Value::String(text) => text,
            other => other.to_string(),
        };
        Ok(Self(
            body.into_iter()
                .map(|(key, value)| (key, text(value)))
                .collect(),
        ))
    }
}

impl Fields {
    fn text(&self, name: &'static str) -> Result<&str, Refusal> {
        (self.0.get(name).map(String::as_str))
            .filter(|text| !text.trim().is_empty())
            .ok_or_else(|| invalid(name, "Required"))
    }

    fn int(&self, name: &'static str) -> Result<i64, Refusal> {
        self.opt_int(name)?.ok_or_else(|| invalid(name, "Required"))
    }

    fn opt_int(&self, name: &'static str) -> Result<Option<i64>, Refusal> {
        match self
            .0
            .get(name)
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
        {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| invalid(name, "Must be an integer")),
        }
    }
}

/// `"19.9"` → 1990.
fn cents(text: &str) -> Option<i64> {
    let value: f64 = text.parse().ok()?;
    value.is_finite().then(|| (value * 100.0).round() as i64)
}
