//! The client's XML (writes are XML only, shop-apis.md §3.2): the leaves of a document read as
//! `(path, text)`, a document copied with one field's text replaced, everything else (the
//! fields we do not know, CDATA, attributes) kept as the shop sent it, since a PUT resets what
//! it leaves out (§3.4), and the partial document of a PATCH (only the fields it sets).

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

/// Every element's text, with its path from the root (`prestashop/stock_available/quantity`),
/// in document order; elements without text are listed with `""`.
pub(super) fn leaves(xml: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text: Option<String> = None;
    let mut leaves = Vec::new();
    loop {
        match reader.read_event().map_err(|err| err.to_string())? {
            Event::Start(start) => {
                path.push(name(&start)?);
                text = Some(String::new());
            }
            Event::Empty(start) => {
                path.push(name(&start)?);
                leaves.push((path.join("/"), String::new()));
                path.pop();
                text = None;
            }
            Event::Text(t) => {
                if let Some(text) = &mut text {
                    text.push_str(&t.decode().map_err(|err| err.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(text) = &mut text {
                    text.push_str(&t.decode().map_err(|err| err.to_string())?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = &mut text {
                    let name = r.decode().map_err(|err| err.to_string())?;
                    match r.resolve_char_ref().map_err(|err| err.to_string())? {
                        Some(c) => text.push(c),
                        None => text.push_str(
                            resolve_predefined_entity(&name)
                                .ok_or_else(|| format!("unknown entity &{name};"))?,
                        ),
                    }
                }
            }
            Event::End(_) => {
                if let Some(text) = text.take() {
                    leaves.push((path.join("/"), text));
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err("the document ends inside an element".into());
    }
    Ok(leaves)
}

/// The fields of the one object in `<prestashop><{object}>…`, by name.
pub(super) fn object_fields(xml: &str, object: &str) -> Result<Vec<(String, String)>, String> {
    let prefix = format!("prestashop/{object}/");
    let fields: Vec<_> = leaves(xml)?
        .into_iter()
        .filter_map(|(path, text)| {
            let field = path.strip_prefix(&prefix)?;
            (!field.contains('/')).then(|| (field.to_owned(), text))
        })
        .collect();
    if fields.is_empty() {
        return Err(format!("no <{object}> in the answer"));
    }
    Ok(fields)
}

/// `xml` with the text of `<prestashop><{object}><{field}>` replaced by `value`, every other
/// byte's meaning kept. `Err` when the document has no such field.
pub(super) fn with_field(
    xml: &str,
    object: &str,
    field: &str,
    value: &str,
) -> Result<String, String> {
    let target = ["prestashop", object, field];
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut path: Vec<String> = Vec::new();
    let mut skipping = false;
    let mut replaced = false;
    let write = |writer: &mut Writer<Vec<u8>>, event: Event<'_>| {
        writer.write_event(event).map_err(|err| err.to_string())
    };
    loop {
        let event = reader.read_event().map_err(|err| err.to_string())?;
        match &event {
            Event::Eof => break,
            Event::Start(start) => {
                path.push(name(start)?);
                if path == target {
                    write(&mut writer, event.clone())?;
                    write(&mut writer, Event::Text(BytesText::new(value)))?;
                    skipping = true;
                    replaced = true;
                    continue;
                }
            }
            Event::Empty(start) if !skipping => {
                path.push(name(start)?);
                let hit = path == target;
                path.pop();
                if hit {
                    let start = start.to_owned();
                    let end =
                        BytesEnd::new(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                    write(&mut writer, Event::Start(start))?;
                    write(&mut writer, Event::Text(BytesText::new(value)))?;
                    write(&mut writer, Event::End(end))?;
                    replaced = true;
                    continue;
                }
            }
            Event::End(_) => {
                if path == target {
                    skipping = false;
                }
                path.pop();
            }
            _ => {}
        }
        if !skipping {
            write(&mut writer, event)?;
        }
    }
    if !replaced {
        return Err(format!("no <{field}> in the <{object}>"));
    }
    String::from_utf8(writer.into_inner()).map_err(|err| err.to_string())
}

/// `<prestashop><{object}><{field}>{value}</{field}>…</{object}></prestashop>`: a PATCH's
/// body, the values escaped.
pub(super) fn partial(object: &str, fields: &[(&str, &str)]) -> String {
    let fields: String = fields
        .iter()
        .map(|(field, value)| format!("<{field}>{}</{field}>", escape(*value)))
        .collect();
    format!("<prestashop><{object}>{fields}</{object}></prestashop>")
}

fn name(start: &BytesStart<'_>) -> Result<String, String> {
    std::str::from_utf8(start.local_name().as_ref())
        .map(str::to_owned)
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">
<stock_available>
	<id><![CDATA[42]]></id>
	<id_product xlink:href="http://shop/api/products/7"><![CDATA[7]]></id_product>
	<id_shop><![CDATA[1]]></id_shop>
	<quantity><![CDATA[5]]></quantity>
	<location><![CDATA[Aisle 3 & 4]]></location>
	<note>a &amp; b &#233;</note>
	<empty/>
</stock_available>
</prestashop>"#;

    #[test]
    fn an_object_reads_as_its_fields() {
        let fields = object_fields(ROW, "stock_available").unwrap();
        let get = |name: &str| {
            fields
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("id"), Some("42"));
        assert_eq!(get("id_product"), Some("7"));
        assert_eq!(get("location"), Some("Aisle 3 & 4"));
        assert_eq!(get("note"), Some("a & b é"));
        assert_eq!(get("empty"), Some(""));
        assert!(object_fields(ROW, "order").is_err());
        assert!(object_fields("<html><body>oops", "stock_available").is_err());
    }

    #[test]
    fn a_field_is_replaced_and_everything_else_kept() {
        let written = with_field(ROW, "stock_available", "quantity", "17").unwrap();
        let before = object_fields(ROW, "stock_available").unwrap();
        let after = object_fields(&written, "stock_available").unwrap();
        assert_eq!(before.len(), after.len());
        for ((field, old), (field2, new)) in before.iter().zip(&after) {
            assert_eq!(field, field2);
            if field == "quantity" {
                assert_eq!(new, "17");
            } else {
                assert_eq!(old, new, "{field}");
            }
        }
        assert!(written.contains("xlink:href=\"http://shop/api/products/7\""));
        let filled = with_field(ROW, "stock_available", "empty", "x").unwrap();
        assert!(filled.contains("<empty>x</empty>"), "{filled}");
        assert!(with_field(ROW, "stock_available", "missing", "1").is_err());
    }

    #[test]
    fn a_partial_document_holds_only_its_fields() {
        let patch = partial("stock_available", &[("id", "42"), ("location", "A & B")]);
        assert_eq!(
            patch,
            "<prestashop><stock_available><id>42</id><location>A &amp; B</location>\
             </stock_available></prestashop>"
        );
        let fields = object_fields(&patch, "stock_available").unwrap();
        assert_eq!(fields[1], ("location".to_owned(), "A & B".to_owned()));
    }
}
