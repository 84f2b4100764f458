//! Every example of README.md, run against the code it describes: the HTTP API's `curl`
//! commands in README order on one real stocksync with a simulated WooCommerce shop as its
//! `Shop`, each answer checked against what the README shows; the configuration example through
//! the config loader and `check-config`, and the `Shop` examples of "Connecting WooCommerce",
//! "Connecting Shopify" and "Connecting PrestaShop" through the loader; the `curl` commands of
//! the last two on a stocksync with that platform's simulated shop; every JSON block of the
//! HTTP API section parsed; every command line through the CLI's own parser.
//!
//! README.md is read when the tests run, so an example that drifts from the code fails here.
//!
//! How the README's answers are read:
//! - a trailing comment `# 200 {…}` (continued on the `#` lines under the command) gives the
//!   status and the answer; `…` means anything (`{…link…, "quantity":7}`: at least these
//!   fields; `[{…}, …]`: at least these elements); `; 409 if not dead` or `, or 503 …` are the
//!   other answers it may give; `the task's "result" then holds {…}` is matched against the
//!   result of the task the answer points to, once it has finished;
//! - otherwise the first JSON block after the commands (before the next `sh` block) is the
//!   answer of the block's first command: the same fields, the same values, and "Answer `202`"
//!   in the text around it is the status of the block's commands (else any 2xx);
//! - a string ending in a hex stem and `…` (`"/api/sales/8c5d…"`, `"3b0e…"`) is an id: its
//!   first answer binds it, later answers must agree, and a URL using it gets the real id;
//! - a timestamp stands for any timestamp.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use stocksync::config::Settings;
use stocksync::simulate::SHOP_WEBHOOK_SECRET;
use stocksync::simulate::shops::{SimShop, start_shop};
use stocksync_domain::ShopKind;
use stocksync_pos::simkit::SimProduct;
use stocksync_prestashop::{PrestaSim, PrestaSimOptions};
use stocksync_testkit::{Backend, Options, TestApp};
use stocksync_woocommerce::{WooSim, WooSimOptions};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
/// Where the README's examples send their requests.
const README_ORIGIN: &str = "http://127.0.0.1:5000";
/// The routes that need no API key (README: "every route except `/healthz` and `/readyz`", and
/// the webhooks, which "do not need the API key").
const OPEN_ROUTES: &[&str] = &["/healthz", "/readyz"];
const OPEN_PREFIX: &str = "/webhooks/";

/// What the POS holds for the walk: the products the README links by POS id, by SKU
/// and by name, as `(pos id, name, SKU, count)`. The README's accounts are not the test kit's
/// `ACCOUNT`, so they all read this one in-process catalog (`TestApp::other_catalog`).
const PRODUCTS: &[(&str, &str, Option<&str>, i64)] = &[
    ("VARIATION-ID-ON-THE-POS", "Red mug", None, 7),
    ("1234", "Tea towel", Some("5410000000017"), 5),
    ("BLUE-MUG-VARIATION", "Blue mug", None, 1),
    ("GREEN-MUG-VARIATION", "Green mug", None, 4),
    ("5678", "Tea cosy", Some("5410000000024"), 3),
];
/// The WooCommerce shop of the walk: the README's shop items as `(id, name, SKU, quantity the
/// shop shows before stocksync)`. WooCommerce numbers posts from 11 here, so older products
/// (`ARCHIVED-…`) come first.
const SHOP: &[(i64, &str, &str, i64)] = &[
    (42, "Red mug", "RED-MUG", 3),
    (43, "Tea towel", "5410000000017", 9),
    (44, "Blue mug", "BLUE-MUG", 2),
    (45, "Blue mug, gift box", "BLUE-MUG-BOX", 0),
    (46, "Green mug", "GREEN-MUG", 4),
    (47, "Tea cosy", "5410000000024", 6),
];
/// The order a shopper places for shop item 44 once no link feeds it: the README's `unlinked`
/// event.
const UNLINKED_ORDER: (i64, i64) = (44, 1);
/// The product of shop item 43 (linked by its SKU), whose till sale makes the drift the
/// README's reconciliation reports.
const TILL_SOLD: (&str, i64) = ("1234", 2);

/// Answers the README shows for a state the walk is not in when it runs the example: these
/// fields' values are not compared (their presence is). `(method and path, fields, why)`; a path
/// ending in `/` covers what follows it.
const ILLUSTRATIVE: &[(&str, &[&str], &str)] = &[
    (
        "GET /api/synchronizer",
        &[
            "running",
            "next_run",
            "next_reconcile",
            "pending_sales",
            "accounts",
        ],
        "shows a started synchronizer with a sale on its way after a sync; the README asks for \
         the status before starting it",
    ),
    (
        "GET /api/itemstask/",
        &["summary"],
        "the counts of a bigger shop than the README's two links",
    ),
];

fn read_readme() -> String {
    std::fs::read_to_string(README).expect("README.md at the workspace's root")
}

// ---------------------------------------------------------------------------------------------
// The README as sections, prose and fenced blocks.

#[derive(Debug)]
enum Part {
    Prose(String),
    Block { lang: String, text: String },
}

