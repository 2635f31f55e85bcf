//! Stripe's wire protocol: authentication, API versions, routing,
//! idempotency, error bodies and event envelopes. The objects themselves
//! live in `stripe_sessions.rs`, `stripe_intents.rs` and `stripe_prices.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::form::{self, FormError, FormValue};
use crate::respond::{self, insert_header};
use crate::state::{new_id, new_request_id, Gateway, OutgoingEvent, SavedResponse, State};
use crate::{stripe_intents, stripe_prices, stripe_sessions};

pub(crate) use crate::stripe_params::{
    boolean, bracket, check_expand, existing_customer, expand_list, integer, metadata, object,
    one_of, reject_unknown, text,
};
pub(crate) use crate::stripe_sessions::expire_due;

/// Decoded form parameters, top level.
pub(crate) type Params = BTreeMap<String, FormValue>;

/// The `error` object of a Stripe error body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// `invalid_request_error`, `api_error`, `card_error` or `idempotency_error`.
    pub(crate) kind: &'static str,
    /// Machine-readable code such as `parameter_missing`.
    pub(crate) code: Option<&'static str>,
    /// The parameter at fault, in bracket form.
    pub(crate) param: Option<String>,
    /// Human-readable message.
    pub(crate) message: String,
}

/// A failed Stripe call: status, error object and extra error fields
/// (`decline_code`, `payment_intent`).
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) error: ApiError,
    pub(crate) extra: Map<String, Value>,
}

impl Failure {
    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid(
        code: Option<&'static str>,
        param: Option<&str>,
        message: String,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: ApiError {
                kind: "invalid_request_error",
                code,
                param: param.map(str::to_owned),
                message,
            },
            extra: Map::new(),
        }
    }

    /// A 400 `parameter_missing`.
    pub(crate) fn missing(param: &str) -> Self {
        Self::invalid(
            Some("parameter_missing"),
            Some(param),
            format!("Missing required param: {param}."),
        )
    }

    /// A 400 `parameter_unknown`.
    pub(crate) fn unknown(param: &str) -> Self {
        Self::invalid(
            Some("parameter_unknown"),
            Some(param),
            format!("Received unknown parameter: {param}"),
        )
    }

    /// A 404 `resource_missing` for an id in the path.
    pub(crate) fn not_found(object: &str, param: &str, id: &str) -> Self {
        let mut failure = Self::invalid(
            Some("resource_missing"),
            Some(param),
            format!("No such {object}: '{id}'"),
        );
        failure.status = StatusCode::NOT_FOUND;
        failure
    }
}

/// Result of a Stripe operation: a status and a JSON body.
pub(crate) type Outcome = Result<(StatusCode, Value), Failure>;

/// Who is calling and how, for operations that emit events.
pub(crate) struct CallContext<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) idempotency_key: Option<&'a str>,
    pub(crate) api_version: &'a str,
    pub(crate) publishable: bool,
}

/// Builds a Stripe error response with a fresh `Request-Id`.
pub(crate) fn error_response(status: StatusCode, error: &ApiError) -> Response {
    let failure = Failure {
        status,
        error: error.clone(),
        extra: Map::new(),
    };
    let mut response = respond::json(status, failure_body(&failure).to_string());
    insert_header(&mut response, "request-id", &new_request_id());
    response
}

fn failure_body(failure: &Failure) -> Value {
    let mut error = Map::new();
    error.insert("type".into(), json!(failure.error.kind));
    if let Some(code) = failure.error.code {
        error.insert("code".into(), json!(code));
        error.insert(
            "doc_url".into(),
            json!(format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            )),
        );
    }
    if let Some(param) = &failure.error.param {
        error.insert("param".into(), json!(param));
    }
    error.insert("message".into(), json!(failure.error.message));
    for (key, value) in &failure.extra {
        error.insert(key.clone(), value.clone());
    }
    json!({ "error": error })
}

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

