//! Building a [`StripeProvider`]: defaults, the builder, its checks, and
//! [`StripeProvider::builder`] / [`StripeProvider::from_config`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use payswitch_core::{
    Catalog, Clock, Config, Currency, HttpConfig, PaymentError, RetryConfig, SystemClock,
};

use crate::client::StripeClient;
use crate::config::StripeConfig;
use crate::convert::{embedded_ui_mode, SessionSettings};
use crate::provider::StripeProvider;
use crate::webhook::WebhookVerifier;

/// The `Stripe-Version` pinned when the configuration names none (what Stripe's SDKs pin).
pub const DEFAULT_API_VERSION: &str = "2026-10-28.endive";

/// The Stripe API base URL used when the configuration names none.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How old a webhook signature may be by default (Stripe's SDKs use the same 300 s).
pub const DEFAULT_WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

/// Builds a [`StripeProvider`] from a [`StripeConfig`] plus optional shared settings.
///
/// ```
/// use std::time::Duration;
/// use payswitch_core::RetryConfig;
/// use payswitch_stripe::{StripeConfig, StripeProvider};
///
/// let provider = StripeProvider::builder(
///     StripeConfig::new("sk_test_123").with_webhook_secret("whsec_abc"),
/// )
/// .retry(RetryConfig::disabled())
/// .webhook_tolerance(Duration::from_secs(120))
/// .build()
/// .unwrap();
/// assert!(!format!("{provider:?}").contains("sk_test_123"));
/// ```
#[must_use]
pub struct StripeProviderBuilder {
    stripe: StripeConfig,
    http: HttpConfig,
    retry: RetryConfig,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
    webhook_tolerance: Option<Duration>,
}

impl fmt::Debug for StripeProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // StripeConfig's own Debug prints its secrets as `[redacted]`; spelled out here anyway.
        f.debug_struct("StripeProviderBuilder")
            .field("api_base", &self.stripe.api_base)
            .field("api_version", &self.stripe.api_version)
            .field("webhook_secrets", &self.stripe.webhook_secrets.len())
            .field("http", &self.http)
            .field("retry", &self.retry)
            .field("webhook_tolerance", &self.webhook_tolerance)
            .field("settlement_currency", &self.stripe.settlement_currency)
            .finish_non_exhaustive()
    }
}

impl StripeProviderBuilder {
    fn new(stripe: StripeConfig) -> Self {
        Self {
            stripe,
            http: HttpConfig::default(),
            retry: RetryConfig::default(),
            catalog: Catalog::default(),
            clock: Arc::new(SystemClock),
            webhook_tolerance: None,
        }
    }

    /// Sets the HTTP timeouts (30 s per attempt, 10 s to connect by default).
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Sets the retry budget and backoff (2 retries, 0.5 s to 5 s by default).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the catalog that resolves [`Product::Sku`](payswitch_core::Product::Sku) items.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Sets the clock used for `expires_at` and webhook tolerance (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how old a webhook signature may be; overrides `webhook_tolerance_secs`.
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.webhook_tolerance = Some(tolerance);
        self
    }

    /// Sets the account's settlement currency; overrides `settlement_currency`. A checkout
    /// in this currency below Stripe's published minimum is then refused locally.
    pub fn settlement_currency(mut self, currency: Currency) -> Self {
        self.stripe.settlement_currency = Some(currency);
        self
    }

    /// Checks the settings and builds the provider with its one HTTP connection pool.
    pub fn build(self) -> Result<StripeProvider, PaymentError> {
        let key = self.stripe.secret_key.expose();
        if self.stripe.secret_key.is_blank() {
            return Err(PaymentError::config(
                "stripe.secret_key (STRIPE_SECRET_KEY) is empty",
            ));
        }
        if key.starts_with("pk_") {
            return Err(PaymentError::config(
                "stripe.secret_key is a publishable key (pk_…); use the secret key (sk_…) or a restricted key (rk_…)",
            ));
        }
        if self
            .stripe
            .webhook_secrets
            .iter()
            .any(|secret| secret.is_blank())
        {
            return Err(PaymentError::config(
                "stripe.webhook_secrets holds an empty secret",
            ));
        }
        let api_base = self
            .stripe
            .api_base
            .clone()
            .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
        let api_version = self
            .stripe
            .api_version
            .clone()
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        if api_version.trim().is_empty() {
            return Err(PaymentError::config("stripe.api_version is empty"));
        }
        let tolerance = self
            .webhook_tolerance
            .or(self.stripe.webhook_tolerance_secs.map(Duration::from_secs))
            .unwrap_or(DEFAULT_WEBHOOK_TOLERANCE);
        let client = StripeClient::new(
            &self.stripe.secret_key,
            &api_base,
            &api_version,
            &self.http,
            self.retry,
            Arc::clone(&self.clock),
        )?;
        let webhooks = WebhookVerifier::new(
            self.stripe.webhook_secrets,
            tolerance,
            Arc::clone(&self.clock),
        );
        let settings = SessionSettings {
            embedded_ui_mode: embedded_ui_mode(&api_version),
            settlement_currency: self.stripe.settlement_currency,
        };
        Ok(StripeProvider::from_parts(
            client,
            webhooks,
            self.catalog,
            self.clock,
            settings,
        ))
    }
}

impl StripeProvider {
    /// Builds the provider from the whole configuration: `[stripe]` (required), `[http]`,
    /// `[retry]` and `[catalog]`.
    ///
    /// ```
    /// use payswitch_core::Config;
    /// let config =
    ///     Config::from_vars_with([("STRIPE_SECRET_KEY", "sk_test_123")], &[&payswitch_stripe::ENV])
    ///         .unwrap();
    /// let provider = payswitch_stripe::StripeProvider::from_config(&config).unwrap();
    /// assert_eq!(provider.api_version(), payswitch_stripe::DEFAULT_API_VERSION);
    /// ```
    pub fn from_config(config: &Config) -> Result<StripeProvider, PaymentError> {
        StripeProviderBuilder::new(StripeConfig::from_config(config)?)
            .http(config.http.clone())
            .retry(config.retry.clone())
            .catalog(config.catalog.clone())
            .build()
    }

    /// Builds the provider from the process environment (`STRIPE_*` and `PAYSWITCH_*`
    /// variables; see [`ENV`](crate::ENV)).
    pub fn from_env() -> Result<StripeProvider, PaymentError> {
        Self::from_config(&Config::from_vars_with(std::env::vars(), &[&crate::ENV])?)
    }

    /// Starts a builder from Stripe's own settings.
    pub fn builder(stripe: StripeConfig) -> StripeProviderBuilder {
        StripeProviderBuilder::new(stripe)
    }
}
