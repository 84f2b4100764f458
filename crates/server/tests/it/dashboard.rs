//! The dashboard: plain HTTP checks (login, cookie, redirects, assets, no secret on the page),
//! and a real headless Chromium driven over WebDriver (fantoccini → a `chromedriver` child
//! process): log in, see the accounts and their schedules, change the schedule through the
//! form (and see a wrong expression refused with the reason), press "Sync now", see the job
//! succeed and the quantity change, read the item's ledger, fit a phone's width; and the job
//! states met when something fails (a retry waiting for its time, a dead job, a webhook's read).
//!
//! Without `chromedriver` the browser test is skipped with a notice, unless
//! `STOCKSYNC_TEST_BROWSER` is set (as `.ci/run` does): then a missing browser is a failure.

mod browser;

use browser::{Browser, click, eventually, text};
use fantoccini::Locator;
use serde_json::json;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;
use stocksync::clock::ManualClock;
use stocksync_testkit::{
    ACCOUNT, Backend, HIBOUTIK_WEBHOOK_SECRET, OTHER_ACCOUNT, Options, SECRETS, TestApp,
    http_client, on_every_backend, send,
};

const KEY: &str = "dashboard-k3y-0123456789";

on_every_backend!(
    login_logout_redirects_and_assets_over_plain_http,
    each_login_is_a_new_session_that_logout_ends_in_every_process,
    an_expired_session_opens_nothing,
    a_change_by_cookie_needs_the_csrf_token
);

