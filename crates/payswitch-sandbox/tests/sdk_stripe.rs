//! Stripe's official SDKs as clients of the sandbox: each suite under `tests/sdk/` (stripe-python,
//! stripe-node, pinned) runs unmodified against the `payswitch-sandbox` binary on 127.0.0.1 and
//! must pass every check: create, retrieve and list of every emulated object, the lifecycle
//! operations, and errors raised as the SDK's own classes.
//!
//! `.ci/sdk-setup-stripe.sh` installs the SDKs. Without them a suite prints a notice and
//! passes, unless `PAYSWITCH_REQUIRE_SDKS=1` (CI), which makes a missing SDK a failure.
//!
//! The async-stripe check (`tests/sdk/async-stripe/`, its own workspace: async-stripe takes
//! minutes to build) runs only with `PAYSWITCH_ASYNC_STRIPE=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one suite may run.
const SUITE_TIMEOUT: Duration = Duration::from_secs(180);

/// The sandbox binary, started on a free port of 127.0.0.1; stopped when dropped.
struct RunningSandbox {
    child: Child,
    base_url: String,
}

impl RunningSandbox {
    fn start() -> RunningSandbox {
        let mut child = Command::new(env!("CARGO_BIN_EXE_payswitch-sandbox"))
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the sandbox binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        // The banner's first line: "payswitch sandbox listening on http://127.0.0.1:PORT".
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let base_url = first
            .rsplit(' ')
            .next()
            .filter(|url| url.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("unexpected banner: {first:?}"))
            .to_owned();
        // Keep draining the banner so the sandbox never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        RunningSandbox { child, base_url }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// Whether CI asked for the SDKs to be there.
fn sdks_required() -> bool {
    std::env::var("PAYSWITCH_REQUIRE_SDKS").is_ok_and(|value| value == "1")
}

/// Prints why a suite is skipped, or fails when the SDKs are required.
fn missing(what: &str) {
    assert!(
        !sdks_required(),
        "{what} is missing and PAYSWITCH_REQUIRE_SDKS=1: run .ci/sdk-setup-stripe.sh"
    );
    println!("notice: {what} is missing, so this suite is skipped; run .ci/sdk-setup-stripe.sh");
}

/// Runs `program args…` in `dir` against a fresh sandbox and fails on a non-zero exit.
fn run_suite(name: &str, program: &Path, args: &[&str], dir: &Path) {
    let sandbox = RunningSandbox::start();
    let output_path =
        std::env::temp_dir().join(format!("payswitch-sdk-{name}-{}.log", std::process::id()));
    let output = std::fs::File::create(&output_path).expect("log file");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PAYSWITCH_SANDBOX_URL", &sandbox.base_url)
        .env("PAYSWITCH_STRIPE_SECRET_KEY", "sk_test_sandbox")
        .stdout(output.try_clone().expect("log file"))
        .stderr(output)
        .spawn()
        .unwrap_or_else(|error| panic!("{name}: cannot start {}: {error}", program.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the suite") {
            break Some(status);
        }
        if started.elapsed() > SUITE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(&output_path).unwrap_or_default();
    let _ = std::fs::remove_file(&output_path);
    println!("{log}");
    match status {
        Some(status) => assert!(status.success(), "{name} failed ({status}):\n{log}"),
        None => panic!("{name} ran past {SUITE_TIMEOUT:?}:\n{log}"),
    }
}

#[test]
fn stripe_python_sdk_passes_against_the_sandbox() {
    let dir = suites_dir().join("stripe-python");
    let python = dir.join(".venv/bin/python");
    if !python.exists() {
        missing("stripe-python (tests/sdk/stripe-python/.venv)");
        return;
    }
    run_suite("stripe-python", &python, &["suite.py"], &dir);
}

#[test]
fn stripe_node_sdk_passes_against_the_sandbox() {
    let dir = suites_dir().join("stripe-node");
    let installed = dir.join("node_modules/stripe/package.json").exists();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed || !node {
        missing("stripe-node (node and tests/sdk/stripe-node/node_modules)");
        return;
    }
    run_suite("stripe-node", Path::new("node"), &["suite.js"], &dir);
}

#[test]
fn async_stripe_parses_every_object_when_asked() {
    if std::env::var("PAYSWITCH_ASYNC_STRIPE").map_or(true, |value| value != "1") {
        println!("notice: the async-stripe check runs with PAYSWITCH_ASYNC_STRIPE=1 (it builds async-stripe)");
        return;
    }
    let dir = suites_dir().join("async-stripe");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // Its own target folder: the workspace's must not hold async-stripe's build.
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| dir.join("target"),
        |shared| Path::new(&shared).join("async-stripe"),
    );
    let built = Command::new(&cargo)
        .args(["build", "--quiet", "--locked"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the async-stripe check does not build");
    let program = target.join("debug/payswitch-sandbox-async-stripe-check");
    run_suite("async-stripe", &program, &[], &dir);
}
