//! The Creem adapter for payswitch: hosted checkouts, signed success redirects and
//! `creem-signature` webhooks behind [`payswitch_core::CheckoutProvider`].
//!
//! Creem is a merchant of record: prices, currencies and tax live on Creem products, and a
//! checkout sells exactly one product (with a number of units). What a Creem checkout cannot
//! express is handled by one rule, so switching gateway never silently changes what a
//! customer is charged:
//!
//! - anything that changes *what* or *how much* is charged (custom-priced items, more than
//!   one line item, setup mode) is refused before any network call with
//!   [`PaymentError::Unsupported`](payswitch_core::PaymentError::Unsupported) (or
//!   `InvalidRequest` for malformed input);
//! - hints that only shape the experience (`cancel_url`, `locale`, `expires_in`, ...) are not
//!   sent and are listed in [`CheckoutResult::ignored`](payswitch_core::CheckoutResult::ignored).
//!
//! [`CreemProvider::capabilities`](payswitch_core::CheckoutProvider::capabilities) declares
//! both. The full mapping is in `docs/providers/creem.md`.
//!
//! ```no_run
//! use payswitch_core::{CheckoutProvider, CheckoutRequest, LineItem};
//! use payswitch_creem::{CreemConfig, CreemProvider};
//!
//! # async fn run() -> Result<(), payswitch_core::PaymentError> {
//! let provider = CreemProvider::builder(
//!     CreemConfig::new("creem_test_...").with_webhook_secret("whsec_..."),
//! )
//! .build()?;
//! assert_eq!(provider.api_base(), payswitch_creem::TEST_API_BASE);
//!
//! let request = CheckoutRequest::builder()
//!     .line_item(LineItem::native("prod_6tW66i0oZM7w1qXReHJrwg", 1))
//!     .success_url("https://shop.example/thanks")
//!     .reference("order-42")
//!     .build()?;
//! let checkout = provider.create_checkout(&request).await?;
//! println!("send the customer to {:?}", checkout.url);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod builder;
mod client;
mod config;
mod convert;
mod error;
mod provider;
mod redirect;
mod webhook;
mod wire;

pub use builder::CreemProviderBuilder;
pub use client::USER_AGENT;
pub use config::{
    api_base_for_key, CreemConfig, ENV, KIND, LIVE_API_BASE, NAME, TEST_API_BASE, TEST_KEY_PREFIX,
};
pub use provider::{parse_checkout, CreemProvider};
pub use webhook::SIGNATURE_HEADER;
