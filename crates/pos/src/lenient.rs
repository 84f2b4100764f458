//! Serde readers for vendors' loose typing: numbers sent as strings (Lightspeed sends every
//! scalar as a string, Hiboutik mixes), and lists sent as a single object when they have one
//! element (Lightspeed), or as `""` when empty; decimal amounts read in cents without floats.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;

/// An integer written as a JSON number or a numeric string (`"33"`, `33`, `"33.0"`).
pub fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    as_int(&value).ok_or_else(|| de::Error::custom(format!("expected an integer, got {value}")))
}

/// Like [`int`], with `null`, a missing field or `""` read as `None`.
pub fn opt_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(value) => as_int(&value)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {value}"))),
    }
}

/// Text written as a JSON string or a number (`"141"` and `141` are the same id).
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

/// A boolean written as `true`, `"true"`, `1` or `"1"` (and their opposites).
pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(b) => Ok(b),
        Value::Number(n) => Ok(n.as_i64().unwrap_or(0) != 0),
        Value::String(s) => match s.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            other => Err(de::Error::custom(format!(
                "expected a boolean, got '{other}'"
            ))),
        },
        other => Err(de::Error::custom(format!(
            "expected a boolean, got {other}"
        ))),
    }
}

/// A list written as an array, as a single object (one element), as `""` or `null` (empty).
pub fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(single) => vec![single],
    };
    items
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(de::Error::custom))
        .collect()
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.is_finite())
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A decimal amount (`"19.00"`, `"-9.5"`, `"12"`, `"0.125"`) in cents, rounded half away from
/// zero past the second decimal, without floating point. `None` when it is not a plain
/// decimal or does not fit.
pub fn cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let digit = |index: usize| i64::from(fraction.as_bytes().get(index).map_or(0, |b| b - b'0'));
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole
        .checked_mul(100)?
        .checked_add(digit(0) * 10 + digit(1))?;
    if digit(2) >= 5 {
        value = value.checked_add(1)?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        #[serde(deserialize_with = "int")]
        qoh: i64,
        #[serde(deserialize_with = "text")]
        id: String,
        #[serde(default, deserialize_with = "opt_int")]
        shop: Option<i64>,
        #[serde(deserialize_with = "boolean")]
        completed: bool,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Page {
        #[serde(default, deserialize_with = "one_or_many")]
        rows: Vec<Row>,
    }

    #[test]
    fn numbers_may_be_strings_and_single_lists_objects() {
        let one: Page = serde_json::from_str(
            r#"{"rows": {"qoh": "33", "id": 141, "shop": "", "completed": "true"}}"#,
        )
        .unwrap();
        assert_eq!(
            one.rows,
            [Row {
                qoh: 33,
                id: "141".into(),
                shop: None,
                completed: true
            }]
        );
        let two: Page = serde_json::from_str(
            r#"{"rows": [{"qoh": -2, "id": "1", "shop": "3", "completed": 0},
                         {"qoh": "4.0", "id": "2", "completed": false}]}"#,
        )
        .unwrap();
        assert_eq!(two.rows[0].qoh, -2);
        assert_eq!(two.rows[0].shop, Some(3));
        assert_eq!(two.rows[1].qoh, 4);
        let empty: Page = serde_json::from_str(r#"{"rows": ""}"#).unwrap();
        assert!(empty.rows.is_empty());
        let absent: Page = serde_json::from_str("{}").unwrap();
        assert!(absent.rows.is_empty());
    }

    #[test]
    fn garbage_is_an_error_that_says_what_it_got() {
        let err = serde_json::from_str::<Row>(r#"{"qoh": "lots", "id": "1", "completed": true}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected an integer, got \"lots\""), "{err}");
        assert!(
            serde_json::from_str::<Row>(r#"{"qoh": "1.5", "id": "1", "completed": true}"#).is_err()
        );
    }

    #[test]
    fn amounts_are_read_exactly_in_cents() {
        assert_eq!(cents("19.00"), Some(1900));
        assert_eq!(cents("19.5"), Some(1950));
        assert_eq!(cents("19"), Some(1900));
        assert_eq!(cents(".5"), Some(50));
        assert_eq!(cents("-9.50"), Some(-950));
        assert_eq!(cents("0.125"), Some(13), "half away from zero");
        assert_eq!(cents("-0.125"), Some(-13));
        assert_eq!(cents("0.1249"), Some(12));
        assert_eq!(cents("1234567.89"), Some(123_456_789));
        for bad in [
            "",
            ".",
            "1e3",
            "1,50",
            "abc",
            "--1",
            "1.2.3",
            "99999999999999999999.00",
        ] {
            assert_eq!(cents(bad), None, "{bad}");
        }
    }
}
