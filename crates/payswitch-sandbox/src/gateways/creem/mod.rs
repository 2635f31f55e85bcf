//! Creem's wire protocol as the server meets it: `x-api-key` authentication and the route
//! table. Products, checkouts, payment, customers, subscriptions (reads, status changes, plan
//! changes), transactions, refunds, the customer portal, error bodies and webhooks each have
//! their own file.

pub(crate) mod amounts;
pub(crate) mod cards;
pub(crate) mod checkouts;
pub(crate) mod customers;
pub(crate) mod discounts;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod objects;
pub(crate) mod pagination;
pub(crate) mod payments;
pub(crate) mod periods;
pub(crate) mod plan_changes;
pub(crate) mod portal;
pub(crate) mod products;
pub(crate) mod query;
pub(crate) mod redirect;
pub(crate) mod refunds;
pub(crate) mod renewals;
pub(crate) mod sizes;
pub(crate) mod subscriptions;
pub(crate) mod transactions;
pub(crate) mod transitions;
pub(crate) mod validate;
pub(crate) mod webhook_retries;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::access::constant_time_eq;
use crate::app::App;
use crate::gateways::creem::error::{error_response, Failure};
use crate::gateways::creem::query::query_value;
use crate::gateways::creem::validate::parse_json;
use crate::gateways::request::GatewayRequest;
use crate::respond;

/// Returns whether `path` is `root` or below it.
fn under(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Returns whether a path belongs to Creem's API alone.
pub(crate) fn owns_path(path: &str) -> bool {
    [
        "/v1/checkouts",
        "/v1/products",
        "/v1/discounts",
        "/v1/transactions",
    ]
    .into_iter()
    .any(|root| under(path, root))
}

/// Returns whether Creem serves a path that Stripe's API has too (`/v1/customers`,
/// `/v1/subscriptions`, `/v1/refunds`): such a request is Creem's when it carries `x-api-key`.
pub(crate) fn shares_path(path: &str) -> bool {
    ["/v1/customers", "/v1/subscriptions", "/v1/refunds"]
        .into_iter()
        .any(|root| under(path, root))
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

/// Handles one Creem API request.
pub(crate) fn handle(app: &Arc<App>, request: &GatewayRequest<'_>) -> Response {
    let (method, path, query, body) = (request.method, request.path, request.query, request.body);
    let result = authenticate(app, request.headers).and_then(|()| {
        let mut state = app.lock();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::POST, ["v1", "checkouts"]) => {
                checkouts::create_checkout(app, &mut state, &parse_json(body)?)
            }
            (&Method::GET, ["v1", "checkouts"]) => {
                checkouts::retrieve(app, &state, query_value(query, "checkout_id"))
            }
            (&Method::POST, ["v1", "products"]) => products::create(&mut state, &parse_json(body)?),
            (&Method::GET, ["v1", "products"]) => {
                products::retrieve(&state, query_value(query, "product_id"))
            }
            (&Method::GET, ["v1", "products", "search"]) => products::search(&state, query),
            (&Method::GET, ["v1", "products", id]) => {
                products::retrieve(&state, Some((*id).to_owned()))
            }
            (&Method::POST, ["v1", "discounts"]) => {
                discounts::create(&mut state, &parse_json(body)?)
            }
            (&Method::GET, ["v1", "discounts"]) => discounts::retrieve(
                &state,
                query_value(query, "discount_id"),
                query_value(query, "discount_code"),
            ),
            (&Method::GET, ["v1", "customers"]) => customers::retrieve(&state, query),
            (&Method::POST, ["v1", "customers"]) => {
                customers::create(&mut state, &parse_json(body)?)
            }
            (&Method::PATCH, ["v1", "customers"]) => {
                customers::update(&mut state, &parse_json(body)?)
            }
            (&Method::GET, ["v1", "customers", "list"]) => customers::list(&state, query),
            (&Method::POST, ["v1", "customers", "billing"]) => {
                portal::create_link(app, &mut state, &parse_json(body)?)
            }
            (&Method::GET, ["v1", "customers", id, "subscriptions"]) => {
                subscriptions::list_for_customer(&state, id, query)
            }
            (&Method::GET, ["v1", "subscriptions"]) => subscriptions::retrieve(&state, query),
            (&Method::GET, ["v1", "subscriptions", "search"]) => {
                subscriptions::search(&state, query)
            }
            (&Method::POST, ["v1", "subscriptions", id]) => {
                plan_changes::update_endpoint(app, &mut state, id, &parse_json(body)?)
            }
            (&Method::POST, ["v1", "subscriptions", id, "upgrade"]) => {
                plan_changes::upgrade_endpoint(app, &mut state, id, &parse_json(body)?)
            }
            (&Method::POST, ["v1", "subscriptions", id, "cancel"]) => {
                transitions::cancel_endpoint(&mut state, id, body)
            }
            (&Method::POST, ["v1", "subscriptions", id, "pause"]) => {
                transitions::pause_endpoint(&mut state, id)
            }
            (&Method::POST, ["v1", "subscriptions", id, "resume"]) => {
                transitions::resume_endpoint(&mut state, id)
            }
            (&Method::GET, ["v1", "transactions"]) => transactions::retrieve(&state, query),
            (&Method::GET, ["v1", "transactions", "search"]) => transactions::search(&state, query),
            (&Method::POST, ["v1", "refunds"]) => {
                refunds::refund_endpoint(app, &mut state, &parse_json(body)?)
            }
            _ => Err(Failure::not_found(&format!("Cannot {method} {path}"))),
        }
    });
    match result {
        Ok(body) => respond::json(StatusCode::OK, body.to_string()),
        Err(failure) => error_response(failure.status, failure.messages),
    }
}
