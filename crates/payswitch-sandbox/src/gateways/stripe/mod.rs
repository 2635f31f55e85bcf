//! Stripe's wire protocol as the server meets it: authentication, API version, idempotent
//! replay and the route table. Each endpoint lives in the file named after its resource.

pub(crate) mod auth;
pub(crate) mod calendar;
pub(crate) mod charges;
pub(crate) mod clock;
pub(crate) mod coupons;
pub(crate) mod currencies;
pub(crate) mod customers;
pub(crate) mod dunning;
pub(crate) mod error;
pub(crate) mod event_log;
pub(crate) mod events;
pub(crate) mod form;
pub(crate) mod idempotency;
pub(crate) mod invoices;
pub(crate) mod lists;
pub(crate) mod objects;
pub(crate) mod ordered;
pub(crate) mod params;
pub(crate) mod payment_intents;
pub(crate) mod payment_methods;
pub(crate) mod payments;
pub(crate) mod portal;
pub(crate) mod prices;
pub(crate) mod proration;
pub(crate) mod records;
pub(crate) mod refunds;
pub(crate) mod search_query;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod setup_intents;
pub(crate) mod sizes;
pub(crate) mod subscriptions;
pub(crate) mod webhook_retries;

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::Map;

use crate::app::App;
use crate::gateways::request::GatewayRequest;
use crate::gateways::stripe::auth::{authenticate, Caller};
use crate::gateways::stripe::error::{failure_body, ApiError, Failure, Outcome};
use crate::gateways::stripe::form::{FormError, Params};
use crate::gateways::stripe::params::{version_at_least, CallContext};
use crate::respond::{self, insert_header};
use crate::state::{new_request_id, State};

/// Decodes form parameters, mapping decoding problems to Stripe errors.
fn decode_params(bytes: &[u8]) -> Result<Params, Failure> {
    form::decode(bytes).map_err(|error| match error {
        FormError::BadKey(key) => {
            Failure::invalid(None, Some(&key), format!("Invalid parameter name: {key}"))
        }
        FormError::Conflict(key) => Failure::invalid(
            None,
            Some(&key),
            format!("Invalid hash or array: {key} is given both as a value and as an object."),
        ),
    })
}

/// Returns whether a path belongs to Stripe's API alone. `/v1/customers…`,
/// `/v1/subscriptions…` and `/v1/refunds…` are Creem paths too, so they are left out: a
/// request there is Stripe's unless it carries Creem's `x-api-key` (see `gateways::owner`).
pub(crate) fn owns_path(path: &str) -> bool {
    path.starts_with("/v1/checkout/")
        || path.starts_with("/v1/payment_intents")
        || path.starts_with("/v1/payment_methods/")
        || path.starts_with("/v1/setup_intents/")
        || path == "/v1/prices"
        || path.starts_with("/v1/prices/")
        || path == "/v1/coupons"
        || path.starts_with("/v1/coupons/")
        || path == "/v1/promotion_codes"
        || path.starts_with("/v1/promotion_codes/")
        || path == "/v1/invoices"
        || path.starts_with("/v1/invoices/")
        || path.starts_with("/v1/charges/")
        || path.starts_with("/v1/billing_portal/")
}

/// Handles one Stripe API request. `fail_with` is an injected failure during execution (a
/// `FaultKind::FailDuringExecution`): the endpoint runs, then answers that status,
/// which is saved under the request's `Idempotency-Key` as Stripe saves its own 500s.
pub(crate) fn handle(
    app: &Arc<App>,
    request: &GatewayRequest<'_>,
    fail_with: Option<StatusCode>,
) -> Response {
    let request_id = new_request_id();
    let api_version = request
        .headers
        .get("stripe-version")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| app.config.stripe_api_version.clone());
    let idempotency_key = idempotency::request_key(request.method, request.headers);

    let replay = authenticate(app, request.headers).and_then(|caller| {
        idempotency::check_key(idempotency_key.as_deref())?;
        let params = request_params(request.method, request.query, request.body)?;
        let context = CallContext {
            request_id: &request_id,
            idempotency_key: idempotency_key.as_deref(),
            api_version: &api_version,
            publishable: matches!(caller, Caller::Publishable),
        };
        let mut state = app.lock();
        let fingerprint = format!("{} {} {params:?}", request.method, request.path);
        idempotency::replay_or_run(
            &mut state,
            idempotency_key.as_deref(),
            &fingerprint,
            &request_id,
            |state| {
                let outcome = route(app, state, request.method, request.path, &params, &context);
                fail_during_execution(outcome, fail_with)
            },
        )
    });

    let mut response = match replay {
        Ok(replay) => {
            let mut response = respond::json(replay.status, replay.body.to_string());
            if let Some(original) = replay.original_request {
                insert_header(&mut response, "idempotent-replayed", "true");
                insert_header(&mut response, "original-request", &original);
            }
            response
        }
        Err(failure) => respond::json(failure.status, failure_body(&failure).to_string()),
    };
    insert_header(&mut response, "request-id", &request_id);
    insert_header(&mut response, "stripe-version", &api_version);
    if let Some(key) = &idempotency_key {
        insert_header(&mut response, "idempotency-key", key);
    }
    response
}

