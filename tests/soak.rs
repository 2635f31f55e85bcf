//! A small run of the fault soak harness (`examples/soak`): Stripe, Creem and the router on
//! the sandbox with at least 20 % ambiguous faults; no order may end with two payable
//! checkouts and every call must end in a checkout or a typed error.

#![cfg(all(feature = "stripe", feature = "creem"))]

#[path = "../examples/soak/harness.rs"]
#[allow(dead_code)]
mod harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_faults_never_leave_an_order_two_payable_checkouts() {
    let options = harness::small();
    let report = harness::run(&options).await.expect("the soak runs");
    let described = harness::describe(&options, &report);
    assert!(report.passed(&options), "{described}");
    assert!(
        report.ambiguous_faults * 100 >= options.calls * 20,
        "too few ambiguous faults: {described}"
    );
    assert!(report.created > 0, "{described}");
    assert!(
        !report.errors.is_empty(),
        "faults produced no errors: {described}"
    );
}
