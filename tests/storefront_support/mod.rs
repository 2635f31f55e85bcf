//! Runs the storefront example (`examples/storefront`) as a child process for the tests, and
//! talks to it and to its sandbox over HTTP on 127.0.0.1. Each storefront gets its own SQLite
//! file in a scratch directory unless the test names a database ([`Launch`]); a test can also
//! run the sandbox as a process of its own ([`SandboxProcess`]) to keep it, and the database,
//! across a restart of the storefront.
//!
//! Which binary runs, in order:
//! 1. `PAYSWITCH_STOREFRONT_BIN`, when set;
//! 2. `<target>/<profile>/examples/storefront` next to the test, when it is newer than every
//!    source it is built from (a `cargo test` without target filters has just built it, with
//!    the same dependency features as the test, so nothing is rebuilt);
//! 3. otherwise `cargo build --example storefront --message-format=json` with the test's
//!    profile, features and target directory, so a stale binary never runs. This also
//!    happens when the sibling binary lacks the gateway a test needs (built with fewer
//!    features).
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long building the example may take (it compiles only the example when the test's
/// own dependencies are already built).
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
/// How long the storefront may take to print where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The bound on every HTTP request the tests make.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Kills and reaps a child process however the test ends.
pub struct ChildGuard {
    child: Child,
    name: &'static str,
    stderr: Arc<Mutex<String>>,
}

impl ChildGuard {
    /// Takes ownership of `child`, collecting its stderr (when piped) for failure reports.
    pub fn new(name: &'static str, mut child: Child) -> ChildGuard {
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(read) = pipe.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&text);
                }
            });
        }
        ChildGuard {
            child,
            name,
            stderr,
        }
    }

    /// What the child wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let stderr = self.stderr();
            let tail: String = {
                let start = stderr.len().saturating_sub(6000);
                let start = (start..stderr.len())
                    .find(|index| stderr.is_char_boundary(*index))
                    .unwrap_or(stderr.len());
                stderr[start..].to_owned()
            };
            eprintln!("---- {} stderr (tail) ----\n{tail}", self.name);
        }
    }
}

/// Runs a command to completion, killing it when it takes longer than `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read_all(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = read_all(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr =
                    String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
                panic!("{command:?} did not finish within {timeout:?}\nstderr: {stderr}");
            }
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Where the storefront binary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `PAYSWITCH_STOREFRONT_BIN`.
    Environment,
    /// The sibling binary, judged fresh by its modification time.
    Sibling,
    /// Built by this test run.
    Built,
}

/// The example's binary: named, found fresh, or built (once per test binary).
fn storefront_binary() -> (&'static Path, Origin) {
    static BINARY: OnceLock<(PathBuf, Origin)> = OnceLock::new();
    let (path, origin) = BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("PAYSWITCH_STOREFRONT_BIN") {
            return (PathBuf::from(path), Origin::Environment);
        }
        match fresh_sibling() {
            Some(path) => (path, Origin::Sibling),
            None => (built_storefront().to_path_buf(), Origin::Built),
        }
    });
    (path, *origin)
}

/// The example built by `cargo build`, once per test binary.
fn built_storefront() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_storefront)
}

/// `<target>/<profile>/examples/storefront`, if it is newer than every file it is built
/// from. The test binary runs from `<target>/<profile>/deps/`.
fn fresh_sibling() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe
        .parent()?
        .parent()?
        .join("examples")
        .join(format!("storefront{}", std::env::consts::EXE_SUFFIX));
    let built = binary.metadata().ok()?.modified().ok()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for source in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "examples/storefront",
        "crates",
    ] {
        newest = newest.max(newest_modification(&root.join(source))?);
    }
    (built > newest).then_some(binary)
}

/// The newest modification time of a file, or of the files under a directory (hidden and
/// `target` directories skipped); `None` when something cannot be read.
fn newest_modification(path: &Path) -> Option<std::time::SystemTime> {
    let metadata = path.metadata().ok()?;
    if !metadata.is_dir() {
        return metadata.modified().ok();
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(path).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        newest = newest.max(newest_modification(&entry.path())?);
    }
    Some(newest)
}

/// The features this test was compiled with, so the example is built the same way and no
/// dependency is rebuilt for it.
fn features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "stripe") {
        features.push("stripe");
    }
    if cfg!(feature = "creem") {
        features.push("creem");
    }
    if cfg!(feature = "mock") {
        features.push("mock");
    }
    if cfg!(feature = "sandbox") {
        features.push("sandbox");
    }
    if cfg!(feature = "conformance") {
        features.push("conformance");
    }
    if cfg!(feature = "store") {
        features.push("store");
    }
    if cfg!(feature = "store-postgres") {
        features.push("store-postgres");
    }
    if cfg!(feature = "store-axum") {
        features.push("store-axum");
    }
    features
}

