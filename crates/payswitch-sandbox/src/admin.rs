//! Admin operations shared by the `/__sandbox/` HTTP API and the
//! [`SandboxHandle`](crate::SandboxHandle) methods: pay, decline, expire,
//! clock, products, prices, webhook endpoints, faults, logs and reset.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::App;
use crate::error::SandboxError;
use crate::faults::Fault;
use crate::lifecycle::{advance_clock, expire_due, flush};
use crate::respond;
use crate::seed::{PriceSeed, ProductSeed};
use crate::state::{Gateway, State};
use crate::{creem, stripe_prices, stripe_sessions};

/// Email used when a payment is made without one.
const DEFAULT_EMAIL: &str = "customer@example.com";

/// Card used when a payment is made without one.
pub(crate) const SUCCESS_CARD: &str = "4242424242424242";

/// Card that is always declined.
pub(crate) const DECLINED_CARD: &str = "4000000000000002";

/// Decides what a test card does: `Ok` pays, `Err((code, message))` declines.
pub(crate) fn card_outcome(card: &str) -> Result<(), (&'static str, &'static str)> {
    let digits: String = card.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    match digits.as_str() {
        "4242424242424242" | "5555555555554444" | "4000056655665556" => Ok(()),
        "4000000000000002" => Err(("generic_decline", "Your card was declined.")),
        "4000000000009995" => Err(("insufficient_funds", "Your card has insufficient funds.")),
        "4000000000000069" => Err(("expired_card", "Your card has expired.")),
        "4000000000000127" => Err(("incorrect_cvc", "Your card's security code is incorrect.")),
        _ => Err(("incorrect_number", "Your card number is incorrect.")),
    }
}

/// Pays a Stripe session (`cs_...`) or Creem checkout (`ch_...`).
pub(crate) fn pay(
    app: &Arc<App>,
    id: &str,
    card: Option<&str>,
    email: Option<&str>,
) -> Result<String, SandboxError> {
    let result = {
        let mut state = app.lock();
        expire_due(app, &mut state);
        pay_locked(app, &mut state, id, card, email)
    };
    flush(app);
    result
}

/// Checks the session can be paid, then applies the card.
fn pay_locked(
    app: &App,
    state: &mut State,
    id: &str,
    card: Option<&str>,
    email: Option<&str>,
) -> Result<String, SandboxError> {
    let not_payable = |reason: String| SandboxError::NotPayable {
        id: id.to_owned(),
        reason,
    };
    let is_stripe = state.sessions.contains_key(id);
    if !is_stripe && !state.checkouts.contains_key(id) {
        return Err(SandboxError::NotFound(id.to_owned()));
    }
    check_payable(state, id).map_err(not_payable)?;
    if let Err((code, message)) = card_outcome(card.unwrap_or(SUCCESS_CARD)) {
        return Err(SandboxError::Declined {
            code: code.to_owned(),
            message: message.to_owned(),
        });
    }
    let email = email.unwrap_or(DEFAULT_EMAIL);
    let outcome = if is_stripe {
        stripe_sessions::complete(app, state, id, email)
    } else {
        creem::complete(app, state, id, email)
    };
    outcome.map_err(not_payable)
}

/// Returns why a session cannot be paid, if it cannot.
pub(crate) fn check_payable(state: &State, id: &str) -> Result<(), String> {
    use crate::state::CheckoutStatus;
    let now = state.now();
    let status = if let Some(session) = state.sessions.get(id) {
        (session.status, session.expires_at)
    } else if let Some(checkout) = state.checkouts.get(id) {
        (checkout.status, checkout.expires_at)
    } else {
        return Err("not found".to_owned());
    };
    match status {
        (CheckoutStatus::Open, expires_at) if expires_at > now => Ok(()),
        (CheckoutStatus::Complete, _) => Err("it is already paid".to_owned()),
        _ => Err("it has expired".to_owned()),
    }
}

/// Attempts a payment with the declined card.
pub(crate) fn decline(app: &Arc<App>, id: &str) -> Result<(), SandboxError> {
    match pay(app, id, Some(DECLINED_CARD), None) {
        Err(SandboxError::Declined { .. }) => Ok(()),
        Err(other) => Err(other),
        Ok(_) => Ok(()),
    }
}

/// Expires a Stripe session or Creem checkout now.
pub(crate) fn expire(app: &Arc<App>, id: &str) -> Result<(), SandboxError> {
    let result = {
        let mut state = app.lock();
        if state.sessions.contains_key(id) {
            match check_payable(&state, id) {
                Ok(()) => {
                    stripe_sessions::mark_expired(app, &mut state, id, None, &[]);
                    Ok(())
                }
                Err(reason) => Err(SandboxError::NotPayable {
                    id: id.to_owned(),
                    reason,
                }),
            }
        } else if state.checkouts.contains_key(id) {
            creem::expire(&mut state, id).map_err(|reason| SandboxError::NotPayable {
                id: id.to_owned(),
                reason,
            })
        } else {
            Err(SandboxError::NotFound(id.to_owned()))
        }
    };
    flush(app);
    result
}

