//! The `pos_ref` of a Hiboutik item: `"{product_id}"` for a product sold without sizes,
//! `"{product_id}/{size_id}"` for one size of a product. Shared by the connector and the
//! simulator (it is stocksync's convention, not Hiboutik's JSON).

use std::fmt;

/// A sellable Hiboutik item: a product, and its size (`0` when it has none, as Hiboutik writes
/// `product_size: 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemRef {
    pub product_id: i64,
    pub size_id: i64,
}

impl ItemRef {
    pub fn new(product_id: i64, size_id: i64) -> Self {
        Self {
            product_id,
            size_id,
        }
    }

    /// Reads `"12"` or `"12/3"` (positive ids; `"12/0"` is `"12"`). `None` for anything else.
    pub fn parse(pos_ref: &str) -> Option<Self> {
        let id = |text: &str| text.parse::<i64>().ok().filter(|id| *id > 0);
        match pos_ref.split_once('/') {
            None => Some(Self::new(id(pos_ref)?, 0)),
            Some((product, "0")) => Some(Self::new(id(product)?, 0)),
            Some((product, size)) => Some(Self::new(id(product)?, id(size)?)),
        }
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.size_id == 0 {
            write!(f, "{}", self.product_id)
        } else {
            write!(f, "{}/{}", self.product_id, self.size_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_sizes_round_trip() {
        for text in ["12", "12/3"] {
            assert_eq!(ItemRef::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(ItemRef::parse("12/0"), Some(ItemRef::new(12, 0)));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in ["", "x", "12/", "/3", "12/3/4", "-1", "0", "12/-3", " 12"] {
            assert_eq!(ItemRef::parse(text), None, "{text:?}");
        }
    }
}
