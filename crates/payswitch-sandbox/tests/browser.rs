//! The hosted pay page in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser`): paying lands on the success URL,
//! the declined card shows the decline and leaves the session open.
//!
//! Needs `.ci/browser-setup.sh`. Without it the test prints a notice and
//! passes, unless `PAYSWITCH_REQUIRE_BROWSER=1`, which makes it fail.

mod common;
#[path = "../../../tests/browser/tooling.rs"]
mod tooling;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// Returns false (after a notice) when the browser tooling is missing.
fn browser_available() -> bool {
    tooling::browser_available(&browser_dir(), "browser test")
}

async fn run_script(arguments: Vec<String>) -> Value {
    let script = browser_dir().join("checkout.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(arguments)
            .current_dir(browser_dir())
            .output()
            .expect("node runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser script failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).expect("script prints JSON")
}

async fn create_browser_session(
    sandbox: &payswitch_sandbox::SandboxHandle,
    success: &str,
) -> Value {
    let body = format!(
        "mode=payment&success_url={}&cancel_url={}\
         &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2000\
         &line_items[0][price_data][product_data][name]=T-shirt&line_items[0][quantity]=2",
        urlencode(success),
        urlencode(&format!("{}/", sandbox.base_url()))
    );
    let reply = stripe_post(sandbox, "/v1/checkout/sessions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pays_and_declines_in_headless_chromium() {
    if !browser_available() {
        return;
    }
    let sandbox = sandbox().await;
    // The success and cancel pages are the sandbox's own index page, so the
    // browser never leaves 127.0.0.1.
    let success = format!("{}/?session_id={{CHECKOUT_SESSION_ID}}", sandbox.base_url());
    let session = create_browser_session(&sandbox, &success).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let paid = run_script(vec![
        "pay".into(),
        session["url"].as_str().unwrap().to_owned(),
        format!("{}/?session_id={id}", sandbox.base_url()),
    ])
    .await;
    assert_eq!(paid["outcome"], "paid");
    assert_eq!(paid["total"], "$40.00");
    assert_eq!(
        paid["url"],
        format!("{}/?session_id={id}", sandbox.base_url())
    );
    let retrieved = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(retrieved["status"], "complete");
    assert_eq!(retrieved["customer_details"]["email"], "browser@shop.test");

    let session = create_browser_session(&sandbox, &success).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let declined = run_script(vec![
        "decline".into(),
        session["url"].as_str().unwrap().to_owned(),
    ])
    .await;
    assert_eq!(declined["outcome"], "declined");
    assert_eq!(declined["message"], "Your card was declined.");
    assert_eq!(declined["email"], "browser@shop.test");
    assert_eq!(declined["url"], sandbox.pay_url(&id));
    let retrieved = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(retrieved["status"], "open");
    // The customer can still pay the same session afterwards.
    assert!(sandbox.pay(&id, None).is_ok());
}
