//! What a PrestaShop item's `item_ecommerce_id` is: stocksync's links name a product without
//! combinations by its id, and a combination by its product's id and its own.

/// The `item_ecommerce_id` of a product without combinations (`"7"`) or of one of a product's
/// combinations (`"7-13"`: product 7, combination 13). The product id comes first so that the
/// ids of one product sort together and a combination's row can be found by its product alone
/// (`stock_availables?filter[id_product]`); a combination id alone would cost a call to learn
/// its product.
pub fn item_id(product: i64, combination: Option<i64>) -> String {
    match combination {
        Some(combination) => format!("{product}-{combination}"),
        None => product.to_string(),
    }
}

/// The product and, for a combination, the combination an `item_ecommerce_id` names; `None`
/// when it is not one [`item_id`] makes (ids are positive).
pub fn parse_item_id(id: &str) -> Option<(i64, Option<i64>)> {
    let positive = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse::<i64>().ok())
            .flatten()
            .filter(|&n| n > 0)
    };
    match id.split_once('-') {
        Some((product, combination)) => Some((positive(product)?, Some(positive(combination)?))),
        None => Some((positive(id)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_is_its_id_and_a_combination_its_product_dash_its_id() {
        assert_eq!(item_id(7, None), "7");
        assert_eq!(item_id(7, Some(13)), "7-13");
        assert_eq!(parse_item_id("7"), Some((7, None)));
        assert_eq!(parse_item_id("7-13"), Some((7, Some(13))));
        for id in [1, 42, 123_456] {
            for combination in [None, Some(1), Some(99)] {
                assert_eq!(
                    parse_item_id(&item_id(id, combination)),
                    Some((id, combination))
                );
            }
        }
    }

    #[test]
    fn anything_else_is_not_an_item_id() {
        for bad in [
            "", "-", "7-", "-13", "0", "7-0", "7-13-2", "+7", "7 ", "a-1", "-7",
        ] {
            assert_eq!(parse_item_id(bad), None, "{bad:?}");
        }
    }
}
