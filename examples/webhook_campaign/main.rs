//! The webhook campaign (security issue, "webhook campaign"): 100 000 genuine, mutated,
//! stale, replayed, cross-secret and cross-gateway deliveries against the Stripe and Creem
//! verifiers, counting false accepts (must be 0) and false rejects.
//!
//! ```text
//! cargo run --release --example webhook_campaign            # 100 000 deliveries
//! cargo run --release --example webhook_campaign -- 1000000 # more
//! ```
//!
//! A smaller run of the same harness is the CI test `tests/webhook_campaign.rs`.

mod harness;

use std::process::ExitCode;

fn main() -> ExitCode {
    let deliveries = match std::env::args().nth(1).map(|text| text.parse::<usize>()) {
        None => 100_000,
        Some(Ok(count)) => count,
        Some(Err(error)) => {
            eprintln!("usage: webhook_campaign [DELIVERIES]: {error}");
            return ExitCode::from(2);
        }
    };
    match harness::run(deliveries, 11) {
        Ok(report) => {
            print!("{}", harness::describe(&report));
            if report.false_accepts == 0 && report.false_rejects == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("the campaign could not start: {error}");
            ExitCode::FAILURE
        }
    }
}
