//! WooCommerce's official Python library (`woocommerce` on PyPI) against the simulator, over
//! OAuth 1.0a on http: the simulator must let in what the platform's own client sends, not only
//! what our client (written by the same hands) sends. Skipped with a notice when the module is
//! missing, unless `STOCKSYNC_TEST_REQUIRE_WOOCOMMERCE_PY=1` (as in `.ci/run`).

use crate::{Setup, products};
use std::process::Command;

const SCRIPT: &str = r#"
import json, sys
from woocommerce import API
url, key, secret, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
api = API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=30)
page = api.get("products", params={"per_page": 100, "page": 2, "orderby": "id", "order": "asc"})
batch = api.post("products/batch", {"update": [{"id": first, "manage_stock": True, "stock_quantity": 17}]})
one = api.get(f"products/{first}")
wrong = API(url=url, consumer_key=key, consumer_secret="cs_wrong", version="wc/v3", timeout=30).get("products")
print(json.dumps({
    "page": [page.status_code, page.headers.get("X-WP-TotalPages"), len(page.json())],
    "batch": [batch.status_code, batch.json()["update"][0].get("stock_quantity")],
    "one": [one.status_code, one.json().get("stock_quantity")],
    "wrong": [wrong.status_code, wrong.json().get("code")],
}))
"#;

fn module_present() -> bool {
    Command::new("python3")
        .args(["-c", "import woocommerce"])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[tokio::test]
async fn the_official_python_library_gets_in_over_oauth_and_reads_and_writes() {
    if !module_present() {
        assert!(
            std::env::var("STOCKSYNC_TEST_REQUIRE_WOOCOMMERCE_PY").is_err(),
            "STOCKSYNC_TEST_REQUIRE_WOOCOMMERCE_PY is set but python3 cannot import woocommerce \
             (pip install woocommerce)"
        );
        eprintln!("skipped: python3 cannot import woocommerce (pip install woocommerce)");
        return;
    }
    let setup = Setup::new(products(150)).await;
    let first = setup.sim.item_ids()[0];
    let args = [
        "-c".to_owned(),
        SCRIPT.to_owned(),
        setup.sim.base_url(),
        setup.sim.consumer_key().to_owned(),
        setup.sim.consumer_secret().to_owned(),
        first.to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new("python3").args(args).output())
        .await
        .unwrap()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers["page"], serde_json::json!([200, "2", 50]));
    assert_eq!(answers["batch"], serde_json::json!([200, 17]));
    assert_eq!(answers["one"], serde_json::json!([200, 17]));
    assert_eq!(
        answers["wrong"],
        serde_json::json!([401, "woocommerce_rest_authentication_error"])
    );
    assert_eq!(setup.sim.stock(first), Some(17));
}