/// A directory of the test's own, removed (with what is in it) when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A new, empty directory under the system's temporary directory.
    pub fn new() -> ScratchDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "payswitch-storefront-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a scratch directory");
        ScratchDir(path)
    }

    /// A SQLite database URL for a file in this directory.
    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite:{}", self.0.join(name).display())
    }
}

impl Default for ScratchDir {
    fn default() -> Self {
        ScratchDir::new()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How to start a storefront: the gateway, and optionally migration mode, a database, a
/// running sandbox and a fixed port.
#[derive(Debug, Clone)]
pub struct Launch {
    provider: &'static str,
    migrate_from: Option<&'static str>,
    database_url: Option<String>,
    sandbox_url: Option<String>,
    port: u16,
}

impl Launch {
    /// `--provider <provider>` on a free port, with its own SQLite file and sandbox.
    pub fn new(provider: &'static str) -> Launch {
        Launch {
            provider,
            migrate_from: None,
            database_url: None,
            sandbox_url: None,
            port: 0,
        }
    }

    /// Migration mode: `--migrate-from <old>` (new checkouts on the launch's provider).
    pub fn migrate_from(mut self, old: &'static str) -> Launch {
        self.migrate_from = Some(old);
        self
    }

    /// `--database-url <url>`.
    pub fn database_url(mut self, url: impl Into<String>) -> Launch {
        self.database_url = Some(url.into());
        self
    }

    /// `--sandbox-url <url>`: a sandbox started elsewhere.
    pub fn sandbox_url(mut self, url: impl Into<String>) -> Launch {
        self.sandbox_url = Some(url.into());
        self
    }

    /// The gateway new checkouts go to.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// `--port <port>`.
    pub fn port(mut self, port: u16) -> Launch {
        self.port = port;
        self
    }
}

/// A free port on 127.0.0.1 now (another process could take it before it is used: the
/// window is a moment, and the tests that need a port known in advance retry nothing).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Reads a child's stdout lines on a thread (so it never blocks on a full pipe) and hands
/// them over one by one.
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take();
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let Some(stdout) = stdout else { return };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    received
}

/// The example run as the sandbox alone (`--sandbox-only`), seeded with the storefront's
/// catalog, with the default keys; it outlives the storefronts that use it.
pub struct SandboxProcess {
    /// Its base URL.
    pub url: String,
    process: ChildGuard,
}

impl SandboxProcess {
    /// Starts it on a free port, sending both gateways' webhooks to `webhooks`.
    pub fn start(webhooks: &str) -> SandboxProcess {
        let (binary, _) = storefront_binary();
        let mut command = Command::new(binary);
        command
            .args(["--sandbox-only", "--port", "0", "--webhooks", webhooks])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let lines = stdout_lines(&mut child);
        let process = ChildGuard::new("sandbox", child);
        let first = lines.recv_timeout(START_TIMEOUT).unwrap_or_else(|error| {
            panic!(
                "the sandbox printed nothing ({error}): {}",
                process.stderr()
            )
        });
        let url = first
            .strip_prefix("payswitch sandbox at ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        SandboxProcess { url, process }
    }

    /// What it logged so far.
    pub fn logs(&self) -> String {
        self.process.stderr()
    }
}

/// A fresh PostgreSQL database on the server `PAYSWITCH_TEST_DATABASE_URL` names, dropped
/// when the test calls [`PostgresDb::finish`].
pub struct PostgresDb {
    /// The database's URL.
    pub url: String,
    server: String,
    name: String,
}

impl PostgresDb {
    /// Creates the database, or returns `None` (with a notice) when no server is configured
    /// and none is required (`PAYSWITCH_REQUIRE_POSTGRES=1` makes that a failure).
    pub async fn create() -> Option<PostgresDb> {
        use sqlx::{Connection, Executor};
        let Ok(server) = std::env::var("PAYSWITCH_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("PAYSWITCH_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PAYSWITCH_REQUIRE_POSTGRES=1 but PAYSWITCH_TEST_DATABASE_URL is not set: run .ci/postgres-setup.sh"
            );
            eprintln!("notice: PAYSWITCH_TEST_DATABASE_URL is not set; skipping a storefront test on PostgreSQL (run .ci/postgres-setup.sh)");
            return None;
        };
        sqlx::any::install_default_drivers();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "payswitch_sf_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis())
                .unwrap_or_default()
        );
        let mut admin = sqlx::AnyConnection::connect(&server)
            .await
            .expect("connect to the PostgreSQL test server");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let (prefix, query) = match server.split_once('?') {
            Some((prefix, query)) => (prefix.to_owned(), format!("?{query}")),
            None => (server.clone(), String::new()),
        };
        let host = prefix
            .rsplit_once('/')
            .map(|(host, _)| host)
            .unwrap_or(&prefix);
        Some(PostgresDb {
            url: format!("{host}/{name}{query}"),
            server,
            name,
        })
    }

