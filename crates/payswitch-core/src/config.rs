//! Configuration: which gateway runs, its credentials, HTTP and retry settings, and the
//! catalog that maps logical SKUs to each gateway's ids.
//!
//! ```toml
//! provider = "stripe"            # or "creem"; switching gateway is this one line
//!
//! [http]
//! timeout_secs = 30
//!
//! [retry]
//! max_retries = 2
//!
//! [stripe]
//! secret_key = "sk_test_..."
//! webhook_secrets = ["whsec_..."]
//!
//! [creem]
//! api_key = "creem_test_..."
//! webhook_secrets = ["..."]
//!
//! [catalog.pro_monthly]
//! stripe = "price_1Pro"
//! creem = "prod_6tW66i0oZM7w1qXReHJrwg"
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::PaymentError;
use crate::provider::ProviderKind;
use crate::secret::Secret;

/// The gateway names configuration knows about, whether or not their adapters are compiled in.
pub const KNOWN_PROVIDERS: &[&str] = &["stripe", "creem", "memory"];

/// The whole payswitch configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The gateway to use: `"stripe"`, `"creem"` or `"memory"`. When absent and exactly one
    /// gateway section is present, that gateway is used.
    pub provider: Option<String>,
    /// HTTP client settings shared by the adapters.
    #[serde(default)]
    pub http: HttpConfig,
    /// Retry settings shared by the adapters.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Logical SKUs mapped to each gateway's product or price id.
    #[serde(default)]
    pub catalog: Catalog,
    /// Stripe credentials and settings.
    pub stripe: Option<StripeConfig>,
    /// Creem credentials and settings.
    pub creem: Option<CreemConfig>,
    /// Rules for `provider = "router"`: several gateways, chosen per request.
    pub router: Option<RouterConfig>,
}

impl Config {
    /// A configuration that uses Stripe with the given secret key.
    pub fn for_stripe(stripe: StripeConfig) -> Self {
        Self {
            provider: Some("stripe".into()),
            stripe: Some(stripe),
            ..Self::default()
        }
    }

    /// A configuration that uses Creem with the given settings.
    pub fn for_creem(creem: CreemConfig) -> Self {
        Self {
            provider: Some("creem".into()),
            creem: Some(creem),
            ..Self::default()
        }
    }

