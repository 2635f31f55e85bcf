//! Load driver for the sandbox (issue 12, proof 6): N concurrent clients for D seconds against
//! an in-process `payswitch-sandbox` on 127.0.0.1, each creating checkouts in a loop (Stripe's
//! form API and Creem's JSON API alternately, with plain reqwest and the sandbox's test keys).
//! Reports requests, errors (expected: 0), p50/p99 latency and this process's resident memory
//! (VmRSS) at the start, every 5 s and at the end, so a reader can see memory level off once
//! the sandbox's logs and object stores reach their caps.
//!
//! Loopback only; bounded by `--seconds` and by `--max-requests`.
//!
//! ```text
//! cargo run --release --example sandbox_load                          # 500 clients, 60 s
//! cargo run --release --example sandbox_load -- --clients 50 --seconds 10
//! ```
//!
//! Each client holds one connection (and the sandbox its other end): 500 clients need about
//! 1 100 file descriptors; raise `ulimit -n` first if the soft limit is lower.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use payswitch_sandbox::{ProductSeed, Sandbox};

const USAGE: &str = "\
sandbox_load: concurrent create-checkout load against an in-process sandbox on 127.0.0.1

OPTIONS:
    --clients N        concurrent clients (default 500)
    --seconds S        duration (default 60)
    --max-requests M   stop after M requests in total (default 3000000)
    -h, --help         print this help
";

/// How often resident memory is sampled while the load runs.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Longest a single request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The Creem product every Creem checkout is for.
const CREEM_PRODUCT: &str = "prod_load";

/// The body stripe-python sends for a one-item payment session.
const STRIPE_FORM: &str = "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok\
    &cancel_url=https%3A%2F%2Fshop.test%2Fcancel\
    &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2000\
    &line_items[0][price_data][product_data][name]=Load+test&line_items[0][quantity]=1\
    &metadata[order_id]=load";

struct Options {
    clients: usize,
    seconds: u64,
    max_requests: u64,
}

fn parse_options() -> Result<Option<Options>, String> {
    let mut options = Options {
        clients: 500,
        seconds: 60,
        max_requests: 3_000_000,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = arguments
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} takes a whole number, not {value}"))
        };
        match flag.as_str() {
            "--clients" => options.clients = usize::try_from(number()?.max(1)).unwrap_or(1),
            "--seconds" => options.seconds = number()?.max(1),
            "--max-requests" => options.max_requests = number()?,
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(Some(options))
}

/// Latencies in microseconds, in log-linear buckets (under 2 % error) shared by every client:
/// a fixed amount of memory however many requests run, so it does not blur the RSS figures.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Histogram {
    /// 128 exact buckets, then 64 per power of two up to 2^64 µs.
    const LEN: usize = 128 + 64 * 58;

    fn new() -> Self {
        Self {
            buckets: (0..Self::LEN).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(micros: u64) -> usize {
        if micros < 128 {
            return usize::try_from(micros).unwrap_or(0);
        }
        let bits = 64 - micros.leading_zeros();
        let shift = bits - 7;
        let top = micros >> shift; // 64..=127
        let index = 128 + (u64::from(shift) - 1) * 64 + (top - 64);
        usize::try_from(index)
            .unwrap_or(Self::LEN - 1)
            .min(Self::LEN - 1)
    }

    /// The lowest value of a bucket.
    fn value(index: usize) -> u64 {
        if index < 128 {
            return index as u64;
        }
        let shift = (index - 128) / 64 + 1;
        let top = ((index - 128) % 64 + 64) as u64;
        top << shift
    }

    fn record(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if let Some(bucket) = self.buckets.get(Self::index(micros)) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The latency below which `fraction` of the recorded ones fall.
    fn percentile(&self, fraction: f64) -> Duration {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| bucket.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        // Rank of the wanted sample, 1-based; `fraction` is a fixed 0.5 or 0.99.
        let rank = ((total as f64) * fraction).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_micros(Self::value(index));
            }
        }
        Duration::ZERO
    }
}

/// What every client adds to.
struct Totals {
    started: AtomicU64,
    completed: AtomicU64,
    errors: AtomicU64,
    latencies: Histogram,
    /// The first few error descriptions, for the report.
    first_errors: std::sync::Mutex<Vec<String>>,
}

impl Totals {
    fn error(&self, description: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_errors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if first.len() < 5 {
            first.push(description);
        }
    }
}

/// Reads this process's resident set size from `/proc/self/status`, in KiB.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn format_rss() -> String {
    resident_kib().map_or_else(
        || "unavailable".to_owned(),
        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
    )
}

/// Where the clients send their requests and with which keys.
#[derive(Clone)]
struct Target {
    base_url: String,
    stripe_key: String,
    creem_key: String,
}

