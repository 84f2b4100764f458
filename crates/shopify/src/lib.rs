//! Shopify (Admin GraphQL API, `{shop}.myshopify.com/admin/api/{version}/graphql.json`) for
//! stocksync's shop side: a client ([`ShopifyClient`], in `client/`, reading the JSON of
//! `wire.rs`) that implements the domain's `ShopConnector` and paces itself on Shopify's
//! cost bucket, webhook deliveries read and checked (`webhook.rs`), and a simulator of the API
//! ([`ShopifySim`], in `sim/`, which writes its JSON and signs its deliveries on its own so that
//! the contract tests check one against the other).

mod client;
pub mod sim;
pub mod webhook;
pub mod wire;

pub use client::{
    DEFAULT_BACKOFF, ORDER_PAGE, ShopifyClient, VARIANT_PAGE, WRITE_LIMIT, is_api_version,
    location_gid,
};
pub use sim::{ShopifySim, ShopifySimOptions};

pub use webhook::{Delivery, DeliveryError, Topic, read_delivery, verify_signature};
