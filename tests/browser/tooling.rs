//! Shared by the Rust tests that drive headless Chromium (the sandbox's pay page and the
//! storefront): whether the browser tooling is installed, and what to do when it is not.
//! Included with `#[path]` by each test, since the tests live in different crates.

use std::path::Path;
use std::process::Command;

/// Says whether Chromium, node and playwright-core (in `browser_dir`) are installed. When they
/// are not, the test fails if `PAYSWITCH_REQUIRE_BROWSER=1` (as in CI) and otherwise prints a
/// notice and lets the caller return early.
pub fn browser_available(browser_dir: &Path, test: &str) -> bool {
    let modules = browser_dir.join("node_modules/playwright-core");
    let mut missing = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() {
        missing.push("/usr/bin/chromium".to_owned());
    }
    if !modules.exists() {
        missing.push(modules.display().to_string());
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{test} skipped: missing {}; run .ci/browser-setup.sh to install chromium and playwright-core",
        missing.join(", ")
    );
    if std::env::var("PAYSWITCH_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("PAYSWITCH_REQUIRE_BROWSER=1 but {message}");
    }
    eprintln!("{message}");
    false
}