    /// Drops the database (after the storefronts using it are stopped).
    pub async fn finish(self) {
        use sqlx::{Connection, Executor};
        if let Ok(mut admin) = sqlx::AnyConnection::connect(&self.server).await {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
            admin.close().await.ok();
        }
    }
}

fn build_storefront() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--package", "payswitch", "--example", "storefront"])
        .arg("--message-format=json-render-diagnostics")
        .arg("--no-default-features");
    let features = features();
    if !features.is_empty() {
        command.arg("--features").arg(features.join(","));
    }
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    // The test runs from <target>/<profile>/deps/; build into the same <target>.
    if let Some(target) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
    {
        command.arg("--target-dir").arg(target);
    }
    let output = run_with_timeout(&mut command, BUILD_TIMEOUT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "building the storefront example failed\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "storefront"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no storefront executable\n{stdout}"))
}

/// A running storefront example.
pub struct Storefront {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The gateway it runs on (in migration mode, the new one): `stripe` or `creem`.
    pub provider: &'static str,
    /// The sandbox's base URL (in-process, or the one it was launched with).
    pub sandbox_url: String,
    http: reqwest::Client,
    process: ChildGuard,
    // After `process`: the database file outlives the process that writes it.
    _scratch: Option<ScratchDir>,
}

impl Storefront {
    /// Starts the example with `--provider <provider> --port 0` on a SQLite file of its own
    /// and waits for its address. Gateway keys are removed from its environment, so it always
    /// uses the sandbox.
    pub fn start(provider: &'static str) -> Storefront {
        Storefront::launch(Launch::new(provider))
    }

    /// Starts the example as `launch` says and waits for its address.
    pub fn launch(launch: Launch) -> Storefront {
        let (binary, origin) = storefront_binary();
        match Storefront::try_start(binary, &launch) {
            Ok(shop) => shop,
            // A sibling binary built with fewer features: build one like this test.
            Err(error) if origin == Origin::Sibling && error.contains("not compiled in") => {
                Storefront::try_start(built_storefront(), &launch)
                    .unwrap_or_else(|error| panic!("{error}"))
            }
            Err(error) => panic!("{error}"),
        }
    }

