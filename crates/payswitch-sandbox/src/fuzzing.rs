//! Entry points for the fuzz targets in `fuzz/`: hidden, unstable, not part of the API.
//!
//! The server's per-request function (`server::dispatch`) reads its body from a hyper
//! connection, which cannot be built in memory; [`FuzzSandbox::request`] takes the request
//! already read and runs the same steps in the same order (access rules, admin API, pages),
//! then hands gateway requests to the server's own `answer_gateway` (faults, idempotency
//! claim, the gateway, the request log), without a socket.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::response::Response;
use tokio::sync::{watch, Semaphore};

use crate::access::{self, Presented, Route};
use crate::app::{App, MAX_PENDING_DELIVERIES};
use crate::config::{
    Config, CreemRedirectSigning, DEFAULT_CREEM_API_KEY, DEFAULT_CREEM_WEBHOOK_SECRET,
    DEFAULT_LOG_CAPACITY, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_OBJECTS, DEFAULT_RETENTION_SECONDS,
    DEFAULT_STRIPE_API_VERSION, DEFAULT_STRIPE_PUBLISHABLE_KEY, DEFAULT_STRIPE_SECRET_KEY,
    DEFAULT_STRIPE_SETTLEMENT_CURRENCY, DEFAULT_STRIPE_WEBHOOK_SECRET,
};
use crate::error::SandboxError;
use crate::gateways::request::GatewayRequest;
use crate::gateways::stripe::dunning::StripeDunning;
use crate::gateways::stripe::form::{self, FormError, FormValue};
use crate::lifecycle::{flush, sweep_and_flush};
use crate::respond::plain;
use crate::seed::{PriceSeed, ProductSeed};
use crate::server::{answer_gateway, BODY_LIMIT};
use crate::state::State;
use crate::webhooks::delivery::RetryPolicy;
use crate::webhooks::modes::DeliveryModes;
use crate::{admin, catalog, gateways, pages};

/// One node of a decoded Stripe form, as the sandbox's decoder built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormNode {
    /// A leaf value, percent-decoded.
    Text(String),
    /// Nested keys or array indices.
    Map(BTreeMap<String, FormNode>),
}

impl From<FormValue> for FormNode {
    fn from(value: FormValue) -> Self {
        match value {
            FormValue::Text(text) => FormNode::Text(text),
            FormValue::Map(map) => FormNode::Map(
                map.into_iter()
                    .map(|(key, value)| (key, FormNode::from(value)))
                    .collect(),
            ),
        }
    }
}

/// Decodes a Stripe form body with the sandbox's decoder (`gateways/stripe/form.rs`).
///
/// # Errors
/// The decoder's refusal (a malformed bracketed key, or a key used both as a value and as an
/// object), as text.
pub fn decode_stripe_form(body: &[u8]) -> Result<BTreeMap<String, FormNode>, String> {
    match form::decode(body) {
        Ok(root) => Ok(root
            .into_iter()
            .map(|(key, value)| (key, FormNode::from(value)))
            .collect()),
        Err(FormError::BadKey(key)) => Err(format!("bad key {key:?}")),
        Err(FormError::Conflict(key)) => Err(format!("conflicting key {key:?}")),
    }
}

/// A sandbox state with no listener: requests go straight to [`FuzzSandbox::request`].
pub struct FuzzSandbox {
    app: Arc<App>,
    /// Kept so the shutdown channel stays open for as long as the sandbox.
    _shutdown: watch::Sender<bool>,
}

