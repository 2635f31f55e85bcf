//! The resolved configuration of a running sandbox and the default test keys it starts with.

use std::fmt;

use crate::gateways::stripe::dunning::StripeDunning;
use crate::seed::{CouponSeed, DiscountSeed, PriceSeed, ProductSeed, PromotionCodeSeed};
use crate::state::Gateway;
use crate::webhooks::delivery::RetryPolicy;
use crate::webhooks::modes::DeliveryModes;

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
/// Default currency the sandbox's Stripe account settles in; minimum charges apply in it.
pub const DEFAULT_STRIPE_SETTLEMENT_CURRENCY: &str = "usd";

/// Default number of entries each of the request and delivery logs keeps (the oldest go first).
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;
/// Default cap on simultaneously open connections; further ones wait in the accept backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default number of each kind of transactional object (Stripe sessions, PaymentIntents,
/// Creem checkouts, customers) kept; past it the oldest are forgotten.
pub const DEFAULT_MAX_OBJECTS: usize = 20_000;
/// Default time, in sandbox seconds, a finished (paid or expired) session, checkout or
/// PaymentIntent is kept after it finished or was created: 7 days.
pub const DEFAULT_RETENTION_SECONDS: i64 = 7 * 24 * 60 * 60;

/// Which query parameters the signature of a Creem success redirect covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreemRedirectSigning {
    /// Creem's own parameters only, in the fixed order `request_id, checkout_id, order_id,
    /// customer_id, subscription_id, product_id` (absent ones skipped), as Creem's TypeScript
    /// sample and the Go SDK sign them. The default.
    #[default]
    CreemParameters,
    /// Every non-empty query parameter before `signature`, the merchant's own included, in URL
    /// order, as Creem's Python sample hashes them.
    AllParameters,
}

/// Resolved configuration of a running sandbox.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) stripe_secret_key: String,
    pub(crate) stripe_publishable_key: String,
    pub(crate) stripe_webhook_secret: String,
    pub(crate) stripe_api_version: String,
    pub(crate) stripe_settlement_currency: String,
    /// What Stripe billing does after a subscription payment fails.
    pub(crate) stripe_dunning: StripeDunning,
    pub(crate) creem_api_key: String,
    pub(crate) creem_redirect_signing: CreemRedirectSigning,
    pub(crate) creem_webhook_secret: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) products: Vec<ProductSeed>,
    pub(crate) prices: Vec<PriceSeed>,
    pub(crate) coupons: Vec<CouponSeed>,
    pub(crate) promotion_codes: Vec<PromotionCodeSeed>,
    pub(crate) discounts: Vec<DiscountSeed>,
    pub(crate) endpoints: Vec<(Gateway, String)>,
    /// Hostile delivery modes of every endpoint without modes of its own.
    pub(crate) delivery_modes: DeliveryModes,
    /// Endpoint URLs with modes of their own.
    pub(crate) endpoint_delivery_modes: Vec<(String, DeliveryModes)>,
    pub(crate) port: u16,
    /// Required in `x-sandbox-admin-token` on `/__sandbox/*` when set.
    pub(crate) admin_token: Option<String>,
    pub(crate) log_capacity: usize,
    pub(crate) max_connections: usize,
    pub(crate) max_objects: usize,
    pub(crate) retention_seconds: i64,
}

impl fmt::Debug for Config {
    // Keys and secrets stay out of logs.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Config")
            .field("stripe_api_version", &self.stripe_api_version)
            .field(
                "stripe_settlement_currency",
                &self.stripe_settlement_currency,
            )
            .field("stripe_dunning", &self.stripe_dunning)
            .field("creem_redirect_signing", &self.creem_redirect_signing)
            .field("retry", &self.retry)
            .field("products", &self.products.len())
            .field("prices", &self.prices.len())
            .field("coupons", &self.coupons.len())
            .field("promotion_codes", &self.promotion_codes.len())
            .field("discounts", &self.discounts.len())
            .field("endpoints", &self.endpoints)
            .field("delivery_modes", &self.delivery_modes)
            .field("endpoint_delivery_modes", &self.endpoint_delivery_modes)
            .field("port", &self.port)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "[redacted]"),
            )
            .field("log_capacity", &self.log_capacity)
            .field("max_connections", &self.max_connections)
            .field("max_objects", &self.max_objects)
            .field("retention_seconds", &self.retention_seconds)
            .finish_non_exhaustive()
    }
}
