//! The V3 list query language, as the simulator understands it: `limit` (≤ 100), `sort` on the
//! resource's sortable fields (`-field` descending), opaque base64 `after`/`before` cursors,
//! `count=1`, `load_relations`, `archived`, and filters (`filter`). Also the page cut and the
//! `next`/`previous` links.

use super::filter::{Filter, Row, Val};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::cmp::Ordering;

/// The most rows a page may hold, and the default.
pub const MAX_LIMIT: usize = 100;

/// A row's place in a sort order: its sort value, then its id.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub value: Val,
    pub id: i64,
}

impl Key {
    pub fn of<R: Row>(row: &R, field: &str) -> Key {
        Key {
            value: row.field(field).unwrap_or(Val::Int(0)),
            id: row.id(),
        }
    }

    pub fn compare(&self, other: &Key) -> Ordering {
        self.value
            .compare(&other.value)
            .then(self.id.cmp(&other.id))
    }
}

/// A parsed list query.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub sort: String,
    pub descending: bool,
    pub limit: usize,
    pub after: Option<Key>,
    pub before: Option<Key>,
    pub count: bool,
    pub relations: Vec<String>,
    /// `archived=true` lists archived rows too, `only` only them; default: active rows.
    pub archived: Archived,
    /// The query as given, for the paging links.
    pairs: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archived {
    No,
    Also,
    Only,
}

/// What a resource allows.
pub struct Schema {
    pub name: &'static str,
    pub sortable: &'static [&'static str],
    pub relations: &'static [&'static str],
}

