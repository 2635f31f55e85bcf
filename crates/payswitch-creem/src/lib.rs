#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod builder;
mod client;
mod config;
mod convert;
mod error;
mod lifecycle;
mod provider;
mod redirect;
pub mod testing;
mod webhook;
mod wire;

pub use builder::CreemProviderBuilder;
pub use client::USER_AGENT;
pub use config::{CreemConfig, DEFAULT_API_BASE, ENV, KIND, NAME};
pub use provider::{parse_checkout, CreemProvider};
pub use webhook::SIGNATURE_HEADER;

// Creem only: the key's prefix chooses the test or live API when `api_base` is absent.
pub use config::{api_base_for_key, LIVE_API_BASE, TEST_API_BASE, TEST_KEY_PREFIX};

// For the fuzz targets in `fuzz/` only; not part of the API.
#[doc(hidden)]
pub mod fuzzing;
