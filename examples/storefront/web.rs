//! The storefront's HTTP handlers. They hold an `Arc<dyn CheckoutProvider>` and nothing
//! gateway-specific: the same code runs on Stripe and on Creem.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Json;
use payswitch::{CheckoutProvider, CheckoutProviderExt, CheckoutRequest, LineItem, PaymentError};
use serde::Deserialize;

use crate::catalog::{self, OFFERS};
use crate::orders::{Confirmed, NotConfirmed, Orders, PaidVia};
use crate::pages::{self, ReturnState};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct App {
    /// The gateway, chosen from configuration at start.
    pub gateway: Arc<dyn CheckoutProvider>,
    /// The orders.
    pub orders: Arc<Orders>,
    /// This storefront's own URL as the customer's browser reaches it, without a trailing
    /// slash; the gateway sends the customer back to it.
    pub public_url: String,
}

impl App {
    fn gateway_name(&self) -> &'static str {
        self.gateway.kind().name()
    }
}

/// The storefront's routes.
pub fn router(app: App) -> axum::Router {
    axum::Router::new()
        .route("/", get(product_page))
        .route("/checkout", post(checkout))
        .route("/success", get(success))
        .route("/webhooks", post(webhook))
        .route("/orders.json", get(all_orders))
        .route("/orders/{id}", get(one_order))
        .with_state(app)
}

async fn product_page(State(app): State<App>) -> Html<String> {
    Html(pages::product_page(&OFFERS, app.gateway_name()))
}

/// The checkout form: a SKU and nothing else.
#[derive(Debug, Deserialize)]
struct CheckoutForm {
    sku: String,
}

/// Opens a checkout for one unit of the SKU and sends the browser to the gateway's page.
///
/// The price comes from the server's catalog and the gateway's own price for the SKU; the
/// form could not change it even if it tried, because it only carries a SKU. The order
/// exists before the checkout, so its id can travel as the checkout's `reference` and come
/// back in the webhook and on the success page.
async fn checkout(State(app): State<App>, Form(form): Form<CheckoutForm>) -> Response {
    let gateway = app.gateway_name();
    let Some(offer) = catalog::find(form.sku.trim()) else {
        let page = pages::error_page("Unknown product", "We do not sell that product.", gateway);
        return (StatusCode::NOT_FOUND, Html(page)).into_response();
    };
    let order = app.orders.create(offer);
    let request = CheckoutRequest::builder()
        .mode(offer.mode())
        .line_item(LineItem::sku(offer.sku, 1))
        // The order travels in the success URL so the success page can check that the
        // checkout it is shown belongs to that order (`confirm_return_for`).
        .success_url(format!(
            "{}/success?order={}&session_id={{CHECKOUT_SESSION_ID}}",
            app.public_url, order.id
        ))
        .cancel_url(format!("{}/", app.public_url))
        .reference(order.id.as_str())
        .metadata("sku", offer.sku)
        // One order, one checkout: a retried create for the same order finds the first one.
        .idempotency_key(format!("storefront-{}", order.id))
        .build();
    let created = match request {
        Ok(request) => app.gateway.create_checkout(&request).await,
        Err(error) => Err(error),
    };
    let checkout = match created {
        Ok(checkout) => checkout,
        Err(error) => {
            tracing::error!(order = %order.id, %error, "could not open a checkout");
            let page = pages::error_page(
                "Checkout unavailable",
                "The payment page could not be opened. Please try again in a moment.",
                gateway,
            );
            return (StatusCode::BAD_GATEWAY, Html(page)).into_response();
        }
    };
    if !checkout.ignored.is_empty() {
        tracing::info!(ignored = ?checkout.ignored, "{gateway} does not support some request fields");
    }
    app.orders.attach_checkout(&order.id, &checkout.id);
    tracing::info!(order = %order.id, checkout = %checkout.id, "checkout opened");
    match checkout.url {
        Some(url) => Redirect::to(&url).into_response(),
        None => {
            tracing::error!(checkout = %checkout.id, "the gateway returned no hosted page URL");
            let page = pages::error_page(
                "Checkout unavailable",
                "The payment page could not be opened.",
                gateway,
            );
            (StatusCode::BAD_GATEWAY, Html(page)).into_response()
        }
    }
}

