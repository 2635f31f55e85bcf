//! The resolved configuration of a running sandbox and the default test keys it starts with.

use std::fmt;

use crate::seed::{PriceSeed, ProductSeed};
use crate::state::Gateway;
use crate::webhooks::delivery::RetryPolicy;

/// Default Stripe secret key accepted by the sandbox.
pub const DEFAULT_STRIPE_SECRET_KEY: &str = "sk_test_sandbox";
/// Default Stripe publishable key (for client-side PaymentIntent confirm).
pub const DEFAULT_STRIPE_PUBLISHABLE_KEY: &str = "pk_test_sandbox";
/// Default secret used to sign Stripe webhooks.
pub const DEFAULT_STRIPE_WEBHOOK_SECRET: &str = "whsec_sandbox";
/// Default Creem API key accepted by the sandbox.
pub const DEFAULT_CREEM_API_KEY: &str = "creem_test_sandbox";
/// Default secret used to sign Creem webhooks.
pub const DEFAULT_CREEM_WEBHOOK_SECRET: &str = "whsec_creem_sandbox";
/// Default Stripe API version (the account default when a request sends
/// no `Stripe-Version`; also the `api_version` of events).
pub const DEFAULT_STRIPE_API_VERSION: &str = "2026-09-30.endive";

/// Resolved configuration of a running sandbox.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) stripe_secret_key: String,
    pub(crate) stripe_publishable_key: String,
    pub(crate) stripe_webhook_secret: String,
    pub(crate) stripe_api_version: String,
    pub(crate) creem_api_key: String,
    pub(crate) creem_webhook_secret: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) products: Vec<ProductSeed>,
    pub(crate) prices: Vec<PriceSeed>,
    pub(crate) endpoints: Vec<(Gateway, String)>,
    pub(crate) port: u16,
}

impl fmt::Debug for Config {
    // Keys and secrets stay out of logs.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Config")
            .field("stripe_api_version", &self.stripe_api_version)
            .field("retry", &self.retry)
            .field("products", &self.products.len())
            .field("prices", &self.prices.len())
            .field("endpoints", &self.endpoints)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}
