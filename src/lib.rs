//! payswitch: take payments through Stripe or Creem behind one trait, and switch gateway by
//! changing configuration.
//!
//! The application codes against [`CheckoutProvider`] (held as `Arc<dyn CheckoutProvider>`),
//! and [`from_config`] / [`from_env`] pick the gateway at run time. Cargo features pick which
//! adapters compile:
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `stripe` (default) | [`stripe`]: Checkout Sessions, PaymentIntents, `Stripe-Signature` webhooks |
//! | `creem` (default) | [`creem`]: checkouts, signed success redirects, `creem-signature` webhooks |
//! | `sandbox` | `sandbox`: a local emulator of both gateways for offline tests and demos |
//! | `mock` | `mock::MockCheckoutProvider`, a mockall mock |
//! | `conformance` | `conformance`: the behaviour suite every adapter passes |
//! | `store` | `store`: a durable webhook inbox, billing state and entitlements on SQLite (`store-postgres` adds PostgreSQL, `store-axum` the axum route) |
//!
//! ```no_run
//! use payswitch::{CheckoutRequest, Currency, LineItem, Money};
//!
//! # async fn run() -> Result<(), payswitch::PaymentError> {
//! // provider = "stripe" or "creem" in payswitch.toml (or PAYSWITCH_PROVIDER): nothing else changes.
//! let gateway = payswitch::from_config(&payswitch::Config::from_file("payswitch.toml")?)?;
//! let request = CheckoutRequest::builder()
//!     .line_item(LineItem::sku("pro_monthly", 1))
//!     .success_url("https://app.example/paid?session_id={CHECKOUT_SESSION_ID}")
//!     .reference("order-1042")
//!     .build()?;
//! let checkout = gateway.create_checkout(&request).await?;
//! println!("send the customer to {}", checkout.url.unwrap_or_default());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub use payswitch_core::*;

#[cfg(feature = "creem")]
pub use payswitch_creem as creem;
#[cfg(feature = "sandbox")]
pub use payswitch_sandbox as sandbox;
#[cfg(feature = "store")]
pub use payswitch_store as store;
#[cfg(feature = "stripe")]
pub use payswitch_stripe as stripe;

mod router;
mod select;

pub use router::Router;
pub use select::{
    available_providers, check_config, config_from_env, config_from_vars, config_with_env,
    config_with_vars, from_config, from_env,
};

/// Compiles the README's Rust example as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Compiles every Rust block of the guides in `docs/` as doctests, so none can drift from the
/// API (blocks that need a feature are compiled when it is on, as `--all-features` does).
#[cfg(doctest)]
pub mod guide_doctests {
    #[doc = include_str!("../docs/architecture.md")]
    pub struct Architecture;
    #[doc = include_str!("../docs/errors-and-retries.md")]
    pub struct ErrorsAndRetries;
    #[doc = include_str!("../docs/switching-gateways.md")]
    pub struct SwitchingGateways;
    #[doc = include_str!("../docs/webhooks.md")]
    pub struct Webhooks;
    #[doc = include_str!("../docs/performance.md")]
    pub struct Performance;
    #[doc = include_str!("../docs/reliability.md")]
    pub struct Reliability;
    #[cfg(all(feature = "mock", feature = "sandbox", feature = "stripe"))]
    #[doc = include_str!("../docs/testing.md")]
    pub struct Testing;
    #[cfg(feature = "store")]
    #[doc = include_str!("../docs/store.md")]
    pub struct Store;
    #[cfg(feature = "sandbox")]
    #[doc = include_str!("../docs/sandbox.md")]
    pub struct Sandbox;
}
