//! `payswitch-sandbox`: runs the Stripe + Creem emulator as a standalone
//! server and prints its URLs, keys and webhook secrets.
//!
//! ```text
//! cargo run -p payswitch-sandbox -- --port 12111 --forward-to http://localhost:3000/webhooks
//! cargo run -p payswitch-sandbox -- clock advance 30d
//! ```

use std::process::ExitCode;
use std::time::Duration;

use payswitch_sandbox::{
    CreemRedirectSigning, DeliveryModes, Gateway, RetryPolicy, Sandbox, SandboxBuilder,
    SandboxHandle, StripeDunning, StripeInvoiceAfterRetries, StripeSubscriptionAfterRetries,
};

const USAGE: &str = "\
payswitch-sandbox: local emulator of the Stripe and Creem checkout APIs

USAGE:
    payswitch-sandbox [OPTIONS]
    payswitch-sandbox clock [advance DURATION] [--url URL] [--admin-token TOKEN]
        shows (or moves forward) the clock of a running sandbox; DURATION is a number of
        seconds with an optional unit: 90, 90s, 15m, 36h, 30d

OPTIONS:
    --port PORT                 port on 127.0.0.1 (default 12111; 0 picks a free one)
    --forward-to URL            send both gateways' webhooks to URL (repeatable)
    --stripe-forward-to URL     send Stripe webhooks to URL (repeatable)
    --creem-forward-to URL      send Creem webhooks to URL (repeatable)
    --products FILE             seed the catalog from a JSON array of Creem products
                                {id?, name, price, currency, billing_type?, billing_period?,
                                tax_mode?, tax_rate_bps?} or an object with any of
                                \"products\", \"prices\" (Stripe: {id?, product_name,
                                product_id?, unit_amount, currency, interval?,
                                interval_count?}), \"coupons\" (Stripe: {id, percent_off? |
                                amount_off? + currency?, duration?}), \"promotion_codes\"
                                (Stripe: {id, code, coupon, active?}) and \"discounts\"
                                (Creem: {code, name, type, percentage? | amount? + currency?,
                                applies_to_products})
    --stripe-settlement-currency CUR
                                currency the Stripe account settles in (default usd); the
                                minimum charge applies in it after conversion
    --creem-redirect-signing FORM
                                creem (default: Creem's six parameters in fixed order) or
                                all (every query parameter in URL order)
    --admin-token TOKEN         require TOKEN in the x-sandbox-admin-token header of every
                                /__sandbox/ request; GET /__sandbox then shows the keys to
                                callers that send it
    --max-connections N         connections open at once (default 1024); more wait
    --stripe-retry-days LIST    retry failed subscription payments these days after the
                                attempt before (e.g. 3,5,7; \"none\" never retries); default:
                                8 retries within 2 weeks (Stripe's recommended policy)
    --stripe-after-retries WHAT cancel (default), unpaid or past_due: the subscription once
                                every retry failed
    --stripe-invoice-after-retries WHAT
                                open (default) or uncollectible: the invoice once every
                                retry failed
    --webhook-delivery MODES    deliver webhooks to every endpoint with hostile MODES,
                                comma-separated: duplicate[=GAP], reorder=reverse|shuffle,
                                window=TIME, delay=TIME[-TIME], drop=N, redeliver_old=AGE,
                                seed=N (times with a unit: 250ms, 30s, 5m, 2h, 3d), e.g.
                                duplicate=100ms,reorder=shuffle,seed=7
    --webhook-delivery-for URL MODES
                                MODES for the endpoint URL only, instead of the global ones
                                (repeatable; none for plain delivery)
    --stripe-secret-key KEY     default sk_test_sandbox
    --stripe-webhook-secret S   default whsec_sandbox
    --creem-api-key KEY         default creem_test_sandbox
    --creem-webhook-secret S    default whsec_creem_sandbox
    -h, --help                  print this help
";

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let clock_command = arguments.first().is_some_and(|first| first == "clock");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("payswitch-sandbox: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = if clock_command {
        runtime.block_on(clock(arguments.into_iter().skip(1).collect()))
    } else {
        runtime.block_on(run(arguments))
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("payswitch-sandbox: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(arguments: Vec<String>) -> Result<(), String> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let Some((builder, forwards)) = parse_args(arguments)? else {
        print!("{USAGE}");
        return Ok(());
    };
    let sandbox = builder.start().await.map_err(|error| error.to_string())?;
    print_banner(&sandbox, &forwards);
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(())
}

/// Webhook forwards as (gateway name, URL), and delivery modes as (scope, modes), for the
/// banner.
#[derive(Default)]
struct Forwards {
    endpoints: Vec<(&'static str, String)>,
    modes: Vec<(String, DeliveryModes)>,
}

/// Reads a `--webhook-delivery` value.
fn parse_modes(flag: &str, text: &str) -> Result<DeliveryModes, String> {
    text.parse()
        .map_err(|error| format!("{flag} {text}: {error}\n\n{USAGE}"))
}

/// Reads the command line into a builder; `None` when help was asked for.
fn parse_args(arguments: Vec<String>) -> Result<Option<(SandboxBuilder, Forwards)>, String> {
    // Slower than the library default: real receivers restart and deploy.
    let mut builder = Sandbox::builder().port(12111).webhook_retry(RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(10),
    });
    let mut forwards = Forwards::default();
    let mut dunning: Option<StripeDunning> = None;
    let mut subscription_after = None;
    let mut invoice_after = None;
    let mut rest = arguments.into_iter();
    while let Some(flag) = rest.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            rest.next()
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        builder = match flag.as_str() {
            "--port" => {
                let port = value()?;
                builder.port(port.parse().map_err(|_| format!("invalid port: {port}"))?)
            }
            "--forward-to" => {
                let url = value()?;
                forwards.endpoints.push(("stripe", url.clone()));
                forwards.endpoints.push(("creem", url.clone()));
                builder
                    .webhook_endpoint(Gateway::Stripe, url.clone())
                    .webhook_endpoint(Gateway::Creem, url)
            }
            "--stripe-forward-to" => {
                let url = value()?;
                forwards.endpoints.push(("stripe", url.clone()));
                builder.stripe_webhook_endpoint(url)
            }
            "--creem-forward-to" => {
                let url = value()?;
                forwards.endpoints.push(("creem", url.clone()));
                builder.creem_webhook_endpoint(url)
            }
            "--products" => builder
                .catalog_file(value()?)
                .map_err(|error| error.to_string())?,
            "--stripe-settlement-currency" => builder.stripe_settlement_currency(value()?),
            "--creem-redirect-signing" => match value()?.as_str() {
                "creem" => builder.creem_redirect_signing(CreemRedirectSigning::CreemParameters),
                "all" => builder.creem_redirect_signing(CreemRedirectSigning::AllParameters),
                other => {
                    return Err(format!(
                        "--creem-redirect-signing takes creem or all, not {other}"
                    ))
                }
            },
            "--admin-token" => builder.admin_token(value()?),
            "--max-connections" => {
                let count = value()?;
                builder.max_connections(
                    count
                        .parse()
                        .map_err(|_| format!("invalid --max-connections: {count}"))?,
                )
            }
            "--stripe-retry-days" => {
                let list = value()?;
                dunning = Some(StripeDunning::retry_after_days(&retry_days(&list)?));
                builder
            }
            "--stripe-after-retries" => {
                subscription_after = Some(match value()?.as_str() {
                    "cancel" => StripeSubscriptionAfterRetries::Cancel,
                    "unpaid" => StripeSubscriptionAfterRetries::MarkUnpaid,
                    "past_due" => StripeSubscriptionAfterRetries::LeavePastDue,
                    other => {
                        return Err(format!(
                            "--stripe-after-retries takes cancel, unpaid or past_due, not {other}"
                        ))
                    }
                });
                builder
            }
            "--stripe-invoice-after-retries" => {
                invoice_after = Some(match value()?.as_str() {
                    "open" => StripeInvoiceAfterRetries::LeaveOpen,
                    "uncollectible" => StripeInvoiceAfterRetries::MarkUncollectible,
                    other => {
                        return Err(format!(
                        "--stripe-invoice-after-retries takes open or uncollectible, not {other}"
                    ))
                    }
                });
                builder
            }
            "--webhook-delivery" => {
                let modes = parse_modes(&flag, &value()?)?;
                forwards
                    .modes
                    .push(("every endpoint".to_owned(), modes.clone()));
                builder.delivery_modes(modes)
            }
            "--webhook-delivery-for" => {
                let url = value()?;
                let modes = parse_modes(&flag, &value()?)?;
                forwards.modes.push((url.clone(), modes.clone()));
                builder.endpoint_delivery_modes(url, modes)
            }
            "--stripe-secret-key" => builder.stripe_secret_key(value()?),
            "--stripe-webhook-secret" => builder.stripe_webhook_secret(value()?),
            "--creem-api-key" => builder.creem_api_key(value()?),
            "--creem-webhook-secret" => builder.creem_webhook_secret(value()?),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        };
    }
    if dunning.is_some() || subscription_after.is_some() || invoice_after.is_some() {
        let mut settings = dunning.unwrap_or_default();
        if let Some(after) = subscription_after {
            settings = settings.subscription_after_retries(after);
        }
        if let Some(after) = invoice_after {
            settings = settings.invoice_after_retries(after);
        }
        builder = builder.stripe_dunning(settings);
    }
    Ok(Some((builder, forwards)))
}

/// Reads `--stripe-retry-days`: days separated by commas, or `none`.
fn retry_days(list: &str) -> Result<Vec<u32>, String> {
    if list == "none" {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|days| {
            days.trim()
                .parse::<u32>()
                .ok()
                .filter(|days| (1..=366).contains(days))
                .ok_or_else(|| format!("--stripe-retry-days: {days} is not a number of days"))
        })
        .collect()
}

/// Reads a duration such as `90`, `90s`, `15m`, `36h` or `30d` as seconds.
fn duration_seconds(text: &str) -> Result<u64, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => {
            return Err(format!(
                "invalid duration {text}: use 90, 90s, 15m, 36h or 30d"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(scale))
        .ok_or_else(|| format!("invalid duration {text}: use 90, 90s, 15m, 36h or 30d"))
}

/// `payswitch-sandbox clock [advance DURATION]`: shows or moves the clock of a running
/// sandbox through its admin API.
async fn clock(arguments: Vec<String>) -> Result<(), String> {
    let mut url = "http://127.0.0.1:12111".to_owned();
    let mut admin_token = None;
    let mut advance = None;
    let mut rest = arguments.into_iter();
    while let Some(argument) = rest.next() {
        let mut value = || {
            rest.next()
                .ok_or_else(|| format!("{argument} needs a value\n\n{USAGE}"))
        };
        match argument.as_str() {
            "advance" => advance = Some(duration_seconds(&value()?)?),
            "--url" => url = value()?.trim_end_matches('/').to_owned(),
            "--admin-token" => admin_token = Some(value()?),
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown clock argument {other}\n\n{USAGE}")),
        }
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|error| error.to_string())?;
    let request = match advance {
        Some(seconds) => client
            .post(format!("{url}/__sandbox/clock/advance"))
            .header("content-type", "application/json")
            .body(format!("{{\"seconds\":{seconds}}}")),
        None => client.get(format!("{url}/__sandbox/clock")),
    };
    let request = match &admin_token {
        Some(token) => request.header("x-sandbox-admin-token", token),
        None => request,
    };
    let response = request
        .send()
        .await
        .map_err(|error| format!("cannot reach the sandbox at {url}: {error}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|error| error.to_string())?;
    if !status.is_success() {
        return Err(format!("the sandbox answered {status}: {body}"));
    }
    let clock: serde_json::Value =
        serde_json::from_str(&body).map_err(|error| error.to_string())?;
    let now = clock["now"].as_i64().unwrap_or_default();
    let when = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| now.to_string());
    println!(
        "sandbox clock: {when} (Unix {now}), {} s ahead of the wall clock",
        clock["offset_seconds"].as_i64().unwrap_or_default()
    );
    Ok(())
}

/// Prints the URLs, keys and secrets a developer configures their app with.
fn print_banner(sandbox: &SandboxHandle, forwards: &Forwards) {
    println!("payswitch sandbox listening on {}", sandbox.base_url());
    println!();
    println!("Stripe  API base        {}", sandbox.stripe_api_base());
    println!("        secret key      {}", sandbox.stripe_secret_key());
    println!(
        "        publishable key {}",
        sandbox.stripe_publishable_key()
    );
    println!(
        "        webhook secret  {}",
        sandbox.stripe_webhook_secret()
    );
    println!("Creem   API base        {}", sandbox.creem_api_base());
    println!("        API key         {}", sandbox.creem_api_key());
    println!("        webhook secret  {}", sandbox.creem_webhook_secret());
    println!("Pay pages               {}/pay/{{id}}", sandbox.base_url());
    println!("Admin API               {}/__sandbox/", sandbox.base_url());
    if forwards.endpoints.is_empty() {
        println!("Webhooks                not forwarded (use --forward-to URL)");
    }
    for (gateway, url) in &forwards.endpoints {
        println!("Webhooks ({gateway:<6})       -> {url}");
    }
    for (scope, modes) in &forwards.modes {
        println!("Delivery modes          {modes} ({scope})");
    }
    println!();
    println!(
        "Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, \
         4000 0000 0000 0341 attaches and fails later; SEPA IBAN DE89 3704 0044 0532 0130 00."
    );
    println!("Clock: payswitch-sandbox clock advance 30d. Ctrl-C stops.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_an_optional_unit() {
        assert_eq!(duration_seconds("90"), Ok(90));
        assert_eq!(duration_seconds("90s"), Ok(90));
        assert_eq!(duration_seconds("15m"), Ok(900));
        assert_eq!(duration_seconds("36h"), Ok(36 * 3600));
        assert_eq!(duration_seconds("30d"), Ok(30 * 86_400));
        assert!(duration_seconds("3w").is_err());
        assert!(duration_seconds("d").is_err());
        assert!(duration_seconds("-5").is_err());
    }

    #[test]
    fn retry_days_are_a_list_or_none() {
        assert_eq!(retry_days("3,5,7"), Ok(vec![3, 5, 7]));
        assert_eq!(retry_days("none"), Ok(Vec::new()));
        assert!(retry_days("3,x").is_err());
        assert!(retry_days("0").is_err());
    }

    fn arguments(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn delivery_mode_flags() {
        let parsed = parse_args(arguments(
            "--forward-to http://127.0.0.1:3000/hooks \
             --webhook-delivery duplicate=100ms,reorder=shuffle,seed=7 \
             --webhook-delivery-for http://127.0.0.1:3000/hooks drop=2",
        ));
        let Ok(Some((builder, forwards))) = parsed else {
            panic!("parsed: {:?}", parsed.err());
        };
        let modes: Vec<String> = forwards
            .modes
            .iter()
            .map(|(scope, modes)| format!("{scope}: {modes}"))
            .collect();
        assert_eq!(
            modes,
            [
                "every endpoint: duplicate=100ms,reorder=shuffle,seed=7",
                "http://127.0.0.1:3000/hooks: drop=2",
            ]
        );
        assert!(format!("{builder:?}").contains("drop"));

        let refused = [
            ("--webhook-delivery duplicat", "invalid delivery mode"),
            ("--webhook-delivery delay=10m", "invalid delivery mode"),
            (
                "--webhook-delivery-for http://127.0.0.1:3000/hooks",
                "needs a value",
            ),
        ];
        for (text, expected) in refused {
            match parse_args(arguments(text)) {
                Err(message) => assert!(message.contains(expected), "{text}: {message}"),
                Ok(_) => panic!("{text} was accepted"),
            }
        }
    }
}
