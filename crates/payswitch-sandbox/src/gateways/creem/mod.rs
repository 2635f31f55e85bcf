//! Creem's wire protocol as the server meets it: `x-api-key` authentication and the route
//! table. Products, checkouts (with payment, expiry and the signed success redirect), error
//! bodies and the `checkout.completed` webhook each have their own file.

pub(crate) mod amounts;
pub(crate) mod checkouts;
pub(crate) mod discounts;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod objects;
pub(crate) mod products;
pub(crate) mod redirect;
pub(crate) mod validate;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::access::constant_time_eq;
use crate::app::App;
use crate::gateways::creem::error::{error_response, Failure};
use crate::gateways::creem::validate::parse_json;
use crate::gateways::request::GatewayRequest;
use crate::respond;

/// Returns whether a path belongs to Creem's API (the gateways' paths do not overlap).
pub(crate) fn owns_path(path: &str) -> bool {
    path == "/v1/checkouts"
        || path.starts_with("/v1/checkouts/")
        || path == "/v1/products"
        || path.starts_with("/v1/products/")
        || path == "/v1/discounts"
        || path.starts_with("/v1/discounts/")
}

/// Returns whether a request authenticates the Creem way, with `x-api-key`.
pub(crate) fn uses_creem_auth(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-key")
}

/// Checks the `x-api-key` header: 401 when missing, 403 when wrong.
fn authenticate(app: &App, headers: &HeaderMap) -> Result<(), Failure> {
    match headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
    {
        None | Some("") => Err(Failure {
            status: StatusCode::UNAUTHORIZED,
            messages: vec!["Missing API key".to_owned()],
        }),
        Some(key) if !constant_time_eq(key.as_bytes(), app.config.creem_api_key.as_bytes()) => {
            Err(Failure {
                status: StatusCode::FORBIDDEN,
                messages: vec!["Invalid API key".to_owned()],
            })
        }
        Some(_) => Ok(()),
    }
}

/// Returns the first non-empty value of a query parameter.
fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// Handles one Creem API request.
pub(crate) fn handle(app: &Arc<App>, request: &GatewayRequest<'_>) -> Response {
    let (method, path, query, body) = (request.method, request.path, request.query, request.body);
    let result = authenticate(app, request.headers).and_then(|()| {
        let mut state = app.lock();
        match (method, path) {
            (&Method::POST, "/v1/checkouts") => {
                checkouts::create_checkout(app, &mut state, &parse_json(body)?)
            }
            (&Method::GET, "/v1/checkouts") => {
                checkouts::retrieve(app, &state, query_value(query, "checkout_id"))
            }
            (&Method::POST, "/v1/products") => products::create(&mut state, &parse_json(body)?),
            (&Method::GET, "/v1/products") => {
                products::retrieve(&state, query_value(query, "product_id"))
            }
            (&Method::POST, "/v1/discounts") => discounts::create(&mut state, &parse_json(body)?),
            (&Method::GET, "/v1/discounts") => discounts::retrieve(
                &state,
                query_value(query, "discount_id"),
                query_value(query, "discount_code"),
            ),
            _ => Err(Failure::not_found(&format!("Cannot {method} {path}"))),
        }
    });
    match result {
        Ok(body) => respond::json(StatusCode::OK, body.to_string()),
        Err(failure) => error_response(failure.status, failure.messages),
    }
}
