//! Stripe's error bodies: the `error` object, a failed call ([`Failure`]) with the constructors
//! the endpoints share, and the responses the server sends for faults and oversized bodies.

use axum::response::Response;
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::respond::{self, insert_header};
use crate::state::new_request_id;

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

pub(crate) fn failure_body(failure: &Failure) -> Value {
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

/// Builds the error an injected fault answers with: `rate_limit` for 429, `api_error` otherwise.
pub(crate) fn fault_response(status: StatusCode, message: String) -> Response {
    let (kind, code) = if status == StatusCode::TOO_MANY_REQUESTS {
        ("invalid_request_error", Some("rate_limit"))
    } else {
        ("api_error", None)
    };
    error_response(
        status,
        &ApiError {
            kind,
            code,
            param: None,
            message,
        },
    )
}

/// Builds the 413 answered to a body over the size limit.
pub(crate) fn too_large_response(message: String) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        &ApiError {
            kind: "invalid_request_error",
            code: None,
            param: None,
            message,
        },
    )
}
