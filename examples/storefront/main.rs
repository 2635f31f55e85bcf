//! A small storefront that takes payments through payswitch, written the way a SaaS team
//! would write it: a product page, a server-side checkout, a success page, a webhook
//! endpoint and an account page where a subscriber cancels, resumes, changes plan or opens
//! the gateway's billing portal, on axum.
//!
//! ```text
//! cargo run --example storefront                       # Stripe, on the in-process sandbox
//! cargo run --example storefront -- --provider creem   # Creem: only the configuration changes
//! cargo run --example storefront -- --port 0           # an ephemeral port
//! ```
//!
//! | route | what it does |
//! | --- | --- |
//! | `GET /` | the products, each with a form that posts its SKU |
//! | `POST /checkout` | creates the order and the checkout (the server decides the price), 303 to the gateway's page |
//! | `GET /success` | verifies the return, retrieves the checkout, shows "paid" only if the gateway says so |
//! | `POST /webhooks` | verifies the signature over the raw body, deduplicates on the event id, marks the order paid once, keeps the latest subscription and refund state (an older event is ignored; two of the same time that disagree are settled by retrieving the subscription) |
//! | `GET /account/{id}` | the order's account page: for a subscription, plan, status, period end and a scheduled cancellation, retrieved from the gateway on each view; the actions below, where the gateway's `capabilities()` allow them |
//! | `GET /account/{id}.json` | the same as JSON, with the webhooks' record of the subscription and the refunds |
//! | `POST /account/{id}/cancel` | cancels the subscription at the end of the period, 303 to the account page |
//! | `POST /account/{id}/resume` | undoes a scheduled cancellation, 303 to the account page |
//! | `POST /account/{id}/change-plan` | `sku=` another monthly plan, prorated, 303 to the account page |
//! | `POST /account/{id}/portal` | opens a customer-portal session that returns to the account page, 303 to it |
//! | `POST /account/{id}/refund` | the admin's full refund of a paid order (no login in this demo), 303 to the account page |
//! | `GET /orders/{id}`, `GET /orders.json` | the order state as JSON (status, times marked paid, gateway ids, events; the store also lists subscription and refund records) |
//!
//! A failed account action is shown on the account page with a status that says why: 409
//! when the subscription or payment is not in a state that allows it, 501 when the gateway
//! cannot do it, 502 when the gateway failed. Forms posted from another site's page (a
//! different `Origin`) get 403.
//!
//! The handlers hold an `Arc<dyn CheckoutProvider>` built by `payswitch::from_config`; the
//! gateway is chosen by `--provider stripe|creem` (or `PAYSWITCH_PROVIDER`). Without gateway
//! keys the storefront runs the payswitch sandbox in-process; with `STRIPE_SECRET_KEY` or
//! `CREEM_API_KEY` set it uses the real gateway, configured from the environment (see
//! `gateway.rs`). The first line on stdout is `storefront listening on http://127.0.0.1:PORT`.

mod account;
mod app;
mod billing;
mod catalog;
mod gateway;
#[cfg(test)]
mod http_tests;
mod orders;
mod pages;
mod web;

use std::error::Error;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;

use crate::orders::Orders;

/// The command line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    provider: Option<String>,
    port: u16,
}

const USAGE: &str = "usage: storefront [--provider stripe|creem] [--port N]\n\
    \x20 --provider  the gateway (default: PAYSWITCH_PROVIDER, else stripe)\n\
    \x20 --port      the port on 127.0.0.1 (default 3000; 0 picks a free one)";

fn parse_options(arguments: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        provider: None,
        port: 3000,
    };
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        let (name, inline) = match argument.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (argument, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| arguments.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--provider" => options.provider = Some(value()?.trim().to_ascii_lowercase()),
            "--port" => {
                let text = value()?;
                options.port = text
                    .parse()
                    .map_err(|_| format!("--port {text:?} is not a port number\n{USAGE}"))?;
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if options.provider.is_none() {
        options.provider = std::env::var("PAYSWITCH_PROVIDER")
            .ok()
            .map(|value| value.trim().to_ascii_lowercase())
            .filter(|value| !value.is_empty());
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout starts with the line that tells a test where we listen.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("storefront: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments
        .iter()
        .any(|argument| argument == "--help" || argument == "-h")
    {
        println!("{USAGE}");
        return Ok(());
    }
    let options = parse_options(arguments)?;
    // Bind first: the sandbox needs our address for its webhooks, and connections that
    // arrive before the server starts wait in the listen queue.
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    let public_url = format!("http://{}", listener.local_addr()?);
    let gateway = gateway::connect(options.provider.as_deref(), &public_url).await?;
    let name = gateway.provider.kind().name();
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let app = app::App {
        gateway: gateway.provider,
        orders: Arc::new(Orders::new(name, run_id)),
        public_url: public_url.clone(),
        plans: Arc::new(gateway.plans),
    };
    println!("storefront listening on {public_url}");
    match &gateway.sandbox {
        Some(sandbox) => println!(
            "gateway: {name} (payswitch sandbox at {})",
            sandbox.base_url()
        ),
        None => println!("gateway: {name}"),
    }
    axum::serve(listener, web::router(app)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Options, String> {
        parse_options(arguments.iter().map(|argument| argument.to_string()))
    }

    #[test]
    fn options() {
        let options = parse(&["--provider", "Creem", "--port=0"]).unwrap();
        assert_eq!(options.provider.as_deref(), Some("creem"));
        assert_eq!(options.port, 0);
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--colour"]).is_err());
    }
}
