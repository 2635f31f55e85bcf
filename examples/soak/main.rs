//! The fault soak (security issue, "fault soak"): `create_checkout` calls through Stripe,
//! Creem and the router against the in-process sandbox with at least 20 % ambiguous faults,
//! then an audit: no order may hold two payable checkouts, and every call must end in a
//! checkout or a typed error. Loopback only, bounded by the call count.
//!
//! ```text
//! cargo run --release --example soak                       # 10 000 calls
//! cargo run --release --example soak -- --calls 2000 --concurrency 64 --seed 3
//! ```
//!
//! A smaller run of the same harness is the CI test `tests/soak.rs`.

mod harness;

use std::process::ExitCode;

use harness::SoakOptions;

fn parse_args() -> Result<SoakOptions, String> {
    let mut options = SoakOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|error| format!("{flag}: {error}"))
        };
        match flag.as_str() {
            "--calls" => {
                options.calls = usize::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            "--concurrency" => {
                options.concurrency =
                    usize::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            "--ambiguous-percent" => options.ambiguous_percent = number(value()?)?,
            "--seed" => options.seed = number(value()?)?,
            "--help" | "-h" => {
                return Err(
                    "usage: soak [--calls N] [--concurrency N] [--ambiguous-percent P] [--seed S]"
                        .into(),
                )
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if options.ambiguous_percent < 20 || options.ambiguous_percent > 90 {
        return Err("--ambiguous-percent must be between 20 and 90".into());
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match harness::run(&options).await {
        Ok(report) => {
            print!("{}", harness::describe(&options, &report));
            if report.passed(&options) {
                println!("soak passed");
                ExitCode::SUCCESS
            } else {
                println!("soak FAILED");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("soak could not run: {error}");
            ExitCode::FAILURE
        }
    }
}
