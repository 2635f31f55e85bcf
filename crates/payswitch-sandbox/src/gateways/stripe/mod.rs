//! Stripe's wire protocol as the server meets it: authentication, API version, idempotent
//! replay and the route table. Each endpoint lives in the file named after its resource.

pub(crate) mod currencies;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod form;
pub(crate) mod objects;
pub(crate) mod params;
pub(crate) mod payment_intents;
pub(crate) mod prices;
pub(crate) mod sessions;

use std::sync::Arc;

use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value};

use crate::app::App;
use crate::gateways::stripe::error::{failure_body, ApiError, Failure, Outcome};
use crate::gateways::stripe::form::{FormError, Params};
use crate::gateways::stripe::objects::SavedResponse;
use crate::gateways::stripe::params::CallContext;
use crate::respond::{self, insert_header};
use crate::state::{new_request_id, State};

/// Which key authenticated the call.
enum Caller {
    Secret,
    Publishable,
}

/// Reads the API key from `Authorization: Bearer <key>` or Basic with the
/// key as the user name.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
        return Some(user.to_owned());
    }
    None
}

fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, Failure> {
    let unauthorized = |message: String| Failure {
        status: StatusCode::UNAUTHORIZED,
        error: ApiError {
            kind: "invalid_request_error",
            code: None,
            param: None,
            message,
        },
        extra: Map::new(),
    };
    let Some(key) = presented_key(headers).filter(|key| !key.is_empty()) else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY')."
                .to_owned(),
        ));
    };
    if key == app.config.stripe_secret_key {
        Ok(Caller::Secret)
    } else if key == app.config.stripe_publishable_key {
        Ok(Caller::Publishable)
    } else {
        Err(unauthorized(format!(
            "Invalid API Key provided: {}",
            mask_key(&key)
        )))
    }
}

/// Masks a key as Stripe does in its 401 message: prefix and last four.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

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

/// Returns whether a path belongs to Stripe's API (the gateways' paths do not overlap).
pub(crate) fn owns_path(path: &str) -> bool {
    path.starts_with("/v1/checkout/")
        || path.starts_with("/v1/payment_intents")
        || path == "/v1/prices"
        || path.starts_with("/v1/prices/")
}

/// Handles one Stripe API request.
pub(crate) fn handle(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let request_id = new_request_id();
    let api_version = headers
        .get("stripe-version")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| app.config.stripe_api_version.clone());
    let idempotency_key = if *method == Method::POST {
        headers
            .get("idempotency-key")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    } else {
        // Stripe ignores idempotency keys on GET and DELETE.
        None
    };

    let mut replayed_from: Option<String> = None;
    let result = authenticate(app, headers).and_then(|caller| {
        check_idempotency_key(idempotency_key.as_deref())?;
        let params = request_params(method, query, body)?;
        let context = CallContext {
            request_id: &request_id,
            idempotency_key: idempotency_key.as_deref(),
            api_version: &api_version,
            publishable: matches!(caller, Caller::Publishable),
        };
        let mut state = app.lock();
        let fingerprint = format!("{method} {path} {params:?}");
        let replay = replay_or_run(
            &mut state,
            idempotency_key.as_deref(),
            &fingerprint,
            &request_id,
            |state| route(app, state, method, path, &params, &context),
        )?;
        replayed_from = replay.original_request;
        replay.outcome
    });

    let mut response = match result {
        Ok((status, body)) => respond::json(status, body.to_string()),
        Err(failure) => respond::json(failure.status, failure_body(&failure).to_string()),
    };
    insert_header(&mut response, "request-id", &request_id);
    insert_header(&mut response, "stripe-version", &api_version);
    if let Some(original) = replayed_from {
        insert_header(&mut response, "idempotent-replayed", "true");
        insert_header(&mut response, "original-request", &original);
    }
    if let Some(key) = &idempotency_key {
        insert_header(&mut response, "idempotency-key", key);
    }
    response
}

