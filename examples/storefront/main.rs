//! A small storefront that takes payments through payswitch, written the way a SaaS team
//! would write it: a product page, a server-side checkout, a success page, a webhook
//! endpoint and an account page where a subscriber cancels, resumes, changes plan or opens
//! the gateway's billing portal, on axum. Its orders and the webhooks' state live in a
//! database, through `payswitch-store`: a SQLite file by default, PostgreSQL with
//! `--database-url postgres://…`.
//!
//! ```text
//! cargo run --example storefront --features store                       # Stripe, on the in-process sandbox
//! cargo run --example storefront --features store -- --provider creem   # Creem: only the configuration changes
//! cargo run --example storefront --features store -- --port 0           # an ephemeral port
//! cargo run --example storefront --features store -- --database-url sqlite:/tmp/shop.db
//! cargo run --example storefront --features store-postgres -- --database-url postgres://shop@127.0.0.1/shop
//!
//! # Moving from Stripe to Creem, with the sandbox and the database kept across the switch:
//! cargo run --example storefront --features store -- --sandbox-only --port 12111 --webhooks http://127.0.0.1:3000/webhooks
//! cargo run --example storefront --features store -- --sandbox-url http://127.0.0.1:12111 --provider stripe
//! #   … open a checkout, stop the storefront, then the deploy:
//! cargo run --example storefront --features store -- --sandbox-url http://127.0.0.1:12111 --migrate-from stripe --provider creem
//! ```
//!
//! | route | what it does |
//! | --- | --- |
//! | `GET /` | the products, each with a form that posts its SKU |
//! | `POST /checkout` | creates the order (a row of `orders`) and the checkout (the server decides the price; in migration mode the router puts it on the new gateway), 303 to the gateway's page |
//! | `GET /success` | verifies the return, retrieves the checkout, shows "paid" only if the gateway says so, and marks the order paid through the same once-only `UPDATE … WHERE status = 'pending'` as the webhook |
//! | `POST /webhooks` | `Store::receive`: verifies the signature over the raw body (either gateway's, in migration mode) and records the event in the store's inbox once per (gateway, event id), answering 200 at once (400 for a bad signature, 500 when the database fails); the worker then processes each event exactly once, in one transaction with the order's update (`fulfil.rs`) |
//! | `GET /account/{id}` | the order's account page: for a subscription, plan, status, period end and a scheduled cancellation, retrieved from the gateway on each view; the actions below, where the gateway's `capabilities()` allow them |
//! | `GET /account/{id}.json` | the same as JSON, with the store's records of the subscription and the refunds (what the webhooks said) |
//! | `POST /account/{id}/cancel` | cancels the subscription at the end of the period, 303 to the account page |
//! | `POST /account/{id}/resume` | undoes a scheduled cancellation, 303 to the account page |
//! | `POST /account/{id}/change-plan` | `sku=` another monthly plan, prorated, 303 to the account page |
//! | `POST /account/{id}/portal` | opens a customer-portal session that returns to the account page, 303 to it |
//! | `POST /account/{id}/refund` | the admin's full refund of a paid order (no login in this demo), 303 to the account page |
//! | `GET /orders/{id}`, `GET /orders.json` | the order state as JSON (status, the gateway it is on, times marked paid, gateway ids, the events processed for it); `/orders.json` adds the store's record of each subscription and the inbox: events processed, duplicate deliveries, events pending and failed, ties settled |
//!
//! A failed account action is shown on the account page with a status that says why: 409
//! when the subscription or payment is not in a state that allows it, 501 when the gateway
//! cannot do it, 502 when the gateway failed. Forms posted from another site's page (a
//! different `Origin`) get 403. A failure of the database is a 500 page that says nothing
//! more.
//!
//! The handlers hold an `Arc<dyn CheckoutProvider>` built by `payswitch::from_config`; the
//! gateway is chosen by `--provider stripe|creem` (or `PAYSWITCH_PROVIDER`), and
//! `--migrate-from` makes it the router in migration mode. Without gateway keys the
//! storefront runs the payswitch sandbox in-process (or uses the one `--sandbox-url` names);
//! with `STRIPE_SECRET_KEY` or `CREEM_API_KEY` set it uses the real gateway, configured from
//! the environment (see `gateway.rs`). The first line on stdout is
//! `storefront listening on http://127.0.0.1:PORT`, the second names the gateway (and the
//! sandbox), the third the database (a PostgreSQL URL is not printed: it may hold a
//! password).

