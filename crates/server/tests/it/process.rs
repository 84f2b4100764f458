//! The built `stocksync` binary as a child process (`stocksync serve --config FILE`), for the
//! tests that need real processes: killed with SIGKILL, or several sharing one database.

use serde_json::Value;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use stocksync_testkit::TestDb;

/// The built `stocksync` binary, with none of the `STOCKSYNC_*` variables of the environment the
/// tests run in (they would override the configuration under test).
pub fn stocksync_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stocksync"));
    for var in [
        "STOCKSYNC_CONFIG",
        "STOCKSYNC_DATABASE_URL",
        "STOCKSYNC_LISTEN",
        "STOCKSYNC_API_KEY",
    ] {
        command.env_remove(var);
    }
    command
}

/// Two `stocksync serve` processes, A and B, on the one database `db`, both started and ready.
/// `config` is what is particular to the test (the POS accounts, the retry and lease
/// settings); each process adds its own listening port, and keeps its configuration and log in
/// `dir`.
pub async fn two_on_one_database(db: &TestDb, dir: &Path, config: Value) -> [Stocksync; 2] {
    stocksync_pos::http::install_crypto();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let mut processes = ["a", "b"].map(|name| {
        let port = free_port();
        let mut config = config.clone();
        config["Listen"] = format!("127.0.0.1:{port}").into();
        config["ecommerceDatabaseConnectionString"] = db.url.expose().into();
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, config.to_string()).expect("the configuration");
        Stocksync::new(
            path,
            dir.join(format!("{name}.log")),
            format!("http://127.0.0.1:{port}"),
            http.clone(),
        )
    });
    for process in &mut processes {
        process.start().await;
    }
    processes
}

/// A port free at the moment (for a child process to listen on).
pub fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("an address").port()
}

/// Sends a request; the status and the JSON body (`null` when empty, the text when not JSON),
/// or why no answer came.
pub async fn exchange(request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok((status, body))
}

/// The `stocksync serve` child process; killed when dropped, its log's tail printed if the
/// test is failing.
pub struct Stocksync {
    child: Option<Child>,
    config: PathBuf,
    log: PathBuf,
    pub base: String,
    pub http: reqwest::Client,
    /// How many times it was started.
    pub starts: u32,
}

impl Stocksync {
    /// Not started yet: `config` is its `appsettings.json`, `log` collects its output, `base`
    /// is the address its config makes it listen on.
    pub fn new(config: PathBuf, log: PathBuf, base: String, http: reqwest::Client) -> Self {
        Self {
            child: None,
            config,
            log,
            base,
            http,
            starts: 0,
        }
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "stocksync is already running");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the log file");
        let mut command = stocksync_command();
        command.arg("serve").arg("--config").arg(&self.config);
        let child = command
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("stocksync starts");
        self.child = Some(child);
        self.starts += 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.check_alive();
            if let Ok((200, _)) = self.get("/readyz").await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "stocksync did not become ready within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Panics if the process stopped without being killed.
    pub fn check_alive(&mut self) {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            self.child = None;
            panic!("stocksync stopped by itself ({status})");
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and the process reaped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn up(&self) -> bool {
        self.child.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Result<(u16, Value), String> {
        exchange(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let request = self.http.post(self.url(path));
        exchange(match body {
            Some(body) => request.json(body),
            None => request,
        })
        .await
    }

    /// A GET while things are quiet: retried a few times over a transport error.
    pub async fn get_ok(&self, path: &str) -> (u16, Value) {
        let mut last = String::new();
        for _ in 0..5 {
            match self.get(path).await {
                Ok(answer) => return answer,
                Err(err) => last = err,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("GET {path}: {last}");
    }

    pub async fn post_ok(&self, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut last = String::new();
        for _ in 0..5 {
            match self.post(path, body).await {
                Ok(answer) => return answer,
                Err(err) => last = err,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("POST {path}: {last}");
    }

    /// Follows a task until it has finished.
    pub async fn wait_task(&self, location: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, task) = self.get_ok(location).await;
            assert_eq!(status, 200, "{location}: {task}");
            if ["succeeded", "failed", "dead"].contains(&task["state"].as_str().unwrap_or("")) {
                return task;
            }
            assert!(
                Instant::now() < deadline,
                "task {location} did not finish in {within:?}: {task}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Stocksync {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- the end of stocksync's log ({}) ---\n{}\n--- end ---",
                self.log.display(),
                self.log_tail(80)
            );
        }
    }
}