/// True when `version` (e.g. `2026-09-30.endive`) is at or after `date`.
pub(crate) fn version_at_least(version: &str, date: &str) -> bool {
    version.get(..10).unwrap_or(version) >= date
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
    let result = (|| -> Outcome {
        let caller = authenticate(app, headers)?;
        if let Some(key) = &idempotency_key {
            if key.chars().count() > 255 {
                return Err(Failure::invalid(
                    None,
                    Some("Idempotency-Key"),
                    "Idempotency-Key must be at most 255 characters long.".to_owned(),
                ));
            }
        }
        let params = if *method == Method::POST {
            if !query.is_empty() {
                // Stripe reads POST parameters from the body only.
                let mut merged = decode_params(query.as_bytes())?;
                merged.extend(decode_params(body)?);
                merged
            } else {
                decode_params(body)?
            }
        } else {
            decode_params(query.as_bytes())?
        };
        let context = CallContext {
            request_id: &request_id,
            idempotency_key: idempotency_key.as_deref(),
            api_version: &api_version,
            publishable: matches!(caller, Caller::Publishable),
        };
        let mut state = app.lock();
        let fingerprint = format!("{method} {path} {params:?}");
        if let Some(key) = &idempotency_key {
            if let Some(saved) = state.idempotency.get(key) {
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
                replayed_from = Some(saved.request_id.clone());
                let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
                let body = serde_json::from_str(&saved.body).unwrap_or(Value::Null);
                return Ok((status, body));
            }
        }
        let outcome = route(app, &mut state, method, path, &params, &context);
        if let Some(key) = &idempotency_key {
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
                state.idempotency.insert(
                    key.clone(),
                    SavedResponse {
                        fingerprint,
                        status: status.as_u16(),
                        body: body.to_string(),
                        request_id: request_id.clone(),
                    },
                );
            }
        }
        outcome
    })();

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
            stripe_sessions::create(app, state, params, context)
        }
        (&Method::GET, ["v1", "checkout", "sessions"]) => {
            secret_only()?;
            stripe_sessions::list(app, state, params)
        }
        (&Method::GET, ["v1", "checkout", "sessions", id]) => {
            secret_only()?;
            stripe_sessions::retrieve(app, state, id, params)
        }
        (&Method::POST, ["v1", "checkout", "sessions", id, "expire"]) => {
            secret_only()?;
            stripe_sessions::expire(app, state, id, params, context)
        }
        (&Method::GET, ["v1", "checkout", "sessions", id, "line_items"]) => {
            secret_only()?;
            stripe_sessions::line_items(state, id, params)
        }
        (&Method::POST, ["v1", "prices"]) => {
            secret_only()?;
            stripe_prices::create(state, params)
        }
        (&Method::GET, ["v1", "prices", id]) => {
            secret_only()?;
            stripe_prices::retrieve(state, id, params)
        }
        (&Method::POST, ["v1", "payment_intents"]) => {
            secret_only()?;
            stripe_intents::create(app, state, params, context)
        }
        (&Method::GET, ["v1", "payment_intents", id]) => {
            stripe_intents::retrieve(state, id, params, context)
        }
        (&Method::POST, ["v1", "payment_intents", id, "confirm"]) => {
            stripe_intents::confirm(app, state, id, params, context)
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

/// Queues a Stripe event with the `event` envelope of fixtures3.
pub(crate) fn emit_event(
    app: &App,
    state: &mut State,
    event_type: &str,
    object: Value,
    context: Option<&CallContext<'_>>,
) {
    let event_id = new_id("evt_");
    let pending_webhooks = state.endpoints_for(Gateway::Stripe).len();
    let envelope = json!({
        "id": event_id,
        "object": "event",
        "api_version": app.config.stripe_api_version,
        "created": state.now(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": context.map(|context| context.request_id),
            "idempotency_key": context.and_then(|context| context.idempotency_key),
        },
        "type": event_type,
    });
    state.emit(OutgoingEvent {
        gateway: Gateway::Stripe,
        event_id,
        event_type: event_type.to_owned(),
        body: envelope.to_string(),
    });
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
        assert!(version_at_least("2026-09-30.endive", "2026-09-30"));
        assert!(!version_at_least("2026-01-28.clover", "2026-03-25"));
    }

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("sk_test_wrongkey1234"), "sk_test_********1234");
        assert_eq!(mask_key("short"), "*****");
    }
}
