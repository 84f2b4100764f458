//! The command-line actions on a running stocksync: status, items, sync, reconcile, sales.

use std::process::Command;
use stocksync_testkit::{ACCOUNT, Backend, Options, TestApp};

const KEY: &str = "remote-cli-key-0123456789";

/// Runs `stocksync <args> --url <app> --api-key <key>`; answers success and the whole output.
pub(crate) async fn run(app: &TestApp, args: &[&str], key: &str) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stocksync"));
    command
        .args(args)
        .args(["--url", &app.url(""), "--api-key", key])
        .env_remove("STOCKSYNC_CONFIG")
        .current_dir(std::env::temp_dir());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_has_a_command() {
    let options = Options {
        api_key: Some(KEY.into()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    for (pos_ref, quantity) in [("VAR-1", 5), ("VAR-2", 2), ("VAR-3", 9)] {
        app.catalog
            .put(pos_ref, pos_ref, Some(&format!("SKU-{pos_ref}")), quantity);
    }

    let (ok, out) = run(&app, &["status"], KEY).await;
    assert!(
        ok && out.contains("synchronizer: stopped") && out.contains(ACCOUNT),
        "{out}"
    );
    let (ok, out) = run(&app, &["status"], "wrong").await;
    assert!(!ok && out.contains("401"), "{out}");

    let (ok, out) = run(
        &app,
        &[
            "items",
            "add",
            "--shop-item",
            "5",
            "--account",
            ACCOUNT,
            "--pos-id",
            "VAR-1",
        ],
        KEY,
    )
    .await;
    assert!(ok && out.contains("linked shop item 5 to VAR-1"), "{out}");

    let csv = std::env::temp_dir().join(format!("stocksync-import-{}.csv", std::process::id()));
    std::fs::write(&csv, format!("item_ecommerce_id,account_id,item_sku\n6,{ACCOUNT},SKU-VAR-2\n7,{ACCOUNT},NOPE\n8,{ACCOUNT},SKU-VAR-3\n")).unwrap();
    let (ok, out) = run(&app, &["items", "import", csv.to_str().unwrap()], KEY).await;
    assert!(!ok, "a failed line fails the command: {out}");
    assert!(
        out.contains("2 linked, 1 failed") && out.contains("line 3: 404"),
        "{out}"
    );
    std::fs::remove_file(&csv).unwrap();

    let (ok, out) = run(&app, &["items", "list"], KEY).await;
    assert!(
        ok && out.contains("3 link(s)") && out.contains("VAR-3"),
        "{out}"
    );

    app.catalog.set_quantity("VAR-3", 4);
    let (ok, out) = run(&app, &["reconcile", "--dry-run"], KEY).await;
    assert!(
        ok && out.contains("shop item 8 (VAR-3) shows 9, the POS says 4"),
        "{out}"
    );
    let (ok, out) = run(&app, &["sync"], KEY).await;
    assert!(
        ok && out.contains(&format!("{ACCOUNT}: 1 link(s) changed")),
        "{out}"
    );

    app.catalog.fail_next_sales(usize::MAX);
    let location = app.sell("5", 1).await;
    app.wait_sale(&location).await;
    let id = location.rsplit('/').next().unwrap();
    let (ok, out) = run(&app, &["sales", "show", id], KEY).await;
    assert!(ok && out.contains("\"state\": \"dead\""), "{out}");
    app.catalog.fail_next_sales(0);
    let (ok, out) = run(&app, &["sales", "retry", id], KEY).await;
    assert!(ok && out.contains("back in the outbox"), "{out}");
    assert_eq!(app.wait_sale(&location).await["state"], "confirmed");

    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    let first = links[0]["id"].as_str().unwrap().to_owned();
    let (ok, out) = run(&app, &["items", "remove", &first], KEY).await;
    assert!(
        ok && out.contains(&format!("link {first} removed")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_import_reads_what_spreadsheets_write() {
    let options = Options {
        api_key: Some(KEY.into()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    app.catalog.put("VAR-1", "VAR-1", Some("SKU-VAR-1"), 1);
    app.catalog.put("VAR-2", "VAR-2", Some("SKU;\"2\", red"), 2);
    app.catalog.put("VAR-3", "VAR-3", Some("SKU-VAR-3"), 3);
    let import = async |name: &str, content: &str| {
        let csv = std::env::temp_dir().join(format!("stocksync-{name}-{}.csv", std::process::id()));
        std::fs::write(&csv, content).unwrap();
        let outcome = run(&app, &["items", "import", csv.to_str().unwrap()], KEY).await;
        std::fs::remove_file(&csv).unwrap();
        outcome
    };

    // A spreadsheet's export: a byte-order mark, `;` between fields (told by the header line),
    // quoted fields (one holding `;`, `,` and quotes), CRLF, blank lines counted in line numbers.
    let exported = format!(
        "\u{feff}item_ecommerce_id;account_id;item_sku\r\n\
         \"11\";{ACCOUNT};\"SKU-VAR-1\"\r\n\
         \r\n\
         12;\"{ACCOUNT}\";\"SKU;\"\"2\"\", red\"\r\n\
         \r\n\
         13;{ACCOUNT};NOPE\r\n"
    );
    let (ok, out) = import("export", &exported).await;
    assert!(!ok, "a failed line fails the command: {out}");
    assert!(
        out.contains("2 linked, 1 failed") && out.contains("line 6: 404"),
        "{out}"
    );

    // Commas, quoted, with a blank line and a short line.
    let plain = format!(
        "item_ecommerce_id,account_id,item_pos_id\n\n\"14\",\"{ACCOUNT}\",\"VAR-3\"\n15,{ACCOUNT}\n"
    );
    let (ok, out) = import("plain", &plain).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("1 linked, 1 failed") && out.contains("line 4: expected 3 values, found 2"),
        "{out}"
    );

    let (_, links) = app.get(&format!("/api/items/{ACCOUNT}")).await;
    let linked: std::collections::BTreeMap<String, String> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|link| {
            (
                link["ecommerceID"].as_str().unwrap().to_owned(),
                link["posID"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        linked,
        [("11", "VAR-1"), ("12", "VAR-2"), ("14", "VAR-3")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .into()
    );
}
