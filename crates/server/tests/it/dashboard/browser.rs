//! The browser harness of the dashboard's test: a headless Chromium behind its own
//! `chromedriver` child process, spoken to over WebDriver (fantoccini, plain HTTP on loopback),
//! and the polling helpers a live page needs.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set (to anything but `0`) to make the browser test mandatory.
const BROWSER_VAR: &str = "STOCKSYNC_TEST_BROWSER";

/// The text of the first element matching `css`, if there is one.
pub async fn text(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Clicks the first element matching `css` once it is there (found again if the page
/// redraws it meanwhile).
pub async fn click(client: &Client, css: &str) {
    eventually(&format!("a click on {css}"), async || {
        client
            .find(Locator::Css(css))
            .await
            .ok()?
            .click()
            .await
            .ok()
    })
    .await
}

/// Polls `probe` until it answers, for at most 30 s (a bound for a busy machine).
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A headless Chromium behind its own `chromedriver`, both ended on drop.
pub struct Browser {
    pub client: Client,
    /// Screenshots go here when `STOCKSYNC_TEST_SCREENSHOTS` names a folder.
    screenshots: Option<PathBuf>,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `None` (with a notice) when Chromium or chromedriver is missing and the test is optional.
    pub async fn start() -> Option<Self> {
        let (driver, chromium) = match (find("chromedriver"), find("chromium")) {
            (Some(driver), Some(chromium)) => (driver, chromium),
            _ if std::env::var(BROWSER_VAR).is_ok_and(|v| !v.is_empty() && v != "0") => panic!(
                "{BROWSER_VAR} is set but chromium or chromedriver is missing: \
                 apt-get install -y chromium chromium-driver"
            ),
            _ => {
                static NOTICE: std::sync::Once = std::sync::Once::new();
                NOTICE.call_once(|| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nnote: dashboard browser test skipped: install chromium and \
                         chromium-driver, or set {BROWSER_VAR}=1 to make this a failure\n"
                    );
                });
                return None;
            }
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Driver::spawn(&driver, port);
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-breakpad",
                    "--disable-crash-reporter", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        screenshots: std::env::var_os("STOCKSYNC_TEST_SCREENSHOTS")
                            .map(PathBuf::from),
                        _driver: driver,
                        _profile: profile,
                    });
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no WebDriver session from {} on port {port}: {last_error}",
            chromium.display()
        );
    }

    pub async fn screenshot(&self, name: &str) {
        if let Some(dir) = &self.screenshots {
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("dashboard-{name}.png")), png).unwrap();
        }
    }

    /// Ends the session: Chromium quits.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// The `chromedriver` child process, in a process group of its own so that killing the group
/// also ends any Chromium it started (when a test panics before closing the session).
struct Driver(Child);

impl Driver {
    fn spawn(program: &Path, port: u16) -> Self {
        use std::os::unix::process::CommandExt as _;
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        Self(child)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