/// Replaces the result of an endpoint that started executing with an injected failure; a
/// validation failure (the endpoint never started) stays as it is.
fn fail_during_execution(outcome: Outcome, fail_with: Option<StatusCode>) -> Outcome {
    let Some(status) = fail_with else {
        return outcome;
    };
    let started = match &outcome {
        Ok(_) => true,
        Err(failure) => idempotency::is_saved(failure.status),
    };
    if !started {
        return outcome;
    }
    Err(Failure {
        status,
        error: ApiError {
            kind: "api_error",
            code: None,
            param: None,
            message: format!(
                "Injected fault: the sandbox failed with {} during execution.",
                status.as_u16()
            ),
        },
        extra: Map::new(),
    })
}

/// Decodes the parameters: the body of a POST or DELETE (merged over its query string), the
/// query string otherwise.
fn request_params(method: &Method, query: &str, body: &[u8]) -> Result<Params, Failure> {
    // The SDKs send DELETE parameters in the query; curl users send them in the body.
    if *method != Method::POST && *method != Method::DELETE {
        return decode_params(query.as_bytes());
    }
    if query.is_empty() {
        return decode_params(body);
    }
    // Stripe reads POST parameters from the body only.
    let mut merged = decode_params(query.as_bytes())?;
    merged.extend(decode_params(body)?);
    Ok(merged)
}

/// Routes a call to its resource; every route but the PaymentIntent ones needs the secret key.
fn route(
    app: &App,
    state: &mut State,
    method: &Method,
    path: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "checkout", "sessions", rest @ ..] => {
            secret_only(context)?;
            route_sessions(app, state, method, rest, params, context)
        }
        ["v1", "payment_intents", rest @ ..] => {
            route_payment_intents(app, state, method, rest, params, context)
        }
        ["v1", "payment_methods", id] if *method == Method::GET => {
            secret_only(context)?;
            payment_methods::retrieve(state, id, params)
        }
        ["v1", "payment_methods", id, "attach"] if *method == Method::POST => {
            secret_only(context)?;
            payment_methods::attach(app, state, id, params, context)
        }
        ["v1", resource @ ("prices" | "coupons" | "promotion_codes"), rest @ ..] => {
            secret_only(context)?;
            route_catalog(state, method, resource, rest, params, context)
        }
        ["v1", "customers", rest @ ..] => {
            secret_only(context)?;
            route_customers(app, state, method, rest, params, context)
        }
        ["v1", "subscriptions", rest @ ..] => {
            secret_only(context)?;
            route_subscriptions(app, state, method, rest, params, context)
        }
        ["v1", resource @ ("invoices" | "refunds" | "charges"), rest @ ..] => {
            secret_only(context)?;
            route_payments(app, state, method, resource, rest, params, context)
        }
        ["v1", "setup_intents", id] if *method == Method::GET => {
            secret_only(context)?;
            setup_intents::retrieve(state, id, params)
        }
        ["v1", "events"] if *method == Method::GET => {
            secret_only(context)?;
            event_log::list(state, params)
        }
        ["v1", "events", id] if *method == Method::GET => {
            secret_only(context)?;
            event_log::retrieve(state, id, params)
        }
        ["v1", "billing_portal", "sessions"] if *method == Method::POST => {
            secret_only(context)?;
            portal::create(app, state, params, context)
        }
        _ => Err(unrecognized(method, path)),
    }
}

fn route_customers(
    app: &App,
    state: &mut State,
    method: &Method,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, rest) {
        (&Method::POST, []) => customers::create(app, state, params, context),
        (&Method::GET, []) => customers::list(state, params),
        (&Method::GET, ["search"]) => customers::search(state, params),
        (&Method::GET, [id]) => customers::retrieve(state, id, params),
        (&Method::POST, [id]) => customers::update(app, state, id, params, context),
        _ => Err(unrecognized(method, &join("customers", rest))),
    }
}

fn route_subscriptions(
    app: &App,
    state: &mut State,
    method: &Method,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, rest) {
        (&Method::GET, []) => subscriptions::read::list(state, params),
        (&Method::GET, [id]) => subscriptions::read::retrieve(state, id, params),
        (&Method::POST, [id]) => subscriptions::update::update(app, state, id, params, context),
        (&Method::DELETE, [id]) => subscriptions::cancel::cancel(app, state, id, params, context),
        (&Method::POST, [id, "resume"]) => {
            subscriptions::cancel::resume(app, state, id, params, context)
        }
        // The pause endpoint arrived with 2026-09-30.endive.
        (&Method::POST, [id, "pause"]) if version_at_least(context.api_version, "2026-09-30") => {
            subscriptions::cancel::pause(app, state, id, params, context)
        }
        _ => Err(unrecognized(method, &join("subscriptions", rest))),
    }
}

