//! The simulator's read endpoints: products and searches, stores and warehouses, stock (paged
//! by warehouse or for all, per product, per item), and sales (one, by `ext_ref`, open, closed
//! or sold on a day).

use super::model::STORE_ID;
use super::routes::{Sim, missing, paged};
use crate::ItemRef;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub(super) struct Page {
    p: Option<usize>,
}

pub(super) async fn products(
    State(sim): Sim,
    Query(page): Query<Page>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let shop = sim.shop();
    paged(&headers, &uri, page.p, shop.products.len(), |range| {
        shop.products[range]
            .iter()
            .map(|p| sim.render.product(p))
            .collect()
    })
}

pub(super) async fn product(State(sim): Sim, Path(id): Path<i64>) -> Response {
    let shop = sim.shop();
    match shop.product(id) {
        Some(product) => Json(json!([sim.render.product(product)])).into_response(),
        None => missing(&sim, "Product not found"),
    }
}

pub(super) async fn search_barcode(State(sim): Sim, Path(code): Path<String>) -> Response {
    let shop = sim.shop();
    let found: Vec<Value> = (shop.by_barcode(&code).into_iter())
        .filter_map(|item| {
            let mut product = sim.render.product(shop.product(item.product_id)?);
            product["product_size"] = sim.render.n(item.size_id);
            Some(product)
        })
        .collect();
    Json(found).into_response()
}

pub(super) async fn search_name(
    State(sim): Sim,
    Path(name): Path<String>,
    Query(page): Query<Page>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let shop = sim.shop();
    let needle = name.to_lowercase();
    let found: Vec<_> = (shop.products.iter())
        .filter(|product| product.model.to_lowercase().contains(&needle))
        .collect();
    paged(&headers, &uri, page.p, found.len(), |range| {
        found[range].iter().map(|p| sim.render.product(p)).collect()
    })
}

pub(super) async fn stores(State(sim): Sim) -> Response {
    let n = |value| sim.render.n(value);
    Json(json!([{"store_id": n(STORE_ID), "store_name": "Boutique", "store_currency": "EUR"}]))
        .into_response()
}

pub(super) async fn warehouses(State(sim): Sim) -> Response {
    let shop = sim.shop();
    let rows: Vec<Value> = (shop.warehouses.iter())
        .map(|&id| json!({"warehouse_id": sim.render.n(id), "warehouse_name": format!("Warehouse {id}")}))
        .collect();
    Json(rows).into_response()
}

// ---- stock ---------------------------------------------------------------------------------

pub(super) async fn stock_of_warehouse(
    State(sim): Sim,
    Path(warehouse): Path<i64>,
    Query(page): Query<Page>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let shop = sim.shop();
    if !shop.warehouses.contains(&warehouse) {
        return missing(&sim, "Warehouse not found");
    }
    paged(&headers, &uri, page.p, shop.items.len(), |range| {
        (shop.items[range].iter())
            .map(|&item| sim.render.stock_row(&shop, item, warehouse))
            .collect()
    })
}

pub(super) async fn stock_of_all_warehouses(
    State(sim): Sim,
    Query(page): Query<Page>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let shop = sim.shop();
    let per_item = shop.warehouses.len();
    paged(
        &headers,
        &uri,
        page.p,
        shop.items.len() * per_item,
        |range| {
            range
                .map(|row| {
                    let (item, warehouse) =
                        (shop.items[row / per_item], shop.warehouses[row % per_item]);
                    sim.render.stock_row(&shop, item, warehouse)
                })
                .collect()
        },
    )
}

pub(super) async fn stock_of_product(State(sim): Sim, Path(id): Path<i64>) -> Response {
    let shop = sim.shop();
    let Some(product) = shop.product(id) else {
        return missing(&sim, "Product not found");
    };
    let rows: Vec<Value> = (shop.items_of(product).into_iter())
        .flat_map(|item| {
            shop.warehouses
                .iter()
                .map(move |&warehouse| (item, warehouse))
        })
        .map(|(item, warehouse)| sim.render.stock_row(&shop, item, warehouse))
        .collect();
    Json(rows).into_response()
}

pub(super) async fn stock_of_item(State(sim): Sim, Path((id, size)): Path<(i64, i64)>) -> Response {
    let shop = sim.shop();
    let item = ItemRef::new(id, size);
    if !shop.exists(item) {
        return missing(&sim, "Product or size not found");
    }
    let rows: Vec<Value> = (shop.warehouses.iter())
        .map(|&warehouse| sim.render.stock_row(&shop, item, warehouse))
        .collect();
    Json(rows).into_response()
}

// ---- sales (reading) -----------------------------------------------------------------------

pub(super) async fn closed_sales(
    State(sim): Sim,
    Path(day): Path<(i64, i32, u32, u32)>,
) -> Response {
    let shop = sim.shop();
    let rows: Vec<Value> = (shop.sales.iter())
        .filter(|sale| closed_on(sale, day))
        .map(|sale| sim.render.sale_summary(sale))
        .collect();
    Json(rows).into_response()
}

pub(super) async fn products_sold(
    State(sim): Sim,
    Path(day): Path<(i64, i32, u32, u32)>,
) -> Response {
    let shop = sim.shop();
    let rows: Vec<Value> = (shop.sales.iter())
        .filter(|sale| closed_on(sale, day))
        .flat_map(|sale| (0..sale.lines.len()).map(|at| sim.render.sold_line(sale, at)))
        .collect();
    Json(rows).into_response()
}

fn closed_on(sale: &super::Sale, (store, year, month, day): (i64, i32, u32, u32)) -> bool {
    let date = format!("{year:04}-{month:02}-{day:02}");
    sale.store_id == store
        && sale
            .completed_at
            .as_deref()
            .is_some_and(|at| at.starts_with(&date))
}

pub(super) async fn open_sales(State(sim): Sim, Path(store): Path<i64>) -> Response {
    let shop = sim.shop();
    let rows: Vec<Value> = (shop.sales.iter())
        .filter(|sale| sale.store_id == store && sale.completed_at.is_none())
        .map(|sale| sim.render.sale_summary(sale))
        .collect();
    Json(rows).into_response()
}

pub(super) async fn sale(State(sim): Sim, Path(id): Path<i64>) -> Response {
    let shop = sim.shop();
    match shop.sale(id) {
        Some(sale) => Json(json!([sim.render.sale(&shop, sale)])).into_response(),
        None => missing(&sim, "Sale not found"),
    }
}

pub(super) async fn search_ext_ref(State(sim): Sim, Path(ext_ref): Path<String>) -> Response {
    let shop = sim.shop();
    let rows: Vec<Value> = (shop.sales.iter())
        .filter(|sale| !ext_ref.is_empty() && sale.ext_ref == ext_ref)
        .map(|sale| sim.render.sale_summary(sale))
        .collect();
    Json(rows).into_response()
}