/// Validates a product seed with Creem's product rules and stores it.
fn insert_product(state: &mut State, seed: &ProductSeed) -> Result<String, SandboxError> {
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!(seed.name));
    body.insert(
        "description".into(),
        json!(seed
            .description
            .clone()
            .unwrap_or_else(|| seed.name.clone())),
    );
    body.insert("price".into(), json!(seed.price));
    body.insert("currency".into(), json!(seed.currency));
    body.insert("billing_type".into(), json!(seed.billing_type));
    if let Some(period) = &seed.billing_period {
        body.insert("billing_period".into(), json!(period));
    }
    if let Some(url) = &seed.default_success_url {
        body.insert("default_success_url".into(), json!(url));
    }
    let mut product = creem::parse_product(&body, state.now())
        .map_err(|failure| SandboxError::InvalidProduct(failure.messages().join("; ")))?;
    if let Some(id) = &seed.id {
        product.id = id.clone();
    }
    let id = product.id.clone();
    state.counts.creem_products += 1;
    state.products.insert(id.clone(), product);
    Ok(id)
}

/// Adds a product to the catalog.
pub(crate) fn add_product(app: &Arc<App>, seed: &ProductSeed) -> Result<String, SandboxError> {
    let mut state = app.lock();
    insert_product(&mut state, seed)
}

/// Adds a Stripe price (and its product) to the catalog.
pub(crate) fn add_price(app: &Arc<App>, seed: &PriceSeed) -> Result<String, SandboxError> {
    let mut state = app.lock();
    stripe_prices::insert_seed(&mut state, seed)
}

/// Seeds the configured products, prices and endpoints into a fresh state.
pub(crate) fn seed(app: &Arc<App>) -> Result<(), SandboxError> {
    let mut state = app.lock();
    state.endpoints = app.config.endpoints.clone();
    for seed in &app.config.products {
        insert_product(&mut state, seed)?;
    }
    for seed in &app.config.prices {
        stripe_prices::insert_seed(&mut state, seed)?;
    }
    Ok(())
}

/// Checks a webhook endpoint URL is absolute http(s).
pub(crate) fn check_endpoint_url(url: &str) -> Result<(), SandboxError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(SandboxError::InvalidUrl(url.to_owned())),
    }
}

/// Registers a webhook endpoint.
pub(crate) fn add_endpoint(
    app: &Arc<App>,
    gateway: Gateway,
    url: &str,
) -> Result<(), SandboxError> {
    check_endpoint_url(url)?;
    app.lock().endpoints.push((gateway, url.to_owned()));
    Ok(())
}

/// Clears everything but the endpoints, then re-seeds the products and prices.
pub(crate) fn reset(app: &Arc<App>) {
    {
        let mut state = app.lock();
        let endpoints = std::mem::take(&mut state.endpoints);
        *state = State::default();
        state.endpoints = endpoints;
        for seed in &app.config.products {
            // Seeds were validated at start, so this cannot fail now.
            let _ = insert_product(&mut state, seed);
        }
        for seed in &app.config.prices {
            let _ = stripe_prices::insert_seed(&mut state, seed);
        }
    }
}

#[derive(Deserialize)]
struct PayBody {
    #[serde(default)]
    card: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: u64,
}

#[derive(Deserialize)]
struct EndpointBody {
    gateway: Gateway,
    url: String,
}

fn ok(value: Value) -> Response {
    respond::json(StatusCode::OK, value.to_string())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    respond::json(
        status,
        json!({ "error": { "code": code, "message": message } }).to_string(),
    )
}

fn error_for(failure: &SandboxError) -> Response {
    let (status, code) = match failure {
        SandboxError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        SandboxError::NotPayable { .. } => (StatusCode::CONFLICT, "not_payable"),
        SandboxError::Declined { .. } => (StatusCode::PAYMENT_REQUIRED, "card_declined"),
        SandboxError::InvalidProduct(_)
        | SandboxError::InvalidPrice(_)
        | SandboxError::InvalidUrl(_)
        | SandboxError::Config(_)
        | SandboxError::Bind(_) => (StatusCode::BAD_REQUEST, "invalid"),
    };
    let mut body = json!({ "error": { "code": code, "message": failure.to_string() } });
    if let (SandboxError::Declined { code, .. }, Some(error)) = (failure, body.get_mut("error")) {
        if let Some(error) = error.as_object_mut() {
            error.insert("decline_code".into(), json!(code));
        }
    }
    respond::json(status, body.to_string())
}

