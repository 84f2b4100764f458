//! Filters of V3 list queries, `field={op},{value}`: `=`, `!=`, `>`, `>=`, `<`, `<=`, `><`
//! (between), `~` / `!~` (LIKE with `%` and `_`, without case) and `IN,[a,b]` (≤ 100 values),
//! on typed field values.

use super::query::MAX_LIMIT;
use chrono::DateTime;
use std::cmp::Ordering;

/// A field's value, typed so that filters and sorting compare like with like.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(i64),
    /// Money and other decimals.
    Num(f64),
    Text(String),
    /// Seconds since the epoch.
    Time(i64),
    Bool(bool),
}

impl Val {
    pub fn compare(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Int(a), Val::Int(b)) | (Val::Time(a), Val::Time(b)) => a.cmp(b),
            (Val::Num(a), Val::Num(b)) => a.total_cmp(b),
            (Val::Text(a), Val::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }

    /// Reads a filter operand as the same kind of value as `self`.
    fn operand(&self, text: &str) -> Result<Val, String> {
        let text = text.trim();
        let bad = |kind: &str| format!("'{text}' is not {kind}");
        Ok(match self {
            Val::Int(_) => Val::Int(text.parse().map_err(|_| bad("an integer"))?),
            Val::Num(_) => Val::Num(text.parse().map_err(|_| bad("a number"))?),
            Val::Text(_) => Val::Text(text.to_owned()),
            Val::Time(_) => Val::Time(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| bad("an ISO 8601 time with an offset"))?
                    .timestamp(),
            ),
            Val::Bool(_) => Val::Bool(match text {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(bad("true or false")),
            }),
        })
    }

    /// The value in a cursor: a kind letter, then the value.
    pub fn encode(&self) -> String {
        match self {
            Val::Int(v) => format!("i{v}"),
            Val::Num(v) => format!("n{v}"),
            Val::Text(v) => format!("s{v}"),
            Val::Time(v) => format!("t{v}"),
            Val::Bool(v) => format!("b{v}"),
        }
    }

    pub fn decode(text: &str) -> Option<Val> {
        let (kind, rest) = text.split_at_checked(1)?;
        Some(match kind {
            "i" => Val::Int(rest.parse().ok()?),
            "n" => Val::Num(rest.parse().ok()?),
            "s" => Val::Text(rest.to_owned()),
            "t" => Val::Time(rest.parse().ok()?),
            "b" => Val::Bool(rest.parse().ok()?),
            _ => return None,
        })
    }
}

/// What a resource's rows expose to queries.
pub trait Row {
    fn id(&self) -> i64;
    /// The value of a filterable or sortable field, `None` if the resource has no such field.
    fn field(&self, name: &str) -> Option<Val>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Between,
    Like,
    NotLike,
    In,
}

/// One `field={op},{value}` filter, its operands read as the field's kind of value.
#[derive(Clone, Debug)]
pub struct Filter {
    pub field: String,
    op: Op,
    operands: Vec<Val>,
    /// The lower-cased pattern of `~` and `!~`.
    pattern: String,
}

impl Filter {
    /// `value` is `{op},{operand}` (or a bare operand: `=`); `kind` types the operands.
    pub fn parse(field: &str, value: &str, kind: &Val) -> Result<Self, String> {
        const OPS: [(&str, Op); 10] = [
            ("IN", Op::In),
            ("><", Op::Between),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("!~", Op::NotLike),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("~", Op::Like),
            ("=", Op::Eq),
        ];
        let (op, rest) = OPS
            .iter()
            .find_map(|(text, op)| {
                value
                    .strip_prefix(text)
                    .and_then(|rest| rest.strip_prefix(','))
                    .map(|rest| (*op, rest))
            })
            .unwrap_or((Op::Eq, value));
        let operands = match op {
            Op::In => {
                let list = rest
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| format!("{field}: IN takes a list in brackets, not '{rest}'"))?;
                let items: Vec<String> = list
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .collect();
                if items.len() > MAX_LIMIT {
                    return Err(format!(
                        "{field}: IN takes at most {MAX_LIMIT} values, not {}",
                        items.len()
                    ));
                }
                items
            }
            Op::Between => {
                let (low, high) = rest
                    .split_once(',')
                    .ok_or_else(|| format!("{field}: >< takes two values, not '{rest}'"))?;
                vec![low.to_owned(), high.to_owned()]
            }
            _ => vec![rest.to_owned()],
        };
        let like = matches!(op, Op::Like | Op::NotLike);
        Ok(Self {
            field: field.to_owned(),
            op,
            pattern: if like {
                operands[0].to_lowercase()
            } else {
                String::new()
            },
            operands: if like {
                Vec::new()
            } else {
                operands
                    .iter()
                    .map(|operand| {
                        kind.operand(operand)
                            .map_err(|err| format!("{field}: {err}"))
                    })
                    .collect::<Result<_, _>>()?
            },
        })
    }

    /// The integers an `=` or `IN` filter allows.
    pub fn allowed_ids(&self) -> Option<Vec<i64>> {
        matches!(self.op, Op::Eq | Op::In).then(|| {
            self.operands
                .iter()
                .filter_map(|v| match v {
                    Val::Int(id) => Some(*id),
                    _ => None,
                })
                .collect()
        })
    }

    pub fn matches<R: Row>(&self, row: &R) -> bool {
        let Some(value) = row.field(&self.field) else {
            return false;
        };
        let cmp = |i: usize| value.compare(&self.operands[i]);
        match self.op {
            Op::Eq => cmp(0) == Ordering::Equal,
            Op::Ne => cmp(0) != Ordering::Equal,
            Op::Gt => cmp(0) == Ordering::Greater,
            Op::Ge => cmp(0) != Ordering::Less,
            Op::Lt => cmp(0) == Ordering::Less,
            Op::Le => cmp(0) != Ordering::Greater,
            Op::Between => cmp(0) != Ordering::Less && cmp(1) != Ordering::Greater,
            Op::In => (0..self.operands.len()).any(|i| cmp(i) == Ordering::Equal),
            Op::Like | Op::NotLike => {
                let text = match &value {
                    Val::Text(text) => text.to_lowercase(),
                    Val::Int(v) | Val::Time(v) => v.to_string(),
                    Val::Num(v) => v.to_string(),
                    Val::Bool(v) => v.to_string(),
                };
                like(&text, &self.pattern) == (self.op == Op::Like)
            }
        }
    }
}

/// SQL LIKE: `%` any run, `_` any one character.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '_' || pattern[p] == text[t]) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '%' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_wildcards() {
        assert!(like("blue mug 00001", "%mug%"));
        assert!(like("mug", "m_g"));
        assert!(!like("mug", "m_"));
        assert!(like("", "%"));
    }
}