impl ListQuery {
    /// Parses `pairs` against `schema`; `probe` is any row of the resource (to type filter values).
    pub fn parse(
        schema: &Schema,
        pairs: Vec<(String, String)>,
        probe: &dyn Fn(&str) -> Option<Val>,
    ) -> Result<Self, String> {
        let mut query = ListQuery {
            filters: Vec::new(),
            sort: schema.sortable[0].to_owned(),
            descending: false,
            limit: MAX_LIMIT,
            after: None,
            before: None,
            count: false,
            relations: Vec::new(),
            archived: Archived::No,
            pairs: pairs.clone(),
        };
        let mut paging = false;
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => {
                    paging = true;
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|limit| *limit <= MAX_LIMIT)
                        .ok_or_else(|| {
                            format!("limit must be a number from 0 to {MAX_LIMIT}, not '{value}'")
                        })?;
                }
                "sort" => {
                    paging = true;
                    let (descending, field) = match value.strip_prefix('-') {
                        Some(field) => (true, field),
                        None => (false, value.as_str()),
                    };
                    if !schema.sortable.contains(&field) {
                        return Err(format!(
                            "{} cannot be sorted by '{field}'; sortable fields: {}",
                            schema.name,
                            schema.sortable.join(", ")
                        ));
                    }
                    query.sort = field.to_owned();
                    query.descending = descending;
                }
                "after" | "before" => {
                    paging = true;
                    let key = decode_cursor(&value)
                        .ok_or_else(|| format!("'{value}' is not a valid {name} cursor"))?;
                    if name == "after" {
                        query.after = Some(key);
                    } else {
                        query.before = Some(key);
                    }
                }
                "count" => query.count = value == "1" || value == "true",
                "archived" => {
                    query.archived = match value.as_str() {
                        "false" | "0" => Archived::No,
                        "true" | "1" => Archived::Also,
                        "only" => Archived::Only,
                        _ => {
                            return Err(format!(
                                "archived must be true, false or only, not '{value}'"
                            ));
                        }
                    }
                }
                "load_relations" => query.relations = relations(schema, &value)?,
                "or" => return Err("the simulator does not support the 'or' parameter".to_owned()),
                field => {
                    let Some(kind) = probe(field) else {
                        return Err(format!(
                            "'{field}' is not a field of {} that can be filtered",
                            schema.name
                        ));
                    };
                    query.filters.push(Filter::parse(field, &value, &kind)?);
                }
            }
        }
        if query.count && paging {
            return Err("count=1 cannot be combined with limit, sort, after or before".to_owned());
        }
        Ok(query)
    }

    /// Whether `row` passes every filter (and is archived or not, as asked).
    pub fn matches<R: Row>(&self, row: &R) -> bool {
        let archived = row.field("archived") == Some(Val::Bool(true));
        let shown = match self.archived {
            Archived::No => !archived,
            Archived::Also => true,
            Archived::Only => archived,
        };
        shown && self.filters.iter().all(|filter| filter.matches(row))
    }

    /// The ids an `=` or `IN` filter on the integer `field` allows, if it has one: lets a
    /// listing look rows up instead of scanning.
    pub fn ids(&self, field: &str) -> Option<Vec<i64>> {
        self.filters
            .iter()
            .filter(|filter| filter.field == field)
            .find_map(Filter::allowed_ids)
    }

    /// The page of `ordered` this query asks for. `ordered(descending, start)` yields the rows
    /// in the sort order (reversed if `descending`), strictly past `start`.
    pub fn window<'a, R: Row, I>(&self, ordered: impl Fn(bool, Option<&Key>) -> I) -> Window<'a, R>
    where
        I: Iterator<Item = &'a R>,
    {
        let backwards = self.before.is_some();
        let start = if backwards {
            self.before.as_ref()
        } else {
            self.after.as_ref()
        };
        let mut rows: Vec<&'a R> = ordered(self.descending != backwards, start)
            .filter(|row| self.matches(*row))
            .take(self.limit + 1)
            .collect();
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let key = |row: &&R| Key::of(*row, &self.sort);
        if backwards {
            rows.reverse();
            Window {
                previous: if more { rows.first().map(key) } else { None },
                next: rows.last().map(key).or_else(|| self.before.clone()),
                rows,
            }
        } else {
            Window {
                next: if more { rows.last().map(key) } else { None },
                previous: if self.after.is_some() {
                    rows.first().map(key).or_else(|| self.after.clone())
                } else {
                    None
                },
                rows,
            }
        }
    }

    /// The full URL of the page after (or before) `key`: the same query, with `limit` and
    /// `sort` spelled out and the cursor replaced.
    pub fn link(&self, base: &str, key: Option<&Key>, direction: &str) -> String {
        let Some(key) = key else {
            return String::new();
        };
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            if !matches!(name.as_str(), "after" | "before" | "limit" | "sort") {
                query.append_pair(name, value);
            }
        }
        let sort = if self.descending {
            format!("-{}", self.sort)
        } else {
            self.sort.clone()
        };
        query.append_pair("limit", &self.limit.to_string());
        query.append_pair("sort", &sort);
        query.append_pair(direction, &encode_cursor(key));
        format!("{base}?{}", query.finish())
    }
}

/// A page: its rows and the keys the paging links continue from.
pub struct Window<'a, R> {
    pub rows: Vec<&'a R>,
    pub next: Option<Key>,
    pub previous: Option<Key>,
}