/// The parts of the level-2 section `heading` (such as `## HTTP API`), up to the next one.
fn section(markdown: &str, heading: &str) -> Vec<Part> {
    let mut lines = markdown.lines();
    lines
        .by_ref()
        .find(|line| line.trim_end() == heading)
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"));
    let mut parts = Vec::new();
    let mut prose = String::new();
    let mut block: Option<(String, String)> = None;
    for line in lines {
        match &mut block {
            Some((lang, text)) => {
                if line.trim_start().starts_with("```") {
                    parts.push(Part::Block {
                        lang: std::mem::take(lang),
                        text: std::mem::take(text),
                    });
                    block = None;
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            None => {
                if line.starts_with("## ") {
                    break;
                }
                if let Some(lang) = line.trim_start().strip_prefix("```") {
                    parts.push(Part::Prose(std::mem::take(&mut prose)));
                    block = Some((lang.trim().to_owned(), String::new()));
                } else {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
        }
    }
    assert!(block.is_none(), "an unclosed block in {heading:?}");
    parts.push(Part::Prose(prose));
    parts
}

fn is_block(part: &Part, language: &str) -> bool {
    matches!(part, Part::Block { lang, .. } if lang == language)
}

/// The `appsettings.json` example (the first JSON block after `### Example`) and the prose after
/// it.
fn configuration_example(readme: &str) -> (Value, String) {
    let parts = section(readme, "## Configuration");
    let start = parts
        .iter()
        .position(|p| matches!(p, Part::Prose(text) if text.contains("### Example")))
        .expect("a `### Example` in the Configuration section");
    let (index, text) = parts[start..]
        .iter()
        .enumerate()
        .find_map(|(i, p)| match p {
            Part::Block { lang, text } if lang == "json" => Some((start + i, text)),
            _ => None,
        })
        .expect("a JSON block under `### Example`");
    let document = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the configuration example is not JSON ({e}):\n{text}"));
    let after = match parts.get(index + 1) {
        Some(Part::Prose(text)) => text.clone(),
        _ => String::new(),
    };
    (document, after)
}

/// The words between backquotes in `text`.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

// ---------------------------------------------------------------------------------------------
// `curl` command lines.

#[derive(Debug, Clone)]
struct Curl {
    /// The command as written (continuations joined), for messages.
    line: String,
    method: String,
    /// Path and query, after the README's origin.
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// The comment after the command and on the `#` lines right under it, without the `#`s.
    comment: String,
}

impl Curl {
    /// `METHOD /path` without the query, as [`ILLUSTRATIVE`] names requests.
    fn route(&self) -> String {
        let path = self.path.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }
}

/// Splits a command line as a POSIX shell would (quotes, backslashes, a `#` comment), refusing
/// what would not be a plain command there (`&`, `|`, `;`, …, and unquoted globs).
fn shell_words(line: &str) -> (Vec<String>, Option<String>) {
    let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => panic!("an unclosed ' in: {line}"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => panic!("an unclosed \" in: {line}"),
                        },
                        Some('$' | '`') => panic!("a substitution in: {line}"),
                        Some(c) => word.push(c),
                        None => panic!("an unclosed \" in: {line}"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '#' if !in_word => return (words, Some(chars.collect())),
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '&' | '|' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '?' | '*' | '[' => {
                panic!("an unquoted {c:?} a shell would not pass on as is, in: {line}")
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    (words, None)
}

/// What `curl` would send for `words`.
fn parse_curl(line: &str, words: &[String], comment: Option<String>) -> Curl {
    assert_eq!(
        words.first().map(String::as_str),
        Some("curl"),
        "only curl commands in the HTTP API's sh blocks: {line}"
    );
    let (mut method, mut url, mut headers, mut body) = (None, None, Vec::new(), None);
    let mut args = words[1..].iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{arg} without a value in: {line}"))
                .clone()
        };
        match arg.as_str() {
            "-X" | "--request" => method = Some(value()),
            "-H" | "--header" => {
                let header = value();
                let (name, value) = header
                    .split_once(':')
                    .unwrap_or_else(|| panic!("a header without ':' in: {line}"));
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            "-d" | "--data" | "--data-raw" => {
                let data = value();
                assert!(!data.starts_with('@'), "a body from a file in: {line}");
                body = Some(data);
            }
            other if other.starts_with('-') => {
                panic!("this test does not emulate curl's {other}, in: {line}")
            }
            other => {
                assert!(url.is_none(), "two URLs in: {line}");
                url = Some(other.to_owned());
            }
        }
    }
    // As curl does: -d means POST, and a form unless the command says otherwise.
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
    if body.is_some()
        && !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    let url = url.unwrap_or_else(|| panic!("no URL in: {line}"));
    let path = url
        .strip_prefix(README_ORIGIN)
        .unwrap_or_else(|| panic!("a URL not on {README_ORIGIN} in: {line}"))
        .to_owned();
    Curl {
        line: line.to_owned(),
        method,
        path,
        headers,
        body,
        comment: comment.unwrap_or_default().trim().to_owned(),
    }
}

/// The curl commands of an `sh` block, backslash-continued lines joined, each with its comment.
fn curls(block: &str) -> Vec<Curl> {
    let mut found: Vec<Curl> = Vec::new();
    let mut after_command = false;
    let mut lines = block.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.is_empty() {
            after_command = false;
        } else if let Some(comment) = line.strip_prefix('#') {
            if after_command && let Some(curl) = found.last_mut() {
                curl.comment.push('\n');
                curl.comment.push_str(comment.trim());
            }
        } else {
            let mut logical = line.to_owned();
            while let Some(head) = logical.strip_suffix('\\') {
                let next = lines
                    .next()
                    .unwrap_or_else(|| panic!("a continuation after: {logical}"));
                logical = format!("{} {}", head.trim_end(), next.trim());
            }
            let (words, comment) = shell_words(&logical);
            found.push(parse_curl(&logical, &words, comment));
            after_command = true;
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The answers the README shows: JSON, or JSON with `…` in it.

#[derive(Debug, Clone)]
enum Pat {
    /// `…`, `{…}`, `[…]`, `"…"`: anything.
    Any,
    /// A number, `true`, `false` or `null`.
    Scalar(Value),
    Str(String),
    /// `open`: an element `…` was written among them.
    Arr {
        items: Vec<Pat>,
        open: bool,
    },
    /// `open`: a member `…` (or `…link…`) was written among them.
    Obj {
        members: Vec<(String, Pat)>,
        open: bool,
    },
}

impl Pat {
    fn strict(value: &Value) -> Self {
        match value {
            Value::String(s) => Self::Str(s.clone()),
            Value::Array(items) => Self::Arr {
                items: items.iter().map(Self::strict).collect(),
                open: false,
            },
            Value::Object(map) => Self::Obj {
                members: map
                    .iter()
                    .map(|(k, v)| (k.clone(), Self::strict(v)))
                    .collect(),
                open: false,
            },
            scalar => Self::Scalar(scalar.clone()),
        }
    }

    /// The same, with the values of `fields` (top level) taken as illustrations.
    fn illustrating(self, fields: &[&str]) -> Self {
        match self {
            Self::Obj { members, open } => Self::Obj {
                members: members
                    .into_iter()
                    .map(|(k, v)| {
                        let v = if fields.contains(&k.as_str()) {
                            Self::Any
                        } else {
                            v
                        };
                        (k, v)
                    })
                    .collect(),
                open,
            },
            other => other,
        }
    }
}

/// A reader of JSON in which `…` may stand for a value, a member or an element.
struct Lenient<'a> {
    text: &'a str,
    pos: usize,
}

impl Lenient<'_> {
    /// Reads one value at the start of `text`; answers it and the bytes read.
    fn parse(text: &str) -> (Pat, usize) {
        let mut reader = Lenient { text, pos: 0 };
        let pat = reader.value();
        (pat, reader.pos)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "README answer: {what} after {:?} in {:?}",
            &self.text[..self.pos],
            self.text
        )
    }

    /// `…`, or `…words…`, up to the next `,`, `}` or `]`.
    fn ellipsis(&mut self) {
        self.bump();
        while self.peek().is_some_and(|c| !matches!(c, ',' | '}' | ']')) {
            self.bump();
        }
    }

    fn string(&mut self) -> String {
        self.space();
        if self.bump() != Some('"') {
            self.fail("a string expected");
        }
        let mut s = String::new();
        loop {
            match self.bump() {
                Some('"') => return s,
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(c @ ('"' | '\\' | '/')) => s.push(c),
                    _ => self.fail("an escape this reader does not know"),
                },
                Some(c) => s.push(c),
                None => self.fail("an unclosed string"),
            }
        }
    }

    fn value(&mut self) -> Pat {
        self.space();
        match self.peek() {
            Some('{') => {
                self.bump();
                let (mut members, mut open) = (Vec::new(), false);
                loop {
                    self.space();
                    match self.peek() {
                        Some('}') => {
                            self.bump();
                            break;
                        }
                        Some('…') => {
                            self.ellipsis();
                            open = true;
                        }
                        _ => {
                            let key = self.string();
                            self.space();
                            if self.bump() != Some(':') {
                                self.fail("':' expected");
                            }
                            members.push((key, self.value()));
                        }
                    }
                    self.space();
                    match self.bump() {
                        Some(',') => {}
                        Some('}') => break,
                        _ => self.fail("',' or '}' expected"),
                    }
                }
                if members.is_empty() && open {
                    Pat::Any
                } else {
                    Pat::Obj { members, open }
                }
            }
            Some('[') => {
                self.bump();
                let (mut items, mut open) = (Vec::new(), false);
                loop {
                    self.space();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            break;
                        }
                        Some('…') => {
                            self.ellipsis();
                            open = true;
                        }
                        _ => items.push(self.value()),
                    }
                    self.space();
                    match self.bump() {
                        Some(',') => {}
                        Some(']') => break,
                        _ => self.fail("',' or ']' expected"),
                    }
                }
                if items.is_empty() && open {
                    Pat::Any
                } else {
                    Pat::Arr { items, open }
                }
            }
            Some('"') => Pat::Str(self.string()),
            Some('…') => {
                self.ellipsis();
                Pat::Any
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
                {
                    self.bump();
                }
                match serde_json::from_str::<Value>(&self.text[start..self.pos]) {
                    Ok(scalar) => Pat::Scalar(scalar),
                    Err(_) => self.fail("a value expected"),
                }
            }
        }
    }
}

/// Ids the README writes as `8c5d…`, bound to the real ids of the walk.
type Bindings = BTreeMap<String, String>;

fn is_timestamp(s: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd";
    s.len() > shape.len()
        && s.ends_with('Z')
        && s.chars().zip(shape.chars()).all(|(c, want)| match want {
            'd' => c.is_ascii_digit(),
            want => c == want,
        })
}

/// Splits `s` at an id placeholder `stem…` ending it: `("/api/sales/", "8c5d…")`.
fn placeholder(s: &str) -> Option<(&str, &str)> {
    let before = s.strip_suffix('…')?;
    if before.contains('…') {
        return None;
    }
    let start = before.rfind('/').map_or(0, |i| i + 1);
    let stem = &before[start..];
    (!stem.is_empty() && stem.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| (&s[..start], &s[start..]))
}

fn bind(bindings: &mut Bindings, name: &str, value: &str, at: &str) -> Result<(), String> {
    if let Some((other, _)) = bindings.iter().find(|(n, v)| *v == value && *n != name) {
        return Err(format!(
            "{at}: the README calls the id {value} both {other} and {name}"
        ));
    }
    match bindings.get(name) {
        Some(bound) if bound != value => Err(format!(
            "{at}: the README's {name} was {bound} in an earlier answer, and is {value} here"
        )),
        Some(_) => Ok(()),
        None => {
            bindings.insert(name.to_owned(), value.to_owned());
            Ok(())
        }
    }
}

fn check_str(shown: &str, actual: &Value, at: &str, bindings: &mut Bindings) -> Result<(), String> {
    if shown == "…" {
        return Ok(());
    }
    let Some(actual) = actual.as_str() else {
        return Err(format!(
            "{at}: the README shows the string {shown:?}, stocksync answers {actual}"
        ));
    };
    if let Some((prefix, name)) = placeholder(shown) {
        return match actual.strip_prefix(prefix) {
            Some(id) if !id.is_empty() => bind(bindings, name, id, at),
            _ => Err(format!(
                "{at}: the README shows {shown:?}, stocksync answers {actual:?}"
            )),
        };
    }
    let ok = match (shown.split_once('…'), shown.rsplit_once('…')) {
        (Some((before, _)), Some((_, after))) => {
            actual.starts_with(before) && actual.ends_with(after)
        }
        _ if is_timestamp(shown) => is_timestamp(actual),
        _ => actual == shown,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{at}: the README shows {shown:?}, stocksync answers {actual:?}"
        ))
    }
}

