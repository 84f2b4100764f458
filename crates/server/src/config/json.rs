//! Reading `appsettings.json` the way .NET's configuration binder does: keys are matched without
//! regard to case, and numbers may be written as strings (and strings as numbers). Every problem
//! is collected with its JSON path, so one run lists them all.

use serde_json::{Map, Value};

/// The problems found so far, each starting with the JSON path it concerns.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Problems {
    pub fn error(&mut self, path: &str, message: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {message}"));
    }
    pub fn warn(&mut self, path: &str, message: impl std::fmt::Display) {
        self.warnings.push(format!("{path}: {message}"));
    }
}

/// A JSON object with the path that leads to it.
pub struct Section<'a> {
    pub path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Section<'a> {
    pub fn new(path: impl Into<String>, map: &'a Map<String, Value>) -> Self {
        Self {
            path: path.into(),
            map,
        }
    }

    /// The path of one of this section's keys.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value under `key`, matched without regard to case; `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// Keys present here that are not in `known` (compared without regard to case).
    pub fn unknown_keys(&self, known: &[&str]) -> Vec<&'a str> {
        self.map
            .keys()
            .filter(|k| !known.iter().any(|known| known.eq_ignore_ascii_case(k)))
            .map(String::as_str)
            .collect()
    }

    pub fn section(&self, key: &str, problems: &mut Problems) -> Option<Section<'a>> {
        match self.get(key)? {
            Value::Object(map) => Some(Section::new(self.path_of(key), map)),
            other => {
                problems.error(
                    &self.path_of(key),
                    format!("must be an object, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// A string (a number is taken as its decimal text). Empty strings count as absent.
    pub fn string(&self, key: &str, problems: &mut Problems) -> Option<String> {
        match self.get(key)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                problems.error(
                    &self.path_of(key),
                    format!("must be a string, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// A string that must be there.
    pub fn required_string(&self, key: &str, why: &str, problems: &mut Problems) -> Option<String> {
        let value = self.string(key, problems);
        if value.is_none() && self.get(key).is_none_or(|v| v.is_string()) {
            problems.error(&self.path_of(key), format!("is missing ({why})"));
        }
        value
    }

    /// An integer (a numeric string is accepted).
    pub fn integer(&self, key: &str, problems: &mut Problems) -> Option<i64> {
        let value = self.get(key)?;
        let parsed = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            problems.error(
                &self.path_of(key),
                format!("must be a whole number, not {}", kind(value)),
            );
        }
        parsed
    }

    /// A number of seconds, decimals allowed (a numeric string is accepted), from `min` to `max`.
    pub fn seconds(&self, key: &str, min: f64, max: f64, problems: &mut Problems) -> Option<f64> {
        let value = self.get(key)?;
        let parsed = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match parsed {
            Some(seconds) if (min..=max).contains(&seconds) => Some(seconds),
            _ => {
                problems.error(
                    &self.path_of(key),
                    format!("must be a number of seconds from {min} to {max}"),
                );
                None
            }
        }
    }

    /// A list of strings; a single comma-separated string is accepted too.
    pub fn string_list(&self, key: &str, problems: &mut Problems) -> Vec<String> {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match self.get(key) {
            None => Vec::new(),
            Some(Value::String(s)) => split(s),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                    other => {
                        problems.error(
                            &format!("{}[{i}]", self.path_of(key)),
                            format!("must be a non-empty string, not {}", kind(other)),
                        );
                        None
                    }
                })
                .collect(),
            Some(other) => {
                problems.error(
                    &self.path_of(key),
                    format!("must be a list of strings, not {}", kind(other)),
                );
                Vec::new()
            }
        }
    }
}

/// How a JSON value is named in messages (never its content: it may be a secret).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
