//! PATCH on 8.0+ (the write itself: `stock.rs`): the client falls back to read and PUT, for
//! good and for its clones too, when the shop refuses PATCH (a key without the permission).
//! The simulator's PATCH: only the fields sent, validated as a PUT's; 405 on 1.7 and without
//! the permission.

use crate::{Setup, V1_7, V8, endpoint, on, write};
use stocksync_domain::ShopConnector;
use stocksync_domain::shop::WriteOutcome;
use stocksync_prestashop::PrestaSimOptions;

/// A PrestaShop 8 whose key lacks the PATCH permission.
fn denied() -> PrestaSimOptions {
    PrestaSimOptions {
        patch_permission: false,
        ..on(V8)
    }
}

#[tokio::test]
async fn a_refused_patch_falls_back_to_read_and_put_and_is_not_tried_again() {
    let setup = Setup::new(denied()).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 3);
    let bowl = setup.sim.add_product("Bowl", "BOWL", "", 3);
    let outcomes = setup
        .client
        .set_quantities(&[write(&mug.to_string(), 9), write(&bowl.to_string(), 8)])
        .await;
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Written { quantity: 9 },
            WriteOutcome::Written { quantity: 8 }
        ]
    );
    let outcomes = setup
        .client
        .set_quantities(&[write(&mug.to_string(), 5)])
        .await;
    assert_eq!(outcomes, [WriteOutcome::Written { quantity: 5 }]);
    assert_eq!(
        (setup.sim.stock(mug, 0), setup.sim.stock(bowl, 0)),
        (Some(5), Some(8))
    );
    assert_eq!(
        setup.sim.requests_to(endpoint::PATCH_STOCK_AVAILABLE),
        1,
        "refused once, never tried again"
    );
    assert_eq!(setup.sim.requests_to(endpoint::STOCK_AVAILABLE), 3);
    assert_eq!(setup.sim.requests_to(endpoint::PUT_STOCK_AVAILABLE), 3);
    let row = setup.sim.row(setup.sim.row_id(mug, 0).unwrap()).unwrap();
    assert_eq!(row["id_shop"], "1", "the PUTs were whole");
    assert!(row["location"].starts_with("Aisle"));
}

#[tokio::test]
async fn clones_share_what_the_client_learnt() {
    let setup = Setup::new(denied()).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 3);
    let clone = setup.client.clone();
    clone.set_quantities(&[write(&mug.to_string(), 9)]).await;
    setup
        .client
        .set_quantities(&[write(&mug.to_string(), 4)])
        .await;
    assert_eq!(setup.sim.stock(mug, 0), Some(4));
    assert_eq!(setup.sim.requests_to(endpoint::PATCH_STOCK_AVAILABLE), 1);
}

#[tokio::test]
async fn the_simulator_patches_only_the_fields_sent_and_only_from_8_0() {
    let patch = async |setup: &Setup, row: i64, body: String| {
        let answer = reqwest::Client::new()
            .patch(format!(
                "{}/api/stock_availables/{row}",
                setup.sim.base_url()
            ))
            .basic_auth(setup.sim.key(), Some(""))
            .body(body)
            .send()
            .await
            .unwrap();
        let version = answer
            .headers()
            .get("psws-version")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            answer.status().as_u16(),
            version,
            answer.text().await.unwrap(),
        )
    };
    let quantity = |row: i64, quantity: &str| {
        format!(
            "<prestashop><stock_available><id>{row}</id><quantity>{quantity}</quantity>\
             </stock_available></prestashop>"
        )
    };

    let setup = Setup::new(on(V8)).await;
    let mug = setup.sim.add_product("Mug", "MUG", "", 3);
    let row = setup.sim.row_id(mug, 0).unwrap();
    let before = setup.sim.row(row).unwrap();
    let (status, version, _) = patch(&setup, row, quantity(row, "8")).await;
    assert_eq!((status, version.as_deref()), (200, Some(V8)));
    let after = setup.sim.row(row).unwrap();
    assert_eq!(after["quantity"], "8");
    for (field, value) in &before {
        if field != "quantity" {
            assert_eq!(after.get(field), Some(value), "{field} kept");
        }
    }
    let (status, _, body) = patch(&setup, row, quantity(row, "many")).await;
    assert_eq!(status, 400, "validated as a PUT is");
    assert!(body.contains("<![CDATA[85]]>"), "{body}");
    let (status, _, body) = patch(&setup, row, quantity(row, "")).await;
    assert_eq!(status, 400, "a required field sent empty");
    assert!(body.contains("<![CDATA[41]]>"), "{body}");
    let no_id =
        "<prestashop><stock_available><quantity>1</quantity></stock_available></prestashop>";
    let (status, _, body) = patch(&setup, row, no_id.into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("<![CDATA[90]]>"), "{body}");
    assert_eq!(setup.sim.stock(mug, 0), Some(8));
    assert_eq!(
        setup.sim.writes_per_row()[&row],
        1,
        "only the accepted PATCH"
    );

    let old = Setup::new(on(V1_7)).await;
    let mug = old.sim.add_product("Mug", "MUG", "", 3);
    let row = old.sim.row_id(mug, 0).unwrap();
    let (status, version, body) = patch(&old, row, quantity(row, "8")).await;
    assert_eq!((status, version.as_deref()), (405, Some(V1_7)));
    assert!(body.contains("<![CDATA[23]]>"), "{body}");

    let denied = Setup::new(denied()).await;
    let mug = denied.sim.add_product("Mug", "MUG", "", 3);
    let row = denied.sim.row_id(mug, 0).unwrap();
    let (status, _, body) = patch(&denied, row, quantity(row, "8")).await;
    assert_eq!(status, 405);
    assert!(body.contains("<![CDATA[25]]>"), "{body}");
    assert!(denied.sim.writes_per_row().is_empty() && old.sim.writes_per_row().is_empty());
}