fn with_key() -> Options {
    Options {
        api_key: Some(KEY.into()),
        ..Options::default()
    }
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    stocksync_testkit::http_client();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with the app's key; answers the `name=value` of the session cookie.
pub async fn log_in(app: &TestApp) -> String {
    let response = no_redirects()
        .post(app.url("/dashboard/login"))
        .form(&[("key", app.api_key.as_deref().expect("an app with a key"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The status of `GET path` with `cookie` only.
async fn status_with_cookie(app: &TestApp, path: &str, cookie: &str) -> u16 {
    let request = no_redirects().get(app.url(path)).header("cookie", cookie);
    request.send().await.unwrap().status().as_u16()
}

/// Whether `/dashboard` shows the dashboard (not the login form) to `cookie`.
async fn sees_the_dashboard(app: &TestApp, cookie: &str) -> bool {
    let page = no_redirects()
        .get(app.url("/dashboard"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let text = page.text().await.unwrap();
    text.contains("dashboard.js") && !text.contains("id=\"login-form\"")
}

/// The CSRF token the dashboard's page holds for `cookie`.
async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let page = no_redirects()
        .get(app.url("/dashboard"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, rest) = page
        .split_once("<meta name=\"csrf-token\" content=\"")
        .expect("the page holds a CSRF token");
    rest.split('"').next().unwrap().to_owned()
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} shows the API key");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows a POS secret");
    }
}

async fn login_logout_redirects_and_assets_over_plain_http(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, with_key()).await else {
        return;
    };
    let client = no_redirects();
    let page = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains("id=\"login-form\""), "the login form: {text}");
    assert!(
        !text.contains("dashboard.js"),
        "no dashboard before the login"
    );

    let wrong = client
        .post(app.url("/dashboard/login"))
        .form(&[("key", "not-the-key")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let text = wrong.text().await.unwrap();
    assert!(text.contains("That is not the API key"), "{text}");
    assert!(
        !text.contains("not-the-key"),
        "what was typed is not echoed"
    );

    let right = client
        .post(app.url("/dashboard/login"))
        .form(&[("key", KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/dashboard");
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();
    let mut attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        ["HttpOnly", "Path=/", "SameSite=Strict"],
        "plain HTTP to this machine: no Secure ({cookie})"
    );
    assert_no_secret("the cookie", &cookie);
    let behind_a_proxy = client
        .post(app.url("/dashboard/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("key", KEY)])
        .send()
        .await
        .unwrap();
    let cookie = behind_a_proxy.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "over https: {cookie}");

    let page = client
        .get(app.url("/dashboard"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let text = page.text().await.unwrap();
    assert!(text.contains("/dashboard/assets/dashboard.js?v="), "{text}");
    assert_no_secret("the page", &text);
    for path in ["/api/synchronizer", "/dashboard/data/links", "/metrics"] {
        let by_cookie = client.get(app.url(path)).header("cookie", &session);
        assert_eq!(by_cookie.send().await.unwrap().status(), 200, "{path}");
        let stranger = client
            .get(app.url(path))
            .header("cookie", "stocksync_session=0f");
        assert_eq!(stranger.send().await.unwrap().status(), 401, "{path}");
    }
    let item = client
        .get(app.url("/dashboard/items/1"))
        .send()
        .await
        .unwrap();
    let text = item.text().await.unwrap();
    assert!(
        text.contains("id=\"login-form\""),
        "item pages need the login too"
    );

    for path in [
        "/hangfire",
        "/hangfire/",
        "/hangfire/jobs/failed",
        "/dashboard/",
    ] {
        let answer = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), 303, "{path}");
        assert_eq!(answer.headers()["location"], "/dashboard", "{path}");
    }

    for (name, kind) in [
        ("dashboard.css", "text/css"),
        ("dashboard.js", "text/javascript"),
    ] {
        let asset = client
            .get(app.url(&format!("/dashboard/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{name}");
        let content_type = asset.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(kind), "{name}: {content_type}");
        let text = asset.text().await.unwrap();
        assert!(
            !text.contains("https://") && !text.contains("http://"),
            "{name} fetches nothing from elsewhere"
        );
        assert!(
            !text.contains("innerHTML"),
            "{name} puts no data in as HTML"
        );
    }
    let missing = client
        .get(app.url("/dashboard/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let out = client
        .post(app.url("/dashboard/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("stocksync_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

/// Each login is its own session; logging out ends it for the dashboard and the API, in this
/// process and in another one on the same database, and leaves the other sessions alone.
async fn each_login_is_a_new_session_that_logout_ends_in_every_process(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, with_key()).await else {
        return;
    };
    let other = app.spawn_beside(with_key()).await;
    let (first, second) = (log_in(&app).await, log_in(&app).await);
    assert_ne!(first, second, "two logins, two sessions");
    assert!(!first.contains(KEY));
    for cookie in [&first, &second] {
        assert!(sees_the_dashboard(&app, cookie).await);
        assert!(
            sees_the_dashboard(&other, cookie).await,
            "the other process too"
        );
        assert_eq!(
            status_with_cookie(&other, "/api/synchronizer", cookie).await,
            200
        );
    }

    let out = no_redirects()
        .post(app.url("/dashboard/logout"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    for process in [&app, &other] {
        assert!(
            !sees_the_dashboard(process, &first).await,
            "a copied cookie opens nothing after logout"
        );
        for path in ["/api/synchronizer", "/dashboard/data/links", "/metrics"] {
            assert_eq!(
                status_with_cookie(process, path, &first).await,
                401,
                "{path}"
            );
        }
        assert!(
            sees_the_dashboard(process, &second).await,
            "the other session lives on"
        );
    }
}

/// A session lasts `SessionHours`: past that, its cookie opens nothing.
async fn an_expired_session_opens_nothing(backend: Backend) {
    let start = chrono::Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let options = Options {
        clock: Some(clock.clone()),
        config: Some(json!({ "SessionHours": 2 })),
        ..with_key()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    let cookie = log_in(&app).await;
    clock.set(start + chrono::Duration::minutes(119));
    assert!(sees_the_dashboard(&app, &cookie).await);
    assert_eq!(
        status_with_cookie(&app, "/api/synchronizer", &cookie).await,
        200
    );
    clock.set(start + chrono::Duration::minutes(121));
    assert!(!sees_the_dashboard(&app, &cookie).await, "expired");
    assert_eq!(
        status_with_cookie(&app, "/api/synchronizer", &cookie).await,
        401
    );
    let fresh = log_in(&app).await;
    assert!(sees_the_dashboard(&app, &fresh).await, "a new login works");
}

/// A change made with the session cookie needs the session's CSRF token (which the page
/// holds); one made with the key does not.
async fn a_change_by_cookie_needs_the_csrf_token(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, with_key()).await else {
        return;
    };
    let (cookie, other) = (log_in(&app).await, log_in(&app).await);
    let (status, _) = app.post_empty("/api/synchronizer/start").await;
    assert_eq!(status, 200, "with the key, no token needed");
    let stop = |token: Option<String>| {
        let mut request = no_redirects()
            .post(app.url("/api/synchronizer/stop"))
            .header("cookie", &cookie);
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request
    };
    let running = async || app.get("/api/synchronizer").await.1["running"].clone();
    let (status, body) = send(stop(None)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("csrf_token_missing")),
        "{body}"
    );
    assert_eq!(running().await, json!(true), "not stopped");
    let (status, _) = send(stop(Some(csrf_of(&app, &other).await))).await;
    assert_eq!(status, 403, "another session's token");
    assert_eq!(running().await, json!(true), "not stopped");
    let (status, body) = send(stop(Some(csrf_of(&app, &cookie).await))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(running().await, json!(false), "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_the_dashboard_is_open() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let client = no_redirects();
    let page = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains("data-auth=\"open\""), "{text}");
    let login = client
        .get(app.url("/dashboard/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "nothing to log in to");
    app.catalog.put("VAR-1", "Mug", None, 5);
    let link = app.link("VAR-1", "7").await;
    let (status, rows) = app.get("/dashboard/data/links?per_page=10").await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows["total"], 1);
    let row = &rows["links"][0];
    assert_eq!(row["id"], link["id"]);
    assert_eq!(
        (row["quantity"].clone(), row["pos_quantity"].clone()),
        (json!(5), json!(5))
    );
    assert_eq!(
        (row["in_flight"].clone(), row["drift"].clone()),
        (json!(0), json!(0))
    );
    let (status, one) = app
        .get(&format!(
            "/dashboard/data/links/{}",
            link["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["account_type"], "square");
    // A dead sale keeps its units sold online: the shop is 2 below the POS count.
    app.catalog.fail_next_sales(usize::MAX);
    let sale = app.sell("7", 2).await;
    assert_eq!(app.wait_sale(&sale).await["state"], "dead");
    let (_, rows) = app.get("/dashboard/data/links").await;
    let row = &rows["links"][0];
    assert_eq!(
        [&row["quantity"], &row["pos_quantity"], &row["in_flight"]],
        [&json!(3), &json!(5), &json!(0)]
    );
    assert_eq!((&row["drift"], &row["dead_sales"]), (&json!(2), &json!(1)));
    let (status, _) = app.get("/dashboard/data/links/999").await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/dashboard/data/links?per_page=0").await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_log_in_sync_now_and_read_the_ledger() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let started = Instant::now();
    let app = TestApp::spawn_with(Backend::Sqlite, with_key())
        .await
        .expect("SQLite");
    app.catalog.put("VAR-1", "Blue mug", None, 5);
    app.catalog.put("VAR-2", "Bowl", None, 4);
    let link = app.link("VAR-1", "42").await;
    app.link("VAR-2", "43").await;
    let id = link["id"].as_str().unwrap().to_owned();
    let c = &browser.client;
    let quantity = format!("tr[data-link-id='{id}'] td[data-field='quantity']");

    c.goto(&app.url("/dashboard")).await.unwrap();
    let key_field = eventually("the login form", async || {
        c.find(Locator::Id("login-key")).await.ok()
    })
    .await;
    key_field.send_keys("not-the-key").await.unwrap();
    click(c, "#login-submit").await;
    let error = eventually("the refusal", async || text(c, "#login-error").await).await;
    assert!(error.contains("not the API key"), "{error}");
    browser.screenshot("login-refused").await;
    c.find(Locator::Id("login-key"))
        .await
        .unwrap()
        .send_keys(KEY)
        .await
        .unwrap();
    click(c, "#login-submit").await;

    let card = eventually("the Square account", async || {
        text(c, &format!("[data-account='{ACCOUNT}']")).await
    })
    .await;
    assert!(
        card.contains("Square") && card.contains("Not synced yet"),
        "{card}"
    );
    // No shop platform: `/api/shop` answers 404 and the page shows no shop, and no problem.
    let shop_section = c.find(Locator::Id("shop-section")).await.unwrap();
    assert!(!shop_section.is_displayed().await.unwrap(), "no shop card");
    assert_eq!(text(c, "#problem").await.unwrap_or_default(), "");
    let hiboutik = eventually("the Hiboutik budget", async || {
        text(c, &format!("[data-account='{OTHER_ACCOUNT}']"))
            .await
            .filter(|t| t.contains("API budget"))
    })
    .await;
    assert!(
        hiboutik.contains("of 10,000 calls this month"),
        "{hiboutik}"
    );
    assert!(
        hiboutik.contains("Monthly budget: polls at least every")
            && hiboutik.contains("(webhooks fill the gaps)"),
        "{hiboutik}"
    );
    change_the_schedule_through_the_form(&app, c).await;
    eventually("the link at 5", async || {
        text(c, &quantity).await.filter(|q| q == "5")
    })
    .await;
    let cookie = c.get_named_cookie("stocksync_session").await.unwrap();
    assert_ne!(cookie.value(), KEY);
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    browser.screenshot("overview-before").await;

    // A till sells two: the POS says 3. "Sync now" brings the shop to 3.
    app.catalog.set_quantity("VAR-1", 3);
    click(c, "#sync-now").await;
    // One job per account: the Square account's job changes its link.
    let job = eventually("the sync job to succeed", async || {
        text(
            c,
            &format!("#jobs li[data-state='succeeded'][data-job-account='{ACCOUNT}']"),
        )
        .await
    })
    .await;
    assert!(
        job.contains(&format!("Sync of {ACCOUNT}")) && job.contains("1 link(s) changed"),
        "{job}"
    );
    assert!(job.contains("ran on "), "the worker that ran it: {job}");
    eventually("the link at 3", async || {
        text(c, &quantity).await.filter(|q| q == "3")
    })
    .await;
    eventually("a healthy account", async || {
        text(c, &format!("[data-account='{ACCOUNT}']"))
            .await
            .filter(|t| t.contains("Healthy"))
    })
    .await;
    let source = c.source().await.unwrap();
    assert_no_secret("the live page", &source);
    browser.screenshot("overview-after").await;

    // A web sale the POS cannot take dies; "Retry" sends it again.
    app.catalog.fail_next_sales(usize::MAX);
    let sale = app.sell("43", 1).await;
    assert_eq!(app.wait_sale(&sale).await["state"], "dead");
    app.catalog.fail_next_sales(0);
    click(c, "#sales-dead li[data-state='dead'] button").await;
    eventually("no dead sale left", async || {
        text(c, "#sales-dead")
            .await
            .filter(|t| t.contains("no sale needs you"))
    })
    .await;

    // A job still waiting can be cancelled, and a cancelled one asked again.
    app.catalog.hold_reads();
    click(c, "#sync-now").await;
    eventually("a running job", async || {
        text(c, "#jobs li[data-state='running']").await
    })
    .await;
    // One job per account: the Hiboutik account's is not held, and ends (2 + 1 succeeded).
    eventually("the other account's sync done", async || {
        text(c, "#job-states")
            .await
            .filter(|t| t.contains("Succeeded (3)"))
    })
    .await;
    click(c, "#sync-now").await;
    click(c, "#jobs li[data-state='enqueued'] button").await;
    click(c, "#jobs li[data-state='cancelled'] button").await;
    app.catalog.release_reads();
    // Whichever account's job was cancelled is asked again: three syncs of two accounts.
    eventually("three syncs done", async || {
        text(c, "#job-states")
            .await
            .filter(|t| t.contains("Succeeded (6)") && t.contains("Running (0)"))
    })
    .await;

    // "Why is this item at 3?"
    click(c, &format!("tr[data-link-id='{id}'] td.name a")).await;
    let lines = eventually("the ledger", async || {
        let lines = c
            .find_all(Locator::Css("#ledger li[data-reason]"))
            .await
            .ok()?;
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    assert_eq!(
        lines[0].attr("data-reason").await.unwrap().as_deref(),
        Some("pos_count")
    );
    let newest = lines[0].text().await.unwrap();
    assert!(
        newest.contains("New count from the POS") && newest.contains("5 → 3"),
        "{newest}"
    );
    let oldest = lines[lines.len() - 1].text().await.unwrap();
    assert!(oldest.contains("Linked to the shop item"), "{oldest}");
    let why = text(c, "#item-why").await.unwrap_or_default();
    assert!(why.contains("The POS counted 3"), "{why}");
    browser.screenshot("item").await;

    // A phone's width: nothing wider than the screen.
    c.set_window_size(375, 812).await.unwrap();
    c.goto(&app.url("/dashboard")).await.unwrap();
    eventually("the overview on a phone", async || text(c, &quantity).await).await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "wider than a phone by {overflow} px"
    );
    browser.screenshot("phone").await;

    // The session ends (a new key, say): the next request says so and offers the login again.
    c.delete_cookie("stocksync_session").await.unwrap();
    click(c, "#sync-now").await;
    eventually("the signed-out notice", async || {
        text(c, "#login-again").await
    })
    .await;

    c.goto(&app.url("/hangfire")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/dashboard");
    eventually("the login form again", async || {
        c.find(Locator::Id("login-form")).await.ok()
    })
    .await;
    browser.close().await;
    let _ = writeln!(
        std::io::stderr(),
        "dashboard browser test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A shop platform as a card: its address without credentials, its health, the push queue and
/// the oversold lines the engine produced against a simulated WooCommerce shop, its latest
/// events; while the shop is down an error, healthy again on its own once it is back; no Shop
/// secret on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_shop_card_shows_its_queue_and_events() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let scene = crate::shop_status::ShopScene::settled(Backend::Sqlite)
        .await
        .expect("SQLite");
    let app = &scene.app;
    scene.shop_down().await;
    let c = &browser.client;
    c.goto(&app.url("/dashboard")).await.unwrap();
    let key_field = eventually("the login form", async || {
        c.find(Locator::Id("login-key")).await.ok()
    })
    .await;
    key_field
        .send_keys(app.api_key.as_deref().unwrap())
        .await
        .unwrap();
    click(c, "#login-submit").await;
    let card = "[data-shop='woocommerce']";
    let whole = eventually("the shop card", async || text(c, card).await).await;
    assert!(
        whole.contains("WooCommerce") && whole.contains("Error"),
        "{whole}"
    );
    let field = async |name: &str| {
        text(c, &format!("{card} [data-field='{name}']"))
            .await
            .unwrap_or_else(|| panic!("no {name} on the card: {whole}"))
    };
    assert_eq!(field("address").await, format!("{}/", scene.sim.base_url()));
    assert_eq!(field("items").await, "3");
    assert!(field("due").await.starts_with("1 (oldest "), "{whole}");
    assert_eq!(field("failing").await, "1");
    assert_eq!(field("unmanaged").await, "1");
    assert_eq!(field("oversold").await, "1");
    let last_order = field("last-order").await;
    assert!(
        last_order == "just now" || last_order.ends_with(" ago"),
        "{last_order}"
    );
    let events = c
        .find_all(Locator::Css(&format!("{card} .shop-events li")))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    for event in &events {
        kinds.push(event.attr("data-event-kind").await.unwrap().unwrap());
    }
    assert_eq!(kinds, ["oversold", "unmanaged"], "newest first");
    let oversold = events[0].text().await.unwrap();
    assert!(
        oversold.contains("Oversold") && oversold.contains(&format!("order {}", scene.order)),
        "{oversold}"
    );
    let source = c.source().await.unwrap();
    scene.assert_no_secret("the page", &source);
    browser.screenshot("shop").await;

    // The shop is back: the failing write goes through, the card turns healthy on its own.
    scene.shop_back().await;
    eventually("a healthy shop", async || {
        text(c, card).await.filter(|t| t.contains("Healthy"))
    })
    .await;
    assert_eq!(field("failing").await, "0");
    browser.close().await;
}

/// The schedule in words on each card; the form sets `*/5 * * * *` for every account (seen on
/// the cards and in the API), then refuses `61 * * * *` with the server's reason on the page.
async fn change_the_schedule_through_the_form(app: &TestApp, c: &fantoccini::Client) {
    let schedule = format!("[data-account='{ACCOUNT}'] [data-field='schedule']");
    let said = eventually("the account's schedule", async || text(c, &schedule).await).await;
    assert!(
        said.contains("every minute") && said.contains("* * * * *") && !said.contains("set here"),
        "{said}"
    );
    let next = text(
        c,
        &format!("[data-account='{ACCOUNT}'] [data-field='next-sync']"),
    )
    .await;
    assert_eq!(next.as_deref(), Some("none while stopped"));
    let zone = text(c, "#schedule-info [data-field='time-zone']").await;
    assert!(
        zone.as_deref().is_some_and(|z| z.starts_with("UTC")),
        "{zone:?}"
    );
    let field = c.find(Locator::Id("schedule-cron")).await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some("* * * * *"),
        "the form starts from the schedule in force"
    );

    field.clear().await.unwrap();
    field.send_keys("*/5 * * * *").await.unwrap();
    click(c, "#schedule-save").await;
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        let said = eventually("the new schedule on the cards", async || {
            text(
                c,
                &format!("[data-account='{account}'] [data-field='schedule']"),
            )
            .await
            .filter(|t| t.contains("*/5 * * * *"))
        })
        .await;
        assert!(
            said.contains("every 5 minutes") && said.contains("(set here)"),
            "{said}"
        );
    }
    let saved = text(c, "#schedule-message").await.unwrap_or_default();
    assert!(saved.starts_with("Saved: every account syncs"), "{saved}");
    let (status, body) = app.get("/api/synchronizer").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cron"], "*/5 * * * *", "{body}");
    for account in body["accounts"].as_array().unwrap() {
        assert_eq!(
            (&account["schedule"]["cron"], &account["schedule"]["source"]),
            (&json!("*/5 * * * *"), &json!("api")),
            "{account}"
        );
    }

    field.clear().await.unwrap();
    field.send_keys("61 * * * *").await.unwrap();
    click(c, "#schedule-save").await;
    let refused = eventually("the reason the expression is refused", async || {
        text(c, "#schedule-message")
            .await
            .filter(|t| t.contains("is not a valid 5-field CRON expression"))
    })
    .await;
    assert!(
        refused.starts_with("Not saved: cron: '61 * * * *'"),
        "{refused}"
    );
    let role = c
        .find(Locator::Id("schedule-message"))
        .await
        .unwrap()
        .attr("role")
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("alert"), "the refusal is announced");
    let (_, body) = app.get("/api/synchronizer").await;
    assert_eq!(body["cron"], "*/5 * * * *", "nothing changed: {body}");
}

/// What the jobs list shows when a job fails: a reconciliation whose POS is down waits for its
/// retry ("retry at …, attempt 2", with Cancel), is dead after its last attempt (in red, with
/// Retry), and succeeds when retried; a Hiboutik webhook's read says so and names its product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_jobs_wait_for_their_retry_die_and_come_back() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let start = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            clock: Some(clock.clone()),
            ..Options::default()
        },
    )
    .await
    .expect("SQLite");
    let c = &browser.client;
    app.catalog.set_down(true);
    let (status, answer) = app.post_empty("/api/synchronizer/reconcile").await;
    assert_eq!(status, 202, "{answer}");
    let location = answer["location"].as_str().unwrap().to_owned();
    c.goto(&app.url("/dashboard")).await.unwrap();

    let waiting = eventually("the reconciliation waiting for its retry", async || {
        text(c, "#jobs li[data-state='scheduled']").await
    })
    .await;
    assert!(
        waiting.contains("Reconciliation")
            && waiting.contains("Scheduled")
            && waiting.contains("retry at ")
            && waiting.contains(", attempt 2")
            && waiting.contains("ran on "),
        "{waiting}"
    );
    let button = text(c, "#jobs li[data-state='scheduled'] button").await;
    assert_eq!(button.as_deref(), Some("Cancel"));
    show_jobs(c).await;
    browser.screenshot("job-scheduled").await;

    // The retries' times come (on the service's clock): the third failure is the last.
    for attempt in [1, 2] {
        let run_at = eventually("the job scheduled again", async || {
            let (_, job) = app.get(&location).await;
            (job["state"] == "scheduled" && job["attempts"] == attempt).then(|| {
                serde_json::from_value::<chrono::DateTime<chrono::Utc>>(job["run_at"].clone())
                    .unwrap()
            })
        })
        .await;
        clock.set(run_at + chrono::Duration::seconds(1));
    }
    let dead = eventually("the dead job", async || {
        text(c, "#jobs li[data-state='dead']").await
    })
    .await;
    assert!(
        dead.contains("Dead")
            && dead.contains("gave up after 3 attempts")
            && dead.contains("Retry"),
        "{dead}"
    );
    let class = c
        .find(Locator::Css("#jobs li[data-state='dead']"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap();
    assert_eq!(class.as_deref(), Some("row dead"));
    eventually("the failed job counted", async || {
        text(c, "#summary")
            .await
            .filter(|t| t.contains("1\nfailed jobs"))
    })
    .await;
    show_jobs(c).await;
    browser.screenshot("job-dead").await;

    app.catalog.set_down(false);
    click(c, "#jobs li[data-state='dead'] button").await;
    let again = eventually("the retried reconciliation", async || {
        text(c, "#jobs li[data-state='succeeded']").await
    })
    .await;
    assert!(again.contains("Reconciliation"), "{again}");

    // A Hiboutik webhook: its read is a job of its own, named as such.
    app.other_catalog.put("77", "Cup", None, 5);
    let webhook = http_client()
        .post(app.url(&format!(
            "/webhooks/hiboutik/{OTHER_ACCOUNT}?k={HIBOUTIK_WEBHOOK_SECRET}"
        )))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "sale_id=91&line_items%5B0%5D%5Bproduct_id%5D=77&line_items%5B0%5D%5Bproduct_size%5D=0",
        );
    assert_eq!(send(webhook).await.0, 200);
    let read = eventually("the webhook's read", async || {
        text(
            c,
            "#jobs li[data-kind='read_items'][data-state='succeeded']",
        )
        .await
    })
    .await;
    assert!(
        read.contains(&format!("Webhook read on {OTHER_ACCOUNT}")) && read.contains("Product 77"),
        "{read}"
    );
    show_jobs(c).await;
    browser.screenshot("jobs").await;
    browser.close().await;
}

/// Scrolls the jobs into view (for the screenshots).
async fn show_jobs(c: &fantoccini::Client) {
    c.execute("document.getElementById('h-jobs').scrollIntoView()", vec![])
        .await
        .unwrap();
}
