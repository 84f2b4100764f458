//! The simulator's XML, written apart from the client's: documents rendered as PrestaShop's
//! `WebserviceOutputXML` does (CDATA values, `<prestashop xmlns:xlink>` around), and a write's
//! body read into its object's fields (a leading `xml=` is dropped, as PrestaShop does).

use super::model::Record;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::BTreeMap;

const OPEN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n";
const CLOSE: &str = "</prestashop>\n";

/// `stock_availables` → `stock_available`, `order_rows` → `order_row`.
pub(crate) fn singular(plural: &str) -> &str {
    plural.strip_suffix('s').unwrap_or(plural)
}

fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

fn fields(out: &mut String, record: &Record, indent: &str) {
    for (name, value) in record {
        match value {
            Value::Object(groups) => {
                out.push_str(&format!("{indent}<{name}>\n"));
                for (group, items) in groups {
                    out.push_str(&format!(
                        "{indent}\t<{group} nodeType=\"{}\" api=\"{group}\">\n",
                        singular(group)
                    ));
                    for item in items.as_array().into_iter().flatten() {
                        if let Value::Object(item) = item {
                            out.push_str(&format!("{indent}\t\t<{}>\n", singular(group)));
                            fields(out, item, &format!("{indent}\t\t\t"));
                            out.push_str(&format!("{indent}\t\t</{}>\n", singular(group)));
                        }
                    }
                    out.push_str(&format!("{indent}\t</{group}>\n"));
                }
                out.push_str(&format!("{indent}</{name}>\n"));
            }
            Value::String(text) => {
                out.push_str(&format!("{indent}<{name}>{}</{name}>\n", cdata(text)))
            }
            other => out.push_str(&format!(
                "{indent}<{name}>{}</{name}>\n",
                cdata(&other.to_string())
            )),
        }
    }
}

/// One object: `<prestashop><stock_available>…`.
pub(crate) fn object(resource: &str, record: &Record) -> String {
    let object = singular(resource);
    let mut out = format!("{OPEN}<{object}>\n");
    fields(&mut out, record, "\t");
    out.push_str(&format!("</{object}>\n{CLOSE}"));
    out
}

/// A list: `<prestashop><stock_availables><stock_available>…`.
pub(crate) fn list(resource: &str, records: &[Record]) -> String {
    let mut out = format!("{OPEN}<{resource}>\n");
    for record in records {
        // Without `display`, ids only, as attributes: `<product id="1" xlink:href="…"/>`.
        if let (1, Some(Value::String(id))) = (record.len(), record.get("id")) {
            out.push_str(&format!("\t<{} id=\"{id}\"/>\n", singular(resource)));
            continue;
        }
        out.push_str(&format!("\t<{}>\n", singular(resource)));
        fields(&mut out, record, "\t\t");
        out.push_str(&format!("\t</{}>\n", singular(resource)));
    }
    out.push_str(&format!("</{resource}>\n{CLOSE}"));
    out
}

pub(crate) fn errors(code: i64, message: &str) -> String {
    format!(
        "{OPEN}<errors>\n<error>\n<code>{}</code>\n<message>{}</message>\n</error>\n</errors>\n{CLOSE}",
        cdata(&code.to_string()),
        cdata(message)
    )
}

/// The fields of `<prestashop><{object}>` in a write's body; `Err` when it is not XML of that
/// shape (PrestaShop's code 127).
pub(crate) fn read_object(body: &str, object: &str) -> Result<BTreeMap<String, String>, String> {
    let body = body.trim_start();
    let body = body.strip_prefix("xml=").unwrap_or(body);
    let mut reader = Reader::from_str(body);
    let mut stack: Vec<String> = Vec::new();
    let mut fields = BTreeMap::new();
    let mut seen_object = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| format!("XML error: {err}"))?;
        let in_field = stack.len() == 3 && stack[0] == "prestashop" && stack[1] == object;
        match event {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                if stack.len() == 2 && stack[1] == object {
                    seen_object = true;
                }
                if stack.len() == 3 && stack[1] == object {
                    fields.insert(stack[2].clone(), String::new());
                }
            }
            Event::Empty(e) if stack.len() == 2 && stack[1] == object => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                fields.insert(name, String::new());
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) if in_field => {
                let text = t.decode().map_err(|err| err.to_string())?;
                fields.get_mut(&stack[2]).expect("inserted").push_str(&text);
            }
            Event::CData(t) if in_field => {
                let text = t.decode().map_err(|err| err.to_string())?;
                fields.get_mut(&stack[2]).expect("inserted").push_str(&text);
            }
            Event::GeneralRef(r) if in_field => {
                let raw = format!("&{};", r.decode().map_err(|err| err.to_string())?);
                let text = quick_xml::escape::unescape(&raw).map_err(|err| err.to_string())?;
                fields.get_mut(&stack[2]).expect("inserted").push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_object || !stack.is_empty() {
        return Err(format!("XML error: no complete <{object}> in <prestashop>"));
    }
    Ok(fields)
}