/// Refuses an `Idempotency-Key` longer than Stripe allows.
fn check_idempotency_key(key: Option<&str>) -> Result<(), Failure> {
    match key {
        Some(key) if key.chars().count() > 255 => Err(Failure::invalid(
            None,
            Some("Idempotency-Key"),
            "Idempotency-Key must be at most 255 characters long.".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// Decodes the parameters: the body of a POST (merged over its query string), the query
/// string otherwise.
fn request_params(method: &Method, query: &str, body: &[u8]) -> Result<Params, Failure> {
    if *method != Method::POST {
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

/// The result of a call that may have been answered from the idempotency store.
struct Replay {
    /// The call's result, replayed or fresh.
    outcome: Outcome,
    /// The request id of the first call when this one was replayed.
    original_request: Option<String>,
}

/// Runs `run` unless `key` was used before: then replays the saved result, or refuses the
/// call when its `fingerprint` (method, path, parameters) differs from the first one.
fn replay_or_run(
    state: &mut State,
    key: Option<&str>,
    fingerprint: &str,
    request_id: &str,
    run: impl FnOnce(&mut State) -> Outcome,
) -> Result<Replay, Failure> {
    let Some(key) = key else {
        return Ok(Replay {
            outcome: run(state),
            original_request: None,
        });
    };
    if let Some(saved) = state.stripe.idempotency.get(key) {
        if saved.fingerprint != fingerprint {
            return Err(Failure {
                status: StatusCode::BAD_REQUEST,
                error: ApiError {
                    kind: "idempotency_error",
                    code: None,
                    param: None,
                    message: format!(
                        "Keys for idempotent requests can only be used with the same \
                         parameters they were first used with. Try using a key other \
                         than '{key}' if you meant to execute a different request."
                    ),
                },
                extra: Map::new(),
            });
        }
        let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
        let body = serde_json::from_str(&saved.body).unwrap_or(Value::Null);
        return Ok(Replay {
            outcome: Ok((status, body)),
            original_request: Some(saved.request_id.clone()),
        });
    }
    let outcome = run(state);
    // Stripe saves a result once endpoint execution began: successes
    // and card declines, but not validation errors.
    let saved = match &outcome {
        Ok((status, body)) => Some((*status, body.clone())),
        Err(failure) if failure.status == StatusCode::PAYMENT_REQUIRED => {
            Some((failure.status, failure_body(failure)))
        }
        Err(_) => None,
    };
    if let Some((status, body)) = saved {
        state.stripe.idempotency.insert(
            key.to_owned(),
            SavedResponse {
                fingerprint: fingerprint.to_owned(),
                status: status.as_u16(),
                body: body.to_string(),
                request_id: request_id.to_owned(),
            },
        );
    }
    Ok(Replay {
        outcome,
        original_request: None,
    })
}

fn route(
    app: &App,
    state: &mut State,
    method: &Method,
    path: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let secret_only = || {
        if context.publishable {
            Err(Failure {
                status: StatusCode::UNAUTHORIZED,
                error: ApiError {
                    kind: "invalid_request_error",
                    code: Some("secret_key_required"),
                    param: None,
                    message: "This API call cannot be made with a publishable API key. Please \
                              use a secret API key."
                        .to_owned(),
                },
                extra: Map::new(),
            })
        } else {
            Ok(())
        }
    };
    match (method, segments.as_slice()) {
        (&Method::POST, ["v1", "checkout", "sessions"]) => {
            secret_only()?;
            sessions::create(app, state, params, context)
        }
        (&Method::GET, ["v1", "checkout", "sessions"]) => {
            secret_only()?;
            sessions::read::list(app, state, params)
        }
        (&Method::GET, ["v1", "checkout", "sessions", id]) => {
            secret_only()?;
            sessions::read::retrieve(app, state, id, params)
        }
        (&Method::POST, ["v1", "checkout", "sessions", id, "expire"]) => {
            secret_only()?;
            sessions::lifecycle::expire(app, state, id, params, context)
        }
        (&Method::GET, ["v1", "checkout", "sessions", id, "line_items"]) => {
            secret_only()?;
            sessions::read::line_items(state, id, params)
        }
        (&Method::POST, ["v1", "prices"]) => {
            secret_only()?;
            prices::create(state, params)
        }
        (&Method::GET, ["v1", "prices", id]) => {
            secret_only()?;
            prices::retrieve(state, id, params)
        }
        (&Method::POST, ["v1", "payment_intents"]) => {
            secret_only()?;
            payment_intents::create(app, state, params, context)
        }
        (&Method::GET, ["v1", "payment_intents", id]) => {
            payment_intents::retrieve(state, id, params, context)
        }
        (&Method::POST, ["v1", "payment_intents", id, "confirm"]) => {
            payment_intents::confirm(app, state, id, params, context)
        }
        _ => {
            let mut failure = Failure::invalid(
                None,
                None,
                format!(
                    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs \
                     or we can help at https://support.stripe.com/."
                ),
            );
            failure.status = StatusCode::NOT_FOUND;
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer_and_basic_keys() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk_test_x"),
        );
        assert_eq!(presented_key(&headers).as_deref(), Some("sk_test_x"));
        // base64("sk_test_x:")
        headers.insert(
            "authorization",
            HeaderValue::from_static("Basic c2tfdGVzdF94Og=="),
        );
        assert_eq!(presented_key(&headers).as_deref(), Some("sk_test_x"));
        headers.insert("authorization", HeaderValue::from_static("Basic !!!"));
        assert_eq!(presented_key(&headers), None);
    }

    #[test]
    fn compares_versions_by_date() {
        assert!(params::version_at_least("2026-09-30.endive", "2026-09-30"));
        assert!(!params::version_at_least("2026-01-28.clover", "2026-03-25"));
    }

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("sk_test_wrongkey1234"), "sk_test_********1234");
        assert_eq!(mask_key("short"), "*****");
    }
}
