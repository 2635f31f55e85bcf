//! The axum integration: the webhook route answers 200 (new or duplicate), 400 (refused,
//! recorded nowhere) and 413 (too large); the extractor gives handlers the user's
//! entitlement, 401 without a user.
#![cfg(feature = "axum")]

mod suite;
mod support;

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use payswitch_core::memory::MemoryProvider;
use payswitch_core::CheckoutProvider;
use payswitch_store::axum::{webhook_route, AppUserId, CurrentEntitlement};
use payswitch_store::{BillingOnly, Store, StoreConfig, Worker};
use tower::ServiceExt;

use suite::flows::{subscription_request, Flow};
use support::TestDb;

async fn plans(CurrentEntitlement(entitlement): CurrentEntitlement) -> String {
    entitlement.plans().join(",")
}

fn app(store: &Store, gateway: &MemoryProvider) -> Router {
    let provider: Arc<dyn CheckoutProvider> = Arc::new(gateway.clone());
    Router::new()
        .route("/webhooks/payments", webhook_route(store.clone(), provider))
        .route("/plans", get(plans))
        .with_state(store.clone())
}

async fn post(app: &Router, headers: &http::HeaderMap, body: Vec<u8>) -> (StatusCode, String) {
    let mut request = Request::post("/webhooks/payments")
        .body(Body::from(body))
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(name, value.clone());
    }
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let text = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&text).into_owned())
}

#[tokio::test]
async fn the_route_records_and_the_extractor_answers() {
    let store = TestDb::sqlite_memory().open(StoreConfig::default()).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    let app = app(&store, &gateway);
    let checkout = gateway
        .create_checkout(&subscription_request("user_1"))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let deliveries = flow.take();
    let first = &deliveries[0];
    assert_eq!(
        post(&app, &first.headers, first.body.clone()).await,
        (StatusCode::OK, "recorded".into())
    );
    assert_eq!(
        post(&app, &first.headers, first.body.clone()).await,
        (StatusCode::OK, "duplicate".into())
    );
    let (refused, _) = post(&app, &http::HeaderMap::new(), first.body.clone()).await;
    assert_eq!(refused, StatusCode::BAD_REQUEST);
    let huge = vec![b'x'; payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES + 1];
    let (too_large, _) = post(&app, &first.headers, huge).await;
    assert_eq!(too_large, StatusCode::PAYLOAD_TOO_LARGE);
    for delivery in &deliveries[1..] {
        assert_eq!(
            post(&app, &delivery.headers, delivery.body.clone()).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        store.events(None, 10).await.unwrap().len(),
        deliveries.len()
    );
    Worker::new(store.clone(), BillingOnly)
        .run_until_idle()
        .await
        .unwrap();

    let anonymous = app
        .clone()
        .oneshot(Request::get("/plans").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let mut signed_in = Request::get("/plans").body(Body::empty()).unwrap();
    signed_in
        .extensions_mut()
        .insert(AppUserId("user_1".into()));
    let response = app.clone().oneshot(signed_in).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"Pro");
}
