//! The storefront's HTTP handlers. They hold an `Arc<dyn CheckoutProvider>` and nothing
//! gateway-specific: the same code runs on Stripe, on Creem, and on both in migration mode.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Json;
use payswitch::store::StoreError;
use payswitch::webhook::MAX_WEBHOOK_BODY_BYTES;
use payswitch::{CheckoutProviderExt, CheckoutRequest, LineItem, PaymentError};
use serde::Deserialize;

use crate::account::{self, Done, Requested};
use crate::app::{account_path, App};
use crate::catalog::{self, OFFERS};
use crate::orders::{Confirmed, NotConfirmed, PaidVia};
use crate::pages::{self, ReturnState};
use crate::snapshot;

/// The storefront's routes.
pub fn router(app: App) -> axum::Router {
    axum::Router::new()
        .route("/", get(product_page))
        .route("/checkout", post(checkout))
        .route("/success", get(success))
        // Bodies over the limit are refused (413) before a signature is computed over them.
        .route(
            "/webhooks",
            post(webhook).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY_BYTES)),
        )
        .route("/orders.json", get(all_orders))
        .route("/orders/{id}", get(one_order))
        .route("/account/{id}", get(account_page))
        .route("/account/{id}/cancel", post(cancel))
        .route("/account/{id}/resume", post(resume))
        .route("/account/{id}/change-plan", post(change_plan))
        .route("/account/{id}/portal", post(portal))
        .route("/account/{id}/refund", post(refund))
        .with_state(app)
}

async fn product_page(State(app): State<App>) -> Html<String> {
    Html(pages::product_page(&OFFERS, app.gateway_name()))
}

/// The page for a failure of the shop's own database: logged here, with nothing of it shown
/// (an error may name a table or a host).
fn storage_failed(app: &App, what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "{what}");
    let page = pages::error_page(
        "Something went wrong",
        "Something went wrong on our side. Please try again in a moment.",
        app.gateway_name(),
    );
    (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
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
    let order = match app.orders.create(offer).await {
        Ok(order) => order,
        Err(error) => return storage_failed(&app, "could not create an order", &error),
    };
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
    if let Err(error) = app.orders.attach_checkout(&order.id, &checkout).await {
        // The checkout stays unpaid at the gateway and expires; the customer tries again.
        return storage_failed(&app, "could not record the checkout of an order", &error);
    }
    tracing::info!(
        order = %order.id,
        checkout = %checkout.id,
        gateway = %checkout.provider,
        "checkout opened"
    );
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
            let page = pages::return_page(ReturnState::NotConfirmed(reason), gateway, false);
            return (status, Html(page)).into_response();
        }
    };
    let can_refund = app.gateway.capabilities().refunds;
    let confirmed = match app.orders.confirm_paid(&checkout, PaidVia::Return).await {
        Ok(confirmed) => confirmed,
        Err(error) => return storage_failed(&app, "could not confirm an order", &error),
    };
    let page = match confirmed {
        Ok(confirmed) => {
            if let Confirmed::MarkedPaid(order) = &confirmed {
                tracing::info!(order = %order.id, "order paid (confirmed on return)");
            }
            pages::return_page(ReturnState::Paid(confirmed.order()), gateway, can_refund)
        }
        Err(NotConfirmed::NotPaid(order)) => {
            pages::return_page(ReturnState::Pending(&order), gateway, false)
        }
        Err(NotConfirmed::UnknownOrder) => pages::return_page(
            ReturnState::NotConfirmed("the payment is not for an order of this shop"),
            gateway,
            false,
        ),
        Err(NotConfirmed::Mismatch(order, reason)) => {
            tracing::warn!(order = %order.id, %reason, "a returned checkout does not match");
            pages::return_page(
                ReturnState::NotConfirmed("the payment does not match the order"),
                gateway,
                false,
            )
        }
    };
    Html(page).into_response()
}

/// The gateway's webhook endpoint: `Store::receive`, then 2xx at once.
///
/// The store verifies the signature over the exact bytes sent (through the gateway, or, in
/// migration mode, the router, which accepts what exactly one gateway verifies) and records
/// the event in its inbox once per (gateway, event id), in one statement; the answer goes out
/// as soon as that commits, and the worker processes the event afterwards
/// ([`crate::processing`]), marking the order paid in the same transaction as the event's
/// "done" mark. A bad signature gets 400 and is recorded nowhere; a duplicate gets 200 (a
/// non-2xx answer only makes the gateway retry something that will never change); a database
/// failure gets 500, so the gateway delivers again. (The store's axum `webhook_route` does the
/// same; this one answers JSON and wakes the worker.)
async fn webhook(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    match app
        .store()
        .receive(app.gateway.as_ref(), &headers, &body)
        .await
    {
        Ok(receipt) => {
            if !receipt.duplicate {
                app.wake.wake();
            }
            tracing::info!(
                event = %receipt.event_id,
                gateway = %receipt.gateway,
                duplicate = receipt.duplicate,
                "webhook recorded"
            );
            let answer = serde_json::json!({
                "event_id": receipt.event_id,
                "gateway": receipt.gateway.name(),
                "outcome": if receipt.duplicate { "duplicate" } else { "recorded" },
            });
            Json(answer).into_response()
        }
        Err(StoreError::Refused(error)) => {
            tracing::warn!(%error, "rejected a webhook");
            let answer = serde_json::json!({ "error": "invalid webhook" });
            (StatusCode::BAD_REQUEST, Json(answer)).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "could not record a webhook; the gateway will deliver it again");
            let answer = serde_json::json!({ "error": "not recorded" });
            (StatusCode::INTERNAL_SERVER_ERROR, Json(answer)).into_response()
        }
    }
}

