//! What a link's `ecommerceID` names on the configured shop platform, spelled out in the
//! link's answers (`shopItem`): PrestaShop's `"7-13"` is product 7's combination 13, Shopify's
//! number is a product variant, WooCommerce's a product or variation. A pure function of the
//! platform and the id.

use serde::Serialize;
use stocksync_domain::ShopKind;
use utoipa::ToSchema;

/// The shop item a link feeds, as its platform names it.
#[derive(Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShopItemName {
    /// `woocommerce`, `shopify` or `prestashop`.
    platform: &'static str,
    /// The product (WooCommerce: a product or a variation; PrestaShop: the product, of a
    /// combination too).
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    /// PrestaShop: the combination (`ecommerceID` `"{product}-{combination}"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    combination: Option<String>,
    /// Shopify: the variant's GraphQL id.
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

/// What `id` names on a `kind` shop; the platform alone when the id is not one of its ids.
pub fn shop_item_name(kind: ShopKind, id: &str) -> ShopItemName {
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let mut name = ShopItemName {
        platform: kind.as_str(),
        product: None,
        combination: None,
        variant: None,
    };
    match kind {
        ShopKind::WooCommerce if numeric => name.product = Some(id.to_owned()),
        ShopKind::Shopify if numeric => {
            name.variant = Some(format!("gid://shopify/ProductVariant/{id}"));
        }
        ShopKind::PrestaShop => {
            if let Some((product, combination)) = stocksync_prestashop::parse_item_id(id) {
                name.product = Some(product.to_string());
                name.combination = combination.map(|c| c.to_string());
            }
        }
        _ => {}
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_spells_out_its_ids() {
        let presta = shop_item_name(ShopKind::PrestaShop, "7-13");
        assert_eq!(
            (presta.product.as_deref(), presta.combination.as_deref()),
            (Some("7"), Some("13"))
        );
        let simple = shop_item_name(ShopKind::PrestaShop, "7");
        assert_eq!(
            (simple.product.as_deref(), simple.combination),
            (Some("7"), None)
        );
        let shopify = shop_item_name(ShopKind::Shopify, "4012");
        assert_eq!(
            shopify.variant.as_deref(),
            Some("gid://shopify/ProductVariant/4012")
        );
        assert_eq!(
            shop_item_name(ShopKind::WooCommerce, "12")
                .product
                .as_deref(),
            Some("12")
        );
        let odd = shop_item_name(ShopKind::PrestaShop, "SKU-1");
        assert_eq!(
            (odd.product, odd.combination, odd.variant),
            (None, None, None),
            "not an id of the platform: the platform alone"
        );
    }
}
