//! The fault soak harness: many `create_checkout` calls through Stripe, Creem and the router
//! against the in-process sandbox while the sandbox injects faults — at least a given share of
//! them ambiguous (the gateway processed the request, then the answer was lost, failed or came
//! too late) — then an audit of every checkout the sandbox holds.
//!
//! The properties it checks, whatever the faults:
//! - no order reference has two payable (open or complete) checkouts, on any gateway;
//! - every call ends, in a result or a typed `PaymentError`, within a bound.
//!
//! Shared by `examples/soak` (the full run) and `tests/soak.rs` (a small run in CI), so both
//! run the same code. Loopback only; bounded by the call count and per-call deadlines.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payswitch::creem::{CreemConfig, CreemProvider};
use payswitch::stripe::{StripeConfig, StripeProvider};
use payswitch::{
    Catalog, CheckoutProvider, CheckoutRequest, HttpConfig, LineItem, PaymentError, RetryConfig,
    Router, RouterConfig,
};
use payswitch_sandbox::{
    CheckoutStatus, Fault, FaultKind, Gateway, PriceSeed, ProductSeed, Sandbox, SandboxHandle,
};

const SKU: &str = "soak_item";
const STRIPE_PRICE: &str = "price_soak";
const CREEM_PRODUCT: &str = "prod_soak";
const SESSIONS: &str = "/v1/checkout/sessions";
const CHECKOUTS: &str = "/v1/checkouts";

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// `create_checkout` calls in all, spread evenly over Stripe, Creem and the router.
    pub calls: usize,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Percent of calls preceded by an ambiguous fault (the harness requires at least 20).
    pub ambiguous_percent: u64,
    /// Percent of calls preceded by an unambiguous fault (503, 429, a dropped connection).
    pub plain_percent: u64,
    /// Each attempt's HTTP timeout; delayed faults wait longer than this.
    pub timeout: Duration,
    /// Seeds the choice of faults, so a run can be repeated.
    pub seed: u64,
}