mod account;
mod app;
mod catalog;
mod fulfil;
mod gateway;
#[cfg(test)]
mod http_tests;
mod orders;
mod pages;
mod processing;
mod records;
mod schema;
mod snapshot;
mod versions;
mod web;

use std::error::Error;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use payswitch::store::{Backend, Store, StoreError};
use tokio::net::TcpListener;

use crate::gateway::Choice;
use crate::orders::Orders;
use crate::processing::Processing;

/// The command line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    provider: Option<String>,
    migrate_from: Option<String>,
    port: Option<u16>,
    database_url: Option<String>,
    sandbox_url: Option<String>,
    sandbox_only: bool,
    webhooks: Option<String>,
}

const USAGE: &str = "usage: storefront [--provider stripe|creem] [--migrate-from stripe|creem] [--port N]\n\
    \x20                 [--database-url URL] [--sandbox-url URL]\n\
    \x20      storefront --sandbox-only [--port N] [--webhooks URL]\n\
    \x20 --provider      the gateway new checkouts go to (default: PAYSWITCH_PROVIDER, else stripe)\n\
    \x20 --migrate-from  migration mode: the router sends new checkouts to --provider while this\n\
    \x20                 gateway keeps serving what it owns (open checkouts, subscriptions, webhooks)\n\
    \x20 --port          the port on 127.0.0.1 (default 3000, or 12111 with --sandbox-only; 0 picks a free one)\n\
    \x20 --database-url  where orders and the webhook inbox live: sqlite:/path/file.db or\n\
    \x20                 postgres://user@host/db (needs --features store-postgres)\n\
    \x20                 (default: sqlite: payswitch-storefront.db in the temporary directory)\n\
    \x20 --sandbox-url   use the payswitch sandbox running there (started with --sandbox-only)\n\
    \x20                 instead of one inside this process, so it outlives a restart\n\
    \x20 --sandbox-only  run only the sandbox, seeded with this storefront's catalog\n\
    \x20 --webhooks      with --sandbox-only: where it sends both gateways' webhooks\n\
    \x20                 (default http://127.0.0.1:3000/webhooks)";

fn parse_options(arguments: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
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
            "--migrate-from" => options.migrate_from = Some(value()?.trim().to_ascii_lowercase()),
            "--port" => {
                let text = value()?;
                options.port = Some(
                    text.parse()
                        .map_err(|_| format!("--port {text:?} is not a port number\n{USAGE}"))?,
                );
            }
            "--database-url" => options.database_url = Some(value()?),
            "--sandbox-url" => options.sandbox_url = Some(value()?),
            "--webhooks" => options.webhooks = Some(value()?),
            "--sandbox-only" if inline.is_none() => options.sandbox_only = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if options.sandbox_only {
        if options.sandbox_url.is_some() || options.database_url.is_some() {
            return Err(format!(
                "--sandbox-only runs no shop: it takes only --port and --webhooks\n{USAGE}"
            ));
        }
    } else if options.webhooks.is_some() {
        return Err(format!(
            "--webhooks goes with --sandbox-only (the shop's own sandbox sends them to the shop)\n{USAGE}"
        ));
    }
    if options.provider.is_none() {
        options.provider = std::env::var("PAYSWITCH_PROVIDER")
            .ok()
            .map(|value| value.trim().to_ascii_lowercase())
            .filter(|value| !value.is_empty());
    }
    Ok(options)
}

