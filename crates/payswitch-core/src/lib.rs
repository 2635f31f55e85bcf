//! The payswitch contract: one [`CheckoutProvider`] trait that every payment gateway
//! implements, the normalized checkout model, money as integer minor units, one error enum,
//! normalized webhook events, configuration, and test doubles.
//!
//! Applications usually depend on the `payswitch` facade crate, which re-exports this crate
//! and picks a gateway from configuration. Gateway adapters depend on this crate alone.
//!
//! - [`CheckoutProvider`]: what a gateway implements; [`CheckoutProviderExt`]: conveniences.
//! - [`CheckoutRequest`] → [`CheckoutResult`]; [`Money`] and [`Currency`]; [`PaymentError`].
//! - After the checkout: [`Subscription`] (cancel, resume, pause, change plan or seats),
//!   [`Refund`], [`Customer`] tied to the application's user, and the customer portal
//!   ([`PortalSession`]); each is a [`CheckoutProvider`] method, refused with
//!   [`PaymentError::Unsupported`] where the gateway cannot do it (see [`Capabilities`]).
//! - [`WebhookEvent`]: a verified, normalized webhook, carrying the checkout, subscription or
//!   refund it is about.
//! - [`Config`]: TOML and environment configuration, with secrets that never print.
//! - [`memory::MemoryProvider`]: an in-memory gateway with the full state machine.
//! - `mock::MockCheckoutProvider` (feature `mock`): a mockall mock.
//! - [`adapter`]: helpers for crates that implement a gateway (not for applications).
//!
//! This crate names no gateway: each gateway crate owns its settings, environment
//! variables and [`ProviderKind`], and the `payswitch` facade lists the gateways.

#![warn(missing_docs)]

pub mod adapter;
pub mod capability;
pub mod catalog;
pub mod clock;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod customer;
pub mod error;
pub mod kind;
pub mod memory;
#[cfg(feature = "mock")]
pub mod mock;
pub mod money;
pub mod provider;
pub mod raw;
pub mod refund;
pub mod request;
pub mod result;
pub mod retry;
pub mod secret;
pub mod subscription;
pub mod webhook;

pub use capability::Capabilities;
pub use catalog::Catalog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Config, EnvForm, EnvVar, GatewayEnv, GatewaySection, HttpConfig, RolloutKey, RouteRule,
    RouterConfig,
};
pub use customer::{
    Customer, CustomerLookup, CustomerRequest, PortalRequest, PortalSession, APP_USER_ID_KEY,
};
pub use error::{BoxError, GatewayDetails, PaymentError, Result, SignatureError};
pub use kind::ProviderKind;
pub use money::{Currency, Money, MoneyError};
pub use provider::{CheckoutProvider, CheckoutProviderExt};
pub use raw::RawJson;
pub use refund::{Refund, RefundReason, RefundRequest, RefundStatus, RefundTarget};
pub use request::{
    CheckoutMode, CheckoutRequest, CheckoutRequestBuilder, CustomProduct, Interval, LineItem,
    Product, Recurring, UiMode,
};
pub use result::{CheckoutResult, CheckoutStatus, PaymentStatus, ReturnParams};
pub use retry::RetryConfig;
pub use secret::Secret;
pub use subscription::{
    CancelAt, Proration, Subscription, SubscriptionChange, SubscriptionChangePreview,
    SubscriptionItem, SubscriptionStatus,
};
pub use webhook::{WebhookEvent, WebhookEventKind};
