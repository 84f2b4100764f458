//! Extractors that answer bad input in the API's error shape, and the lenient id type the
//! original's clients rely on (an id may be sent as a number or a string).

use super::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::marker::PhantomData;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// `Json<T>`, rejecting in the API's error shape; the body must be a JSON object (serde would
/// otherwise read a struct from a list of its fields in order: `["sq-main"]` as a whole request).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(JsonObject(body)) =
            axum::Json::<JsonObject<T>>::from_request(request, state).await?;
        Ok(Self(body))
    }
}

/// `T` read from a JSON object only.
struct JsonObject<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(JsonObject)
    }
}

/// `Query<T>`, rejecting in the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path<T>`, rejecting in the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// An identifier given as a JSON string or a whole number (`"42"` and `42` are the same id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlexId(pub String);

/// Longest id taken (the `stock` table's key columns are 191 characters).
const MAX_ID_CHARS: usize = 191;

impl utoipa::PartialSchema for FlexId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Integer]))
            .min_length(Some(1))
            .max_length(Some(MAX_ID_CHARS))
            .description(Some(
                "An id, as a string or a whole number (`42` and `\"42\"` are the same id)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for FlexId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Id")
    }
}

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FlexIdVisitor)
    }
}

struct FlexIdVisitor;

impl serde::de::Visitor<'_> for FlexIdVisitor {
    type Value = FlexId;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an id as a string or a whole number")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<FlexId, E> {
        let text = value.trim();
        if text.is_empty() {
            return Err(E::custom("an id must not be empty"));
        }
        if text.len() > MAX_ID_CHARS {
            return Err(E::custom(format!(
                "an id must be at most {MAX_ID_CHARS} characters"
            )));
        }
        Ok(FlexId(text.to_owned()))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<FlexId, E> {
        Ok(FlexId(value.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<FlexId, E> {
        Ok(FlexId(value.to_string()))
    }
}

/// An optional query filter (`?state=dead`) that must be one of `names`.
pub fn filter<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<Option<T>, ApiError> {
    value
        .map(|name| {
            parse(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{field} '{name}' is not one of {}",
                    names.join(", ")
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        account_id: String,
    }

    #[test]
    fn a_body_is_read_from_an_object_only() {
        let read =
            |text: &str| serde_json::from_str::<JsonObject<Body>>(text).map(|b| b.0.account_id);
        assert_eq!(read(r#"{"account_id": "sq-main"}"#).unwrap(), "sq-main");
        let list = read(r#"["sq-main"]"#).unwrap_err().to_string();
        assert!(list.contains("expected a JSON object"), "{list}");
        let missing = read("{}").unwrap_err().to_string();
        assert!(missing.contains("missing field `account_id`"), "{missing}");
    }
}
