//! The `/__sandbox/` HTTP API: a route table over the operations the
//! [`SandboxHandle`](crate::SandboxHandle) methods also use (pay, decline, expire, clock,
//! products, prices, webhook endpoints, delivery modes, event replay, faults, logs and reset).

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::App;
use crate::catalog::{add_price, add_product, reset};
use crate::customer::{decline, expire, pay};
use crate::error::SandboxError;
use crate::faults::Fault;
use crate::lifecycle::{advance_clock, retained};
use crate::respond;
use crate::seed::{PriceSeed, ProductSeed};
use crate::state::Gateway;
use crate::webhooks::dispatch::{replay, waiting};
use crate::webhooks::endpoints::{add_endpoint, check_endpoint_url};
use crate::webhooks::modes::DeliveryModes;

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

/// `POST /__sandbox/delivery`: modes for every endpoint, or for `url` only. `modes` is the
/// JSON object form or the text form (`"duplicate,reorder=shuffle,seed=7"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModesBody {
    #[serde(default)]
    url: Option<String>,
    modes: Value,
}

/// `POST /__sandbox/events/{id}/replay`: to one endpoint only, or to all of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    #[serde(default)]
    url: Option<String>,
}

/// Reads delivery modes in either form; `Err` holds the message of a 400 answer.
fn read_modes(modes: Value) -> Result<DeliveryModes, SandboxError> {
    let modes = match modes {
        Value::String(text) => text.parse()?,
        other => serde_json::from_value::<DeliveryModes>(other)
            .map_err(|failure| SandboxError::InvalidDeliveryMode(failure.to_string()))?,
    };
    modes.check()?;
    Ok(modes)
}

/// Applies `POST /__sandbox/delivery`.
fn set_modes(app: &App, body: ModesBody) -> Result<(), SandboxError> {
    let modes = read_modes(body.modes)?;
    let mut state = app.lock();
    match body.url {
        Some(url) => {
            check_endpoint_url(&url)?;
            state.delivery_modes.set_endpoint(&url, modes)
        }
        None => {
            state.delivery_modes.set_global(modes);
            Ok(())
        }
    }
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
        SandboxError::NotFound(_) | SandboxError::EventNotFound(_) => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        SandboxError::NotPayable { .. } => (StatusCode::CONFLICT, "not_payable"),
        SandboxError::Declined { .. } => (StatusCode::PAYMENT_REQUIRED, "card_declined"),
        SandboxError::InvalidProduct(_)
        | SandboxError::InvalidPrice(_)
        | SandboxError::InvalidUrl(_)
        | SandboxError::InvalidFault(_)
        | SandboxError::InvalidDeliveryMode(_)
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

/// Handles `/__sandbox/...`; `with_secrets` when the caller presented the configured admin
/// token, the only case `GET /__sandbox` shows keys and secrets.
pub(crate) fn handle(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    with_secrets: bool,
    body: &[u8],
) -> Response {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = (|| -> Result<Response, String> {
        Ok(match (method, segments.as_slice()) {
            (&Method::GET, ["__sandbox"]) => ok(info(app, with_secrets)),
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
                if let Err(failure) = fault.check() {
                    return Ok(error_for(&failure));
                }
                app.lock().faults.push(fault.clone());
                ok(json!(fault))
            }
            (&Method::DELETE, ["__sandbox", "faults"]) => {
                app.lock().faults.clear();
                ok(json!({ "cleared": true }))
            }
            (&Method::GET, ["__sandbox", "deliveries"]) => ok(json!(app.lock().deliveries)),
            (&Method::GET, ["__sandbox", "deliveries", "waiting"]) => {
                ok(json!(waiting(&app.lock())))
            }
            (&Method::GET, ["__sandbox", "delivery"]) => {
                ok(json!(app.lock().delivery_modes.view()))
            }
            (&Method::POST, ["__sandbox", "delivery"]) => {
                let Some(body) = parse::<ModesBody>(body, false)? else {
                    return Err("empty body".to_owned());
                };
                match set_modes(app, body) {
                    Ok(()) => ok(json!(app.lock().delivery_modes.view())),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::DELETE, ["__sandbox", "delivery"]) => {
                app.lock().delivery_modes.clear();
                ok(json!(app.lock().delivery_modes.view()))
            }
            (&Method::GET, ["__sandbox", "events"]) => {
                let events: Vec<Value> = app
                    .lock()
                    .sent_events
                    .oldest_first()
                    .map(|event| {
                        json!({
                            "id": event.event_id,
                            "gateway": event.gateway,
                            "type": event.event_type,
                        })
                    })
                    .collect();
                ok(json!(events))
            }
            (&Method::POST, ["__sandbox", "events", id, "replay"]) => {
                let body: Option<ReplayBody> = parse(body, true)?;
                let url = body.and_then(|body| body.url);
                match replay(app, id, url.as_deref()) {
                    Ok(urls) => ok(json!({ "event_id": id, "endpoints": urls })),
                    Err(failure) => error_for(&failure),
                }
            }
            (&Method::GET, ["__sandbox", "requests"]) => ok(json!(app.lock().requests)),
            (&Method::GET, ["__sandbox", "counts"]) => ok(json!(app.lock().counts)),
            (&Method::GET, ["__sandbox", "retained"]) => ok(json!(retained(&app.lock()))),
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

/// Describes the running sandbox: URLs, and the keys and secrets only with `with_secrets` (a
/// page that reached the admin API must not learn a key a developer pointed here).
pub(crate) fn info(app: &App, with_secrets: bool) -> Value {
    if !with_secrets {
        return json!({
            "base_url": app.base_url,
            "stripe": {
                "api_base": app.base_url,
                "api_version": app.config.stripe_api_version,
            },
            "creem": { "api_base": app.base_url },
            "secrets": "shown only with the admin token (SandboxBuilder::admin_token, \
                        --admin-token, header x-sandbox-admin-token)",
        });
    }
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
