//! The simulator's inventory endpoints: `counts/batch-retrieve` (newest `calculated_at` first,
//! `updated_after`, limit 1–1000, cursors tied to their filters), `changes/batch-create`
//! (checked like Square: at most 100 changes, `occurred_at` within the last 24 h and not in the
//! future, quantities with at most 5 decimals; idempotent: the same key and body replay the
//! stored answer, the same key with another body is `IDEMPOTENCY_KEY_REUSED`) and
//! `changes/batch-retrieve` (oldest first), with their JSON shapes.

use super::Shared;
use super::routes::{
    Answer, Refusal, answer, cursor, error, filters, invalid, limit, list_value, position,
    read_body,
};
use super::state::{ChangeKind, CountKey, NewChange, State};
use super::units;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::Arc;

const STATES: &[&str] = &[
    "IN_STOCK",
    "SOLD",
    "RETURNED_BY_CUSTOMER",
    "RESERVED_FOR_SALE",
    "SOLD_ONLINE",
    "ORDERED_FROM_VENDOR",
    "RECEIVED_FROM_VENDOR",
    "IN_TRANSIT_TO",
    "NONE",
    "WASTE",
    "UNLINKED_RETURN",
    "COMPOSED",
    "DECOMPOSED",
    "SUPPORTED_BY_NEWER_VERSION",
    "IN_TRANSIT",
];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CountsRequest {
    catalog_object_ids: Option<Vec<String>>,
    location_ids: Option<Vec<String>>,
    updated_after: Option<String>,
    states: Option<Vec<String>>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn counts(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, raw): (CountsRequest, Value) = read_body(&body)?;
    let limit = limit(request.limit, 1000, 1000)?;
    let filters = filters(&raw);
    let after: Option<(i64, usize, usize)> = match &request.cursor {
        Some(c) => Some(position(c, &filters)?),
        None => None,
    };
    let updated_after = time(request.updated_after.as_deref(), "updated_after")?;
    let states = check_states(request.states.as_deref(), "states")?;
    if request
        .catalog_object_ids
        .as_ref()
        .is_some_and(|ids| ids.len() > 1000)
    {
        return Err(invalid(
            "INVALID_VALUE",
            "At most 1000 catalog_object_ids.",
            Some("catalog_object_ids"),
        ));
    }
    let state = shared.state();
    let locations = location_filter(&state, request.location_ids.as_deref());
    // Only IN_STOCK counts are simulated.
    let in_stock = states.is_none_or(|s| s.contains(&"IN_STOCK"));
    let selected: Cow<'_, BTreeSet<CountKey>> = match &request.catalog_object_ids {
        None => Cow::Borrowed(&state.newest_first),
        Some(ids) => Cow::Owned(
            ids.iter()
                .filter_map(|id| state.variation(id))
                .flat_map(|v| (0..state.locations.len()).map(move |l| (v, l)))
                .filter_map(|key| {
                    state
                        .counts
                        .get(&key)
                        .map(|c| (Reverse(c.calculated_at), key.0, key.1))
                })
                .collect(),
        ),
    };
    let start = match after {
        Some((millis, v, l)) => {
            let at = DateTime::from_timestamp_millis(millis).unwrap_or_default();
            Bound::Excluded((Reverse(at), v, l))
        }
        None => Bound::Unbounded,
    };
    let mut counts = Vec::new();
    let mut last = None;
    let mut next = None;
    for &(Reverse(at), v, l) in selected.range((start, Bound::Unbounded)) {
        if updated_after.is_some_and(|t| at <= t) {
            break; // newest first: every other row is older still
        }
        if !in_stock || !locations.contains(&l) {
            continue;
        }
        if counts.len() == limit {
            next = last.map(|position: (i64, usize, usize)| cursor(json!(position), &filters));
            break;
        }
        counts.push(count_json(&state, v, l));
        last = Some((at.timestamp_millis(), v, l));
    }
    Ok(Json(answer([("counts", list_value(counts))], next)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BatchCreateRequest {
    idempotency_key: Option<String>,
    changes: Vec<ChangeBody>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    adjustment: Option<ChangeFields>,
    physical_count: Option<ChangeFields>,
}

/// The fields of an adjustment or of a physical count.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeFields {
    catalog_object_id: Option<String>,
    location_id: Option<String>,
    from_state: Option<String>,
    to_state: Option<String>,
    state: Option<String>,
    quantity: Option<String>,
    occurred_at: Option<String>,
    reference_id: Option<String>,
}

pub async fn batch_create(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, raw): (BatchCreateRequest, Value) = read_body(&body)?;
    let key = request
        .idempotency_key
        .filter(|k| (1..=128).contains(&k.chars().count()))
        .ok_or_else(|| {
            invalid(
                "INVALID_VALUE",
                "idempotency_key must have 1 to 128 characters.",
                Some("idempotency_key"),
            )
        })?;
    let (body, counts) = {
        let mut state = shared.state();
        if let Some((stored_request, stored_answer)) = state.idempotency.get(&key) {
            if *stored_request == raw {
                return Ok(Json(stored_answer.clone()));
            }
            return Err(invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key was already used for a different request.",
                Some("idempotency_key"),
            ));
        }
        if request.changes.is_empty() || request.changes.len() > 100 {
            return Err(invalid(
                "INVALID_VALUE",
                "changes must hold 1 to 100 changes.",
                Some("changes"),
            ));
        }
        let now = Utc::now();
        let checked = request
            .changes
            .iter()
            .enumerate()
            .map(|(i, change)| check_change(&state, i, change, now))
            .collect::<Result<Vec<_>, _>>()?;
        let at = state.tick();
        let positions: Vec<usize> = checked.into_iter().map(|c| state.record(c, at)).collect();
        for &p in &positions {
            if matches!(&state.ledger[p].kind, ChangeKind::Adjustment { from, to } if from == "IN_STOCK" && to == "SOLD")
            {
                state.web_sales.push(p);
            }
        }
        let touched: BTreeSet<(usize, usize)> = positions
            .iter()
            .map(|&p| (state.ledger[p].variation, state.ledger[p].location))
            .collect();
        let counts: Vec<Value> = touched
            .into_iter()
            .filter(|key| state.counts.contains_key(key))
            .map(|(v, l)| count_json(&state, v, l))
            .collect();
        let changes = positions.iter().map(|&p| change_json(&state, p)).collect();
        let body = answer(
            [
                ("counts", list_value(counts.clone())),
                ("changes", list_value(changes)),
            ],
            None,
        );
        state.idempotency.insert(key, (raw, body.clone()));
        (body, counts)
    };
    shared.notify(counts);
    Ok(Json(body))
}