/// `["ItemShops","Category"]`, `ItemShops` or `all`.
fn relations(schema: &Schema, value: &str) -> Result<Vec<String>, String> {
    if value == "all" {
        return Ok(schema.relations.iter().map(|r| (*r).to_owned()).collect());
    }
    let names: Vec<String> = match serde_json::from_str::<Vec<String>>(value) {
        Ok(names) => names,
        Err(_) => value
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    for name in &names {
        if !schema.relations.contains(&name.as_str()) {
            return Err(format!(
                "{} has no relation '{name}'; relations: {}",
                schema.name,
                schema.relations.join(", ")
            ));
        }
    }
    Ok(names)
}

fn encode_cursor(key: &Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", key.id, key.value.encode()))
}

fn decode_cursor(text: &str) -> Option<Key> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, value) = text.split_once('|')?;
    Some(Key {
        id: id.parse().ok()?,
        value: Val::decode(value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(i64, &'static str, i64);

    impl Row for R {
        fn id(&self) -> i64 {
            self.0
        }
        fn field(&self, name: &str) -> Option<Val> {
            match name {
                "id" => Some(Val::Int(self.0)),
                "name" => Some(Val::Text(self.1.to_owned())),
                "at" => Some(Val::Time(self.2)),
                _ => None,
            }
        }
    }

    const SCHEMA: Schema = Schema {
        name: "R",
        sortable: &["id", "at"],
        relations: &["Things"],
    };

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, String> {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListQuery::parse(&SCHEMA, pairs, &|f| R(1, "", 0).field(f))
    }

    #[test]
    fn filters_compare_like_with_like() {
        let rows = [
            R(1, "Blue Mug", 100),
            R(2, "Red mug", 200),
            R(3, "Scarf", 300),
        ];
        let ids = |pairs: &[(&str, &str)]| -> Vec<i64> {
            let q = parse(pairs).unwrap();
            rows.iter().filter(|r| q.matches(*r)).map(|r| r.0).collect()
        };
        assert_eq!(ids(&[("name", "~,%MUG%")]), [1, 2]);
        assert_eq!(ids(&[("name", "!~,%mug")]), [3]);
        assert_eq!(ids(&[("id", "IN,[1,3]")]), [1, 3]);
        assert_eq!(ids(&[("id", ">,1")]), [2, 3]);
        assert_eq!(ids(&[("id", "2")]), [2]);
        assert_eq!(ids(&[("at", ">=,1970-01-01T00:03:20+00:00")]), [2, 3]);
        assert_eq!(
            ids(&[("at", "><,1970-01-01T00:01:40Z,1970-01-01T00:03:20Z")]),
            [1, 2]
        );
        assert!(
            parse(&[("colour", "red")])
                .unwrap_err()
                .contains("not a field")
        );
        assert!(
            parse(&[("id", "x")])
                .unwrap_err()
                .contains("id: 'x' is not an integer")
        );
        assert!(
            parse(&[("sort", "name")])
                .unwrap_err()
                .contains("sortable fields: id, at")
        );
        assert!(parse(&[("limit", "101")]).is_err());
        assert!(parse(&[("load_relations", r#"["Stuff"]"#)]).is_err());
    }

    #[test]
    fn pages_follow_their_cursors_both_ways() {
        let rows: Vec<R> = (1..=5).map(|i| R(i, "x", 10 - i)).collect();
        let ordered = |descending: bool, start: Option<&Key>, sort: &str| -> Vec<&R> {
            let mut all: Vec<&R> = rows.iter().collect();
            all.sort_by(|a, b| Key::of(*a, sort).compare(&Key::of(*b, sort)));
            if descending {
                all.reverse();
            }
            all.into_iter()
                .filter(|r| {
                    start.is_none_or(|s| {
                        let c = Key::of(*r, sort).compare(s);
                        if descending {
                            c == Ordering::Less
                        } else {
                            c == Ordering::Greater
                        }
                    })
                })
                .collect()
        };
        let q = parse(&[("limit", "2"), ("sort", "at")]).unwrap();
        let first = q.window(|d, s| ordered(d, s, "at").into_iter());
        assert_eq!(first.rows.iter().map(|r| r.0).collect::<Vec<_>>(), [5, 4]);
        assert!(first.previous.is_none());
        let next = q.link("http://h/x.json", first.next.as_ref(), "after");
        let after = next.split("after=").nth(1).unwrap();
        let q2 = parse(&[("limit", "2"), ("sort", "at"), ("after", after)]).unwrap();
        let second = q2.window(|d, s| ordered(d, s, "at").into_iter());
        assert_eq!(second.rows.iter().map(|r| r.0).collect::<Vec<_>>(), [3, 2]);
        let before = q2.link("http://h/x.json", second.previous.as_ref(), "before");
        let before = before.split("before=").nth(1).unwrap();
        let back = parse(&[("limit", "2"), ("sort", "at"), ("before", before)]).unwrap();
        let back = back.window(|d, s| ordered(d, s, "at").into_iter());
        assert_eq!(back.rows.iter().map(|r| r.0).collect::<Vec<_>>(), [5, 4]);
        assert!(back.previous.is_none());
    }
}
