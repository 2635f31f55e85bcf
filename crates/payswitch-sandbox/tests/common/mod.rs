//! Helpers shared by the sandbox's HTTP tests: a client that never uses a
//! proxy, gateway request helpers and independent signature checks.

#![allow(dead_code)]

pub mod billing;

use hmac::{Hmac, Mac};
use payswitch_sandbox::{ProductSeed, Sandbox, SandboxHandle, WebhookInbox};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A reqwest client for 127.0.0.1 that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Starts a sandbox with a one-time and a recurring Creem product.
pub async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .product(
            ProductSeed::recurring("Team plan", 9900, "EUR", "every-month").with_id("prod_monthly"),
        )
        .start()
        .await
        .expect("sandbox starts")
}

/// Starts a sandbox whose webhooks of both gateways go to `inbox`.
pub async fn sandbox_with_inbox(inbox: &WebhookInbox) -> SandboxHandle {
    Sandbox::builder()
        .stripe_webhook_endpoint(inbox.url())
        .creem_webhook_endpoint(inbox.url())
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .product(
            ProductSeed::recurring("Team plan", 9900, "EUR", "every-month").with_id("prod_monthly"),
        )
        .start()
        .await
        .expect("sandbox starts")
}

/// Response status, headers and JSON body.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Reads a response into a [`Reply`]: a body that is not JSON becomes a JSON string.
pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        json,
    }
}

/// POSTs a raw form body to a Stripe path with the sandbox key.
pub async fn stripe_post(sandbox: &SandboxHandle, path: &str, body: &str) -> Reply {
    stripe_post_with(sandbox, path, body, None).await
}

/// POSTs a raw form body with an optional `Idempotency-Key`.
pub async fn stripe_post_with(
    sandbox: &SandboxHandle,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
) -> Reply {
    let mut request = client()
        .post(format!("{}{path}", sandbox.stripe_api_base()))
        .bearer_auth(sandbox.stripe_secret_key())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    reply(request.send().await.expect("request")).await
}

/// GETs a Stripe path (with query) using the sandbox key.
pub async fn stripe_get(sandbox: &SandboxHandle, path_and_query: &str) -> Reply {
    let response = client()
        .get(format!("{}{path_and_query}", sandbox.stripe_api_base()))
        .bearer_auth(sandbox.stripe_secret_key())
        .send()
        .await
        .expect("request");
    reply(response).await
}

/// The body stripe-python sends for a one-item payment session.
pub fn session_form(success_url: &str) -> String {
    format!(
        "mode=payment&success_url={}&cancel_url=https%3A%2F%2Fshop.test%2Fcancel\
         &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2000\
         &line_items[0][price_data][product_data][name]=T-shirt+%26+cap&line_items[0][quantity]=2\
         &metadata[order_id]=ord+42&client_reference_id=user_7",
        urlencode(success_url)
    )
}

/// Creates a payment session and returns its JSON.
pub async fn create_session(sandbox: &SandboxHandle) -> Value {
    let reply = stripe_post(
        sandbox,
        "/v1/checkout/sessions",
        &session_form("https://shop.test/success?session_id={CHECKOUT_SESSION_ID}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

/// Percent-encodes everything but unreserved characters.
pub fn urlencode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// POSTs JSON to a Creem path with the sandbox key.
pub async fn creem_post(sandbox: &SandboxHandle, path: &str, body: &Value) -> Reply {
    let response = client()
        .post(format!("{}{path}", sandbox.creem_api_base()))
        .header("x-api-key", sandbox.creem_api_key())
        .json(body)
        .send()
        .await
        .expect("request");
    reply(response).await
}

/// GETs a Creem path with the sandbox key.
pub async fn creem_get(sandbox: &SandboxHandle, path_and_query: &str) -> Reply {
    let response = client()
        .get(format!("{}{path_and_query}", sandbox.creem_api_base()))
        .header("x-api-key", sandbox.creem_api_key())
        .send()
        .await
        .expect("request");
    reply(response).await
}

/// Lowercase hex HMAC-SHA256, computed here independently of the sandbox.
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a `Stripe-Signature` header against the raw body.
pub fn stripe_signature_valid(header: &str, body: &[u8], secret: &str) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value.to_owned()),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = hmac_hex(secret, &signed);
    signatures.contains(&expected)
}

/// Creem's own redirect parameters, in the order Creem's TypeScript sample and Go SDK sign.
pub const CREEM_SIGNED_PARAMETERS: [&str; 6] = [
    "request_id",
    "checkout_id",
    "order_id",
    "customer_id",
    "subscription_id",
    "product_id",
];

/// Recomputes Creem's redirect signature from a full URL in the documented default form:
/// Creem's six parameters in fixed order, `key=value` joined with `|`, `|salt=<API key>`.
pub fn creem_redirect_signature(url: &str, api_key: &str) -> (String, Option<String>) {
    let parsed = url::Url::parse(url).expect("redirect url");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let given = pairs
        .iter()
        .find(|(key, _)| key == "signature")
        .map(|(_, value)| value.clone());
    let mut parts = Vec::new();
    for name in CREEM_SIGNED_PARAMETERS {
        if let Some((_, value)) = pairs.iter().find(|(key, _)| key == name) {
            if !value.is_empty() {
                parts.push(format!("{name}={value}"));
            }
        }
    }
    parts.push(format!("salt={api_key}"));
    (
        hex::encode(Sha256::digest(parts.join("|").as_bytes())),
        given,
    )
}

/// Recomputes the all-parameters form (Creem's Python sample): every non-empty pair before
/// `signature`, in URL order.
pub fn creem_redirect_signature_all(url: &str, api_key: &str) -> (String, Option<String>) {
    let parsed = url::Url::parse(url).expect("redirect url");
    let mut parts = Vec::new();
    let mut given = None;
    for (key, value) in parsed.query_pairs() {
        if key == "signature" {
            given = Some(value.into_owned());
            break;
        }
        if !value.is_empty() {
            parts.push(format!("{key}={value}"));
        }
    }
    parts.push(format!("salt={api_key}"));
    (
        hex::encode(Sha256::digest(parts.join("|").as_bytes())),
        given,
    )
}

/// Returns the value of one query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