/// One client: its own connection, creating checkouts until the deadline, the request cap or
/// the stop flag.
async fn client_loop(
    target: Target,
    totals: Arc<Totals>,
    deadline: Instant,
    max_requests: u64,
    stop: Arc<AtomicBool>,
    first_gateway: usize,
) {
    let http = match reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            totals.error(format!("client: {error}"));
            return;
        }
    };
    let stripe_url = format!("{}/v1/checkout/sessions", target.base_url);
    let creem_url = format!("{}/v1/checkouts", target.base_url);
    let creem_body = format!("{{\"product_id\":\"{CREEM_PRODUCT}\"}}");
    let mut turn = first_gateway;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        if totals.started.fetch_add(1, Ordering::Relaxed) >= max_requests {
            stop.store(true, Ordering::Relaxed);
            break;
        }
        let request = if turn % 2 == 0 {
            http.post(&stripe_url)
                .bearer_auth(&target.stripe_key)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(STRIPE_FORM)
        } else {
            http.post(&creem_url)
                .header("x-api-key", &target.creem_key)
                .header("content-type", "application/json")
                .body(creem_body.clone())
        };
        turn += 1;
        let sent = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the whole body: the exchange is not over until it has arrived.
                match response.bytes().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!(
                        "status {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    )),
                    Err(error) => Err(format!("body: {error}")),
                }
            }
            Err(error) => Err(format!("send: {error}")),
        };
        totals.latencies.record(sent.elapsed());
        totals.completed.fetch_add(1, Ordering::Relaxed);
        if let Err(description) = outcome {
            totals.error(description);
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sandbox_load: {message}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match Sandbox::builder()
        .product(ProductSeed::one_time("Load test", 2000, "USD").with_id(CREEM_PRODUCT))
        .start()
        .await
    {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("sandbox_load: the sandbox did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let target = Target {
        base_url: sandbox.base_url().to_owned(),
        stripe_key: sandbox.stripe_secret_key().to_owned(),
        creem_key: sandbox.creem_api_key().to_owned(),
    };
    println!(
        "sandbox_load: {} clients for {} s (at most {} requests) against {}",
        options.clients, options.seconds, options.max_requests, target.base_url
    );
    println!("rss at start: {}", format_rss());

    let totals = Arc::new(Totals {
        started: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        latencies: Histogram::new(),
        first_errors: std::sync::Mutex::new(Vec::new()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let deadline = began + Duration::from_secs(options.seconds);
    let clients: Vec<_> = (0..options.clients)
        .map(|index| {
            tokio::spawn(client_loop(
                target.clone(),
                Arc::clone(&totals),
                deadline,
                options.max_requests,
                Arc::clone(&stop),
                index,
            ))
        })
        .collect();

    // Sample memory every 5 s until every client has finished.
    let sampler_totals = Arc::clone(&totals);
    let sampler = tokio::spawn(async move {
        let mut next = began + SAMPLE_EVERY;
        loop {
            tokio::time::sleep_until(next.into()).await;
            println!(
                "t={:>3} s  requests={:>9}  errors={}  rss={}",
                began.elapsed().as_secs(),
                sampler_totals.completed.load(Ordering::Relaxed),
                sampler_totals.errors.load(Ordering::Relaxed),
                format_rss()
            );
            next += SAMPLE_EVERY;
        }
    });
    for client in clients {
        if client.await.is_err() {
            totals.error("a client task panicked".to_owned());
        }
    }
    sampler.abort();
    let elapsed = began.elapsed();

    let counts = sandbox.counts();
    let logged = sandbox.requests().len();
    sandbox.shutdown().await;

    let completed = totals.completed.load(Ordering::Relaxed);
    let errors = totals.errors.load(Ordering::Relaxed);
    println!("rss at end: {}", format_rss());
    println!(
        "clients={} seconds={:.1} requests={} errors={} rate={:.0}/s p50={:?} p99={:?}",
        options.clients,
        elapsed.as_secs_f64(),
        completed,
        errors,
        completed as f64 / elapsed.as_secs_f64().max(0.001),
        totals.latencies.percentile(0.50),
        totals.latencies.percentile(0.99),
    );
    println!(
        "sandbox created {} Stripe sessions and {} Creem checkouts; its request log holds {logged}",
        counts.stripe_checkout_sessions, counts.creem_checkouts
    );
    for description in totals
        .first_errors
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
    {
        println!("error: {description}");
    }
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_round_trip_within_two_percent() {
        for micros in [0u64, 1, 127, 128, 129, 1000, 12_345, 999_999, 60_000_000] {
            let low = Histogram::value(Histogram::index(micros));
            assert!(low <= micros, "{micros}: {low}");
            assert!(micros - low <= micros / 50 + 1, "{micros}: {low}");
        }
    }
}
