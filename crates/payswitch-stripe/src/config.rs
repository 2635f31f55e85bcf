//! [`StripeConfig`]: Stripe's own settings, its `[stripe]` TOML section and its environment
//! variables. Core knows none of this; the facade reaches it through [`NAME`] and [`ENV`].

use std::fmt;

use payswitch_core::{
    Config, Currency, EnvForm, EnvVar, GatewayEnv, PaymentError, ProviderKind, Secret,
};
use serde::Deserialize;

/// The gateway's name: `provider = "stripe"`, the `[stripe]` section, `catalog.<sku>.stripe`.
pub const NAME: &str = "stripe";

/// Stripe's [`ProviderKind`]: what results, events and errors from this crate carry.
pub const KIND: ProviderKind = ProviderKind::new(NAME);

/// The metadata key under which a subscription-mode checkout's `reference` is copied onto
/// the subscription it creates (`subscription_data[metadata][payswitch_reference]`): Stripe
/// subscriptions have no `client_reference_id`, and `Subscription::reference` is read back
/// from this key. A subscription-mode request may not set it in its own `metadata`.
pub const SUBSCRIPTION_REFERENCE_KEY: &str = "payswitch_reference";

/// Stripe's environment variables, read by `Config::from_vars_with` (the facade's
/// `payswitch::config_from_env` passes it): `STRIPE_SECRET_KEY` enables Stripe;
/// `STRIPE_WEBHOOK_SECRET` (comma-separated while rotating), `STRIPE_API_BASE`,
/// `STRIPE_API_VERSION` and `STRIPE_SETTLEMENT_CURRENCY` change its section.
pub const ENV: GatewayEnv = GatewayEnv {
    gateway: NAME,
    vars: &[
        EnvVar {
            name: "STRIPE_SECRET_KEY",
            key: "secret_key",
            form: EnvForm::Text,
        },
        EnvVar {
            name: "STRIPE_WEBHOOK_SECRET",
            key: "webhook_secrets",
            form: EnvForm::List,
        },
        EnvVar {
            name: "STRIPE_API_BASE",
            key: "api_base",
            form: EnvForm::Text,
        },
        EnvVar {
            name: "STRIPE_API_VERSION",
            key: "api_version",
            form: EnvForm::Text,
        },
        EnvVar {
            name: "STRIPE_SETTLEMENT_CURRENCY",
            key: "settlement_currency",
            form: EnvForm::Text,
        },
    ],
};

/// Stripe credentials and settings: the `[stripe]` section of the configuration.
///
/// `Debug` never shows the secret key or the webhook secrets.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StripeConfig {
    /// The secret key, `sk_test_…` or `sk_live_…` (or a restricted `rk_…` key).
    pub secret_key: Secret,
    /// Webhook signing secrets (`whsec_…`); several while rotating.
    #[serde(default)]
    pub webhook_secrets: Vec<Secret>,
    /// The API base URL; `https://api.stripe.com` when absent.
    pub api_base: Option<String>,
    /// The pinned `Stripe-Version`; the adapter's default when absent.
    pub api_version: Option<String>,
    /// How old a webhook signature may be, in seconds (300 when absent).
    pub webhook_tolerance_secs: Option<u64>,
    /// The currency the Stripe account settles in (its bank account's), whose minimum
    /// charge Stripe applies to every charge after conversion. When set, a checkout in this
    /// currency below its minimum is refused locally; anything else is left to Stripe.
    /// Absent: nothing is refused locally for being too small.
    #[serde(default)]
    pub settlement_currency: Option<Currency>,
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &self.secret_key)
            .field("webhook_secrets", &self.webhook_secrets)
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("webhook_tolerance_secs", &self.webhook_tolerance_secs)
            .field("settlement_currency", &self.settlement_currency)
            .finish()
    }
}

impl StripeConfig {
    /// Settings with just a secret key.
    pub fn new(secret_key: impl Into<Secret>) -> Self {
        Self {
            secret_key: secret_key.into(),
            webhook_secrets: Vec::new(),
            api_base: None,
            api_version: None,
            webhook_tolerance_secs: None,
            settlement_currency: None,
        }
    }

    /// Adds a webhook signing secret.
    pub fn with_webhook_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.webhook_secrets.push(secret.into());
        self
    }

    /// Points the adapter at another API base (a sandbox or a test server).
    pub fn with_api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = Some(base.into());
        self
    }

    /// Pins another `Stripe-Version`.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// Sets the account's settlement currency (see
    /// [`settlement_currency`](Self::settlement_currency)).
    pub fn with_settlement_currency(mut self, currency: Currency) -> Self {
        self.settlement_currency = Some(currency);
        self
    }

    /// A whole configuration that selects Stripe with these settings.
    pub fn into_config(self) -> Config {
        Config::for_gateway(NAME, self)
    }

    /// Reads the `[stripe]` section of `config` (unknown keys are errors).
    pub fn from_config(config: &Config) -> Result<StripeConfig, PaymentError> {
        config
            .gateway(NAME)
            .ok_or_else(|| {
                PaymentError::config(
                    "Stripe is not configured: add a [stripe] section with secret_key, or set STRIPE_SECRET_KEY",
                )
            })?
            .settings(NAME)
    }
}