/// The page the gateway sends the customer back to.
///
/// The query string alone proves nothing: anyone can type `/success?session_id=…`, and
/// Stripe does not sign it. `confirm_return_for` verifies what the gateway signs (Creem),
/// retrieves the checkout from the gateway, and checks that it belongs to the order the page
/// is about, so "paid" is shown only when the gateway says so, and a checkout id swapped in
/// from another order is refused. (A shop with accounts takes the expected order from the
/// customer's session rather than from the URL.) A paid checkout also marks the order
/// paid here (once, shared with the webhook), so a customer who returns before the webhook
/// arrives is not told "pending" for a payment the gateway has already confirmed.
async fn success(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let gateway = app.gateway_name();
    let query = query.unwrap_or_default();
    let expected_order = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "order")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let confirmed = if expected_order.is_empty() {
        Err(PaymentError::invalid(
            "order",
            "the success link names no order",
        ))
    } else {
        app.gateway
            .confirm_return_for(&query, &expected_order)
            .await
    };
    let checkout = match confirmed {
        Ok(checkout) => checkout,
        Err(error) => {
            tracing::warn!(%error, "a success redirect could not be confirmed");
            let (status, reason) = match &error {
                PaymentError::Transport { .. }
                | PaymentError::Timeout { .. }
                | PaymentError::RateLimited { .. }
                | PaymentError::Provider(_) => (
                    StatusCode::BAD_GATEWAY,
                    "the payment gateway did not answer",
                ),
                _ => (
                    StatusCode::BAD_REQUEST,
                    "the link is not a valid payment confirmation",
                ),
            };
            let page = pages::return_page(ReturnState::NotConfirmed(reason), gateway);
            return (status, Html(page)).into_response();
        }
    };
    let page = match app.orders.confirm_paid(&checkout, PaidVia::Return) {
        Ok(confirmed) => {
            if let Confirmed::MarkedPaid(order) = &confirmed {
                tracing::info!(order = %order.id, "order paid (confirmed on return)");
            }
            pages::return_page(ReturnState::Paid(confirmed.order()), gateway)
        }
        Err(NotConfirmed::NotPaid(order)) => {
            pages::return_page(ReturnState::Pending(&order), gateway)
        }
        Err(NotConfirmed::UnknownOrder) => pages::return_page(
            ReturnState::NotConfirmed("the payment is not for an order of this shop"),
            gateway,
        ),
        Err(NotConfirmed::Mismatch(order, reason)) => {
            tracing::warn!(order = %order.id, %reason, "a returned checkout does not match");
            pages::return_page(
                ReturnState::NotConfirmed("the payment does not match the order"),
                gateway,
            )
        }
    };
    Html(page).into_response()
}

/// The gateway's webhook endpoint.
///
/// The signature is computed over the exact bytes sent, so the handler takes the raw body
/// and verifies before parsing anything; a bad signature gets 400 and changes nothing.
/// Events are deduplicated on their id (gateways deliver at least once) and the order is
/// marked paid through the same once-only transition as the success page. Every verified
/// event gets 200, including duplicates and events for unknown orders: a non-2xx answer
/// only makes the gateway retry something that will never change.
async fn webhook(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let event = match app.gateway.verify_webhook(&headers, &body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "rejected a webhook");
            let answer = serde_json::json!({ "error": "invalid webhook" });
            return (StatusCode::BAD_REQUEST, Json(answer)).into_response();
        }
    };
    let outcome = app.orders.apply_event(&event);
    tracing::info!(
        event = %event.id,
        kind = %event.event_type,
        outcome = outcome.outcome,
        order = outcome.order_id.as_deref().unwrap_or("-"),
        "webhook processed"
    );
    Json(outcome).into_response()
}

async fn all_orders(State(app): State<App>) -> Response {
    Json(app.orders.snapshot()).into_response()
}

async fn one_order(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.orders.get(&id) {
        Some(order) => Json(order).into_response(),
        None => {
            let answer = serde_json::json!({ "error": "no such order" });
            (StatusCode::NOT_FOUND, Json(answer)).into_response()
        }
    }
}
