//! Reconcile the payswitch store with the gateway: a small operations command.
//!
//! ```sh
//! PAYSWITCH_DATABASE_URL=sqlite:/var/lib/app/payswitch.db \
//!   cargo run --example store_reconcile --features store -- --since-hours 72
//! ```
//!
//! The gateway comes from the environment as for any payswitch application
//! (`PAYSWITCH_PROVIDER`, `STRIPE_SECRET_KEY` or `CREEM_API_KEY`, …; see
//! `payswitch::from_env`). It asks the gateway for the current state of every customer,
//! subscription and checkout the store knows that changed in the last `--since-hours` hours
//! (default 72) or is still live, records whatever differs as events, processes them with
//! the billing-only handler (the application's own workers would run its handler), and
//! prints the report. Add `--dry-run` to record without processing. It exits non-zero when
//! the store or the gateway fails; PostgreSQL URLs need `--features store-postgres`.

use std::process::ExitCode;

use payswitch::store::{BillingOnly, Store, Worker};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Arguments {
    since_hours: i64,
    dry_run: bool,
}

fn arguments() -> Result<Arguments, String> {
    let mut parsed = Arguments {
        since_hours: 72,
        dry_run: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--since-hours" => {
                let value = args.next().ok_or("--since-hours needs a number")?;
                parsed.since_hours = value
                    .parse()
                    .map_err(|_| format!("--since-hours: {value:?} is not a number of hours"))?;
            }
            "--dry-run" => parsed.dry_run = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (--since-hours N, --dry-run)"
                ))
            }
        }
    }
    Ok(parsed)
}

async fn run(arguments: Arguments) -> Result<(), BoxError> {
    let url = std::env::var("PAYSWITCH_DATABASE_URL")
        .map_err(|_| "set PAYSWITCH_DATABASE_URL to the store's database URL")?;
    let store = Store::open(&url).await?;
    let gateway = payswitch::from_env()?;
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(arguments.since_hours);
    let report = store.reconcile(&gateway, since).await?;
    println!(
        "checked {} subscriptions and {} checkouts on {}; {} differed and were recorded",
        report.subscriptions_checked,
        report.checkouts_checked,
        gateway.kind(),
        report.recorded
    );
    for what in &report.unsupported {
        println!("not checked: the gateway does not support {what}");
    }
    for failure in &report.failures {
        println!("failed: {failure}");
    }
    if !arguments.dry_run {
        let processed = Worker::new(store.clone(), BillingOnly)
            .run_until_idle()
            .await?;
        println!(
            "processed {} events ({} retried later, {} parked)",
            processed.done, processed.retried, processed.parked
        );
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let arguments = match arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("store_reconcile: {message}");
            return ExitCode::from(2);
        }
    };
    match run(arguments).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("store_reconcile: {error}");
            ExitCode::FAILURE
        }
    }
}
