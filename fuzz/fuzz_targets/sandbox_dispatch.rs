//! Arbitrary requests into the sandbox's request handling, in process
//! (`payswitch_sandbox::fuzzing::FuzzSandbox::request`, the server's dispatch without a
//! socket), on a current-thread Tokio runtime whose clock is paused so `delay` faults pass at
//! once.
//!
//! Input: up to 8 requests separated by a `\n~~~\n` line, each written like HTTP/1.1: a
//! `METHOD target` line (anything after a second space is ignored), `name: value` header
//! lines, an empty line, then the body. `{id}` anywhere in a request becomes the `id` of the
//! last JSON answer, so a sequence can create a session, read it and pay it. Without a `host`
//! header the target sends `host: 127.0.0.1`. The state is started once per process, with a
//! fixed Creem product `prod_fuzz` and Stripe price `price_fuzz`, and reset before each input
//! so that an input's outcome does not depend on the ones before it.
//!
//! Oracles: no panic; every answer's status is in 100..600; and for a request on a gateway
//! path (neither `/__sandbox…`, `/` nor `/pay/…`) to the loopback host this target added, in
//! origin form:
//! - the body is JSON;
//! - a 4xx/5xx on `/v1/checkout/…` has Stripe's shape `{"error":{"type":…,"message":…}}`;
//! - a 4xx/5xx on `/v1/checkouts` or `/v1/checkouts/…` has Creem's shape `{"trace_id",
//!   "status" (the HTTP status), "error", "message": [..], "timestamp"}`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payswitch_fuzz::header_map;
use payswitch_sandbox::fuzzing::FuzzSandbox;
use payswitch_sandbox::{PriceSeed, ProductSeed};
use serde_json::Value;

const SEPARATOR: &[u8] = b"\n~~~\n";
const MAX_REQUESTS: usize = 8;

struct Harness {
    runtime: tokio::runtime::Runtime,
    sandbox: FuzzSandbox,
}

thread_local! {
    static HARNESS: Harness = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a Tokio runtime");
        let sandbox = {
            let _entered = runtime.enter();
            FuzzSandbox::start(
                vec![ProductSeed::one_time("Fuzz product", 2500, "USD").with_id("prod_fuzz")],
                vec![PriceSeed::one_time("Fuzz price", 2500, "usd").with_id("price_fuzz")],
            )
            .expect("the fixed seeds are valid")
        };
        Harness { runtime, sandbox }
    };
}

/// One request cut out of the input, and whether the JSON oracles apply to it.
struct Parsed {
    request: http::Request<Vec<u8>>,
    method: http::Method,
    uri: http::Uri,
    checked: bool,
}

/// Splits `data` at every occurrence of `separator`.
fn split<'a>(data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(separator.len())
        .position(|window| window == separator)
    {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

/// Reads one HTTP/1.1-like request; `None` when its first line is not `METHOD target`.
fn parse(text: &[u8]) -> Option<Parsed> {
    let (head, body) = match text.windows(2).position(|window| window == b"\n\n") {
        Some(at) => (&text[..at], &text[at + 2..]),
        None => (text, &text[text.len()..]),
    };
    let mut lines = head
        .split(|byte| *byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let first = lines.next()?;
    let mut words = first.splitn(3, |byte| *byte == b' ');
    let method = http::Method::from_bytes(words.next()?).ok()?;
    let uri = http::Uri::try_from(words.next()?).ok()?;
    let pairs: Vec<(String, Vec<u8>)> = lines
        .filter_map(|line| {
            let at = line.iter().position(|byte| *byte == b':')?;
            let name = String::from_utf8_lossy(&line[..at]).trim().to_owned();
            let value = line[at + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    let mut headers = header_map(&pairs);
    let added_host = !headers.contains_key(http::header::HOST);
    if added_host {
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("127.0.0.1"),
        );
    }
    let checked = added_host && uri.authority().is_none();
    let mut request = http::Request::new(body.to_vec());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers;
    Some(Parsed {
        request,
        method,
        uri,
        checked,
    })
}

/// Whether the sandbox documents `path` as a gateway API path rather than admin or page.
fn gateway_path(path: &str) -> bool {
    let admin = path == "/__sandbox" || path.starts_with("/__sandbox/");
    let page = path == "/" || path.starts_with("/pay/");
    !admin && !page
}

fn check_stripe_error(json: &Value, context: &str) {
    let error = json.get("error").and_then(Value::as_object);
    let shaped = error.is_some_and(|error| {
        error.get("type").is_some_and(Value::is_string)
            && error.get("message").is_some_and(Value::is_string)
    });
    assert!(shaped, "{context}: not Stripe's error shape: {json}");
}

fn check_creem_error(json: &Value, status: u16, context: &str) {
    let shaped = json.get("trace_id").is_some_and(Value::is_string)
        && json.get("status").and_then(Value::as_u64) == Some(u64::from(status))
        && json.get("error").is_some_and(Value::is_string)
        && json
            .get("message")
            .and_then(Value::as_array)
            .is_some_and(|messages| messages.iter().all(Value::is_string))
        && json.get("timestamp").is_some_and(Value::is_number);
    assert!(shaped, "{context}: not Creem's error shape: {json}");
}

/// Checks one answer; returns the `id` of a JSON answer, for `{id}` in the next request.
fn check(
    method: &http::Method,
    uri: &http::Uri,
    checked: bool,
    response: &http::Response<Vec<u8>>,
) -> Option<String> {
    let status = response.status().as_u16();
    let path = uri.path();
    let context = format!("{method} {uri} answered {status}");
    assert!(
        (100..600).contains(&status),
        "{context}: a status outside 100..600"
    );
    let json = serde_json::from_slice::<Value>(response.body()).ok();
    if checked && gateway_path(path) {
        let Some(json) = &json else {
            panic!(
                "{context}: the body is not JSON: {:?}",
                String::from_utf8_lossy(response.body())
            );
        };
        if status >= 400 {
            if path.starts_with("/v1/checkout/") {
                check_stripe_error(json, &context);
            }
            if path == "/v1/checkouts" || path.starts_with("/v1/checkouts/") {
                check_creem_error(json, status, &context);
            }
        }
    }
    json?.get("id")?.as_str().map(str::to_owned)
}

/// Replaces every `{id}` in `text` with `id`.
fn substitute(text: &[u8], id: &str) -> Vec<u8> {
    split(text, b"{id}").join(id.as_bytes())
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with(|harness| {
        harness.sandbox.reset();
        let mut last_id = String::new();
        for text in split(data, SEPARATOR).into_iter().take(MAX_REQUESTS) {
            let Some(parsed) = parse(&substitute(text, &last_id)) else {
                continue;
            };
            let Parsed {
                request,
                method,
                uri,
                checked,
            } = parsed;
            let answer = harness.runtime.block_on(harness.sandbox.request(request));
            // `None`: an injected fault closed the connection without an answer.
            if let Some(response) = answer {
                if let Some(id) = check(&method, &uri, checked, &response) {
                    last_id = id;
                }
            }
        }
    });
});
