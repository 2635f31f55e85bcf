//! The load driver behind docs/performance.md, on 127.0.0.1 only.
//!
//! - **Client overhead** (measurement 1): `create_checkout` through payswitch (Stripe, then
//!   Creem) against a local axum server that answers every create with a fixed, valid body,
//!   versus a hand-written reqwest call that posts the same pre-built body and decodes the
//!   answer into `serde_json::Value`. Requests/s, and CPU time per request of the client
//!   threads and of the whole process.
//! - **Sandbox throughput** (measurement 4): checkouts created per second and p50/p99 latency
//!   against `payswitch-sandbox`, and against the same minimal fixed-body axum handler as the
//!   ceiling.
//!
//! Cells are interleaved (baseline and payswitch alternate, in a different order each round)
//! and the table shows the median over the rounds. Every cell is bounded by time and by a
//! request count.
//!
//! ```text
//! cargo run --release --example loadtest                  # the default short run (< 60 s)
//! cargo run --release --example loadtest -- --help        # durations, rounds, concurrency
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use bytes::Bytes;
use payswitch::creem::{CreemConfig, CreemProvider};
use payswitch::stripe::{StripeConfig, StripeProvider};
use payswitch::{CheckoutProvider, CheckoutRequest, Currency, HttpConfig, LineItem, Money};
use payswitch_sandbox::{ProductSeed, Sandbox, SandboxHandle};

/// The `checkout.session` the fixed server answers with (Stripe's own fixture).
const STRIPE_SESSION: &str =
    include_str!("../crates/payswitch-stripe/benches/fixtures/checkout_session.json");

/// A pending Creem checkout with its product expanded, as `POST /v1/checkouts` answers.
const CREEM_CHECKOUT: &str = r#"{
  "id": "ch_4l0N34kxo16AhRKUHFUuXr",
  "mode": "test",
  "object": "checkout",
  "status": "pending",
  "request_id": "order-2026-000042",
  "product": {
    "id": "prod_bench",
    "mode": "test",
    "object": "product",
    "name": "Pro plan",
    "description": "Everything in Pro, billed once.",
    "image_url": null,
    "price": 2000,
    "currency": "USD",
    "billing_type": "onetime",
    "billing_period": "once",
    "status": "active",
    "tax_mode": "exclusive",
    "tax_category": "saas",
    "default_success_url": null,
    "created_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-01T00:00:00.000Z"
  },
  "units": 1,
  "success_url": "https://shop.example/thanks",
  "checkout_url": "https://checkout.creem.io/ch_4l0N34kxo16AhRKUHFUuXr",
  "metadata": {"order_id": "order-2026-000042"}
}"#;

const STRIPE_KEY: &str = "sk_test_loadtest";
const CREEM_KEY: &str = "creem_test_loadtest";
const CREEM_PRODUCT: &str = "prod_bench";

/// Which measurements to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    Client,
    Sandbox,
}

#[derive(Debug, Clone)]
struct Options {
    duration: Duration,
    rounds: usize,
    max_requests: u64,
    client_concurrency: Vec<usize>,
    sandbox_concurrency: Vec<usize>,
    client_threads: usize,
    server_threads: usize,
    part: Part,
    /// Run only the first (`Some(true)`) or the second (`Some(false)`) contender, to profile.
    side: Option<bool>,
    gateways: Vec<String>,
}

const HELP: &str = "\
loadtest: payswitch's client overhead and the sandbox's throughput, on 127.0.0.1

options:
  --duration-ms N           time per cell (default 500)
  --rounds N                interleaved repetitions; the median is shown (default 3)
  --max-requests N          request cap per cell (default 1000000)
  --concurrency A,B         in-flight requests for the client overhead (default 1,64)
  --sandbox-concurrency A,B in-flight requests for the sandbox (default 1,64,512)
  --client-threads N        tokio worker threads driving requests (default 1)
  --server-threads N        tokio worker threads serving them (default 1)
  --only client|sandbox     run one measurement
  --gateways stripe,creem   which gateways to drive (default both)
  --side first|second       run only the baseline/ceiling (first) or payswitch/sandbox
                            (second) of each pair, e.g. under perf; ratios then show NaN
