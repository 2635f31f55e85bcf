//! Creem's official TypeScript SDK (`creem` on npm, pinned in `tests/sdk/creem-ts/package-lock.json`)
//! as a client of the sandbox: `tests/sdk/creem-ts/creem.mjs` creates and retrieves every
//! object, checks error responses and drives the subscription lifecycle and the clock, while
//! the SDK validates every response against its own schemas and parses every webhook.
//!
//! Needs node and `.ci/sdk-setup-creem.sh` (`npm ci` in that folder). Without them the test
//! prints a notice and passes, unless `PAYSWITCH_REQUIRE_SDKS=1`, which makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use payswitch_sandbox::Sandbox;
use serde_json::Value;

/// How long the script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/creem-ts")
}

/// Says whether node and the installed SDK are there; when not, fails under
/// `PAYSWITCH_REQUIRE_SDKS=1` and otherwise prints a notice.
fn sdk_available(dir: &Path) -> bool {
    let mut missing = Vec::new();
    let sdk = dir.join("node_modules/creem/package.json");
    if !sdk.exists() {
        missing.push(sdk.display().to_string());
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "Creem SDK suite skipped: missing {}; run .ci/sdk-setup-creem.sh",
        missing.join(", ")
    );
    assert!(
        std::env::var("PAYSWITCH_REQUIRE_SDKS").as_deref() != Ok("1"),
        "PAYSWITCH_REQUIRE_SDKS=1 but {message}"
    );
    eprintln!("notice: {message}");
    false
}

/// Runs the script to its end (killing it after [`SCRIPT_TIMEOUT`]); returns whether it
/// succeeded, its stdout and its stderr.
fn run_script(dir: &Path, arguments: &[String]) -> (bool, String, String) {
    let mut child = Command::new("node")
        .arg("creem.mjs")
        .args(arguments)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let started = Instant::now();
    while child.try_wait().expect("the script's status").is_none() {
        if started.elapsed() > SCRIPT_TIMEOUT {
            child.kill().expect("the script stops");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("the script's output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_creem_sdk_drives_the_sandbox() {
    let dir = suite_dir();
    if !sdk_available(&dir) {
        return;
    }
    let sandbox = Sandbox::builder().start().await.expect("sandbox starts");
    let arguments = vec![
        sandbox.creem_api_base().to_owned(),
        sandbox.creem_api_key().to_owned(),
        sandbox.creem_webhook_secret().to_owned(),
    ];
    let (succeeded, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_script(&dir, &arguments))
            .await
            .expect("the script ran");
    assert!(
        succeeded,
        "the Creem SDK script failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let summary: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or(""))
        .expect("the script prints a JSON summary last");
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(summary["calls"].as_u64() > Some(40), "{summary}");
    assert!(summary["events"].as_u64() > Some(20), "{summary}");
    sandbox.shutdown().await;
}
