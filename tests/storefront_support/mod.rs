//! Runs the storefront example (`examples/storefront`) as a child process for the tests, and
//! talks to it and to its in-process sandbox over HTTP on 127.0.0.1.
//!
//! The example binary is built with the same profile, features and target directory as the
//! test itself (`cargo build --example storefront --message-format=json`), so the test never
//! runs a stale binary; `PAYSWITCH_STOREFRONT_BIN` names a prebuilt one instead.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

/// The example's binary, built once per test binary.
pub fn storefront_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("PAYSWITCH_STOREFRONT_BIN") {
            return PathBuf::from(path);
        }
        build_storefront()
    })
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
    features
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

/// A running storefront example on an ephemeral port.
pub struct Storefront {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The gateway it runs on: `stripe` or `creem`.
    pub provider: &'static str,
    /// The in-process sandbox's base URL.
    pub sandbox_url: String,
    http: reqwest::Client,
    process: ChildGuard,
}

impl Storefront {
    /// Starts the example with `--provider <provider> --port 0` and waits for its address.
    /// Gateway keys are removed from its environment, so it always uses the sandbox.
    pub fn start(provider: &'static str) -> Storefront {
        let mut command = Command::new(storefront_binary());
        command
            .args(["--provider", provider, "--port", "0"])
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
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start the storefront: {error}"));
        let stdout = child.stdout.take();
        let process = ChildGuard::new("storefront", child);
        // Keep reading stdout so the child never blocks on a full pipe.
        let (lines, received) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let first = received
            .recv_timeout(START_TIMEOUT)
            .unwrap_or_else(|error| {
                panic!(
                    "the storefront printed no first line ({error})\nstderr: {}",
                    process.stderr()
                )
            });
        let url = first
            .strip_prefix("storefront listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let second = received
            .recv_timeout(START_TIMEOUT)
            .unwrap_or_else(|error| panic!("no second line ({error})"));
        let sandbox_url = second
            .split_once("payswitch sandbox at ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("unexpected second line {second:?}"))
            .to_owned();
        assert!(
            sandbox_url.starts_with("http://127.0.0.1:"),
            "{sandbox_url}"
        );
        Storefront {
            url,
            provider,
            sandbox_url,
            http: client(),
            process,
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