/// Whether `actual` is what the README shows as `shown`; binds the ids it names.
fn check(shown: &Pat, actual: &Value, at: &str, bindings: &mut Bindings) -> Result<(), String> {
    match shown {
        Pat::Any => Ok(()),
        Pat::Scalar(value) if value == actual => Ok(()),
        Pat::Scalar(value) => Err(format!(
            "{at}: the README shows {value}, stocksync answers {actual}"
        )),
        Pat::Str(s) => check_str(s, actual, at, bindings),
        Pat::Arr { items, open } => {
            let Some(actual) = actual.as_array() else {
                return Err(format!(
                    "{at}: the README shows a list, stocksync answers {actual}"
                ));
            };
            if !open && actual.len() != items.len() {
                return Err(format!(
                    "{at}: the README shows {} element(s), stocksync answers {}",
                    items.len(),
                    actual.len()
                ));
            }
            // Each element shown matches one of stocksync's, in the same order.
            let mut next = 0;
            for (i, item) in items.iter().enumerate() {
                loop {
                    let Some(candidate) = actual.get(next) else {
                        return Err(format!(
                            "{at}: no element of stocksync's answer is the README's [{i}]"
                        ));
                    };
                    next += 1;
                    let mut tentative = bindings.clone();
                    let at = format!("{at}[{}]", next - 1);
                    match check(item, candidate, &at, &mut tentative) {
                        Ok(()) => {
                            *bindings = tentative;
                            break;
                        }
                        Err(e) if !open => return Err(e),
                        Err(_) => {}
                    }
                }
            }
            Ok(())
        }
        Pat::Obj { members, open } => {
            let Some(object) = actual.as_object() else {
                return Err(format!(
                    "{at}: the README shows an object, stocksync answers {actual}"
                ));
            };
            for (key, value) in members {
                let at = format!("{at}.{key}");
                let found = object
                    .get(key)
                    .ok_or_else(|| format!("{at}: not in stocksync's answer"))?;
                check(value, found, &at, bindings)?;
            }
            let unshown: Vec<&String> = object
                .keys()
                .filter(|key| !members.iter().any(|(shown, _)| shown == *key))
                .collect();
            if !open && !unshown.is_empty() {
                return Err(format!(
                    "{at}: stocksync's answer also has {unshown:?}, which the README does not show"
                ));
            }
            Ok(())
        }
    }
}