impl Default for SoakOptions {
    fn default() -> Self {
        Self {
            calls: 10_000,
            concurrency: 32,
            ambiguous_percent: 22,
            plain_percent: 5,
            timeout: Duration::from_millis(400),
            seed: 7,
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Calls made.
    pub calls: usize,
    /// Calls that returned a checkout.
    pub created: usize,
    /// Calls that returned an error, by variant.
    pub errors: BTreeMap<String, usize>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, usize>,
    /// Ambiguous faults injected.
    pub ambiguous_faults: usize,
    /// Calls that did not end within the per-call deadline.
    pub hung: usize,
    /// Order references with two or more payable checkouts (must be empty).
    pub duplicated_orders: Vec<String>,
    /// Payable checkouts the sandbox holds.
    pub payable_checkouts: usize,
    /// Checkouts the sandbox holds for which the caller got an error (ambiguous outcomes
    /// that did create something: never more than one per order).
    pub orphans: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl SoakReport {
    /// Says whether the run upheld every property.
    pub fn passed(&self, options: &SoakOptions) -> bool {
        self.duplicated_orders.is_empty()
            && self.hung == 0
            && self.calls == options.calls
            && self.created + self.errors.values().sum::<usize>() == self.calls
    }
}

/// A small deterministic generator (xorshift64*): the harness needs repeatable choices, not
/// cryptographic ones, and this keeps the examples free of another dependency.
struct Choices(u64);

impl Choices {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// The fault to inject before call `index`, if any, and whether it is ambiguous.
fn fault_for(choices: &mut Choices, options: &SoakOptions) -> Option<(FaultKind, bool)> {
    let roll = choices.below(100);
    if roll < options.ambiguous_percent {
        let delay = u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX) + 250;
        let kind = match choices.below(4) {
            0 => FaultKind::ProcessThenDrop,
            1 => FaultKind::ProcessThenFail { status: 500 },
            2 => FaultKind::FailDuringExecution { status: 500 },
            _ => FaultKind::Delay { millis: delay },
        };
        return Some((kind, true));
    }
    if roll < options.ambiguous_percent + options.plain_percent {
        let kind = match choices.below(3) {
            0 => FaultKind::Respond {
                status: 503,
                retry_after_seconds: None,
            },
            1 => FaultKind::Respond {
                status: 429,
                retry_after_seconds: None,
            },
            _ => FaultKind::DropConnection,
        };
        return Some((kind, false));
    }
    None
}

fn fault_name(kind: &FaultKind) -> String {
    match kind {
        FaultKind::Respond { status, .. } => format!("respond {status}"),
        FaultKind::Delay { .. } => "delay past the timeout".to_owned(),
        FaultKind::DropConnection => "drop before processing".to_owned(),
        FaultKind::ProcessThenDrop => "process then drop".to_owned(),
        FaultKind::ProcessThenFail { status } => format!("process then fail {status}"),
        FaultKind::FailDuringExecution { status } => format!("fail during execution {status}"),
        other => format!("{other:?}"),
    }
}

/// The error's variant name, for the report.
fn variant(error: &PaymentError) -> String {
    let debug = format!("{error:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("unknown")
        .to_owned()
}

/// A port on 127.0.0.1 with nothing listening: connecting to it is refused at once.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}

struct Gateways {
    stripe: Arc<dyn CheckoutProvider>,
    creem: Arc<dyn CheckoutProvider>,
    router: Arc<dyn CheckoutProvider>,
}

fn gateways(sandbox: &SandboxHandle, options: &SoakOptions) -> Result<Gateways, PaymentError> {
    let http = HttpConfig {
        timeout: options.timeout,
        connect_timeout: Duration::from_millis(500),
    };
    let retry = RetryConfig {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(20),
        jitter: false,
    };
    let catalog = Catalog::new()
        .with(SKU, payswitch::stripe::KIND, STRIPE_PRICE)
        .with(SKU, payswitch::creem::KIND, CREEM_PRODUCT);
    let stripe_at = |base: String| {
        StripeProvider::builder(StripeConfig::new(sandbox.stripe_secret_key()).with_api_base(base))
            .http(http.clone())
            .retry(retry.clone())
            .catalog(catalog.clone())
            .build()
    };
    let stripe: Arc<dyn CheckoutProvider> = Arc::new(stripe_at(sandbox.stripe_api_base())?);
    let down: Arc<dyn CheckoutProvider> =
        Arc::new(stripe_at(format!("http://127.0.0.1:{}", closed_port()))?);
    let creem: Arc<dyn CheckoutProvider> = Arc::new(
        CreemProvider::builder(
            CreemConfig::new(sandbox.creem_api_key()).with_api_base(sandbox.creem_api_base()),
        )
        .http(http)
        .retry(retry)
        .catalog(catalog)
        .build()?,
    );
    // The router's first gateway is unreachable, so every routed call fails over; the
    // second is the real Stripe on the sandbox, with Creem behind it.
    let mut routed: BTreeMap<String, Arc<dyn CheckoutProvider>> = BTreeMap::new();
    routed.insert("stripe_down".into(), down);
    routed.insert("stripe".into(), Arc::clone(&stripe));
    routed.insert("creem".into(), Arc::clone(&creem));
    let router = Router::new(
        RouterConfig {
            default: "stripe_down".into(),
            failover: vec!["stripe".into(), "creem".into()],
            rules: vec![],
            ..Default::default()
        },
        routed,
    )?;
    Ok(Gateways {
        stripe,
        creem,
        router: Arc::new(router),
    })
}

/// Runs the soak and audits the sandbox afterwards.
pub async fn run(options: &SoakOptions) -> Result<SoakReport, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder()
        .product(ProductSeed::one_time("Soak item", 1999, "USD").with_id(CREEM_PRODUCT))
        .price(PriceSeed::one_time("Soak item", 1999, "usd").with_id(STRIPE_PRICE))
        .start()
        .await?;
    let gateways = gateways(&sandbox, options)?;
    let report = Arc::new(Mutex::new(SoakReport::default()));
    let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut choices = Choices(options.seed.max(1));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(options.calls);
    for index in 0..options.calls {
        let (provider, path) = match index % 3 {
            0 => (Arc::clone(&gateways.stripe), SESSIONS),
            1 => (Arc::clone(&gateways.creem), CHECKOUTS),
            // Routed calls fail over to Stripe on the sandbox.
            _ => (Arc::clone(&gateways.router), SESSIONS),
        };
        if let Some((kind, ambiguous)) = fault_for(&mut choices, options) {
            let mut report = report.lock().expect("report");
            *report.faults.entry(fault_name(&kind)).or_default() += 1;
            report.ambiguous_faults += usize::from(ambiguous);
            sandbox.inject_fault(Fault::new(Some("POST"), path, kind));
        }
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let report = Arc::clone(&report);
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let request = CheckoutRequest::builder()
                .line_item(LineItem::sku(SKU, 1))
                .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
                .reference(format!("order-{index}"))
                .build();
            let outcome = match request {
                Ok(request) => {
                    tokio::time::timeout(
                        Duration::from_secs(15),
                        provider.create_checkout(&request),
                    )
                    .await
                }
                Err(error) => Ok(Err(error)),
            };
            let mut report = report.lock().expect("report");
            report.calls += 1;
            match outcome {
                Ok(Ok(_)) => report.created += 1,
                Ok(Err(error)) => *report.errors.entry(variant(&error)).or_default() += 1,
                Err(_) => report.hung += 1,
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    // Delayed faults finish processing after the client gave up: let them land before the
    // audit, so a late duplicate would be seen.
    tokio::time::sleep(options.timeout + Duration::from_millis(500)).await;
    sandbox.clear_faults();
    let mut report = Arc::try_unwrap(report)
        .map_err(|_| "report still shared")?
        .into_inner()?;
    report.elapsed = started.elapsed();
    audit(&sandbox, &mut report);
    sandbox.shutdown().await;
    Ok(report)
}

/// Counts payable checkouts per order reference on every gateway.
fn audit(sandbox: &SandboxHandle, report: &mut SoakReport) {
    let mut payable: BTreeMap<String, Vec<(Gateway, String)>> = BTreeMap::new();
    for checkout in sandbox.checkouts() {
        let open_or_paid = matches!(
            checkout.status,
            CheckoutStatus::Open | CheckoutStatus::Complete
        );
        if let (true, Some(reference)) = (open_or_paid, checkout.reference) {
            payable
                .entry(reference)
                .or_default()
                .push((checkout.gateway, checkout.id));
        }
    }
    report.payable_checkouts = payable.values().map(Vec::len).sum();
    report.orphans = report.payable_checkouts.saturating_sub(report.created);
    report.duplicated_orders = payable
        .into_iter()
        .filter(|(_, checkouts)| checkouts.len() > 1)
        .map(|(reference, checkouts)| format!("{reference}: {checkouts:?}"))
        .collect();
}

/// The report as the text the example prints and docs/reliability.md quotes.
pub fn describe(options: &SoakOptions, report: &SoakReport) -> String {
    let mut text = format!(
        "soak: {} calls ({} in flight) in {:.1} s\n  created: {}\n  errors: {:?}\n  faults: {:?}\n  ambiguous faults: {} ({:.1} % of calls)\n  hung calls: {}\n  payable checkouts held by the sandbox: {} (orphans of ambiguous errors: {})\n  orders with two payable checkouts: {}\n",
        report.calls,
        options.concurrency,
        report.elapsed.as_secs_f64(),
        report.created,
        report.errors,
        report.faults,
        report.ambiguous_faults,
        100.0 * report.ambiguous_faults as f64 / options.calls.max(1) as f64,
        report.hung,
        report.payable_checkouts,
        report.orphans,
        report.duplicated_orders.len(),
    );
    for duplicate in report.duplicated_orders.iter().take(10) {
        text.push_str(&format!("    {duplicate}\n"));
    }
    text
}

/// The soak's defaults scaled down for CI.
#[allow(dead_code)] // used by tests/soak.rs, not by the example
pub fn small() -> SoakOptions {
    SoakOptions {
        calls: 300,
        concurrency: 16,
        ..SoakOptions::default()
    }
}
