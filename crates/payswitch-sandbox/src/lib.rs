//! A local, stateful emulator of the Stripe and Creem checkout wire APIs,
//! with hosted pay pages and signed webhooks.
//!
//! One server on one port speaks both gateways: Stripe's form-encoded
//! `/v1/checkout/sessions`, `/v1/payment_intents`, `/v1/prices`, `/v1/coupons` and
//! `/v1/promotion_codes` (authenticated with `Authorization`), Creem's JSON `/v1/checkouts`,
//! `/v1/products`, `/v1/discounts`, `/v1/customers`, `/v1/subscriptions`, `/v1/transactions`
//! and `/v1/refunds` (authenticated with `x-api-key`), the hosted pages `/pay/{id}` and
//! `/portal/{token}` and the admin API under `/__sandbox/`. It is an independent implementation of
//! the wire protocols: it shares no code with the payswitch adapters, so a
//! bug on one side fails the tests instead of hiding.
//!
//! ```no_run
//! use std::time::Duration;
//! use payswitch_sandbox::{Sandbox, WebhookInbox};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let inbox = WebhookInbox::start().await?;
//! let sandbox = Sandbox::builder()
//!     .stripe_webhook_endpoint(inbox.url())
//!     .start()
//!     .await?;
//! // Point a Stripe client at sandbox.stripe_api_base() with
//! // sandbox.stripe_secret_key(), create a session, then:
//! # let session_id = "cs_test_...";
//! let redirect = sandbox.pay(session_id, None)?;
//! let webhooks = inbox.wait_for(1, Duration::from_secs(5)).await;
//! # let _ = (redirect, webhooks);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Stripe's billing lifecycle is emulated too: `/v1/customers` (with search),
//! `/v1/payment_methods`, `/v1/subscriptions`, `/v1/invoices` (with `create_preview` and
//! `pay`), `/v1/refunds`, `/v1/charges`, `/v1/events` and `/v1/billing_portal/sessions`,
//! whose link opens the hosted customer portal `/portal/{token}`. Every flow emits Stripe's
//! events in Stripe's order; the sandbox clock renews subscriptions, retries failed payments
//! as [`StripeDunning`] says, ends trials and expires checkouts.
//!
//! Webhooks can be delivered the way real gateways sometimes deliver them, so an application
//! can prove it survives: twice, out of order, late, after attempts lost and retried on the
//! gateway's own schedule (on the sandbox clock), again days later ([`DeliveryModes`]); and
//! any past event can be replayed ([`SandboxHandle::replay_event`]).
//!
//! See `docs/sandbox.md` for the endpoints, the admin API, test cards,
//! faults, webhooks and delivery modes.

#![recursion_limit = "256"]

mod access;
mod admin;
mod app;
mod billing;
mod catalog;
mod checkout;
mod config;
mod customer;
mod error;
mod faults;
mod gateways;
mod instruments;
mod lifecycle;
mod money;
mod pages;
mod portal;
mod respond;
mod sandbox;
mod seed;
mod server;
mod signature;
mod state;
mod webhooks;

pub use billing::{RefundRecord, RefundStatus, SubscriptionRecord, SubscriptionStatus};
pub use checkout::CheckoutStatus;
pub use config::{
    CreemRedirectSigning, DEFAULT_CREEM_API_KEY, DEFAULT_CREEM_WEBHOOK_SECRET,
    DEFAULT_LOG_CAPACITY, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_OBJECTS, DEFAULT_RETENTION_SECONDS,
    DEFAULT_STRIPE_API_VERSION, DEFAULT_STRIPE_PUBLISHABLE_KEY, DEFAULT_STRIPE_SECRET_KEY,
    DEFAULT_STRIPE_SETTLEMENT_CURRENCY, DEFAULT_STRIPE_WEBHOOK_SECRET,
};
pub use error::SandboxError;
pub use faults::MAX_FAULT_DELAY;
pub use faults::{Fault, FaultKind};
pub use gateways::stripe::dunning::{
    StripeDunning, StripeInvoiceAfterRetries, StripeSubscriptionAfterRetries,
};
pub use sandbox::{Sandbox, SandboxBuilder, SandboxHandle};
pub use seed::{CouponSeed, DiscountSeed, PriceSeed, ProductSeed, PromotionCodeSeed};
pub use state::MAX_RECORDED_BODY;
pub use state::{
    CheckoutRecord, Delivery, DeliveryReason, Gateway, ObjectCounts, RecordedRequest,
    WaitingDelivery,
};
pub use webhooks::delivery::RetryPolicy;
pub use webhooks::dispatch::MAX_WAITING_DELIVERIES;
pub use webhooks::endpoints::MAX_ENDPOINTS;
pub use webhooks::inbox::{ReceivedWebhook, WebhookInbox};
pub use webhooks::modes::{DeliveryModes, Reorder, MAX_DELIVERY_WAIT, MAX_REDELIVERY_AGE};

#[doc(hidden)]
pub mod fuzzing;