fn route_payments(
    app: &App,
    state: &mut State,
    method: &Method,
    resource: &str,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, resource, rest) {
        (&Method::GET, "invoices", []) => invoices::read::list(state, params),
        (&Method::POST, "invoices", ["create_preview"]) => {
            invoices::preview::create_preview(state, params)
        }
        (&Method::GET, "invoices", [id]) => invoices::read::retrieve(state, id, params),
        (&Method::POST, "invoices", [id, "pay"]) => {
            invoices::collect::pay(app, state, id, params, context)
        }
        (&Method::POST, "refunds", []) => refunds::create(app, state, params, context),
        (&Method::GET, "refunds", []) => refunds::list(state, params),
        (&Method::GET, "refunds", [id]) => refunds::retrieve(state, id, params),
        (&Method::GET, "charges", [id]) => charges::retrieve(state, id, params),
        _ => Err(unrecognized(method, &join(resource, rest))),
    }
}

fn route_sessions(
    app: &App,
    state: &mut State,
    method: &Method,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, rest) {
        (&Method::POST, []) => sessions::create(app, state, params, context),
        (&Method::GET, []) => sessions::read::list(app, state, params),
        (&Method::GET, [id]) => sessions::read::retrieve(app, state, id, params),
        (&Method::POST, [id]) => sessions::update::update(app, state, id, params),
        (&Method::POST, [id, "expire"]) => {
            sessions::lifecycle::expire(app, state, id, params, context)
        }
        (&Method::GET, [id, "line_items"]) => sessions::read::line_items(state, id, params),
        _ => Err(unrecognized(method, &join("checkout/sessions", rest))),
    }
}

fn route_payment_intents(
    app: &App,
    state: &mut State,
    method: &Method,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, rest) {
        (&Method::POST, []) => {
            secret_only(context)?;
            payment_intents::create(app, state, params, context)
        }
        (&Method::GET, []) => {
            secret_only(context)?;
            payment_intents::manage::list(state, params)
        }
        (&Method::GET, [id]) => payment_intents::retrieve(state, id, params, context),
        (&Method::POST, [id]) => {
            secret_only(context)?;
            payment_intents::manage::update(state, id, params)
        }
        (&Method::POST, [id, "confirm"]) => {
            payment_intents::confirm(app, state, id, params, context)
        }
        (&Method::POST, [id, "cancel"]) => {
            secret_only(context)?;
            payment_intents::manage::cancel(app, state, id, params, context)
        }
        (&Method::POST, [id, "capture"]) => {
            secret_only(context)?;
            payment_intents::manage::capture(app, state, id, params, context)
        }
        _ => Err(unrecognized(method, &join("payment_intents", rest))),
    }
}

fn route_catalog(
    state: &mut State,
    method: &Method,
    resource: &str,
    rest: &[&str],
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    match (method, resource, rest) {
        (&Method::POST, "prices", []) => prices::create(state, params),
        (&Method::GET, "prices", []) => prices::list(state, params),
        (&Method::GET, "prices", [id]) => prices::retrieve(state, id, params),
        (&Method::POST, "prices", [id]) => prices::update(state, id, params),
        (&Method::POST, "coupons", []) => coupons::create_coupon(state, params),
        (&Method::GET, "coupons", []) => coupons::list_coupons(state, params),
        (&Method::GET, "coupons", [id]) => coupons::retrieve_coupon(state, id, params),
        (&Method::POST, "coupons", [id]) => coupons::update_coupon(state, id, params),
        (&Method::POST, "promotion_codes", []) => {
            coupons::create_promotion_code(state, params, context)
        }
        (&Method::GET, "promotion_codes", []) => {
            coupons::list_promotion_codes(state, params, context)
        }
        (&Method::GET, "promotion_codes", [id]) => {
            coupons::retrieve_promotion_code(state, id, params, context)
        }
        (&Method::POST, "promotion_codes", [id]) => {
            coupons::update_promotion_code(state, id, params, context)
        }
        _ => Err(unrecognized(method, &join(resource, rest))),
    }
}

fn join(resource: &str, rest: &[&str]) -> String {
    let mut path = format!("/v1/{resource}");
    for segment in rest {
        path.push('/');
        path.push_str(segment);
    }
    path
}

/// Refuses a publishable key on a secret-key route.
fn secret_only(context: &CallContext<'_>) -> Result<(), Failure> {
    if !context.publishable {
        return Ok(());
    }
    Err(Failure {
        status: StatusCode::UNAUTHORIZED,
        error: ApiError {
            kind: "invalid_request_error",
            code: Some("secret_key_required"),
            param: None,
            message: "This API call cannot be made with a publishable API key. Please use a \
                      secret API key."
                .to_owned(),
        },
        extra: Map::new(),
    })
}

/// Stripe's 404 for a path it does not know.
fn unrecognized(method: &Method, path: &str) -> Failure {
    let mut failure = Failure::invalid(
        None,
        None,
        format!(
            "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or \
             we can help at https://support.stripe.com/."
        ),
    );
    failure.status = StatusCode::NOT_FOUND;
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_versions_by_date() {
        assert!(params::version_at_least("2026-09-30.endive", "2026-09-30"));
        assert!(!params::version_at_least("2026-01-28.clover", "2026-03-25"));
    }
}