    /// Parses TOML; unknown keys are errors. The result is validated.
    pub fn from_toml_str(text: &str) -> Result<Self, PaymentError> {
        let config: Config = toml::from_str(text).map_err(|error| {
            PaymentError::config(format!("invalid TOML configuration: {error}"))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PaymentError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| {
            PaymentError::config(format!("cannot read {}: {error}", path.display()))
        })?;
        Self::from_toml_str(&text)
            .map_err(|error| PaymentError::config(format!("{}: {error}", path.display())))
    }

    /// Builds the configuration from the process environment; see [`Config::from_vars`].
    pub fn from_env() -> Result<Self, PaymentError> {
        Self::from_vars(std::env::vars())
    }

    /// Builds the configuration from `NAME=value` pairs, as [`Config::from_env`] does with
    /// the process environment (tests pass their own pairs).
    ///
    /// `PAYSWITCH_CONFIG` names a TOML file to start from; then `PAYSWITCH_PROVIDER`,
    /// `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`, `STRIPE_API_BASE`, `STRIPE_API_VERSION`,
    /// `CREEM_API_KEY`, `CREEM_WEBHOOK_SECRET` and `CREEM_API_BASE` override it. Webhook
    /// secret variables may hold several secrets separated by commas (secret rotation).
    /// Empty variables count as unset.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, PaymentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .filter(|(key, value)| is_payswitch_variable(key) && !value.trim().is_empty())
            .collect();
        let get = |name: &str| vars.get(name).map(|value| value.trim().to_owned());
        let mut config = match get("PAYSWITCH_CONFIG") {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        if let Some(provider) = get("PAYSWITCH_PROVIDER") {
            config.provider = Some(provider.to_ascii_lowercase());
        }
        let secrets = |value: String| -> Vec<Secret> {
            value
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(Secret::new)
                .collect()
        };

        if let Some(key) = get("STRIPE_SECRET_KEY") {
            match &mut config.stripe {
                Some(stripe) => stripe.secret_key = Secret::new(key),
                None => config.stripe = Some(StripeConfig::new(key)),
            }
        }
        let stripe_extras = [
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_API_BASE",
            "STRIPE_API_VERSION",
        ];
        if let Some(stripe) = &mut config.stripe {
            if let Some(value) = get("STRIPE_WEBHOOK_SECRET") {
                stripe.webhook_secrets = secrets(value);
            }
            if let Some(value) = get("STRIPE_API_BASE") {
                stripe.api_base = Some(value);
            }
            if let Some(value) = get("STRIPE_API_VERSION") {
                stripe.api_version = Some(value);
            }
        } else if let Some(name) = stripe_extras.iter().find(|name| vars.contains_key(**name)) {
            return Err(PaymentError::config(format!(
                "{name} is set but STRIPE_SECRET_KEY is not"
            )));
        }

        if let Some(key) = get("CREEM_API_KEY") {
            match &mut config.creem {
                Some(creem) => creem.api_key = Secret::new(key),
                None => config.creem = Some(CreemConfig::new(key)),
            }
        }
        if let Some(creem) = &mut config.creem {
            if let Some(value) = get("CREEM_WEBHOOK_SECRET") {
                creem.webhook_secrets = secrets(value);
            }
            if let Some(value) = get("CREEM_API_BASE") {
                creem.api_base = Some(value);
            }
        } else if let Some(name) = ["CREEM_WEBHOOK_SECRET", "CREEM_API_BASE"]
            .iter()
            .find(|name| vars.contains_key(**name))
        {
            return Err(PaymentError::config(format!(
                "{name} is set but CREEM_API_KEY is not"
            )));
        }

        config.validate()?;
        Ok(config)
    }

    /// The name of the gateway to use: `provider` when set, else the only configured gateway.
    pub fn provider_name(&self) -> Result<&str, PaymentError> {
        if let Some(name) = &self.provider {
            return Ok(name);
        }
        match (&self.stripe, &self.creem) {
            (Some(_), None) => Ok("stripe"),
            (None, Some(_)) => Ok("creem"),
            (Some(_), Some(_)) => Err(PaymentError::config(
                "both [stripe] and [creem] are configured; set provider to choose one",
            )),
            (None, None) => Err(PaymentError::config(format!(
                "no provider is set; set provider (or PAYSWITCH_PROVIDER) to one of: {}",
                KNOWN_PROVIDERS.join(", ")
            ))),
        }
    }

    /// Checks what can be checked without building a provider: URLs, empty secrets and
    /// catalog gateway names.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if let Some(stripe) = &self.stripe {
            non_empty_secret("stripe.secret_key", &stripe.secret_key)?;
            for secret in &stripe.webhook_secrets {
                non_empty_secret("stripe.webhook_secrets", secret)?;
            }
            check_base("stripe.api_base", stripe.api_base.as_deref())?;
        }
        if let Some(creem) = &self.creem {
            non_empty_secret("creem.api_key", &creem.api_key)?;
            for secret in &creem.webhook_secrets {
                non_empty_secret("creem.webhook_secrets", secret)?;
            }
            check_base("creem.api_base", creem.api_base.as_deref())?;
        }
        if let Some(router) = &self.router {
            router.validate()?;
        }
        for (sku, ids) in &self.catalog.entries {
            for gateway in ids.keys() {
                if !KNOWN_PROVIDERS.contains(&gateway.as_str()) {
                    return Err(PaymentError::config(format!(
                        "catalog.{sku}: unknown gateway {gateway:?}; known gateways: {}",
                        KNOWN_PROVIDERS.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Keeps only the variables payswitch reads, so nothing else from the environment is held.
fn is_payswitch_variable(name: &str) -> bool {
    ["PAYSWITCH_", "STRIPE_", "CREEM_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn non_empty_secret(field: &str, secret: &Secret) -> Result<(), PaymentError> {
    if secret.expose().trim().is_empty() {
        return Err(PaymentError::config(format!("{field} is empty")));
    }
    Ok(())
}

fn check_base(field: &str, base: Option<&str>) -> Result<(), PaymentError> {
    let Some(base) = base else { return Ok(()) };
    let parsed = url::Url::parse(base)
        .map_err(|error| PaymentError::config(format!("{field} {base:?} is not a URL: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(PaymentError::config(format!(
            "{field} must be an http(s) URL"
        )));
    }
    Ok(())
}

/// Stripe credentials and settings.
#[derive(Debug, Clone, Deserialize)]
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
}

/// Creem credentials and settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CreemConfig {
    /// The API key, `creem_test_…` or `creem_…`; it also signs success redirects.
    pub api_key: Secret,
    /// Webhook signing secrets; several while rotating.
    #[serde(default)]
    pub webhook_secrets: Vec<Secret>,
    /// The API base URL; chosen from the key's prefix when absent.
    pub api_base: Option<String>,
}

impl CreemConfig {
    /// Settings with just an API key.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            webhook_secrets: Vec::new(),
            api_base: None,
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
}

/// HTTP client settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// The limit for one attempt, from sending to the whole answer read (`timeout_secs`).
    #[serde(rename = "timeout_secs", with = "secs")]
    pub timeout: Duration,
    /// The limit for opening a connection (`connect_timeout_secs`).
    #[serde(rename = "connect_timeout_secs", with = "secs")]
    pub connect_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Retry settings: how many times, and how long to wait in between.
///
/// Which failures are retried is each adapter's policy (it depends on whether the gateway
/// has idempotency keys); this only says how often and how patiently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Retries after the first attempt (2 by default, as Stripe's SDKs).
    pub max_retries: u32,
    /// The first wait (`initial_backoff_ms`, 500 ms by default).
    #[serde(rename = "initial_backoff_ms", with = "millis")]
    pub initial_backoff: Duration,
    /// The longest wait, also the cap on a gateway's `Retry-After` (`max_backoff_ms`, 5 s).
    #[serde(rename = "max_backoff_ms", with = "millis")]
    pub max_backoff: Duration,
    /// Randomizes waits between half and all of the computed backoff.
    pub jitter: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            jitter: true,
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries without waiting: for tests, which must never sleep.
    pub fn immediate(max_retries: u32) -> Self {
        Self {
            max_retries,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            jitter: false,
        }
    }

    /// How long to wait before retry number `retry` (1 for the first retry).
    ///
    /// Exponential from `initial_backoff`, capped at `max_backoff`, with jitter between half
    /// and all of it (never below `initial_backoff`); a gateway's `Retry-After` raises the
    /// wait, still capped at `max_backoff`.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let mut wait = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        if self.jitter && !wait.is_zero() {
            let factor: f64 = 0.5 * (1.0 + rand::random::<f64>());
            wait = wait
                .mul_f64(factor)
                .max(self.initial_backoff.min(self.max_backoff));
        }
        if let Some(asked) = retry_after {
            wait = wait.max(asked);
        }
        wait.min(self.max_backoff)
    }
}

/// Logical SKUs mapped to each gateway's own product or price id.
///
/// In TOML: `[catalog.pro_monthly]` with `stripe = "price_…"` and `creem = "prod_…"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Catalog {
    entries: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `sku` to `id` on `provider`.
    pub fn insert(
        &mut self,
        sku: impl Into<String>,
        provider: ProviderKind,
        id: impl Into<String>,
    ) {
        self.entries
            .entry(sku.into())
            .or_default()
            .insert(provider.name().to_owned(), id.into());
    }

    /// Adds a mapping, builder style.
    pub fn with(
        mut self,
        sku: impl Into<String>,
        provider: ProviderKind,
        id: impl Into<String>,
    ) -> Self {
        self.insert(sku, provider, id);
        self
    }

    /// The gateway id of `sku` on `provider`, if mapped.
    pub fn resolve(&self, sku: &str, provider: ProviderKind) -> Option<&str> {
        self.entries
            .get(sku)?
            .get(provider.name())
            .map(String::as_str)
    }

    /// The gateway id of line item `index`'s `sku`, or an `InvalidRequest` naming the item.
    pub fn require(
        &self,
        index: usize,
        sku: &str,
        provider: ProviderKind,
    ) -> Result<&str, PaymentError> {
        self.resolve(sku, provider).ok_or_else(|| {
            let message = if self.entries.contains_key(sku) {
                format!("SKU {sku:?} has no {provider} id in the catalog")
            } else {
                format!("SKU {sku:?} is not in the catalog")
            };
            PaymentError::invalid(format!("line_items[{index}].product"), message)
        })
    }

    /// The SKUs in the catalog.
    pub fn skus(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// How a router picks a gateway per request (`[router]` in TOML).
///
/// ```toml
/// provider = "router"
///
/// [router]
/// default = "stripe"
/// failover = ["creem"]          # tried in order when creation fails with a retryable error
///
/// [[router.rules]]              # rules are tried in order; every condition must match
/// gateway = "creem"
/// currencies = ["EUR"]
///
/// [[router.rules]]
/// gateway = "creem"
/// percent = 10                  # a sticky 10% rollout, keyed on the customer
/// key = "customer"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// The gateway used when no rule matches.
    pub default: String,
    /// Gateways tried in order when the chosen one fails with a retryable error.
    #[serde(default)]
    pub failover: Vec<String>,
    /// Rules tried in order; the first whose conditions all match picks the gateway.
    #[serde(default)]
    pub rules: Vec<RouteRule>,
}

impl RouterConfig {
    /// Every gateway the router may use: the default, rule targets and failovers, once each.
    pub fn gateways(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let all = std::iter::once(self.default.as_str())
            .chain(self.rules.iter().map(|rule| rule.gateway.as_str()))
            .chain(self.failover.iter().map(String::as_str));
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Checks gateway names, that every rule has a condition, and percentages.
    pub fn validate(&self) -> Result<(), PaymentError> {
        for name in self.gateways() {
            if !KNOWN_PROVIDERS.contains(&name) {
                return Err(PaymentError::config(format!(
                    "router: unknown gateway {name:?}; known gateways: {}",
                    KNOWN_PROVIDERS.join(", ")
                )));
            }
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let has_condition = rule.currencies.is_some()
                || rule.countries.is_some()
                || rule.metadata.is_some()
                || rule.percent.is_some();
            if !has_condition {
                return Err(PaymentError::config(format!(
                    "router.rules[{index}] has no condition; add currencies, countries, metadata or percent"
                )));
            }
            if rule.percent.is_some_and(|percent| percent > 100) {
                return Err(PaymentError::config(format!(
                    "router.rules[{index}].percent must be between 0 and 100"
                )));
            }
            if rule.key.is_some() && rule.percent.is_none() {
                return Err(PaymentError::config(format!(
                    "router.rules[{index}].key only applies with percent"
                )));
            }
        }
        Ok(())
    }
}

/// One routing rule: every condition present must match for `gateway` to be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// The gateway this rule picks.
    pub gateway: String,
    /// Matches when the request's currency (of its custom-priced items, or `currency`) is listed.
    pub currencies: Option<Vec<crate::money::Currency>>,
    /// Matches when the request's `metadata["country"]` is one of these ISO 3166 codes
    /// (compared case-insensitively).
    pub countries: Option<Vec<String>>,
    /// Matches when every listed metadata pair is present on the request.
    pub metadata: Option<BTreeMap<String, String>>,
    /// Matches a stable share of customers: those whose `key` hashes below this percentage.
    pub percent: Option<u8>,
    /// What the percentage rollout is keyed on (`customer` by default).
    pub key: Option<RolloutKey>,
}

/// What a percentage rollout hashes, so the same customer always lands on the same gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutKey {
    /// The customer id, else the customer email.
    #[default]
    Customer,
    /// The request's `reference`.
    Reference,
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
