//! Stripe for payswitch: Checkout Sessions behind [`CheckoutProvider`], PaymentIntents,
//! `Stripe-Signature` webhooks and idempotent retries, on reqwest and serde alone.
//!
//! - [`StripeProvider`]: build it with [`StripeProvider::from_config`] or
//!   [`StripeProvider::builder`]; it implements [`CheckoutProvider`] and adds
//!   [`create_payment_intent`](StripeProvider::create_payment_intent),
//!   [`retrieve_payment_intent`](StripeProvider::retrieve_payment_intent) and
//!   [`list_line_items`](StripeProvider::list_line_items).
//! - Requests use Stripe's nested form encoding and a pinned `Stripe-Version`
//!   ([`DEFAULT_API_VERSION`]). Every POST carries an `Idempotency-Key`, reused on each retry.
//! - Stripe does not sign success redirects: [`CheckoutProvider::verify_return`] reports
//!   `verified: false`, so retrieve the checkout (or wait for the webhook) before fulfilling.
//!
//! ```no_run
//! use payswitch_core::{CheckoutProvider, CheckoutProviderExt};
//! use payswitch_stripe::StripeProvider;
//!
//! # async fn run(query: &str) -> Result<(), payswitch_core::PaymentError> {
//! let stripe = StripeProvider::from_env()?;
//! // On the success page: never trust the redirect alone.
//! let checkout = stripe.confirm_return(query).await?;
//! if checkout.is_paid() {
//!     // fulfil the order named by checkout.reference
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`CheckoutProvider`]: payswitch_core::CheckoutProvider
//! [`CheckoutProvider::verify_return`]: payswitch_core::CheckoutProvider::verify_return

#![warn(missing_docs)]

mod builder;
mod client;
mod config;
mod convert;
mod error;
mod form;
mod idempotency;
mod limits;
mod line_items;
mod payment_intent;
mod provider;
pub mod webhook;
mod wire;

pub use builder::StripeProviderBuilder;
pub use builder::{DEFAULT_API_BASE, DEFAULT_API_VERSION, DEFAULT_WEBHOOK_TOLERANCE};
pub use client::USER_AGENT;
pub use config::{StripeConfig, ENV, KIND, NAME};
pub use limits::minimum_charge;
pub use line_items::{CheckoutLineItem, LineItemsPage};
pub use payment_intent::{PaymentIntent, PaymentIntentRequest, PaymentIntentStatus};
pub use provider::{parse_checkout, StripeProvider};
pub use webhook::SIGNATURE_HEADER;
