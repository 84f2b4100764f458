//! The CSV file of `items import`: a header line `item_ecommerce_id,account_id,item_pos_id`
//! (or `…,item_sku`), then one link a line. Reads what spreadsheets export: quoted fields, a
//! UTF-8 byte-order mark, `;` between fields (told by the header line), CRLF, blank lines
//! (skipped, but counted in the line numbers of problems). No I/O: the caller reads the file.

/// The lines of a link file.
#[derive(Debug, PartialEq, Eq)]
pub struct LinkFile {
    /// The third column names the product by SKU, not by POS id.
    pub by_sku: bool,
    pub lines: Vec<LinkLine>,
}

/// One line after the header, with its number in the file (the header is line 1).
#[derive(Debug, PartialEq, Eq)]
pub struct LinkLine {
    pub number: u64,
    pub link: Result<Link, String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Link {
    pub shop_item: String,
    pub account: String,
    /// A POS id or a SKU, as `LinkFile::by_sku` says.
    pub product: String,
}

const BY_ID: [&str; 3] = ["item_ecommerce_id", "account_id", "item_pos_id"];
const BY_SKU: [&str; 3] = ["item_ecommerce_id", "account_id", "item_sku"];

/// Reads a link file; `Err` when its header is not one of the two accepted.
pub fn parse(content: &str) -> Result<LinkFile, String> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let header = content
        .lines()
        .find(|line| !line.trim().is_empty())
        .ok_or("the file is empty")?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(header))
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content.as_bytes());
    let columns = reader
        .headers()
        .map_err(|err| format!("the first line cannot be read: {err}"))?
        .clone();
    let by_sku = if columns.iter().eq(BY_ID) {
        false
    } else if columns.iter().eq(BY_SKU) {
        true
    } else {
        return Err(format!(
            "the first line must be {} (or item_sku), not '{}'",
            BY_ID.join(","),
            header.trim()
        ));
    };
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    // The csv crate's own line count leaves out blank lines, and a record's position is where
    // the blank lines before it start: lines are counted up to its first character.
    let bytes = content.as_bytes();
    let line_at = |position: Option<&csv::Position>| {
        let mut at = position
            .map_or(bytes.len(), |p| p.byte() as usize)
            .min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            // A line of blanks or bare separators is a blank line.
            Ok(true) if record.iter().all(str::is_empty) => {}
            Ok(true) => lines.push(LinkLine {
                number: line_at(record.position()),
                link: link(&record),
            }),
            // Unreadable text ends the file: what follows cannot be told apart.
            Err(err) => {
                lines.push(LinkLine {
                    number: line_at(err.position()),
                    link: Err(format!("not CSV: {err}")),
                });
                break;
            }
        }
    }
    Ok(LinkFile { by_sku, lines })
}

/// `;` when the header line has semicolons and no comma (a spreadsheet in a locale whose
/// decimal separator is the comma), else `,`.
fn separator(header: &str) -> u8 {
    if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

fn link(record: &csv::StringRecord) -> Result<Link, String> {
    match record.iter().collect::<Vec<_>>().as_slice() {
        [shop_item, account, product] if !shop_item.is_empty() && !product.is_empty() => Ok(Link {
            shop_item: (*shop_item).to_owned(),
            account: (*account).to_owned(),
            product: (*product).to_owned(),
        }),
        [_, _, _] => Err("the shop item and the product must not be empty".to_owned()),
        fields => Err(format!("expected 3 values, found {}", fields.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line's number, and its three values or its problem.
    type Read<'a> = (u64, Result<(&'a str, &'a str, &'a str), &'a str>);

    fn links(file: &LinkFile) -> Vec<Read<'_>> {
        file.lines
            .iter()
            .map(|line| {
                let link = match &line.link {
                    Ok(link) => Ok((
                        link.shop_item.as_str(),
                        link.account.as_str(),
                        link.product.as_str(),
                    )),
                    Err(why) => Err(why.as_str()),
                };
                (line.number, link)
            })
            .collect()
    }

    #[test]
    fn plain_commas_by_pos_id() {
        let file =
            parse("item_ecommerce_id,account_id,item_pos_id\n1,sq,V-1\n2, sq , V-2 \n").unwrap();
        assert!(!file.by_sku);
        assert_eq!(
            links(&file),
            [(2, Ok(("1", "sq", "V-1"))), (3, Ok(("2", "sq", "V-2")))]
        );
    }

    #[test]
    fn quoted_fields_keep_separators_quotes_and_spaces_inside() {
        let file =
            parse("item_ecommerce_id,account_id,item_sku\n\"1\",\"sq\",\"A,B \"\"big\"\"\"\n")
                .unwrap();
        assert!(file.by_sku);
        assert_eq!(links(&file), [(2, Ok(("1", "sq", "A,B \"big\"")))]);
    }

    #[test]
    fn a_byte_order_mark_and_semicolons_from_a_spreadsheet() {
        let file =
            parse("\u{feff}item_ecommerce_id;account_id;item_sku\r\n1;sq;\"SKU;1,5\"\r\n").unwrap();
        assert!(file.by_sku);
        assert_eq!(links(&file), [(2, Ok(("1", "sq", "SKU;1,5")))]);
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let file = parse(
            "\nitem_ecommerce_id,account_id,item_pos_id\n\n1,sq,V-1\n  \n,,\n2,sq\n,sq,V-3\n",
        )
        .unwrap();
        assert_eq!(
            links(&file),
            [
                (4, Ok(("1", "sq", "V-1"))),
                (7, Err("expected 3 values, found 2")),
                (8, Err("the shop item and the product must not be empty")),
            ]
        );
    }

    #[test]
    fn a_wrong_header_or_an_empty_file_is_refused() {
        assert_eq!(parse(" \n\n"), Err("the file is empty".to_owned()));
        let err = parse("shop,account,product\n1,sq,V-1\n").unwrap_err();
        assert!(
            err.contains("item_ecommerce_id,account_id,item_pos_id")
                && err.contains("'shop,account,product'"),
            "{err}"
        );
    }
}
