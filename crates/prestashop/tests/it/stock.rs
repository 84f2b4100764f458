//! Writing stock: on 8.0+ one PATCH per row, on 1.7 (and while the version is unknown) each
//! row read whole and PUT back whole (the simulator resets what a PUT leaves out); every other
//! field kept either way, nothing written where nothing changes, and the product-level sum of
//! a product with combinations never written. (A refused PATCH, the simulator's PATCH:
//! `patch.rs`.)

use crate::{Setup, V1_7, V8, endpoint, on, write};
use stocksync_domain::ShopConnector;
use stocksync_domain::shop::WriteOutcome;
use stocksync_prestashop::PrestaSimOptions;

/// How the client wrote on a version: calls per endpoint (`GET /stock_availables/{id}`, PUT,
/// PATCH) for the two writes of the test below.
struct Calls {
    reads: u64,
    puts: u64,
    patches: u64,
}

#[tokio::test]
async fn a_write_changes_the_quantity_and_keeps_every_other_field() {
    for (version, calls) in [
        (
            V1_7,
            Calls {
                reads: 2,
                puts: 2,
                patches: 0,
            },
        ),
        (
            V8,
            Calls {
                reads: 0,
                puts: 0,
                patches: 2,
            },
        ),
        // No PSWS-Version header (a proxy strips it): read and PUT.
        (
            "",
            Calls {
                reads: 2,
                puts: 2,
                patches: 0,
            },
        ),
    ] {
        let setup = Setup::new(on(version)).await;
        let mug = setup.sim.add_product("Mug", "MUG", "", 3);
        let (scarf, combinations) = setup
            .sim
            .add_combinations("Scarf", &[("SC-RED", "", 4), ("SC-BLU", "", 6)]);
        let red = format!("{scarf}-{}", combinations[0]);
        let mug_row = setup.sim.row_id(mug, 0).unwrap();
        let before = setup.sim.row(mug_row).unwrap();
        let outcomes = setup
            .client
            .set_quantities(&[write(&mug.to_string(), 9), write(&red, 1)])
            .await;
        assert_eq!(
            outcomes,
            [
                WriteOutcome::Written { quantity: 9 },
                WriteOutcome::Written { quantity: 1 }
            ],
            "{version}: expected is ignored: no compare-and-set"
        );
        assert_eq!(setup.sim.stock(mug, 0), Some(9));
        assert_eq!(setup.sim.stock(scarf, combinations[0]), Some(1));
        assert_eq!(
            setup.sim.stock(scarf, 0),
            Some(7),
            "PrestaShop recomputed the sum"
        );
        let after = setup.sim.row(mug_row).unwrap();
        for (field, value) in &before {
            if field != "quantity" {
                assert_eq!(after.get(field), Some(value), "{version}: {field} kept");
            }
        }
        assert_eq!(after["id_shop"], "1");
        assert!(after["location"].starts_with("Aisle"));
        let red_row = setup.sim.row_id(scarf, combinations[0]).unwrap();
        assert_eq!(
            setup.sim.writes_per_row().into_iter().collect::<Vec<_>>(),
            [(mug_row, 1), (red_row, 1)]
        );
        assert_eq!(
            setup.calls_to(endpoint::STOCK_AVAILABLES),
            1,
            "rows found in bulk"
        );
        assert_eq!(setup.calls_to(endpoint::STOCK_AVAILABLE), calls.reads);
        assert_eq!(setup.calls_to(endpoint::PUT_STOCK_AVAILABLE), calls.puts);
        assert_eq!(
            setup.calls_to(endpoint::PATCH_STOCK_AVAILABLE),
            calls.patches
        );
        assert_eq!(
            setup.sim.requests(),
            1 + calls.reads + calls.puts + calls.patches,
            "{version}: the simulator saw the same calls"
        );
        assert_eq!(
            setup.client.version().map(|v| v.to_string()),
            version.get(..3).map(str::to_owned),
            "{version}: learnt from PSWS-Version"
        );
    }
}

