//! Linking the shop's items to POS products without a CSV: `POST /api/items/match` (by SKU or
//! barcode, dry run or real, both catalogues read in bulk, ambiguous SKUs left alone, linked
//! items pushed to the shop once), `POST /api/items` with `item_shop_sku` (a simple product or a
//! variation, whose write goes through its parent), and `stocksync items match`, against a
//! simulated WooCommerce shop.

use crate::scheduler::eventually;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use stocksync_testkit::{ACCOUNT, Backend, Options, TestApp, message, on_every_backend, woo_shop};
use stocksync_woocommerce::WooSim;

on_every_backend!(
    a_dry_run_lists_the_matches_and_a_real_run_links_and_pushes_them,
    matching_by_barcode_compares_the_shops_skus_with_the_pos_barcodes,
    bad_match_requests_are_clear_and_link_nothing,
    a_link_named_by_the_shops_sku_finds_its_item_or_says_why_not,
);

const KEY: &str = "items-match-k3y-0123456789";
/// Shop items no POS product has, enough to need two pages of the product list.
const FILLERS: usize = 150;

async fn app_with_shop(backend: Backend) -> Option<(TestApp, Arc<WooSim>)> {
    let sim = woo_shop().await;
    let options = Options {
        api_key: Some(KEY.into()),
        shop: Some(sim.clone()),
        ..Options::default()
    };
    Some((TestApp::spawn_with(backend, options).await?, sim))
}

/// The shop items and POS products of the matching tests.
struct Catalogues {
    mug: i64,
    bowl: i64,
    /// A variation, and its parent.
    shirt_s: i64,
    shirt: i64,
    tray: i64,
    jugs: [i64; 2],
}

/// Shop: MUG, BOWL, PLATE, a shirt with variations SHIRT-S and SHIRT-M, TRAY, two items sold
/// as JUG, and [`FILLERS`] others, all at 0. POS: MUG 5, BOWL 3, SHIRT-S 4, two products
/// with the SKU TRAY, one JUG.
fn stock_both(app: &TestApp, sim: &WooSim) -> Catalogues {
    let mug = sim.add_simple("MUG", Some(0));
    let bowl = sim.add_simple("BOWL", Some(0));
    sim.add_simple("PLATE", Some(0));
    let (shirt, variations) =
        sim.add_variable("Shirt", &[("SHIRT-S", Some(0)), ("SHIRT-M", Some(0))]);
    let tray = sim.add_simple("TRAY", Some(0));
    let jugs = [
        sim.add_simple("JUG", Some(0)),
        sim.add_simple("JUG", Some(0)),
    ];
    for n in 0..FILLERS {
        sim.add_simple(&format!("OTHER-{n}"), Some(0));
    }
    for (pos, sku, quantity) in [
        ("VAR-1", "MUG", 5),
        ("VAR-2", "BOWL", 3),
        ("VAR-3", "SHIRT-S", 4),
        ("VAR-5", "TRAY", 1),
        ("VAR-6", "TRAY", 1),
        ("VAR-7", "JUG", 2),
    ] {
        app.catalog
            .put(pos, &format!("Product {sku}"), Some(sku), quantity);
    }
    Catalogues {
        mug,
        bowl,
        shirt_s: variations[0],
        shirt,
        tray,
        jugs,
    }
}