    fn try_start(binary: &Path, launch: &Launch) -> Result<Storefront, String> {
        let provider = launch.provider;
        let scratch = launch.database_url.is_none().then(ScratchDir::new);
        let database_url = launch
            .database_url
            .clone()
            .or_else(|| Some(scratch.as_ref()?.sqlite_url("storefront.db")))
            .unwrap_or_default();
        let mut command = Command::new(binary);
        command
            .args(["--provider", provider, "--port", &launch.port.to_string()])
            .args(["--database-url", &database_url])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in [
            "STRIPE_SECRET_KEY",
            "CREEM_API_KEY",
            "PAYSWITCH_PROVIDER",
            "PAYSWITCH_CONFIG",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            command.env_remove(name);
        }
        if let Some(old) = launch.migrate_from {
            command.args(["--migrate-from", old]);
        }
        if let Some(url) = &launch.sandbox_url {
            command.args(["--sandbox-url", url]);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let received = stdout_lines(&mut child);
        let process = ChildGuard::new("storefront", child);
        let next_line = |what: &str| {
            received.recv_timeout(START_TIMEOUT).map_err(|error| {
                // Give the stderr reader a moment to collect the exit message.
                std::thread::sleep(Duration::from_millis(200));
                format!(
                    "{} printed no {what} ({error})\nstderr: {}",
                    binary.display(),
                    process.stderr()
                )
            })
        };
        let first = next_line("first line")?;
        let second = next_line("second line")?;
        let url = first
            .strip_prefix("storefront listening on ")
            .ok_or_else(|| format!("unexpected first line {first:?}"))?
            .trim()
            .to_owned();
        let sandbox_url = second
            .split_once("payswitch sandbox at ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .ok_or_else(|| format!("unexpected second line {second:?}"))?
            .to_owned();
        for address in [&url, &sandbox_url] {
            if !address.starts_with("http://127.0.0.1:") {
                return Err(format!("not a 127.0.0.1 address: {address}"));
            }
        }
        Ok(Storefront {
            url,
            provider,
            sandbox_url,
            http: client(),
            process,
            _scratch: scratch,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("a port in the URL")
    }

    /// Waits until the store's inbox has nothing left to process and the processed events
    /// stopped changing (the sandbox may still be delivering a payment's later events), and
    /// returns that snapshot.
    pub async fn wait_until_idle(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut previous = Value::Null;
        loop {
            let snapshot = self.snapshot().await;
            if snapshot["pending_events"] == 0 && snapshot == previous {
                return snapshot;
            }
            assert!(
                Instant::now() < deadline,
                "the storefront's inbox never went idle: {snapshot}"
            );
            previous = snapshot;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The storefront's stderr so far (its logs).
    pub fn logs(&self) -> String {
        self.process.stderr()
    }

    /// `GET` a path of the storefront; returns the status and the body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        self.get_url(&format!("{}{path}", self.url)).await
    }

    /// `GET` any 127.0.0.1 URL; returns the status and the body.
    pub async fn get_url(&self, url: &str) -> (u16, String) {
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let response = self.http.get(url).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// `GET` a JSON document of the storefront.
    pub async fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// One order's JSON.
    pub async fn order(&self, id: &str) -> Value {
        self.get_json(&format!("/orders/{id}")).await
    }

    /// The whole store's JSON.
    pub async fn snapshot(&self) -> Value {
        self.get_json("/orders.json").await
    }

    /// Posts the checkout form with `form` (urlencoded) and returns the status and the
    /// `Location` header, without following it.
    pub async fn post_checkout(&self, form: &str) -> (u16, Option<String>) {
        let response = self
            .http
            .post(format!("{}/checkout", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("POST /checkout");
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), location)
    }

    /// Opens a checkout for `sku` the way the product page's form does, and returns the
    /// order id and the gateway's checkout id.
    pub async fn open_checkout(&self, sku: &str) -> (String, String) {
        let (status, location) = self.post_checkout(&format!("sku={sku}")).await;
        assert_eq!(status, 303, "POST /checkout sku={sku}");
        let location = location.expect("a Location header");
        assert!(
            location.starts_with(&format!("{}/pay/", self.sandbox_url)),
            "{location}"
        );
        let checkout_id = location.rsplit('/').next().unwrap_or_default().to_owned();
        let order_id = self.order_of_checkout(&checkout_id).await;
        (order_id, checkout_id)
    }

    /// The id of the order whose checkout is `checkout_id`.
    pub async fn order_of_checkout(&self, checkout_id: &str) -> String {
        let snapshot = self.snapshot().await;
        snapshot["orders"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|order| order["checkout_id"] == checkout_id)
            .and_then(|order| order["id"].as_str())
            .unwrap_or_else(|| panic!("no order for checkout {checkout_id}: {snapshot}"))
            .to_owned()
    }

    /// Pays a checkout on the sandbox as the customer would (its admin API), without
    /// following the redirect; returns the URL the browser would be sent back to.
    pub async fn pay(&self, checkout_id: &str) -> String {
        let response = self
            .http
            .post(format!(
                "{}/__sandbox/checkouts/{checkout_id}/pay",
                self.sandbox_url
            ))
            .header("content-type", "application/json")
            .body(r#"{"email":"customer@shop.test"}"#)
            .send()
            .await
            .expect("pay");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value =
            serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
        body["redirect_url"]
            .as_str()
            .expect("redirect_url")
            .to_owned()
    }

    /// Every webhook delivery attempt the sandbox made.
    pub async fn deliveries(&self) -> Vec<Value> {
        let url = format!("{}/__sandbox/deliveries", self.sandbox_url);
        let (status, body) = self.get_url(&url).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Vec<Value>>(&body).expect("deliveries JSON")
    }

    /// The accepted delivery of the completed-checkout event for `checkout_id`.
    pub async fn completed_delivery(&self, checkout_id: &str) -> Value {
        let event_type = match self.provider {
            "stripe" => "checkout.session.completed",
            _ => "checkout.completed",
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.deliveries().await.into_iter().find(|delivery| {
                delivery["event_type"] == event_type
                    && delivery["response_status"] == 200
                    && delivery["body"]
                        .as_str()
                        .is_some_and(|body| body.contains(checkout_id))
            });
            if let Some(delivery) = found {
                return delivery;
            }
            assert!(
                Instant::now() < deadline,
                "no accepted {event_type} delivery for {checkout_id}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts `body` to the storefront's `/webhooks` with `headers`; returns the status and
    /// the JSON answer.
    pub async fn post_webhook(&self, headers: &[(String, String)], body: &str) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/webhooks", self.url))
            .body(body.to_owned());
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("host") {
                continue;
            }
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.expect("POST /webhooks");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Re-sends a recorded delivery verbatim, as a gateway retry would.
    pub async fn replay(&self, delivery: &Value) -> (u16, Value) {
        self.post_webhook(
            &delivery_headers(delivery),
            delivery["body"].as_str().unwrap_or_default(),
        )
        .await
    }

    /// Waits until the order satisfies `ready`, and returns it.
    pub async fn wait_for_order(
        &self,
        id: &str,
        what: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let order = self.order(id).await;
            if ready(&order) {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "order {id} never {what}: {order}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Storefront {
    /// Posts a form (urlencoded) to a path of the storefront; returns the status, the
    /// `Location` header (not followed) and the body.
    pub async fn post_form(&self, path: &str, form: &str) -> (u16, Option<String>, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"));
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        (status, location, response.text().await.expect("body"))
    }

    /// An order's account JSON (`/account/{id}.json`).
    pub async fn account(&self, order_id: &str) -> Value {
        self.get_json(&format!("/account/{order_id}.json")).await
    }

    /// Waits until the order's account JSON satisfies `ready`, and returns it.
    pub async fn wait_for_account(
        &self,
        order_id: &str,
        what: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let account = self.account(order_id).await;
            if ready(&account) {
                return account;
            }
            assert!(
                Instant::now() < deadline,
                "the account of {order_id} never {what}: {account}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A provider on the storefront's in-process sandbox, configured as the storefront
    /// configures its own (the sandbox's default keys, the same `[catalog]` ids), so a test
    /// can read the gateway's state without going through the storefront.
    pub fn gateway(&self) -> std::sync::Arc<dyn payswitch::CheckoutProvider> {
        self.gateway_named(self.provider)
    }

    /// A provider for `provider` on the storefront's sandbox, configured the same way (in
    /// migration mode, the retiring gateway's state is read with this).
    pub fn gateway_named(&self, provider: &str) -> std::sync::Arc<dyn payswitch::CheckoutProvider> {
        let mut toml = format!(
            "provider = \"{provider}\"\n\n\
             [stripe]\nsecret_key = \"{stripe_key}\"\nwebhook_secrets = [\"{stripe_webhook}\"]\n\
             api_base = \"{base}\"\n\n\
             [creem]\napi_key = \"{creem_key}\"\nwebhook_secrets = [\"{creem_webhook}\"]\n\
             api_base = \"{base}\"\n",
            stripe_key = payswitch_sandbox::DEFAULT_STRIPE_SECRET_KEY,
            stripe_webhook = payswitch_sandbox::DEFAULT_STRIPE_WEBHOOK_SECRET,
            creem_key = payswitch_sandbox::DEFAULT_CREEM_API_KEY,
            creem_webhook = payswitch_sandbox::DEFAULT_CREEM_WEBHOOK_SECRET,
            base = self.sandbox_url,
        );
        for sku in ["pro_licence", "pro_monthly", "team_monthly"] {
            toml.push_str(&format!(
                "\n[catalog.{sku}]\nstripe = \"{}\"\ncreem = \"{}\"\n",
                plan_id("stripe", sku),
                plan_id("creem", sku)
            ));
        }
        let config = payswitch::Config::from_toml_str(&toml).expect("the sandbox configuration");
        payswitch::from_config(&config).expect("a provider on the sandbox")
    }
}

/// The id the storefront gives a SKU on its sandbox: the Stripe price or the Creem product
/// (see `examples/storefront/gateway.rs`).
pub fn plan_id(provider: &str, sku: &str) -> String {
    match provider {
        "stripe" => format!("price_storefront_{sku}"),
        _ => format!("prod_storefront_{sku}"),
    }
}

/// A recorded delivery's headers as (name, value) pairs.
pub fn delivery_headers(delivery: &Value) -> Vec<(String, String)> {
    delivery["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
        .collect()
}

/// An HTTP client that never uses a proxy, never follows redirects and bounds every request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// The `data-status` of the success page's `#payment-status` element.
pub fn payment_status(page: &str) -> &str {
    page.split_once("id=\"payment-status\" data-status=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(status, _)| status)
        .unwrap_or("missing")
}