fn check_change(
    state: &State,
    i: usize,
    change: &ChangeBody,
    now: DateTime<Utc>,
) -> Result<NewChange, Refusal> {
    let (fields, prefix, is_count) = match (
        change.kind.as_deref(),
        &change.adjustment,
        &change.physical_count,
    ) {
        (Some("ADJUSTMENT"), Some(fields), _) => {
            (fields, format!("changes[{i}].adjustment"), false)
        }
        (Some("PHYSICAL_COUNT"), _, Some(fields)) => {
            (fields, format!("changes[{i}].physical_count"), true)
        }
        _ => {
            let field = format!("changes[{i}].type");
            return Err(invalid(
                "INVALID_VALUE",
                "Each change must be an ADJUSTMENT with `adjustment` or a PHYSICAL_COUNT with `physical_count`.",
                Some(&field),
            ));
        }
    };
    let field = |name: &str| format!("{prefix}.{name}");
    let bad = |name: &str, detail: &str| invalid("INVALID_VALUE", detail, Some(&field(name)));
    let object_id = fields.catalog_object_id.as_deref().unwrap_or("");
    let variation = state.variation(object_id).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_ERROR",
            "NOT_FOUND",
            &format!("Item variation with ID `{object_id}` not found."),
            Some(&field("catalog_object_id")),
        )
    })?;
    let location = fields
        .location_id
        .as_deref()
        .and_then(|id| state.location(id))
        .filter(|&l| state.locations[l].active)
        .ok_or_else(|| bad("location_id", "Unknown or inactive location."))?;
    let units = fields
        .quantity
        .as_deref()
        .and_then(units::parse)
        .ok_or_else(|| {
            bad(
                "quantity",
                "The quantity must be a decimal with at most 5 decimals.",
            )
        })?;
    let occurred_at = time(fields.occurred_at.as_deref(), &field("occurred_at"))?
        .ok_or_else(|| bad("occurred_at", "occurred_at is required."))?;
    if occurred_at > now + TimeDelta::seconds(1) || occurred_at < now - TimeDelta::hours(24) {
        return Err(bad(
            "occurred_at",
            "occurred_at must be within the last 24 hours and not in the future.",
        ));
    }
    if fields
        .reference_id
        .as_ref()
        .is_some_and(|r| r.chars().count() > 255)
    {
        return Err(bad(
            "reference_id",
            "reference_id has at most 255 characters.",
        ));
    }
    let kind = if is_count {
        if fields.state.as_deref() != Some("IN_STOCK") || units < 0 {
            return Err(bad(
                "state",
                "The simulator counts IN_STOCK quantities of 0 or more.",
            ));
        }
        ChangeKind::PhysicalCount
    } else {
        let from = fields.from_state.clone().unwrap_or_default();
        let to = fields.to_state.clone().unwrap_or_default();
        check_states(Some(&[from.clone(), to.clone()]), &field("from_state"))?;
        if from == to || units <= 0 {
            return Err(bad(
                "quantity",
                "An adjustment moves a positive quantity between two states.",
            ));
        }
        ChangeKind::Adjustment { from, to }
    };
    Ok(NewChange {
        kind,
        variation,
        location,
        units,
        occurred_at,
        reference_id: fields.reference_id.clone(),
        product: "EXTERNAL_API",
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangesRequest {
    catalog_object_ids: Option<Vec<String>>,
    location_ids: Option<Vec<String>>,
    types: Option<Vec<String>>,
    states: Option<Vec<String>>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn changes(Extract(shared): Extract<Arc<Shared>>, body: Bytes) -> Answer {
    let (request, raw): (ChangesRequest, Value) = read_body(&body)?;
    let limit = limit(request.limit, 100, 1000)?;
    let filters = filters(&raw);
    let after: Option<usize> = match &request.cursor {
        Some(c) => Some(position(c, &filters)?),
        None => None,
    };
    let updated_after = time(request.updated_after.as_deref(), "updated_after")?;
    let updated_before = time(request.updated_before.as_deref(), "updated_before")?;
    let states = check_states(request.states.as_deref(), "states")?;
    let types = request
        .types
        .unwrap_or_else(|| vec!["PHYSICAL_COUNT".into(), "ADJUSTMENT".into()]);
    let state = shared.state();
    let locations = location_filter(&state, request.location_ids.as_deref());
    let positions: Vec<usize> = match &request.catalog_object_ids {
        Some(ids) => {
            let mut positions: Vec<usize> = ids
                .iter()
                .filter_map(|id| state.variation(id))
                .flat_map(|v| {
                    state
                        .ledger_by_variation
                        .get(&v)
                        .into_iter()
                        .flatten()
                        .copied()
                })
                .collect();
            positions.sort_unstable();
            positions
        }
        None => (0..state.ledger.len()).collect(),
    };
    let wanted = positions
        .into_iter()
        .filter(|&p| after.is_none_or(|a| p > a))
        .filter(|&p| {
            let change = &state.ledger[p];
            let (kind, touches) = match &change.kind {
                ChangeKind::Adjustment { from, to } => {
                    ("ADJUSTMENT", vec![from.as_str(), to.as_str()])
                }
                ChangeKind::PhysicalCount => ("PHYSICAL_COUNT", vec!["IN_STOCK"]),
            };
            types.iter().any(|t| t == kind)
                && locations.contains(&change.location)
                && states
                    .as_ref()
                    .is_none_or(|s| touches.iter().any(|t| s.contains(t)))
                && updated_after.is_none_or(|t| change.created_at > t)
                && updated_before.is_none_or(|t| change.created_at <= t)
        });
    let mut page = Vec::new();
    let mut next = None;
    for p in wanted {
        if page.len() == limit {
            next = Some(cursor(json!(page.last()), &filters));
            break;
        }
        page.push(p);
    }
    let changes = page.iter().map(|&p| change_json(&state, p)).collect();
    Ok(Json(answer([("changes", list_value(changes))], next)))
}

/// One `IN_STOCK` count as Square writes it.
pub fn count_json(state: &State, variation: usize, location: usize) -> Value {
    let count = state.counts[&(variation, location)];
    json!({
        "catalog_object_id": state.variations[variation].id,
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": state.locations[location].id,
        "quantity": units::format(count.units),
        "calculated_at": format_time(count.calculated_at),
    })
}

fn change_json(state: &State, position: usize) -> Value {
    let change = &state.ledger[position];
    let mut fields = json!({
        "id": change.id,
        "catalog_object_id": state.variations[change.variation].id,
        "catalog_object_type": "ITEM_VARIATION",
        "location_id": state.locations[change.location].id,
        "quantity": units::format(change.units),
        "occurred_at": format_time(change.occurred_at),
        "created_at": format_time(change.created_at),
        "source": { "product": change.product, "name": "stocksync simulator" },
    });
    if let Some(reference) = &change.reference_id {
        fields["reference_id"] = reference.clone().into();
    }
    match &change.kind {
        ChangeKind::Adjustment { from, to } => {
            fields["from_state"] = from.clone().into();
            fields["to_state"] = to.clone().into();
            json!({ "type": "ADJUSTMENT", "adjustment": fields })
        }
        ChangeKind::PhysicalCount => {
            fields["state"] = "IN_STOCK".into();
            json!({ "type": "PHYSICAL_COUNT", "physical_count": fields })
        }
    }
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An optional RFC 3339 time (offsets accepted), or a 400 naming `field`.
fn time(text: Option<&str>, field: &str) -> Result<Option<DateTime<Utc>>, Refusal> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid("INVALID_VALUE", "Expected an RFC 3339 time.", Some(field)))
    })
    .transpose()
}

/// Inventory states, each one Square knows, or a 400 naming `field`.
fn check_states<'a>(
    states: Option<&'a [String]>,
    field: &str,
) -> Result<Option<Vec<&'a str>>, Refusal> {
    let Some(states) = states else {
        return Ok(None);
    };
    match states.iter().find(|s| !STATES.contains(&s.as_str())) {
        Some(unknown) => Err(invalid(
            "INVALID_VALUE",
            &format!("`{unknown}` is not an inventory state."),
            Some(field),
        )),
        None => Ok(Some(states.iter().map(String::as_str).collect())),
    }
}

/// The locations asked for (every one when none are named).
fn location_filter(state: &State, ids: Option<&[String]>) -> HashSet<usize> {
    match ids {
        Some(ids) if !ids.is_empty() => ids.iter().filter_map(|id| state.location(id)).collect(),
        _ => (0..state.locations.len()).collect(),
    }
}