";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        duration: Duration::from_millis(500),
        rounds: 3,
        max_requests: 1_000_000,
        client_concurrency: vec![1, 64],
        sandbox_concurrency: vec![1, 64, 512],
        client_threads: 1,
        server_threads: 1,
        part: Part::All,
        side: None,
        gateways: vec!["stripe".to_owned(), "creem".to_owned()],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |text: &str| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: {text:?} is not a number"))
        };
        let list = |text: &str| {
            text.split(',')
                .map(|item| number(item).map(|n| n.max(1) as usize))
                .collect::<Result<Vec<_>, _>>()
        };
        match flag.as_str() {
            "--duration-ms" => options.duration = Duration::from_millis(number(&value)?),
            "--rounds" => options.rounds = number(&value)?.max(1) as usize,
            "--max-requests" => options.max_requests = number(&value)?.max(1),
            "--concurrency" => options.client_concurrency = list(&value)?,
            "--sandbox-concurrency" => options.sandbox_concurrency = list(&value)?,
            "--client-threads" => options.client_threads = number(&value)?.max(1) as usize,
            "--server-threads" => options.server_threads = number(&value)?.max(1) as usize,
            "--only" => {
                options.part = match value.as_str() {
                    "client" => Part::Client,
                    "sandbox" => Part::Sandbox,
                    other => return Err(format!("--only: {other:?} is not client or sandbox")),
                }
            }
            "--gateways" => options.gateways = value.split(',').map(str::to_owned).collect(),
            "--side" => {
                options.side = match value.as_str() {
                    "first" => Some(true),
                    "second" => Some(false),
                    other => return Err(format!("--side: {other:?} is not first or second")),
                }
            }
            other => return Err(format!("unknown option {other}; see --help")),
        }
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------------
// CPU time
// ---------------------------------------------------------------------------------------------

/// The threads that drive requests (the client runtime's workers and the main thread).
static CLIENT_THREADS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records the calling thread as a client thread.
fn register_client_thread() {
    // `/proc/thread-self` links to `<pid>/task/<tid>`.
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        if let Ok(mut threads) = CLIENT_THREADS.lock() {
            threads.push(format!("/proc/{}/schedstat", link.display()));
        }
    }
}

