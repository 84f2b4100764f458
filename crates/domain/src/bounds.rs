//! The bounds of every number a request may carry, in one place (the API, its OpenAPI
//! description and the README state these), and the newtypes that hold a number known to be
//! within them. A request's number is parsed into one of these at the boundary, so nothing past
//! it can overflow on it or send it to a POS.
//!
//! A number in a JSON body must be a JSON number (`"5"` is refused: only the configuration file
//! reads numbers written as strings, as the original did); one in a query string is text.
//! Whatever is wrong with it, the message states the bound.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// Units one web sale or return may move (`delta`).
pub const MAX_UNITS: i64 = 1_000_000;
/// Cents one web sale or return may be worth (`balance`): ten million in the shop's currency.
pub const MAX_CENTS: i64 = 1_000_000_000;
/// The highest sale limit a link may have (`limit_quantity`).
pub const MAX_LIMIT_QUANTITY: i64 = 1_000_000_000;
/// The last page a paginated list may be asked for (`page`).
pub const MAX_PAGE: i64 = 1_000_000;
/// The most rows one page may hold (`per_page`).
pub const MAX_PER_PAGE: i64 = 1_000;

// The offset of the last row of the last page fits in an i64 with room to spare.
const _: () = assert!(MAX_PAGE.checked_mul(MAX_PER_PAGE).is_some());

/// Defines a newtype over `i64` holding a value in `$min..=$max`, read from a JSON number or,
/// for query strings, from text (`$read`: `deserialize_i64` or `deserialize_str`).
macro_rules! bounded {
    ($doc:literal $name:ident: $min:literal ..= $max:ident, from $read:ident) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const MIN: i64 = $min;
            pub const MAX: i64 = $max;
            /// The smallest value taken.
            pub const LOWEST: Self = Self($min);

            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = OutOfRange;

            fn try_from(value: i64) -> Result<Self, OutOfRange> {
                within(value as f64, &value, Self::MIN, Self::MAX).map(Self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer
                    .$read(WholeNumber {
                        min: Self::MIN,
                        max: Self::MAX,
                    })
                    .map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                schema(Self::MIN, Self::MAX, $doc)
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

bounded!(
    "Units sold or given back by one web sale or return (`delta`)."
    Units: 1..=MAX_UNITS, from deserialize_i64
);
bounded!(
    "What a web sale was paid, or a return refunded, in cents (`balance`)."
    Cents: 0..=MAX_CENTS, from deserialize_i64
);
bounded!(
    "A link's sale limit: web sales stop before its quantity goes below it (`limit_quantity`)."
    LimitQuantity: 0..=MAX_LIMIT_QUANTITY, from deserialize_i64
);
bounded!(
    "A page number, from 1 (`page`)."
    PageNumber: 1..=MAX_PAGE, from deserialize_str
);
bounded!(
    "Rows per page (`per_page`)."
    PerPage: 1..=MAX_PER_PAGE, from deserialize_str
);

impl PerPage {
    /// Rows per page when a request does not say.
    pub const DEFAULT: Self = Self(100);
}

/// A number outside its bounds, or not a whole number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from {min} to {max} (got {got})")]
pub struct OutOfRange {
    pub min: i64,
    pub max: i64,
    /// The value as given (text cut to 32 characters).
    pub got: String,
}

/// `value` as an i64 when it is whole and in `min..=max`; `shown` is how the error shows it.
fn within(value: f64, shown: &dyn fmt::Display, min: i64, max: i64) -> Result<i64, OutOfRange> {
    // Every bound is far below 2^53, so comparing as f64 is exact here.
    if value.fract() == 0.0 && (min as f64..=max as f64).contains(&value) {
        Ok(value as i64)
    } else {
        Err(OutOfRange {
            min,
            max,
            got: shown.to_string(),
        })
    }
}

/// Reads a whole number within bounds from any JSON number, or from text.
struct WholeNumber {
    min: i64,
    max: i64,
}

impl WholeNumber {
    fn check<E: serde::de::Error>(&self, value: f64, shown: &dyn fmt::Display) -> Result<i64, E> {
        within(value, shown, self.min, self.max).map_err(E::custom)
    }
}

impl serde::de::Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number from {} to {}", self.min, self.max)
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<i64, E> {
        self.check(value as f64, &value)
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<i64, E> {
        self.check(value as f64, &value)
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<i64, E> {
        self.check(value, &value)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<i64, E> {
        let shown = format!("'{}'", text.chars().take(32).collect::<String>());
        match text.trim().parse::<i64>() {
            Ok(value) => self.check(value as f64, &shown),
            Err(_) => Err(E::custom(OutOfRange {
                min: self.min,
                max: self.max,
                got: shown,
            })),
        }
    }
}

/// An integer schema with its bounds, for the OpenAPI description.
fn schema(min: i64, max: i64, doc: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(doc))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn takes_whole_json_numbers_within_bounds() {
        assert_eq!(from_json::<Units>("1"), Ok(Units(1)));
        assert_eq!(from_json::<Units>("1000000"), Ok(Units(MAX_UNITS)));
        assert_eq!(from_json::<Cents>("0"), Ok(Cents(0)));
        assert_eq!(from_json::<Cents>("2.0"), Ok(Cents(2)));
        assert_eq!(
            from_json::<LimitQuantity>("1000000000"),
            Ok(LimitQuantity(MAX_LIMIT_QUANTITY))
        );
    }

    #[test]
    fn refuses_everything_else_stating_the_bound() {
        for json in [
            "0",
            "-1",
            "1000001",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "1e30",
            "-1e30",
            "1.5",
            "\"5\"",
            "null",
            "true",
        ] {
            let err = from_json::<Units>(json).unwrap_err();
            assert!(
                err.contains("a whole number from 1 to 1000000"),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn query_numbers_are_read_from_text() {
        use serde::de::IntoDeserializer;
        let read = |text: &str| -> Result<PageNumber, String> {
            let text: serde::de::value::StrDeserializer<serde::de::value::Error> =
                text.into_deserializer();
            PageNumber::deserialize(text).map_err(|e| e.to_string())
        };
        assert_eq!(read("7"), Ok(PageNumber(7)));
        for bad in ["0", "abc", "1e30", "99999999999999999999", "-5", "1000001"] {
            let err = read(bad).unwrap_err();
            assert!(err.contains("from 1 to 1000000"), "{bad}: {err}");
        }
    }

    #[test]
    fn try_from_checks_the_same_bounds() {
        assert_eq!(PerPage::try_from(1000), Ok(PerPage(1000)));
        assert_eq!(
            PerPage::try_from(i64::MAX).unwrap_err().to_string(),
            "must be a whole number from 1 to 1000 (got 9223372036854775807)"
        );
        assert!(Units::try_from(i64::MIN).is_err());
    }
}