#[tokio::test]
async fn the_same_quantity_is_not_written_again() {
    for version in [V1_7, V8] {
        let setup = Setup::new(on(version)).await;
        let mug = setup.sim.add_product("Mug", "MUG", "", 3);
        let outcomes = setup
            .client
            .set_quantities(&[write(&mug.to_string(), 3)])
            .await;
        assert_eq!(outcomes, [WriteOutcome::Written { quantity: 3 }]);
        assert!(setup.sim.writes_per_row().is_empty());
        assert_eq!(setup.total_calls(), 1, "{version}: the bulk read only");
    }
}

#[tokio::test]
async fn sums_unknown_items_and_managed_rows_are_never_written() {
    let setup = Setup::new(PrestaSimOptions::default()).await;
    let (scarf, _) = setup.sim.add_combinations("Scarf", &[("SC-RED", "", 4)]);
    let managed = setup.sim.add_product("Bowl", "BOWL", "", 2);
    setup
        .sim
        .set_depends_on_stock(setup.sim.row_id(managed, 0).unwrap(), true);
    let outcomes = setup
        .client
        .set_quantities(&[
            write(&scarf.to_string(), 5),
            write("999", 5),
            write(&format!("{scarf}-999"), 5),
            write("not-an-id", 5),
            write(&managed.to_string(), 5),
        ])
        .await;
    assert!(
        matches!(&outcomes[0], WriteOutcome::Refused(why) if why.contains("combinations")),
        "{outcomes:?}"
    );
    assert!(matches!(&outcomes[1], WriteOutcome::Refused(_)));
    assert!(matches!(&outcomes[2], WriteOutcome::Refused(_)));
    assert!(matches!(&outcomes[3], WriteOutcome::Refused(_)));
    assert_eq!(outcomes[4], WriteOutcome::Unmanaged);
    assert!(setup.sim.writes_per_row().is_empty());
    assert_eq!(
        setup.total_calls(),
        1,
        "one bulk read of the rows, nothing else"
    );
    assert_eq!(setup.sim.stock(scarf, 0), Some(4));
}

#[tokio::test]
async fn the_simulator_resets_what_a_put_leaves_out_as_prestashop_does() {
    let setup = Setup::new(on(V1_7)).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 3);
    let row = setup.sim.row_id(mug, 0).unwrap();
    let http = reqwest::Client::new();
    let put = |body: String| {
        http.put(format!(
            "{}/api/stock_availables/{row}",
            setup.sim.base_url()
        ))
        .basic_auth(setup.sim.key(), Some(""))
        .body(body)
        .send()
    };
    let partial = format!(
        "<prestashop><stock_available><id>{row}</id><id_product>{mug}</id_product>\
         <id_product_attribute>0</id_product_attribute><quantity>8</quantity>\
         <depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock></stock_available></prestashop>"
    );
    assert_eq!(put(partial).await.unwrap().status(), 200);
    let after = setup.sim.row(row).unwrap();
    assert_eq!(after["quantity"], "8");
    assert_eq!(
        after["id_shop"], "0",
        "a PUT without id_shop moves the row to shop 0"
    );
    assert_eq!(after["location"], "");
    let missing = format!(
        "<prestashop><stock_available><id>{row}</id><id_product>{mug}</id_product></stock_available></prestashop>"
    );
    let answer = put(missing).await.unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("<![CDATA[41]]>"));
    let answer = put("{\"quantity\":1}".into()).await.unwrap();
    assert_eq!(answer.status(), 500, "JSON bodies are an XML error");
    let post = http
        .post(format!("{}/api/stock_availables", setup.sim.base_url()))
        .basic_auth(setup.sim.key(), Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(
        setup.sim.writes_per_row()[&row],
        1,
        "only the accepted PUT counts"
    );
}