impl FuzzSandbox {
    /// Builds the state as [`SandboxBuilder::start`](crate::SandboxBuilder::start) does with
    /// [`Sandbox::builder`](crate::Sandbox::builder)'s defaults and these seeds, without
    /// binding a port, background ticker or webhook endpoints. Must be called inside a Tokio
    /// runtime, which the sandbox keeps for the tasks it spawns.
    ///
    /// # Errors
    /// The seed errors [`SandboxBuilder::start`](crate::SandboxBuilder::start) returns.
    pub fn start(products: Vec<ProductSeed>, prices: Vec<PriceSeed>) -> Result<Self, SandboxError> {
        let config = Config {
            stripe_secret_key: DEFAULT_STRIPE_SECRET_KEY.to_owned(),
            stripe_publishable_key: DEFAULT_STRIPE_PUBLISHABLE_KEY.to_owned(),
            stripe_webhook_secret: DEFAULT_STRIPE_WEBHOOK_SECRET.to_owned(),
            stripe_api_version: DEFAULT_STRIPE_API_VERSION.to_owned(),
            stripe_settlement_currency: DEFAULT_STRIPE_SETTLEMENT_CURRENCY.to_owned(),
            stripe_dunning: StripeDunning::default(),
            creem_api_key: DEFAULT_CREEM_API_KEY.to_owned(),
            creem_redirect_signing: CreemRedirectSigning::default(),
            creem_webhook_secret: DEFAULT_CREEM_WEBHOOK_SECRET.to_owned(),
            retry: RetryPolicy::default(),
            products,
            prices,
            coupons: Vec::new(),
            promotion_codes: Vec::new(),
            discounts: Vec::new(),
            endpoints: Vec::new(),
            delivery_modes: DeliveryModes::new(),
            endpoint_delivery_modes: Vec::new(),
            port: 0,
            admin_token: None,
            log_capacity: DEFAULT_LOG_CAPACITY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_objects: DEFAULT_MAX_OBJECTS,
            retention_seconds: DEFAULT_RETENTION_SECONDS,
        };
        gateways::check_settings(&config)?;
        let (shutdown_sender, shutdown) = watch::channel(false);
        let app = Arc::new(App {
            base_url: "http://127.0.0.1:9".to_owned(),
            state: Mutex::new(State::default()),
            http: reqwest::Client::new(),
            shutdown,
            runtime: tokio::runtime::Handle::current(),
            deliveries_in_flight: Arc::new(Semaphore::new(MAX_PENDING_DELIVERIES)),
            config,
        });
        catalog::seed(&app)?;
        Ok(Self {
            app,
            _shutdown: shutdown_sender,
        })
    }

    /// Puts the state back to its start (as `POST /__sandbox/reset`), so one fuzz input's
    /// requests do not depend on earlier inputs.
    pub fn reset(&self) {
        catalog::reset(&self.app);
    }

    /// Answers one request as the server would, or `None` where the server would close the
    /// connection without an answer (a `drop_connection` or `process_then_drop` fault).
    ///
    /// Webhook endpoints registered through the admin API are forgotten after each request:
    /// a fuzzer must not make the sandbox post to wherever an input names.
    pub async fn request(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Option<http::Response<Vec<u8>>> {
        let response = self.dispatch(request).await;
        self.app.lock().endpoints.clear();
        let (parts, body) = response?.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map(|bytes| bytes.to_vec())
            .unwrap_or_default();
        Some(http::Response::from_parts(parts, body))
    }

    /// `server::dispatch`, from the body on.
    async fn dispatch(&self, request: http::Request<Vec<u8>>) -> Option<Response> {
        let app = &self.app;
        let (parts, bytes) = request.into_parts();
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or("").to_owned();
        let route = Route::of(&path);
        let gateway = gateways::owner(&path, &parts.headers);
        // `server::read_body`: a declared or actual length past the limit is a 413.
        let declared_length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared_length.is_some_and(|length| length > BODY_LIMIT as u64)
            || bytes.len() > BODY_LIMIT
        {
            return Some(gateways::too_large_response(gateway, BODY_LIMIT));
        }
        let presented = Presented {
            method: &parts.method,
            route,
            target_authority: parts.uri.authority().map(http::uri::Authority::as_str),
            headers: &parts.headers,
            body_is_empty: bytes.is_empty(),
        };
        if let Err(refusal) = access::check(&presented, app.config.admin_token.as_deref()) {
            return Some(plain(refusal.status, refusal.message));
        }
        if route == Route::Admin {
            let with_secrets =
                access::has_admin_token(&parts.headers, app.config.admin_token.as_deref());
            let response = admin::handle(app, &parts.method, &path, with_secrets, &bytes);
            flush(app);
            return Some(response);
        }
        if route == Route::Page {
            sweep_and_flush(app);
            let response = pages::handle(app, &parts.method, &path, &query, &bytes);
            flush(app);
            return Some(response);
        }
        let request = GatewayRequest {
            method: &parts.method,
            path: &path,
            query: &query,
            headers: &parts.headers,
            body: &bytes,
        };
        answer_gateway(&self.app, gateway, &request).await
    }
}