/// `(shop item, POS product)` of each pair in `list` of a match answer.
fn pairs(answer: &Value, list: &str) -> BTreeSet<(String, String)> {
    answer[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {answer}"))
        .iter()
        .map(|pair| {
            (
                pair["item_ecommerce_id"].as_str().unwrap().to_owned(),
                pair["item_pos_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expected(items: &[(i64, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(id, pos)| (id.to_string(), (*pos).to_owned()))
        .collect()
}

/// `(shop item, POS product)` of every link, as `GET /api/items` shows them.
async fn links(app: &TestApp) -> BTreeSet<(String, String)> {
    let (status, page) = app.get("/api/items?per_page=1000").await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| {
            (
                link["ecommerceID"].as_str().unwrap().to_owned(),
                link["posID"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn writes_of(sim: &WooSim, id: i64) -> u64 {
    sim.writes_per_item().get(&id).copied().unwrap_or(0)
}

/// The requests that read the shop's catalogue: product pages and variation lists.
fn catalogue_reads(sim: &WooSim) -> (u64, u64) {
    (
        sim.requests_to("GET /products"),
        sim.requests_to("GET /products/{id}/variations"),
    )
}

async fn a_dry_run_lists_the_matches_and_a_real_run_links_and_pushes_them(backend: Backend) {
    let Some((app, sim)) = app_with_shop(backend).await else {
        return;
    };
    let shop = stock_both(&app, &sim);
    let certain = expected(&[
        (shop.mug, "VAR-1"),
        (shop.bowl, "VAR-2"),
        (shop.shirt_s, "VAR-3"),
    ]);

    let (reads_before, pos_calls_before) = (
        catalogue_reads(&sim),
        app.catalog.calls.load(Ordering::SeqCst),
    );
    let body = json!({ "account_id": ACCOUNT, "dry_run": true });
    let (status, dry) = app.post("/api/items/match", body).await;
    assert_eq!(status, 200, "{dry}");
    let reads = catalogue_reads(&sim);
    assert_eq!(
        (reads.0 - reads_before.0, reads.1 - reads_before.1),
        (2, 1),
        "both catalogues in bulk: two pages of {} products, one list of variations",
        FILLERS + 7
    );
    assert_eq!(
        app.catalog.calls.load(Ordering::SeqCst) - pos_calls_before,
        1,
        "the POS's products in one read"
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(pairs(&dry, "matched"), certain, "{dry}");
    assert_eq!(pairs(&dry, "already_linked"), BTreeSet::new());
    let unmatched: BTreeSet<&str> = dry["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["sku"].as_str().unwrap())
        .collect();
    assert!(
        unmatched.contains("PLATE") && unmatched.contains("SHIRT-M"),
        "{unmatched:?}"
    );
    assert_eq!(unmatched.len(), FILLERS + 2, "{unmatched:?}");
    let mut ambiguous: Vec<Value> = dry["ambiguous"].as_array().unwrap().clone();
    ambiguous.sort_by_key(|a| a["sku"].as_str().unwrap().to_owned());
    assert_eq!(
        ambiguous,
        [
            json!({ "sku": "JUG", "item_ecommerce_ids": shop.jugs.map(|id| id.to_string()), "item_pos_ids": ["VAR-7"] }),
            json!({ "sku": "TRAY", "item_ecommerce_ids": [shop.tray.to_string()], "item_pos_ids": ["VAR-5", "VAR-6"] }),
        ]
    );
    assert_eq!(
        links(&app).await,
        BTreeSet::new(),
        "a dry run links nothing"
    );

    let (status, real) = app
        .post("/api/items/match", json!({ "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 200, "{real}");
    assert_eq!(real["dry_run"], false);
    assert_eq!(pairs(&real, "matched"), certain, "{real}");
    assert_eq!(links(&app).await, certain, "only the certain pairs");
    eventually("the POS quantities reach the shop", || async {
        (
            sim.stock(shop.mug),
            sim.stock(shop.bowl),
            sim.stock(shop.shirt_s),
        ) == (Some(5), Some(3), Some(4))
    })
    .await;
    for id in [shop.mug, shop.bowl, shop.shirt_s] {
        assert_eq!(writes_of(&sim, id), 1, "item {id}: one write");
    }
    assert!(
        sim.requests_to("POST /products/{id}/variations/batch") >= 1,
        "the variation is written through its parent {}",
        shop.shirt
    );
    for id in [shop.tray, shop.jugs[0], shop.jugs[1]] {
        assert_eq!(writes_of(&sim, id), 0, "ambiguous item {id} untouched");
    }

    let (status, again) = app
        .post("/api/items/match", json!({ "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(pairs(&again, "matched"), BTreeSet::new(), "{again}");
    assert_eq!(pairs(&again, "already_linked"), certain, "{again}");
    assert_eq!(links(&app).await, certain);

    // The command line says the same (a dry run: nothing left to link).
    let (ok, out) = crate::remote::run(
        &app,
        &["items", "match", "--account", ACCOUNT, "--dry-run"],
        KEY,
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "0 would link, 3 already linked, {} without a match, 2 ambiguous",
            FILLERS + 2
        )) && out.contains("ambiguous SKU TRAY"),
        "{out}"
    );
}

async fn matching_by_barcode_compares_the_shops_skus_with_the_pos_barcodes(backend: Backend) {
    let Some((app, sim)) = app_with_shop(backend).await else {
        return;
    };
    let mug = sim.add_simple("4006381333931", Some(0));
    let bowl = sim.add_simple("BOWL", Some(0));
    app.catalog.put("VAR-1", "Mug", Some("MUG"), 5);
    app.catalog.set_barcode("VAR-1", Some("4006381333931"));
    app.catalog.put("VAR-2", "Bowl", None, 3);
    app.catalog.set_barcode("VAR-2", Some("BOWL-EAN"));

    // The command line's dry run, by barcode: the mug would be linked.
    let (ok, out) = crate::remote::run(
        &app,
        &[
            "items",
            "match",
            "--account",
            ACCOUNT,
            "--by",
            "barcode",
            "--dry-run",
        ],
        KEY,
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "would link shop item {mug} (SKU 4006381333931) to POS product VAR-1"
        )) && out.contains("1 would link, 0 already linked, 1 without a match, 0 ambiguous"),
        "{out}"
    );
    assert_eq!(
        links(&app).await,
        BTreeSet::new(),
        "a dry run links nothing"
    );

    let (status, by_sku) = app
        .post(
            "/api/items/match",
            json!({ "account_id": ACCOUNT, "by": "sku", "dry_run": true }),
        )
        .await;
    assert_eq!(status, 200, "{by_sku}");
    assert_eq!(pairs(&by_sku, "matched"), BTreeSet::new(), "{by_sku}");

    let (status, answer) = app
        .post(
            "/api/items/match",
            json!({ "account_id": ACCOUNT, "by": "barcode" }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(pairs(&answer, "matched"), expected(&[(mug, "VAR-1")]));
    assert_eq!(links(&app).await, expected(&[(mug, "VAR-1")]));
    eventually("the mug's quantity reaches the shop", || async {
        sim.stock(mug) == Some(5)
    })
    .await;
    assert_eq!(writes_of(&sim, bowl), 0);
}

async fn bad_match_requests_are_clear_and_link_nothing(backend: Backend) {
    let Some(without) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, body) = without
        .post("/api/items/match", json!({ "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("Shop"), "{body}");
    drop(without);

    let Some((app, sim)) = app_with_shop(backend).await else {
        return;
    };
    let mug = sim.add_simple("MUG", Some(0));
    app.catalog.put("VAR-1", "Mug", Some("MUG"), 5);
    let (status, body) = app
        .post("/api/items/match", json!({ "account_id": "nope" }))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(message(&body).contains("nope"), "{body}");
    // A list is not read as the fields in order (it would have linked the mug).
    for bad in [
        json!({}),
        json!({ "account_id": ACCOUNT, "by": "colour" }),
        json!({ "account_id": ACCOUNT, "dry_run": "yes" }),
        json!({ "account_id": ACCOUNT, "dryrun": false }),
        json!([ACCOUNT]),
    ] {
        let (status, body) = app.post("/api/items/match", bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["status"], "error", "{body}");
    }
    let (status, body) = post_text(&app, "{ not json").await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("invalid_json")),
        "{body}"
    );
    assert_eq!(links(&app).await, BTreeSet::new(), "nothing linked");
    assert_eq!(writes_of(&sim, mug), 0);
}

/// `POST /api/items/match` with `text` as its JSON body.
async fn post_text(app: &TestApp, text: &'static str) -> (u16, Value) {
    stocksync_testkit::send(
        app.request(reqwest::Method::POST, "/api/items/match")
            .header("Content-Type", "application/json")
            .body(text),
    )
    .await
}

async fn a_link_named_by_the_shops_sku_finds_its_item_or_says_why_not(backend: Backend) {
    let Some((app, sim)) = app_with_shop(backend).await else {
        return;
    };
    let mug = sim.add_simple("MUG", Some(0));
    let (shirt, variations) =
        sim.add_variable("Shirt", &[("SHIRT-S", Some(0)), ("SHIRT-M", Some(0))]);
    sim.add_simple("JUG", Some(0));
    sim.add_simple("JUG", Some(0));
    app.catalog.put("VAR-1", "Mug", None, 5);
    app.catalog.put("VAR-2", "Shirt S", None, 4);
    app.catalog.put("VAR-3", "Jug", None, 2);

    let register = |pos: &str, sku: &str| json!({ "item_pos_id": pos, "item_shop_sku": sku, "account_id": ACCOUNT });
    let (status, link) = app.register(register("VAR-1", "MUG")).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["ecommerceID"], mug.to_string());
    let (status, link) = app.register(register("VAR-2", "SHIRT-S")).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(
        link["ecommerceID"],
        variations[0].to_string(),
        "the variation"
    );
    eventually("both quantities reach the shop", || async {
        (sim.stock(mug), sim.stock(variations[0])) == (Some(5), Some(4))
    })
    .await;
    assert_eq!(
        sim.requests_to("POST /products/{id}/variations/batch"),
        1,
        "the variation written through its parent {shirt}"
    );
    assert_eq!(
        (writes_of(&sim, mug), writes_of(&sim, variations[0])),
        (1, 1)
    );
    assert_eq!(sim.stock(variations[1]), Some(0), "its sibling untouched");

    let (status, body) = app.register(register("VAR-3", "NO-SUCH-SKU")).await;
    assert_eq!(status, 404, "{body}");
    assert!(message(&body).contains("NO-SUCH-SKU"), "{body}");
    let (status, body) = app.register(register("VAR-3", "JUG")).await;
    assert_eq!(status, 409, "two shop items sell as JUG: {body}");
    assert!(message(&body).contains("JUG"), "{body}");
    let (status, body) = app
        .register(json!({ "item_pos_id": "VAR-3", "item_shop_sku": "JUG", "item_ecommerce_id": 7, "account_id": ACCOUNT }))
        .await;
    assert_eq!(status, 400, "one of the two: {body}");
    assert_eq!(
        links(&app).await,
        expected(&[(mug, "VAR-1"), (variations[0], "VAR-2")]),
        "nothing else linked"
    );
}
