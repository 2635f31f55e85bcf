//! A smaller run of the webhook campaign (`examples/webhook_campaign`): genuine deliveries are
//! accepted, and no mutated, stale, cross-secret or cross-gateway one is.

#![cfg(all(feature = "stripe", feature = "creem"))]

#[path = "../examples/webhook_campaign/harness.rs"]
mod harness;

#[test]
fn no_forged_or_stale_delivery_is_accepted() {
    let report = harness::run(5_600, 5).expect("the verifiers build");
    let described = harness::describe(&report);
    assert_eq!(report.total(), 5_600, "{described}");
    assert_eq!(report.false_accepts, 0, "{described}");
    assert_eq!(report.false_rejects, 0, "{described}");
    // Every case ran on both gateways.
    assert_eq!(report.deliveries.len(), 28, "{described}");
}
