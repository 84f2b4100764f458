//! A third-party Python library (`prestapyt` on PyPI, the one Odoo's connector uses) against
//! the simulator: it must let in and answer what another client sends, not only what ours
//! (written by the same hands) sends. The library searches ids (XML attributes), reads a row,
//! PUTs it back on the resource's URL with the id in the body, and reads a filtered list.
//! Skipped with a notice when the module is missing, unless
//! `STOCKSYNC_TEST_REQUIRE_PRESTAPYT=1`.

use crate::{Setup, products};
use std::process::Command;

const SCRIPT: &str = r#"
import json, sys, warnings
from prestapyt import PrestaShopWebServiceDict, PrestaShopAuthenticationError
url, key, row = sys.argv[1], sys.argv[2], int(sys.argv[3])
ps = PrestaShopWebServiceDict(url, key)
ids = ps.search("stock_availables", options={"limit": "0,100"})
whole = ps.get("stock_availables", row)
whole["stock_available"]["quantity"] = "17"
saved = ps.edit("stock_availables", whole)
full = ps.get("stock_availables", options={"display": "full", "filter[id_product]": "[1|2]"})
rows = full["stock_availables"]["stock_available"]
try:
    PrestaShopWebServiceDict(url, "X" * 32).get("products")
    wrong = None
except PrestaShopAuthenticationError as err:
    wrong = err.error_code
print(json.dumps({
    "ids": ids,
    "saved": saved["prestashop"]["stock_available"]["quantity"],
    "rows": sorted([r["id"], r["quantity"], r["id_shop"], r["location"]] for r in rows),
    "wrong": wrong,
}))
"#;

fn module_present() -> bool {
    Command::new("python3")
        .args(["-c", "import prestapyt"])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[tokio::test]
async fn prestapyt_searches_reads_and_writes_a_whole_row() {
    if !module_present() {
        assert!(
            std::env::var("STOCKSYNC_TEST_REQUIRE_PRESTAPYT").is_err(),
            "STOCKSYNC_TEST_REQUIRE_PRESTAPYT is set but python3 cannot import prestapyt \
             (pip install prestapyt)"
        );
        eprintln!("skipped: python3 cannot import prestapyt (pip install prestapyt)");
        return;
    }
    let setup = Setup::new(products(3)).await;
    let row = setup.sim.row_id(2, 0).unwrap();
    let (url, key) = (setup.sim.base_url(), setup.sim.key().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", SCRIPT, &url, &key, &row.to_string()])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["ids"], serde_json::json!([1, 2, 3]));
    assert_eq!(answer["saved"], "17");
    let first = setup.sim.stock(1, 0).unwrap().to_string();
    assert_eq!(
        answer["rows"],
        serde_json::json!([["1", first, "1", "Aisle 1"], ["2", "17", "1", "Aisle 2"]])
    );
    assert_eq!(answer["wrong"], 401);
    assert_eq!(setup.sim.writes_per_row()[&row], 1);
    assert_eq!(
        setup.sim.row(row).unwrap()["id_shop"],
        "1",
        "the library's PUT was whole"
    );
}