/// Nanoseconds the client threads have run on a CPU (from `schedstat`, ns resolution).
fn client_cpu_ns() -> u64 {
    let threads = CLIENT_THREADS
        .lock()
        .map(|threads| threads.clone())
        .unwrap_or_default();
    threads
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .filter_map(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Nanoseconds of user plus system time of the whole process, server included
/// (`/proc/self/stat` utime + stime, in clock ticks of 10 ms).
fn process_cpu_ns() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|pair| pair.iter().filter_map(|f| f.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    ticks * 10_000_000
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// Starts a fixed-answer server: every Stripe create gets `stripe_body`, every Creem create
/// `creem_body`. The handlers read the request body (so connections are reused) and do
/// nothing else.
async fn start_fixed_server(stripe_body: Bytes, creem_body: Bytes) -> std::io::Result<String> {
    let json = || [(axum::http::header::CONTENT_TYPE, "application/json")];
    let app = axum::Router::new()
        .route(
            "/v1/checkout/sessions",
            post(move |_request: Bytes| {
                let body = stripe_body.clone();
                async move { (json(), body) }
            }),
        )
        .route(
            "/v1/checkouts",
            post(move |_request: Bytes| {
                let body = creem_body.clone();
                async move { (json(), body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("fixed server stopped: {error}");
        }
    });
    Ok(format!("http://{address}"))
}

/// Creates one checkout of each kind on the sandbox with a plain reqwest call and returns the
/// answers, so the ceiling server can send byte-for-byte what the sandbox sends.
async fn capture_sandbox_answers(
    stripe: &(String, String),
    creem: &(String, String),
) -> Result<(Bytes, Bytes), Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let form = stripe_provider(&stripe.0, &stripe.1).checkout_body(&stripe_request())?;
    let stripe_answer = client
        .post(format!("{}/v1/checkout/sessions", stripe.0))
        .header("Authorization", format!("Bearer {}", stripe.1))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let body = creem_provider(&creem.0, &creem.1).checkout_body(&creem_request())?;
    let creem_answer = client
        .post(format!("{}/v1/checkouts", creem.0))
        .header("x-api-key", creem.1.as_str())
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok((stripe_answer, creem_answer))
}

// ---------------------------------------------------------------------------------------------
// What is measured
// ---------------------------------------------------------------------------------------------

type CallFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One request: called with a sequence number, resolves when the answer is decoded.
type Call = Arc<dyn Fn(u64) -> CallFuture + Send + Sync>;

fn stripe_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(
            LineItem::custom("Pro licence", Money::new(4900, Currency::USD), 1)
                .with_description("One year of updates"),
        )
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://shop.example/cart")
        .customer_email("ana@example.com")
        .reference("order-2026-000042")
        .metadata("order_id", "order-2026-000042")
        .build()
        .expect("a valid request")
}

fn creem_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::native(CREEM_PRODUCT, 1))
        .success_url("https://shop.example/thanks")
        .customer_email("ana@example.com")
        .reference("order-2026-000042")
        .metadata("order_id", "order-2026-000042")
        .build()
        .expect("a valid request")
}

fn http_config() -> HttpConfig {
    HttpConfig {
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
    }
}

fn stripe_provider(base: &str, key: &str) -> StripeProvider {
    StripeProvider::builder(StripeConfig::new(key).with_api_base(base))
        .http(http_config())
        .build()
        .expect("stripe provider builds")
}

fn creem_provider(base: &str, key: &str) -> CreemProvider {
    CreemProvider::builder(CreemConfig::new(key).with_api_base(base))
        .http(http_config())
        .build()
        .expect("creem provider builds")
}

/// `create_checkout` through a payswitch provider.
fn payswitch_call<P: CheckoutProvider + Clone + 'static>(
    provider: P,
    request: CheckoutRequest,
) -> Call {
    let request = Arc::new(request);
    Arc::new(move |_| {
        let provider = provider.clone();
        let request = Arc::clone(&request);
        Box::pin(async move {
            provider
                .create_checkout(&request)
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        })
    })
}

