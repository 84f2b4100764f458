//! Matching shop items to POS products by SKU (or the POS's barcode): which pairs are certain,
//! which shop items have no product, and which SKUs name several on either side. A pure plan:
//! reading both catalogues and writing the links is the caller's.

use crate::pos::PosProduct;
use crate::shop::ShopItem;
use crate::{EcommerceId, PosRef};
use std::collections::{HashMap, HashSet};

/// What a shop item's SKU is compared with on the POS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchBy {
    Sku,
    Barcode,
}

/// One certain pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub shop_item: ShopItem,
    pub product: PosProduct,
}

/// A SKU that names more than one shop item or more than one POS product: nothing linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguous {
    pub sku: String,
    pub shop_items: Vec<EcommerceId>,
    pub products: Vec<PosRef>,
}

/// The plan, each list in the shop's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchPlan {
    pub matched: Vec<Match>,
    /// Shop items whose SKU no POS product has (or that have no SKU).
    pub unmatched: Vec<ShopItem>,
    pub ambiguous: Vec<Ambiguous>,
    /// Pairs already linked: left as they are.
    pub already_linked: Vec<Match>,
}

fn key(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// Pairs every shop item whose SKU equals exactly one POS product's SKU (or barcode), when no
/// other shop item has that SKU. `linked` holds the POS products of the account already linked,
/// with their shop item: such a product is never offered again.
pub fn plan_matches(
    shop_items: &[ShopItem],
    products: &[PosProduct],
    by: MatchBy,
    linked: &HashMap<PosRef, EcommerceId>,
) -> MatchPlan {
    let mut by_key: HashMap<&str, Vec<&PosProduct>> = HashMap::new();
    for product in products {
        let value = match by {
            MatchBy::Sku => product.sku.as_deref(),
            MatchBy::Barcode => product.barcode.as_deref(),
        };
        if let Some(value) = key(value) {
            by_key.entry(value).or_default().push(product);
        }
    }
    let mut shop_count: HashMap<&str, Vec<&ShopItem>> = HashMap::new();
    for item in shop_items {
        if let Some(sku) = key(item.sku.as_deref()) {
            shop_count.entry(sku).or_default().push(item);
        }
    }
    let mut plan = MatchPlan::default();
    let mut reported: HashSet<&str> = HashSet::new();
    for item in shop_items {
        let Some(sku) = key(item.sku.as_deref()) else {
            plan.unmatched.push(item.clone());
            continue;
        };
        let candidates = by_key.get(sku).map(Vec::as_slice).unwrap_or_default();
        let twins = &shop_count[sku];
        match (candidates, twins.len()) {
            ([], _) => plan.unmatched.push(item.clone()),
            ([product], 1) => {
                let pair = Match {
                    shop_item: item.clone(),
                    product: (*product).clone(),
                };
                match linked.get(&product.pos_ref) {
                    Some(_) => plan.already_linked.push(pair),
                    None => plan.matched.push(pair),
                }
            }
            _ => {
                if reported.insert(sku) {
                    plan.ambiguous.push(Ambiguous {
                        sku: sku.to_owned(),
                        shop_items: twins.iter().map(|i| i.item.id.clone()).collect(),
                        products: candidates.iter().map(|p| p.pos_ref.clone()).collect(),
                    });
                }
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::ItemRef;

    fn item(id: &str, sku: Option<&str>) -> ShopItem {
        ShopItem {
            item: ItemRef {
                id: EcommerceId::new(id),
                locator: None,
            },
            name: format!("item {id}"),
            sku: sku.map(str::to_owned),
            barcode: None,
            quantity: Some(0),
        }
    }

    fn product(pos_ref: &str, sku: Option<&str>, barcode: Option<&str>) -> PosProduct {
        PosProduct {
            pos_ref: PosRef::new(pos_ref),
            name: format!("product {pos_ref}"),
            sku: sku.map(str::to_owned),
            barcode: barcode.map(str::to_owned),
            quantity: 3,
        }
    }

    fn ids(items: &[ShopItem]) -> Vec<&str> {
        items.iter().map(|i| i.item.id.as_str()).collect()
    }

    #[test]
    fn one_sku_on_each_side_is_a_match_and_the_rest_is_listed() {
        let shop = [
            item("1", Some("A")),
            item("2", Some(" B ")),
            item("3", Some("C")),
            item("4", None),
            item("5", Some("")),
        ];
        let pos = [
            product("p1", Some("A"), None),
            product("p2", Some("B"), None),
        ];
        let plan = plan_matches(&shop, &pos, MatchBy::Sku, &HashMap::new());
        let pairs: Vec<(&str, &str)> = plan
            .matched
            .iter()
            .map(|m| (m.shop_item.item.id.as_str(), m.product.pos_ref.as_str()))
            .collect();
        assert_eq!(pairs, [("1", "p1"), ("2", "p2")], "SKUs compared trimmed");
        assert_eq!(ids(&plan.unmatched), ["3", "4", "5"]);
        assert!(plan.ambiguous.is_empty());
    }

    #[test]
    fn a_sku_on_two_products_or_two_items_links_nothing() {
        let shop = [
            item("1", Some("A")),
            item("2", Some("B")),
            item("3", Some("B")),
        ];
        let pos = [
            product("p1", Some("A"), None),
            product("p2", Some("A"), None),
            product("p3", Some("B"), None),
        ];
        let plan = plan_matches(&shop, &pos, MatchBy::Sku, &HashMap::new());
        assert!(plan.matched.is_empty());
        assert_eq!(plan.ambiguous.len(), 2, "each SKU reported once");
        assert_eq!(plan.ambiguous[0].products.len(), 2);
        assert_eq!(plan.ambiguous[1].shop_items.len(), 2);
    }

    #[test]
    fn barcodes_match_shop_skus_and_linked_products_are_not_offered_again() {
        let shop = [
            item("1", Some("4006381333931")),
            item("2", Some("5000000000001")),
        ];
        let pos = [
            product("p1", Some("X"), Some("4006381333931")),
            product("p2", None, Some("5000000000001")),
        ];
        let linked = HashMap::from([(PosRef::new("p2"), EcommerceId::new("2"))]);
        let plan = plan_matches(&shop, &pos, MatchBy::Barcode, &linked);
        assert_eq!(plan.matched.len(), 1);
        assert_eq!(plan.matched[0].product.pos_ref.as_str(), "p1");
        assert_eq!(plan.already_linked.len(), 1);
        assert!(
            plan_matches(&shop, &pos, MatchBy::Sku, &linked)
                .matched
                .is_empty()
        );
    }
}
