//! The three POS simulators together, with a generated catalog each: what
//! `stocksync simulate` runs by hand, and what the demo and the benchmarks run on.

use serde_json::{Value, json};
use std::time::Duration;
use stocksync_hiboutik::{HiboutikSim, HiboutikSimOptions};
use stocksync_lightspeed::{LightspeedSim, LightspeedSimOptions, RateLimit};
use stocksync_pos::simkit::catalog;
use stocksync_square::{SquareSim, SquareSimOptions};

/// Square, Hiboutik and Lightspeed simulators, stopped when dropped.
pub struct Simulators {
    pub square: SquareSim,
    pub hiboutik: HiboutikSim,
    pub lightspeed: LightspeedSim,
}

impl Simulators {
    /// Starts the three with `products` products each, on ports `first_port` to
    /// `first_port + 3` (any free ports when 0). Lightspeed paces as the real one does by
    /// default (a bucket of 90 drips, 1 per second).
    pub async fn start(products: usize, first_port: u16) -> std::io::Result<Self> {
        let port = |offset: u16| {
            if first_port == 0 {
                0
            } else {
                first_port + offset
            }
        };
        let square = SquareSim::start(SquareSimOptions {
            port: port(0),
            products: catalog(products, 1),
            ..SquareSimOptions::default()
        })
        .await?;
        let hiboutik = HiboutikSim::start(HiboutikSimOptions {
            port: port(1),
            products: catalog(products, 2),
            sized_every: 5,
            ..HiboutikSimOptions::default()
        })
        .await?;
        let lightspeed = LightspeedSim::start(LightspeedSimOptions {
            port: port(2),
            auth_port: port(3),
            products: catalog(products, 3),
            token_lifetime: Duration::from_secs(3600),
            rate_limit: RateLimit {
                size: 90.0,
                drip: 1.0,
                burst: None,
                legacy_costs: false,
            },
            ..LightspeedSimOptions::default()
        })
        .await?;
        Ok(Self {
            square,
            hiboutik,
            lightspeed,
        })
    }

    /// An `appsettings.json` whose three accounts point at these simulators.
    pub fn appsettings(&self) -> Value {
        json!({
            "PosAccess": { "PosConfigurations": [
                self.square.account_settings(),
                self.hiboutik.account_settings(),
                self.lightspeed.account_settings(),
            ]}
        })
    }

    /// What a person needs to use them: addresses, and how to make a till sale.
    pub fn describe(&self) -> String {
        let sale_example = |url: String, pos_ref: Option<String>| {
            format!(
                "curl -X POST {url}/_sim/sale -H 'Content-Type: application/json' -d '{{\"pos_ref\":\"{}\",\"quantity\":1}}'",
                pos_ref.unwrap_or_default()
            )
        };
        format!(
            "Square     {}\nHiboutik   {}\nLightspeed {} (OAuth at {})\n\n\
             A till sale on each (the first product):\n  {}\n  {}\n  {}\n\n\
             An appsettings.json for stocksync (credentials of the simulators only):\n{}\n",
            self.square.base_url(),
            self.hiboutik.base_url(),
            self.lightspeed.base_url(),
            self.lightspeed.auth_url(),
            sale_example(
                self.square.base_url(),
                self.square.product_refs().first().cloned()
            ),
            sale_example(
                self.hiboutik.base_url(),
                self.hiboutik.product_refs().first().cloned()
            ),
            sale_example(
                self.lightspeed.base_url(),
                self.lightspeed.product_refs().first().cloned()
            ),
            serde_json::to_string_pretty(&self.appsettings()).unwrap_or_default(),
        )
    }
}