/// The hand-written baseline: the pre-built body, the gateway's headers, decoded into `Value`.
fn baseline_call(
    url: String,
    body: Bytes,
    headers: Vec<(&'static str, String)>,
    idempotency: bool,
) -> Call {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client builds");
    let url = Arc::new(url);
    let headers = Arc::new(headers);
    Arc::new(move |number| {
        let client = client.clone();
        let url = Arc::clone(&url);
        let headers = Arc::clone(&headers);
        let body = body.clone();
        Box::pin(async move {
            let mut request = client.post(url.as_str()).body(body);
            for (name, value) in headers.iter() {
                request = request.header(*name, value);
            }
            if idempotency {
                request = request.header("Idempotency-Key", format!("baseline-{number}"));
            }
            let response = request.send().await.map_err(|error| error.to_string())?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            let bytes = response.bytes().await.map_err(|error| error.to_string())?;
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|error| error.to_string())?;
            std::hint::black_box(value);
            Ok(())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Running a cell
// ---------------------------------------------------------------------------------------------

/// What one cell measured.
#[derive(Debug, Clone, Default)]
struct Cell {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    client_cpu_ns: u64,
    process_cpu_ns: u64,
    latencies_ns: Vec<u64>,
}

impl Cell {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn client_cpu_us(&self) -> f64 {
        self.client_cpu_ns as f64 / 1000.0 / self.requests.max(1) as f64
    }

    fn process_cpu_us(&self) -> f64 {
        self.process_cpu_ns as f64 / 1000.0 / self.requests.max(1) as f64
    }

    fn percentile_us(&self, percentile: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies_ns.clone();
        sorted.sort_unstable();
        let rank = ((percentile / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
    }
}

/// Runs `call` from `concurrency` tasks until `duration` or `max_requests`, after a warm-up.
async fn run_cell(call: &Call, concurrency: usize, options: &Options) -> Cell {
    // Warm-up: open the connections and fill caches; not measured.
    let warmups: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = Arc::clone(call);
            tokio::spawn(async move {
                for number in 0..2 {
                    let _ = call(number).await;
                }
            })
        })
        .collect();
    for warmup in warmups {
        let _ = warmup.await;
    }

    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + options.duration;
    let max_requests = options.max_requests;
    let client_before = client_cpu_ns();
    let process_before = process_cpu_ns();
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = Arc::clone(call);
            let issued = Arc::clone(&issued);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut first_error = None;
                while Instant::now() < deadline {
                    let number = issued.fetch_add(1, Ordering::Relaxed);
                    if number >= max_requests {
                        break;
                    }
                    let sent = Instant::now();
                    match call(number).await {
                        Ok(()) => latencies.push(sent.elapsed().as_nanos() as u64),
                        Err(error) => {
                            errors += 1;
                            first_error.get_or_insert(error);
                        }
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut cell = Cell::default();
    // Every request has its own 30 s timeout; this bounds the whole cell as well.
    let limit = options.duration + Duration::from_secs(35);
    for worker in workers {
        match tokio::time::timeout_at((start + limit).into(), worker).await {
            Ok(Ok((latencies, errors, first_error))) => {
                cell.requests += latencies.len() as u64;
                cell.latencies_ns.extend(latencies);
                cell.errors += errors;
                if cell.first_error.is_none() {
                    cell.first_error = first_error;
                }
            }
            Ok(Err(error)) => {
                cell.errors += 1;
                cell.first_error.get_or_insert(error.to_string());
            }
            Err(_) => {
                cell.errors += 1;
                cell.first_error
                    .get_or_insert("the cell timed out".to_owned());
            }
        }
    }
    cell.elapsed = start.elapsed();
    cell.client_cpu_ns = client_cpu_ns().saturating_sub(client_before);
    cell.process_cpu_ns = process_cpu_ns().saturating_sub(process_before);
    cell
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|value| value.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// Medians over rounds of one cell's figures.
#[derive(Debug, Clone, Copy)]
struct Summary {
    per_second: f64,
    client_cpu_us: f64,
    process_cpu_us: f64,
    p50_us: f64,
    p99_us: f64,
    requests: u64,
    errors: u64,
}

fn summarize(cells: &[Cell]) -> Summary {
    let pick = |figure: fn(&Cell) -> f64| median(cells.iter().map(figure).collect());
    Summary {
        per_second: pick(Cell::per_second),
        client_cpu_us: pick(Cell::client_cpu_us),
        process_cpu_us: pick(Cell::process_cpu_us),
        p50_us: pick(|cell| cell.percentile_us(50.0)),
        p99_us: pick(|cell| cell.percentile_us(99.0)),
        requests: cells.iter().map(|cell| cell.requests).sum(),
        errors: cells.iter().map(|cell| cell.errors).sum(),
    }
}

fn report_errors(label: &str, cells: &[Cell]) {
    if let Some(error) = cells.iter().find_map(|cell| cell.first_error.as_ref()) {
        let errors: u64 = cells.iter().map(|cell| cell.errors).sum();
        eprintln!("  ! {label}: {errors} failed requests, e.g. {error}");
    }
}

/// Calls `reset`, then runs one cell.
async fn run_after(reset: &dyn Fn(), call: &Call, concurrency: usize, options: &Options) -> Cell {
    reset();
    run_cell(call, concurrency, options).await
}

/// Runs two contenders in alternating order for `rounds`, returning each one's cells;
/// `reset` runs before every cell.
async fn compare(
    first: &Call,
    second: &Call,
    concurrency: usize,
    options: &Options,
    reset: &dyn Fn(),
) -> (Vec<Cell>, Vec<Cell>) {
    let mut firsts = Vec::new();
    let mut seconds = Vec::new();
    let run_first = options.side != Some(false);
    let run_second = options.side != Some(true);
    for round in 0..options.rounds {
        if !(run_first && run_second) {
            if run_first {
                firsts.push(run_after(reset, first, concurrency, options).await);
            }
            if run_second {
                seconds.push(run_after(reset, second, concurrency, options).await);
            }
        } else if round % 2 == 0 {
            firsts.push(run_after(reset, first, concurrency, options).await);
            seconds.push(run_after(reset, second, concurrency, options).await);
        } else {
            seconds.push(run_after(reset, second, concurrency, options).await);
            firsts.push(run_after(reset, first, concurrency, options).await);
        }
    }
    (firsts, seconds)
}

// ---------------------------------------------------------------------------------------------
// The two measurements
// ---------------------------------------------------------------------------------------------

async fn client_overhead(fixed: &str, options: &Options) {
    let stripe = stripe_provider(fixed, STRIPE_KEY);
    let creem = creem_provider(fixed, CREEM_KEY);
    let stripe_body = Bytes::from(stripe.checkout_body(&stripe_request()).expect("encodes"));
    let creem_body = Bytes::from(creem.checkout_body(&creem_request()).expect("encodes"));
    let gateways: [(&str, Call, Call); 2] = [
        (
            "stripe",
            baseline_call(
                format!("{fixed}/v1/checkout/sessions"),
                stripe_body,
                vec![
                    ("Authorization", format!("Bearer {STRIPE_KEY}")),
                    (
                        "Stripe-Version",
                        payswitch::stripe::DEFAULT_API_VERSION.into(),
                    ),
                    ("Content-Type", "application/x-www-form-urlencoded".into()),
                ],
                true,
            ),
            payswitch_call(stripe, stripe_request()),
        ),
        (
            "creem",
            baseline_call(
                format!("{fixed}/v1/checkouts"),
                creem_body,
                vec![
                    ("x-api-key", CREEM_KEY.into()),
                    ("Accept", "application/json".into()),
                    ("Content-Type", "application/json".into()),
                ],
                false,
            ),
            payswitch_call(creem, creem_request()),
        ),
    ];

    println!("\n## 1. Client overhead: create_checkout against a fixed-answer server on 127.0.0.1");
    println!(
        "(median of {} interleaved rounds of {} ms; CPU µs/request: client threads | whole process)\n",
        options.rounds,
        options.duration.as_millis()
    );
    println!(
        "| gateway | conc | baseline req/s | payswitch req/s | ratio | baseline CPU µs/req | payswitch CPU µs/req | CPU ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, baseline, payswitch) in &gateways {
        if !options.gateways.iter().any(|gateway| gateway == name) {
            continue;
        }
        for &concurrency in &options.client_concurrency {
            let (base, ours) = compare(baseline, payswitch, concurrency, options, &|| {}).await;
            report_errors(&format!("{name} baseline c={concurrency}"), &base);
            report_errors(&format!("{name} payswitch c={concurrency}"), &ours);
            let (base, ours) = (summarize(&base), summarize(&ours));
            println!(
                "| {name} | {concurrency} | {:.0} | {:.0} | **{:.3}** | {:.1} \\| {:.1} | {:.1} \\| {:.1} | {:.2} |",
                base.per_second,
                ours.per_second,
                ours.per_second / base.per_second,
                base.client_cpu_us,
                base.process_cpu_us,
                ours.client_cpu_us,
                ours.process_cpu_us,
                ours.client_cpu_us / base.client_cpu_us,
            );
        }
    }
}

async fn sandbox_throughput(
    sandbox: &SandboxHandle,
    fixed: &str,
    sandbox_stripe: (String, String),
    sandbox_creem: (String, String),
    options: &Options,
) {
    let contenders: [(&str, Call, Call); 2] = [
        (
            "stripe",
            payswitch_call(stripe_provider(fixed, STRIPE_KEY), stripe_request()),
            payswitch_call(
                stripe_provider(&sandbox_stripe.0, &sandbox_stripe.1),
                stripe_request(),
            ),
        ),
        (
            "creem",
            payswitch_call(creem_provider(fixed, CREEM_KEY), creem_request()),
            payswitch_call(
                creem_provider(&sandbox_creem.0, &sandbox_creem.1),
                creem_request(),
            ),
        ),
    ];
    println!("\n## 4. Sandbox throughput: checkouts created through payswitch");
    println!(
        "(median of {} interleaved rounds of {} ms; ceiling = minimal axum handler with a fixed body)\n",
        options.rounds,
        options.duration.as_millis()
    );
    println!(
        "| gateway | conc | ceiling/s | ceiling p50 µs | ceiling p99 µs | sandbox/s | sandbox p50 µs | sandbox p99 µs | sandbox/ceiling |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, ceiling, sandbox_call) in &contenders {
        if !options.gateways.iter().any(|gateway| gateway == name) {
            continue;
        }
        for &concurrency in &options.sandbox_concurrency {
            let (top, ours) = compare(ceiling, sandbox_call, concurrency, options, &|| {
                sandbox.reset()
            })
            .await;
            report_errors(&format!("{name} ceiling c={concurrency}"), &top);
            report_errors(&format!("{name} sandbox c={concurrency}"), &ours);
            let (top, ours) = (summarize(&top), summarize(&ours));
            println!(
                "| {name} | {concurrency} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | **{:.3}** |",
                top.per_second,
                top.p50_us,
                top.p99_us,
                ours.per_second,
                ours.p50_us,
                ours.p99_us,
                ours.per_second / top.per_second,
            );
            let _ = (top.requests, top.errors, ours.requests, ours.errors);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    // Servers and clients get their own threads, so client CPU time can be read apart.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.server_threads)
        .thread_name("loadtest-server")
        .enable_all()
        .build()?;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .thread_name("loadtest-client")
        .on_thread_start(register_client_thread)
        .enable_all()
        .build()?;
    register_client_thread();

    let fixed = servers.block_on(start_fixed_server(
        Bytes::from_static(STRIPE_SESSION.as_bytes()),
        Bytes::from_static(CREEM_CHECKOUT.as_bytes()),
    ))?;
    let sandbox = if options.part != Part::Client {
        Some(servers.block_on(async {
            Sandbox::builder()
                .product(ProductSeed::one_time("Pro plan", 2000, "USD").with_id(CREEM_PRODUCT))
                .start()
                .await
        })?)
    } else {
        None
    };

    println!(
        "# payswitch loadtest: {} CPUs, {} client / {} server worker threads",
        std::thread::available_parallelism().map_or(0, usize::from),
        options.client_threads,
        options.server_threads
    );
    if options.part != Part::Sandbox {
        clients.block_on(client_overhead(&fixed, &options));
    }
    if let Some(sandbox) = &sandbox {
        let stripe = (
            sandbox.stripe_api_base(),
            sandbox.stripe_secret_key().to_owned(),
        );
        let creem = (sandbox.creem_api_base(), sandbox.creem_api_key().to_owned());
        let (stripe_answer, creem_answer) =
            clients.block_on(capture_sandbox_answers(&stripe, &creem))?;
        // The ceiling answers with the sandbox's own bytes, so both decode the same JSON.
        let ceiling = servers.block_on(start_fixed_server(stripe_answer, creem_answer))?;
        clients.block_on(sandbox_throughput(
            sandbox, &ceiling, stripe, creem, &options,
        ));
    }
    if let Some(sandbox) = sandbox {
        servers.block_on(sandbox.shutdown());
    }
    Ok(())
}