async fn all_orders(State(app): State<App>) -> Response {
    match snapshot::snapshot(&app.orders, &app.plans, app.gateway_name()).await {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(error) => storage_failed(&app, "could not list the orders", &error),
    }
}

async fn one_order(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.orders.get(&id).await {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => {
            let answer = serde_json::json!({ "error": "no such order" });
            (StatusCode::NOT_FOUND, Json(answer)).into_response()
        }
        Err(error) => storage_failed(&app, "could not read an order", &error),
    }
}

/// The account page of an order (`/account/{id}`), or its JSON (`/account/{id}.json`).
///
/// The subscription is retrieved from the gateway on each view. `?done=` picks one of a few
/// fixed notices after an action; nothing from the query is echoed.
async fn account_page(
    State(app): State<App>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (order_id, json) = match id.strip_suffix(".json") {
        Some(order_id) => (order_id, true),
        None => (id.as_str(), false),
    };
    let loaded = match account::load(&app, order_id).await {
        Ok(loaded) => loaded,
        Err(error) => return storage_failed(&app, "could not load an account page", &error),
    };
    let Some((view, status)) = loaded else {
        if json {
            let answer = serde_json::json!({ "error": "no such order" });
            return (StatusCode::NOT_FOUND, Json(answer)).into_response();
        }
        let page = pages::error_page(
            "No such order",
            "We have no such order.",
            app.gateway_name(),
        );
        return (StatusCode::NOT_FOUND, Html(page)).into_response();
    };
    if json {
        return (status, Json(view)).into_response();
    }
    let notice = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "done")
        .and_then(|(_, done)| account::notice(&done));
    let page = pages::account_page(&view, notice, app.gateway_name());
    (status, Html(page)).into_response()
}

/// The change-plan form: the plan's SKU.
#[derive(Debug, Deserialize)]
struct ChangePlanForm {
    sku: String,
}

async fn cancel(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    act(&app, &id, &headers, Requested::Cancel).await
}

async fn resume(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    act(&app, &id, &headers, Requested::Resume).await
}

async fn change_plan(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ChangePlanForm>,
) -> Response {
    act(&app, &id, &headers, Requested::ChangePlan(&form.sku)).await
}

async fn portal(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    act(&app, &id, &headers, Requested::Portal).await
}

/// The admin's refund. The demo has no login; a real shop checks the staff member's session
/// here.
async fn refund(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    act(&app, &id, &headers, Requested::Refund).await
}

/// Says whether a POST comes from another site's page: browsers send `Origin` with every
/// form POST, so a form elsewhere that targets ours is refused before it can cancel
/// someone's subscription. Clients that send no `Origin` (tests, curl) are not browsers
/// carrying someone's cookies, and pass.
fn from_another_site(headers: &HeaderMap, public_url: &str) -> bool {
    headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() != public_url.as_bytes())
}

/// Performs an account action, then sees the customer back to the account page (303, so a
/// reload does not post again), or to the gateway's portal; a failure is shown on the
/// account page with its status.
async fn act(app: &App, order_id: &str, headers: &HeaderMap, requested: Requested<'_>) -> Response {
    let gateway = app.gateway_name();
    if from_another_site(headers, &app.public_url) {
        let page = pages::error_page(
            "Not allowed",
            "That form was sent from another site.",
            gateway,
        );
        return (StatusCode::FORBIDDEN, Html(page)).into_response();
    }
    let failure = match account::perform(app, order_id, requested).await {
        Ok(Done::Account(done)) => {
            return Redirect::to(&format!("{}?done={done}", account_path(order_id))).into_response()
        }
        Ok(Done::Portal(url)) => return Redirect::to(&url).into_response(),
        Err(failure) => failure,
    };
    let Ok(Some((mut view, _))) = account::load(app, order_id).await else {
        let page = pages::error_page("No such order", &failure.message, gateway);
        return (failure.status, Html(page)).into_response();
    };
    // The action's failure is what the customer needs to read; a failure to reload the
    // page after it would only repeat the cause.
    view.error = Some(failure.message);
    (
        failure.status,
        Html(pages::account_page(&view, None, gateway)),
    )
        .into_response()
}
