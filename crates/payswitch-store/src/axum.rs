//! axum integration (feature `axum`): a webhook route that verifies, records and answers,
//! and an extractor for the current user's entitlement.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use payswitch_core::{memory::MemoryProvider, CheckoutProvider};
//! use payswitch_store::axum::{webhook_route, AppUserId, CurrentEntitlement};
//! use payswitch_store::Store;
//!
//! async fn dashboard(CurrentEntitlement(entitlement): CurrentEntitlement) -> String {
//!     if entitlement.allows("pro") { "welcome, pro".into() } else { "upgrade?".into() }
//! }
//!
//! # async fn run() -> Result<(), payswitch_store::StoreError> {
//! let store = Store::open("sqlite::memory:").await?;
//! let gateway: Arc<dyn CheckoutProvider> = Arc::new(MemoryProvider::new());
//! let app: Router = Router::new()
//!     .route("/webhooks/payments", webhook_route(store.clone(), gateway))
//!     // Your authentication puts an `AppUserId` into the request's extensions.
//!     .route("/dashboard", get(dashboard))
//!     .with_state(store);
//! # let _ = app; Ok(()) }
//! ```

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES;
use payswitch_core::CheckoutProvider;

use crate::entitlement::grant::Entitlement;
use crate::error::StoreError;
use crate::store::Store;

/// A `POST` route for a gateway's webhooks: verifies through `provider`, records in the
/// inbox and answers at once — 200 for a new or duplicate event, 400 for one that fails
/// verification (recorded nowhere), 500 when the database fails (the gateway retries).
/// Bodies over [`MAX_WEBHOOK_BODY_BYTES`] are refused with 413 before anything is read
/// into a signature check. Processing happens later, in the [`Worker`](crate::worker::Worker)s.
pub fn webhook_route<S>(store: Store, provider: Arc<dyn CheckoutProvider>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| {
        let store = store.clone();
        let provider = Arc::clone(&provider);
        async move { answer(&store, provider.as_ref(), &headers, &body).await }
    })
    .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY_BYTES))
}

/// Receives one webhook and says what to answer.
async fn answer(
    store: &Store,
    provider: &dyn CheckoutProvider,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, &'static str) {
    match store.receive(provider, headers, body).await {
        Ok(receipt) if receipt.duplicate => (StatusCode::OK, "duplicate"),
        Ok(_) => (StatusCode::OK, "recorded"),
        Err(StoreError::Refused(error)) => {
            tracing::info!(gateway = %provider.kind(), %error, "payswitch-store: webhook refused");
            (StatusCode::BAD_REQUEST, "refused")
        }
        Err(error) => {
            tracing::error!(gateway = %provider.kind(), %error, "payswitch-store: webhook not recorded");
            (StatusCode::INTERNAL_SERVER_ERROR, "not recorded")
        }
    }
}

/// The application user a request is for: put it into the request's extensions from your
/// authentication (a middleware, a session layer), and [`CurrentEntitlement`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppUserId(pub String);

/// The current user's [`Entitlement`], extracted from a request that carries an
/// [`AppUserId`] extension, with the [`Store`] taken from the router's state.
#[derive(Debug, Clone)]
pub struct CurrentEntitlement(pub Entitlement);

/// Why [`CurrentEntitlement`] could not be extracted.
#[derive(Debug)]
#[non_exhaustive]
pub enum EntitlementRejection {
    /// The request carries no [`AppUserId`]: 401.
    NoUser,
    /// The store failed: 500.
    Store(StoreError),
}

impl IntoResponse for EntitlementRejection {
    fn into_response(self) -> Response {
        match self {
            EntitlementRejection::NoUser => {
                (StatusCode::UNAUTHORIZED, "no signed-in user").into_response()
            }
            EntitlementRejection::Store(error) => {
                tracing::error!(%error, "payswitch-store: entitlement query failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "entitlement unavailable").into_response()
            }
        }
    }
}

impl<S> FromRequestParts<S> for CurrentEntitlement
where
    Store: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = EntitlementRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = parts
            .extensions
            .get::<AppUserId>()
            .ok_or(EntitlementRejection::NoUser)?
            .0
            .clone();
        let store = Store::from_ref(state);
        store
            .entitlement(&user)
            .await
            .map(CurrentEntitlement)
            .map_err(EntitlementRejection::Store)
    }
}
