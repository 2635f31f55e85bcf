#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod builder;
mod client;
mod config;
mod convert;
mod currency;
mod error;
mod form;
mod idempotency;
mod lifecycle;
mod limits;
mod line_items;
mod payment_intent;
mod provider;
pub mod testing;
pub mod webhook;
mod wire;

pub use builder::StripeProviderBuilder;
pub use builder::{DEFAULT_API_BASE, DEFAULT_API_VERSION, DEFAULT_WEBHOOK_TOLERANCE};
pub use client::USER_AGENT;
pub use config::{StripeConfig, ENV, KIND, NAME, SUBSCRIPTION_REFERENCE_KEY};
pub use limits::minimum_charge;
pub use line_items::{CheckoutLineItem, LineItemsPage};
pub use payment_intent::{PaymentIntent, PaymentIntentRequest, PaymentIntentStatus};
pub use provider::{parse_checkout, StripeProvider};
pub use webhook::SIGNATURE_HEADER;

// For the fuzz targets in `fuzz/` only; not part of the API.
#[doc(hidden)]
pub mod fuzzing;