/// Prints a line on stdout. A closed stdout (a pipe whose reader left) is no reason to stop
/// serving, so a failed write is ignored instead of panicking as `println!` does.
fn say(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// The database when none is named: a SQLite file in the temporary directory, so orders
/// survive a restart without any setup.
fn default_database_url() -> String {
    format!(
        "sqlite:{}",
        std::env::temp_dir()
            .join("payswitch-storefront.db")
            .display()
    )
}

/// Says what to do when the store cannot open the database.
fn explain(error: StoreError) -> Box<dyn Error> {
    match error {
        StoreError::UnsupportedDatabase { scheme, .. } => format!(
            "cannot open a {scheme:?} database: build the storefront with --features \
             store-postgres for postgres:// URLs, or use a sqlite: URL"
        )
        .into(),
        other => format!("cannot open the database: {other}").into(),
    }
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
        say(USAGE);
        return Ok(());
    }
    let options = parse_options(arguments)?;
    if options.sandbox_only {
        return run_sandbox(&options).await;
    }
    // Bind first: the sandbox needs our address for its webhooks, and connections that
    // arrive before the server starts wait in the listen queue.
    let listener = TcpListener::bind(("127.0.0.1", options.port.unwrap_or(3000))).await?;
    let public_url = format!("http://{}", listener.local_addr()?);
    let choice = Choice {
        provider: options.provider.as_deref(),
        migrate_from: options.migrate_from.as_deref(),
        sandbox_url: options.sandbox_url.as_deref(),
    };
    let gateway = gateway::connect(choice, &public_url).await?;
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(default_database_url);
    let store = Store::open(&database_url).await.map_err(explain)?;
    schema::create_tables(&store).await?;
    // Order ids carry the start time in milliseconds: a restart never reuses an id.
    let run_id = orders::now_millis().to_string();
    let processing = Processing::new(store.clone(), Arc::clone(&gateway.provider));
    let app = app::App {
        gateway: Arc::clone(&gateway.provider),
        gateway_label: gateway.label.as_str().into(),
        orders: Orders::new(store.clone(), &gateway.default, run_id),
        public_url: public_url.clone(),
        plans: Arc::new(gateway.plans),
        wake: processing.waker(),
    };
    tokio::spawn(processing.run());
    say(&format!("storefront listening on {public_url}"));
    match &gateway.sandbox_url {
        Some(sandbox) => say(&format!(
            "gateway: {} (payswitch sandbox at {sandbox})",
            gateway.label
        )),
        None => say(&format!("gateway: {}", gateway.label)),
    }
    // A PostgreSQL URL may hold a password: only the kind is printed.
    match store.backend() {
        Backend::Sqlite => say(&format!("database: {database_url}")),
        _ => say("database: postgres"),
    }
    axum::serve(listener, web::router(app)).await?;
    // The in-process sandbox lives until here.
    drop(gateway.sandbox);
    Ok(())
}

/// `--sandbox-only`: the sandbox, seeded with the catalog, until the process is stopped.
async fn run_sandbox(options: &Options) -> Result<(), Box<dyn Error>> {
    let webhooks = options
        .webhooks
        .as_deref()
        .unwrap_or("http://127.0.0.1:3000/webhooks");
    let sandbox = gateway::start_sandbox(options.port.unwrap_or(12111), webhooks).await?;
    say(&format!("payswitch sandbox at {}", sandbox.base_url()));
    say(&format!("webhooks of both gateways go to {webhooks}"));
    std::future::pending::<()>().await;
    drop(sandbox);
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
        assert_eq!(options.port, Some(0));
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--colour"]).is_err());
        let migration = parse(&[
            "--migrate-from",
            "stripe",
            "--provider",
            "creem",
            "--database-url",
            "sqlite:/tmp/x.db",
            "--sandbox-url=http://127.0.0.1:1",
        ])
        .unwrap();
        assert_eq!(migration.migrate_from.as_deref(), Some("stripe"));
        assert_eq!(migration.database_url.as_deref(), Some("sqlite:/tmp/x.db"));
        assert_eq!(migration.sandbox_url.as_deref(), Some("http://127.0.0.1:1"));
        let sandbox = parse(&[
            "--sandbox-only",
            "--webhooks",
            "http://127.0.0.1:9/webhooks",
        ])
        .unwrap();
        assert!(sandbox.sandbox_only);
        assert!(parse(&["--sandbox-only", "--database-url", "sqlite::memory:"]).is_err());
        assert!(parse(&["--webhooks", "http://127.0.0.1:9/webhooks"]).is_err());
        assert!(parse(&["--sandbox-only=yes"]).is_err());
    }

    #[test]
    fn an_unsupported_database_says_which_feature() {
        let error = explain(StoreError::UnsupportedDatabase {
            scheme: "postgres".into(),
            hint: "enable the `postgres` feature of payswitch-store",
        });
        assert!(error.to_string().contains("store-postgres"), "{error}");
    }
}