/// A path with the README's ids (`8c5d…`) replaced by the ones they were bound to.
fn substitute(path: &str, bindings: &Bindings) -> String {
    path.split('/')
        .map(|segment| match placeholder(segment) {
            Some(("", name)) => bindings
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no earlier answer showed what {name} is"))
                .clone(),
            _ if segment.contains('…') => panic!("{path}: {segment:?} is not a README id"),
            _ => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

// ---------------------------------------------------------------------------------------------
// The walk.

#[derive(Debug)]
struct Step {
    curl: Curl,
    /// The status the README gives, if any.
    status: Option<u16>,
    /// Other statuses the comment gives (`; 409 if not dead`).
    alternatives: Vec<u16>,
    answer: Option<Pat>,
    /// What the result of the task in the answer's `location` then holds.
    task_result: Option<Pat>,
}

/// `200 {…}, or 503 …; the task's "result" then holds {…}`, read.
fn read_comment(comment: &str) -> (Option<u16>, Vec<u16>, Option<Pat>, Option<Pat>) {
    let comment = comment.trim();
    let status = comment
        .get(..3)
        .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
        .filter(|_| !comment[3..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|s| s.parse().expect("digits"));
    if status.is_none() {
        return (None, Vec::new(), None, None);
    }
    let mut rest = comment[3..].trim_start();
    let mut answer = None;
    if rest.starts_with(['{', '[']) {
        let (pat, read) = Lenient::parse(rest);
        answer = Some(pat);
        rest = &rest[read..];
    }
    let alternatives = rest
        .match_indices(|c: char| c.is_ascii_digit())
        .filter_map(|(i, _)| {
            let before = rest[..i].trim_end();
            let candidate = rest.get(i..i + 3)?;
            let ends = !rest[i + 3..].starts_with(|c: char| c.is_ascii_digit());
            (candidate.chars().all(|c| c.is_ascii_digit())
                && ends
                && (before.ends_with(';') || before.ends_with(" or")))
            .then(|| candidate.parse().expect("digits"))
        })
        .collect();
    let task_result = rest
        .find("then holds")
        .map(|i| Lenient::parse(rest[i + "then holds".len()..].trim_start()).0);
    (status, alternatives, answer, task_result)
}

/// Every curl command of the HTTP API section, in order, with what the README says it answers.
fn http_api_steps(readme: &str) -> Vec<Step> {
    curl_steps(readme, "## HTTP API")
}

/// Every curl command of the section `heading`, in order, with what the README says it answers.
fn curl_steps(readme: &str, heading: &str) -> Vec<Step> {
    let parts = section(readme, heading);
    let mut steps = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let Part::Block { lang, text } = part else {
            continue;
        };
        if lang != "sh" {
            continue;
        }
        let end = parts[i + 1..]
            .iter()
            .position(|p| is_block(p, "sh"))
            .map_or(parts.len(), |n| i + 1 + n);
        let around = &parts[i + 1..end];
        let status = around.iter().find_map(|p| match p {
            Part::Prose(text) => text
                .split("Answer `")
                .nth(1)
                .and_then(|s| s.get(..3))
                .map(|s| s.parse::<u16>().expect("a status after Answer")),
            _ => None,
        });
        let block_answer = around.iter().find_map(|p| match p {
            Part::Block { lang, text } if lang == "json" => Some(Pat::strict(
                &serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}")),
            )),
            _ => None,
        });
        let commands = curls(text);
        assert!(!commands.is_empty(), "an sh block without curl:\n{text}");
        for (n, curl) in commands.into_iter().enumerate() {
            let (shown_status, alternatives, shown, task_result) = read_comment(&curl.comment);
            let mut answer = shown.or_else(|| (n == 0).then(|| block_answer.clone()).flatten());
            for (route, fields, _why) in ILLUSTRATIVE {
                let covers = match route.strip_suffix('/') {
                    Some(prefix) => curl.route().starts_with(&format!("{prefix}/")),
                    None => curl.route() == *route,
                };
                if covers {
                    answer = answer.map(|a| a.illustrating(fields));
                }
            }
            steps.push(Step {
                status: shown_status.or(status),
                alternatives,
                answer,
                task_result,
                curl,
            });
        }
    }
    steps
}

struct Answer {
    status: u16,
    authenticate: Option<String>,
    body: Value,
}

/// Sends `curl` to the app (its README ids replaced), with `key` as a bearer token.
async fn send(app: &TestApp, curl: &Curl, path: &str, key: Option<&str>) -> Answer {
    let method = reqwest::Method::from_bytes(curl.method.as_bytes()).expect("a method");
    let mut request = stocksync_testkit::http_client().request(method, app.url(path));
    for (name, value) in &curl.headers {
        request = request.header(name, value);
    }
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = &curl.body {
        request = request.body(body.clone());
    }
    let response = request.send().await.expect("stocksync answers");
    let status = response.status().as_u16();
    let authenticate = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{}: not a JSON answer: {text}", curl.line))
    };
    Answer {
        status,
        authenticate,
        body,
    }
}

/// Runs one README step (ids replaced with `bindings`) and checks its answer against what the
/// README shows, unless the walk expects `instead` (one of the README's other answers).
async fn run(app: &TestApp, step: &Step, bindings: &mut Bindings, instead: Option<u16>) -> Answer {
    let curl = &step.curl;
    let path = substitute(&curl.path, bindings);
    eprintln!("README: {} (as {} {path})", curl.line, curl.method);
    // What a person following the README sees: the sale pushed, the task finished.
    if path != curl.path && curl.method == "GET" {
        if path.starts_with("/api/sales/") {
            app.wait_sale(&path).await;
        } else if path.starts_with("/api/itemstask/") {
            app.wait_task(&path).await;
        }
    }
    let bare = path.split('?').next().unwrap_or_default();
    let open = OPEN_ROUTES.contains(&bare) || bare.starts_with(OPEN_PREFIX);
    let key = if open {
        None
    } else {
        // README: "without it the answer is `401` with `WWW-Authenticate: Bearer`".
        let refused = send(app, curl, &path, None).await;
        assert_eq!(refused.status, 401, "{}: {}", curl.line, refused.body);
        assert_eq!(refused.authenticate.as_deref(), Some("Bearer"));
        assert_eq!(refused.body["code"], "unauthorized", "{}", refused.body);
        app.api_key.as_deref()
    };
    let answer = send(app, curl, &path, key).await;
    let (status, body) = (answer.status, &answer.body);
    match (instead, step.status) {
        (Some(other), _) => {
            assert!(
                step.alternatives.contains(&other),
                "{}: the README does not say it may answer {other}: {:?}",
                curl.line,
                curl.comment
            );
            assert_eq!(status, other, "{}: {body}", curl.line);
        }
        (None, Some(expected)) => assert_eq!(status, expected, "{}: {body}", curl.line),
        (None, None) => assert!(
            (200..300).contains(&status),
            "{}: {status} {body}",
            curl.line
        ),
    }
    if instead.is_none()
        && let Some(shown) = &step.answer
    {
        check(shown, body, "answer", bindings)
            .unwrap_or_else(|e| panic!("{}\n{e}\nstocksync answered: {body}", curl.line));
    }
    if let Some(result) = &step.task_result {
        let location = body["location"].as_str().expect("a task's location");
        let task = app.wait_task(location).await;
        assert_eq!(task["state"], "succeeded", "{task}");
        check(result, &task["result"], "result", bindings)
            .unwrap_or_else(|e| panic!("{}\n{e}\nthe task: {task}", curl.line));
    }
    answer
}

/// The walk's WooCommerce shop, [`SHOP`] at its ids.
async fn readme_shop() -> Arc<WooSim> {
    let first = SHOP[0].0;
    let mut products: Vec<SimProduct> = (11..first)
        .map(|id| SimProduct {
            name: format!("Archived {id}"),
            sku: format!("ARCHIVED-{id}"),
            quantity: 0,
        })
        .collect();
    products.extend(SHOP.iter().map(|(_, name, sku, quantity)| SimProduct {
        name: (*name).to_owned(),
        sku: (*sku).to_owned(),
        quantity: *quantity,
    }));
    let sim = WooSim::start(WooSimOptions {
        products,
        ..WooSimOptions::default()
    })
    .await
    .expect("the WooCommerce simulator");
    let ids = sim.item_ids();
    assert_eq!(
        ids[ids.len() - SHOP.len()..],
        SHOP.iter().map(|(id, ..)| *id).collect::<Vec<_>>(),
        "the shop's products have the README's ids"
    );
    Arc::new(sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_http_api_examples_run_in_order() {
    let readme = read_readme();
    // The README's own configuration: its accounts and its key.
    let (example, _) = configuration_example(&readme);
    let shop = readme_shop().await;
    let options = Options {
        api_key: Some(example["ApiKey"].as_str().expect("an ApiKey").to_owned()),
        config: Some(json!({ "PosAccess": example["PosAccess"] })),
        shop: Some(shop.clone()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options)
        .await
        .expect("SQLite");
    for (pos_ref, name, sku, quantity) in PRODUCTS {
        app.other_catalog.put(pos_ref, name, *sku, *quantity);
    }

    let steps = http_api_steps(&readme);
    let mut bindings = Bindings::new();
    for step in &steps {
        let route = step.curl.route();
        if route == "POST /api/synchronizer/reconcile" {
            // A till sale no sync has read yet: the drift the README's reconciliation reports.
            app.other_catalog.set_quantity(TILL_SOLD.0, TILL_SOLD.1);
        }
        if route == "GET /api/items/1/history" {
            // The shop has taken link 1's 7 (and stocksync noted what it showed before).
            wait_until("the shop's item 42 at 7", || shop.stock(42) == Some(7)).await;
        }
        if route == "GET /api/shop/events" {
            // A shopper buys shop item 44, which no link feeds any more; WooCommerce says so.
            let order = shop
                .place_order(&[UNLINKED_ORDER], "processing")
                .expect("the shop takes the order");
            let (status, answer) = app.deliver_shop("order.created", order).await;
            assert_eq!(
                (status, &answer["status"]),
                (200, &json!("ingested")),
                "{answer}"
            );
        }
        // By then the README's sale is confirmed: "409 if not dead". Its 202 is checked below,
        // on a dead sale. Likewise the README's job has succeeded: it can be neither retried nor
        // cancelled (`it/jobs.rs` covers their 202 and 204).
        let instead =
            (route.ends_with("/retry") || route.starts_with("DELETE /api/jobs/")).then_some(409);
        let answer = run(&app, step, &mut bindings, instead).await;
        if instead.is_some() {
            assert_eq!(answer.body["code"], "conflict", "{}", answer.body);
        }
    }
    for route in [
        "GET /healthz",
        "POST /api/items",
        "PATCH /api/items/1",
        "DELETE /api/items/3",
        "POST /api/synchronizer/forceUpdate",
        "POST /api/synchronizer/sale",
        "POST /api/synchronizer/return",
        "POST /api/items/match",
        "GET /api/shop",
        "GET /api/shop/events",
        "POST /webhooks/shop",
    ] {
        assert!(
            steps.iter().any(|s| s.curl.route() == route),
            "the walk lost {route}"
        );
    }

    // Retrying a dead sale: the README's command and answer, on a sale its POS refused for
    // good (shop item 43).
    let retry = steps
        .iter()
        .find(|s| {
            s.curl.route().starts_with("POST /api/sales/") && s.curl.route().ends_with("/retry")
        })
        .expect("the README's retry of a sale");
    app.other_catalog.refuse_sales_of(TILL_SOLD.0);
    let (status, answer) = app
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": 43, "delta": 1, "balance": 500 }),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let dead = app.wait_sale(answer["location"].as_str().unwrap()).await;
    assert_eq!(dead["state"], "dead", "{dead}");
    let id = dead["id"].as_str().unwrap();
    let mut dead_bindings: Bindings = retry
        .curl
        .path
        .split('/')
        .filter_map(placeholder)
        .map(|(_, name)| (name.to_owned(), id.to_owned()))
        .collect();
    assert_eq!(dead_bindings.len(), 1, "{}", retry.curl.line);
    run(&app, retry, &mut dead_bindings, None).await;

    // The error shape, with the README's very refusal: 1 unit left, sales stop at 0, 2 asked.
    let parts = section(&readme, "## HTTP API");
    let errors = parts
        .iter()
        .skip_while(|p| !matches!(p, Part::Prose(text) if text.contains("**Errors**")))
        .find_map(|p| match p {
            Part::Block { lang, text } if lang == "json" => Some(text),
            _ => None,
        })
        .expect("the Errors example");
    let errors: Value = serde_json::from_str(errors).expect("JSON");
    let (status, _) = app
        .register(json!({ "item_name": "Blue mug", "item_ecommerce_id": "45", "account_id": "square-main" }))
        .await;
    assert_eq!(status, 201);
    let (status, refused) = app
        .post(
            "/api/synchronizer/sale",
            json!({ "item_ecommerce_id": 45, "delta": 2, "balance": 0 }),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(refused, errors);
}

/// Waits (30 s at most) until `done`.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 30 s for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[test]
fn readme_http_api_json_blocks_are_json() {
    let readme = read_readme();
    let blocks: Vec<String> = section(&readme, "## HTTP API")
        .into_iter()
        .filter_map(|p| match p {
            Part::Block { lang, text } if lang == "json" => Some(text),
            _ => None,
        })
        .collect();
    assert!(!blocks.is_empty());
    for text in blocks {
        if let Err(e) = serde_json::from_str::<Value>(&text) {
            panic!("a JSON block of the HTTP API is not JSON ({e}):\n{text}");
        }
    }
}

#[test]
fn readme_configuration_example_is_valid() {
    let readme = read_readme();
    let (document, after) = configuration_example(&readme);
    let after = after.split_whitespace().collect::<Vec<_>>().join(" ");
    let settings = Settings::from_json(&document, &|_| None)
        .unwrap_or_else(|e| panic!("the README's configuration is refused: {:?}", e.0));

    // "`stocksync check-config …` prints what it understood (accounts `a`, `b`, `c`) and a
    // warning for `key`".
    let accounts = after
        .split_once("(accounts ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| quoted(list))
        .expect("the accounts check-config prints");
    let ids: Vec<&str> = settings.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, accounts);
    let warned = after
        .split_once("a warning for ")
        .map(|(_, rest)| quoted(rest)[0])
        .expect("the warning check-config prints");
    assert!(
        settings.warnings.iter().any(|w| w.contains(warned)),
        "{:?}",
        settings.warnings
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("appsettings.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let mut command = crate::process::stocksync_command();
    command
        .args(["check-config", "--config"])
        .arg(&file)
        .current_dir(dir.path());
    let output = command.output().expect("stocksync runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    for said in accounts.iter().chain([&warned]) {
        assert!(
            text.contains(said),
            "check-config does not print {said}:\n{text}"
        );
    }
}

/// The subcommand paths a README command line names (`serve|check-config` gives two), and the
/// flags it uses.
fn command_paths(words: &[&str]) -> (Vec<Vec<String>>, Vec<String>) {
    let (mut positions, mut depth, mut in_path) = (Vec::<Vec<&str>>::new(), 0usize, true);
    for word in words {
        let grouped = depth > 0 || word.starts_with(['[', '(']);
        depth += word.matches(['[', '(']).count();
        depth = depth.saturating_sub(word.matches([']', ')']).count());
        if grouped {
            continue;
        }
        let names: Vec<&str> = word.split('|').collect();
        let subcommands = names.iter().all(|name| {
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        });
        if in_path && subcommands {
            positions.push(names);
        } else {
            in_path = false;
        }
    }
    let mut paths = vec![Vec::new()];
    for names in positions {
        paths = paths
            .into_iter()
            .flat_map(|path: Vec<String>| {
                names.iter().map(move |name| {
                    let mut path = path.clone();
                    path.push((*name).to_owned());
                    path
                })
            })
            .collect();
    }
    (paths, flags(&words.join(" ")))
}

/// The `--flags` named in `text`.
fn flags(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "()[]|,;:".contains(c))
        .filter(|word| word.len() > 2 && word.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_command_lines_are_accepted_by_the_cli() {
    let readme = read_readme();
    let parts = section(&readme, "## Command line");
    let Some(Part::Block { text, .. }) = parts.iter().find(|p| matches!(p, Part::Block { .. }))
    else {
        panic!("no block in the Command line section");
    };
    // "# on a running stocksync (--url, …; --api-key, …; --config FILE as above):" applies to the
    // lines under it.
    let mut remote_flags = Vec::new();
    let mut checked = 0;
    for line in text.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            remote_flags.extend(flags(comment));
            continue;
        }
        let command = line.split(" #").next().unwrap_or_default().trim();
        if command.is_empty() {
            continue;
        }
        checked += accepted_by_the_cli(line, command, &remote_flags);
    }
    assert!(checked >= 10, "only {checked} command lines found");
}

/// Checks that `stocksync --help` knows each subcommand path of `command` (a README line) and
/// every flag it and `remote_flags` name; answers how many paths it checked.
fn accepted_by_the_cli(line: &str, command: &str, remote_flags: &[String]) -> usize {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "stocksync", "{line}");
    let (paths, used) = command_paths(&words[1..]);
    let checked = paths.len();
    for path in paths {
        assert!(!path.is_empty(), "no subcommand in: {line}");
        let output = Command::new(env!("CARGO_BIN_EXE_stocksync"))
            .args(&path)
            .arg("--help")
            .output()
            .expect("stocksync runs");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "`stocksync {} --help` fails ({line}): {}",
            path.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        for flag in used.iter().chain(remote_flags) {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "`stocksync {}` has no {flag} ({line}):\n{help}",
                path.join(" ")
            );
        }
    }
    checked
}

/// "Connecting WooCommerce": its `Shop` example is loaded as the configuration's `Shop`, and
/// its command lines are accepted by the CLI.
#[test]
fn readme_woocommerce_examples_are_valid() {
    let readme = read_readme();
    let parts = section(&readme, "## Connecting WooCommerce");
    let (mut shops, mut commands) = (0, 0);
    for part in &parts {
        let Part::Block { lang, text } = part else {
            continue;
        };
        match lang.as_str() {
            "json" => {
                let shop: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("the Shop example is not JSON ({e}):\n{text}"));
                let settings = Settings::from_json(&json!({ "Shop": shop }), &|_| None)
                    .unwrap_or_else(|e| panic!("the README's Shop is refused: {:?}", e.0));
                let loaded = settings.shop.expect("a Shop");
                assert_eq!(loaded.base_url, shop["BaseUrl"].as_str().unwrap());
                assert!(loaded.webhook_secret.is_some());
                assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
                shops += 1;
            }
            "sh" => {
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let command = line.split(" #").next().unwrap_or_default().trim();
                    commands += accepted_by_the_cli(line, command, &[]);
                }
            }
            other => panic!("a {other:?} block in Connecting WooCommerce"),
        }
    }
    assert_eq!((shops, commands), (1, 3));
}

/// The `Shop` example of the section `heading` (its one JSON block): loaded as the
/// configuration's `Shop`, of platform `kind`, with no warning. The example.
fn shop_example(readme: &str, heading: &str, kind: ShopKind) -> Value {
    let parts = section(readme, heading);
    let mut blocks = parts.iter().filter_map(|part| match part {
        Part::Block { lang, text } if lang == "json" => Some(text),
        _ => None,
    });
    let text = blocks
        .next()
        .unwrap_or_else(|| panic!("no Shop example in {heading}"));
    assert!(blocks.next().is_none(), "one JSON block in {heading}");
    let shop: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the Shop example is not JSON ({e}):\n{text}"));
    let settings = Settings::from_json(&json!({ "Shop": shop }), &|_| None)
        .unwrap_or_else(|e| panic!("the README's {kind:?} Shop is refused: {:?}", e.0));
    let loaded = settings.shop.expect("a Shop");
    assert_eq!(loaded.kind, kind);
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    shop
}

/// Runs the `curl` commands of the section `heading` on a stocksync whose `Shop` is `shop`
/// (with the README's accounts, their catalog [`PRODUCTS`]), each answer checked against the
/// README's.
async fn run_shop_section(readme: &str, heading: &str, shop: Value) {
    let (example, _) = configuration_example(readme);
    let options = Options {
        api_key: Some(example["ApiKey"].as_str().expect("an ApiKey").to_owned()),
        config: Some(json!({ "PosAccess": example["PosAccess"], "Shop": shop })),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options)
        .await
        .expect("SQLite");
    for (pos_ref, name, sku, quantity) in PRODUCTS {
        app.other_catalog.put(pos_ref, name, *sku, *quantity);
    }
    let steps = curl_steps(readme, heading);
    assert!(steps.len() >= 2, "{heading}: {steps:?}");
    let mut bindings = Bindings::new();
    for step in &steps {
        run(&app, step, &mut bindings, None).await;
    }
}

/// "Connecting Shopify": its `Shop` example is accepted as a Shopify shop (the numeric
/// `LocationID` form too), and its commands answer as shown on a stocksync with a simulated
/// Shopify store whose first variant (1001) has the README's SKU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_shopify_examples_are_valid_and_run() {
    let readme = read_readme();
    let mut example = shop_example(&readme, "## Connecting Shopify", ShopKind::Shopify);
    example["LocationID"] = json!("1");
    Settings::from_json(&json!({ "Shop": example }), &|_| None)
        .unwrap_or_else(|e| panic!("a numeric LocationID is refused: {:?}", e.0));
    let products = [("Tea cosy", "5410000000024", 6), ("Red mug", "RED-MUG", 3)]
        .map(|(name, sku, quantity)| SimProduct {
            name: name.to_owned(),
            sku: sku.to_owned(),
            quantity,
        })
        .to_vec();
    let sim = start_shop(ShopKind::Shopify, 0, products, None)
        .await
        .expect("the Shopify simulator");
    assert_eq!(sim.item_ids()[0], "1001", "the README's variant id");
    run_shop_section(
        &readme,
        "## Connecting Shopify",
        sim.settings(Some(SHOP_WEBHOOK_SECRET)),
    )
    .await;
}

/// "Connecting PrestaShop": its `Shop` example is accepted as a PrestaShop shop, and its
/// commands answer as shown on a stocksync with a simulated PrestaShop whose combination 13 of
/// product 7 has the README's SKU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_prestashop_examples_are_valid_and_run() {
    let readme = read_readme();
    shop_example(&readme, "## Connecting PrestaShop", ShopKind::PrestaShop);
    let archived = (1..=5)
        .map(|n| SimProduct {
            name: format!("Archived {n}"),
            sku: format!("ARCHIVED-{n}"),
            quantity: 0,
        })
        .collect();
    let sim = PrestaSim::start(PrestaSimOptions {
        products: archived,
        ..PrestaSimOptions::default()
    })
    .await
    .expect("the PrestaShop simulator");
    // Product 6 with combinations 1 to 12, then product 7 with 13 (the README's) and 14.
    let old: Vec<(String, String, i64)> = (1..=12)
        .map(|n| (format!("OLD-MUG-{n}"), String::new(), 0))
        .collect();
    let old: Vec<(&str, &str, i64)> = old
        .iter()
        .map(|(r, e, q)| (r.as_str(), e.as_str(), *q))
        .collect();
    sim.add_combinations("Old mug", &old);
    let (product, combinations) = sim.add_combinations(
        "Tea cosy",
        &[("5410000000024", "", 6), ("TEA-COSY-LARGE", "", 2)],
    );
    assert_eq!(
        (product, combinations[0]),
        (7, 13),
        "the README's combination"
    );
    run_shop_section(
        &readme,
        "## Connecting PrestaShop",
        SimShop::settings(&sim, None),
    )
    .await;
}