/// Parses an admin JSON body; `Err` holds the message of a 400 answer.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], empty_ok: bool) -> Result<Option<T>, String> {
    if empty_ok && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|failure| failure.to_string())
}

/// Handles `/__sandbox/...`.
pub(crate) fn handle(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    _query: &str,
    body: &[u8],
) -> Response {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = (|| -> Result<Response, String> {
        Ok(match (method, segments.as_slice()) {
            (&Method::GET, ["__sandbox"]) => ok(info(app)),
            (&Method::POST, ["__sandbox", "checkouts", id, "pay"]) => {
                let body: Option<PayBody> = parse(body, true)?;
                let (card, email) = body.map_or((None, None), |body| (body.card, body.email));
                match pay(app, id, card.as_deref(), email.as_deref()) {
                    Ok(url) => ok(json!({ "redirect_url": url })),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::POST, ["__sandbox", "checkouts", id, "decline"]) => match decline(app, id) {
                Ok(()) => ok(json!({ "declined": true })),
                Err(failure) => error_for(&failure),
            },
            (&Method::POST, ["__sandbox", "checkouts", id, "expire"]) => match expire(app, id) {
                Ok(()) => ok(json!({ "expired": true })),
                Err(failure) => error_for(&failure),
            },
            (&Method::GET, ["__sandbox", "clock"]) => {
                let state = app.lock();
                ok(json!({ "now": state.now(), "offset_seconds": state.clock_offset }))
            }
            (&Method::POST, ["__sandbox", "clock", "advance"]) => {
                let body: Option<AdvanceBody> = parse(body, false)?;
                if let Some(body) = body {
                    advance_clock(app, Duration::from_secs(body.seconds));
                }
                let state = app.lock();
                ok(json!({ "now": state.now(), "offset_seconds": state.clock_offset }))
            }
            (&Method::POST, ["__sandbox", "products"]) => {
                let Some(seed) = parse::<ProductSeed>(body, false)? else {
                    return Err("empty body".to_owned());
                };
                match add_product(app, &seed) {
                    Ok(id) => ok(json!({ "id": id })),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::POST, ["__sandbox", "prices"]) => {
                let Some(seed) = parse::<PriceSeed>(body, false)? else {
                    return Err("empty body".to_owned());
                };
                match add_price(app, &seed) {
                    Ok(id) => ok(json!({ "id": id })),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::GET, ["__sandbox", "webhooks"]) => {
                let endpoints: Vec<Value> = app
                    .lock()
                    .endpoints
                    .iter()
                    .map(|(gateway, url)| json!({ "gateway": gateway, "url": url }))
                    .collect();
                ok(json!(endpoints))
            }
            (&Method::POST, ["__sandbox", "webhooks"]) => {
                let Some(endpoint) = parse::<EndpointBody>(body, false)? else {
                    return Err("empty body".to_owned());
                };
                match add_endpoint(app, endpoint.gateway, &endpoint.url) {
                    Ok(()) => ok(json!({ "gateway": endpoint.gateway, "url": endpoint.url })),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::GET, ["__sandbox", "faults"]) => ok(json!(app.lock().faults)),
            (&Method::POST, ["__sandbox", "faults"]) => {
                let Some(fault) = parse::<Fault>(body, false)? else {
                    return Err("empty body".to_owned());
                };
                app.lock().faults.push(fault.clone());
                ok(json!(fault))
            }
            (&Method::DELETE, ["__sandbox", "faults"]) => {
                app.lock().faults.clear();
                ok(json!({ "cleared": true }))
            }
            (&Method::GET, ["__sandbox", "deliveries"]) => ok(json!(app.lock().deliveries)),
            (&Method::GET, ["__sandbox", "requests"]) => ok(json!(app.lock().requests)),
            (&Method::GET, ["__sandbox", "counts"]) => ok(json!(app.lock().counts)),
            (&Method::POST, ["__sandbox", "reset"]) => {
                reset(app);
                ok(json!({ "reset": true }))
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no admin route {method} {path}"),
            ),
        })
    })();
    result.unwrap_or_else(|message| error(StatusCode::BAD_REQUEST, "invalid_json", &message))
}

/// Describes the running sandbox: URLs, keys and secrets (all test values).
pub(crate) fn info(app: &App) -> Value {
    json!({
        "base_url": app.base_url,
        "stripe": {
            "api_base": app.base_url,
            "secret_key": app.config.stripe_secret_key,
            "publishable_key": app.config.stripe_publishable_key,
            "webhook_secret": app.config.stripe_webhook_secret,
            "api_version": app.config.stripe_api_version,
        },
        "creem": {
            "api_base": app.base_url,
            "api_key": app.config.creem_api_key,
            "webhook_secret": app.config.creem_webhook_secret,
        },
    })
}
