//! [`CreemConfig`]: Creem's own settings, its `[creem]` TOML section and its environment
//! variables, plus the base URLs and key prefixes that choose where requests go. Core knows
//! none of this; the facade reaches it through [`NAME`] and [`ENV`].

use std::fmt;

use payswitch_core::adapter::http::check_api_base;
use payswitch_core::{Config, EnvForm, EnvVar, GatewayEnv, PaymentError, ProviderKind, Secret};
use serde::Deserialize;

/// The gateway's name: `provider = "creem"`, the `[creem]` section, `catalog.<sku>.creem`.
pub const NAME: &str = "creem";

/// Creem's [`ProviderKind`]: what results, events and errors from this crate carry.
pub const KIND: ProviderKind = ProviderKind::new(NAME);

/// Creem's environment variables, read by `Config::from_vars_with` (the facade's
/// `payswitch::config_from_env` passes it): `CREEM_API_KEY` enables Creem;
/// `CREEM_WEBHOOK_SECRET` (comma-separated while rotating) and `CREEM_API_BASE` change its
/// section.
pub const ENV: GatewayEnv = GatewayEnv {
    gateway: NAME,
    vars: &[
        EnvVar {
            name: "CREEM_API_KEY",
            key: "api_key",
            form: EnvForm::Text,
        },
        EnvVar {
            name: "CREEM_WEBHOOK_SECRET",
            key: "webhook_secrets",
            form: EnvForm::List,
        },
        EnvVar {
            name: "CREEM_API_BASE",
            key: "api_base",
            form: EnvForm::Text,
        },
    ],
};

/// Creem credentials and settings: the `[creem]` section of the configuration.
///
/// `Debug` never shows the API key or the webhook secrets.
#[derive(Clone, Deserialize)]
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
    /// Refuse webhooks whose signed `created_at` is older than this many seconds
    /// (`SignatureError::Expired`); unset, any age verifies. Opt-in, and generous (days):
    /// Creem redelivers the same body for up to a day.
    #[serde(default)]
    pub webhook_max_age_secs: Option<u64>,
}

impl fmt::Debug for CreemConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemConfig")
            .field("api_key", &self.api_key)
            .field("webhook_secrets", &self.webhook_secrets)
            .field("api_base", &self.api_base.as_deref().map(base_for_display))
            .field("webhook_max_age_secs", &self.webhook_max_age_secs)
            .finish()
    }
}

impl CreemConfig {
    /// Settings with just an API key.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            webhook_secrets: Vec::new(),
            api_base: None,
            webhook_max_age_secs: None,
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

    /// Refuses webhooks whose signed `created_at` is older than `seconds`.
    pub fn with_webhook_max_age_secs(mut self, seconds: u64) -> Self {
        self.webhook_max_age_secs = Some(seconds);
        self
    }

    /// A whole configuration that selects Creem with these settings.
    pub fn into_config(self) -> Config {
        Config::for_gateway(NAME, self)
    }

    /// Reads the `[creem]` section of `config` (unknown keys are errors).
    pub fn from_config(config: &Config) -> Result<CreemConfig, PaymentError> {
        config
            .gateway(NAME)
            .ok_or_else(|| {
                PaymentError::config(
                    "Creem is not configured: add a [creem] section with api_key, or set CREEM_API_KEY",
                )
            })?
            .settings(NAME)
    }
}

/// The API base for live keys (`creem_…`, `creem_live_…`).
pub const LIVE_API_BASE: &str = "https://api.creem.io";

/// The API base used when `api_base` is not configured: the live one. A test-mode key
/// ([`TEST_KEY_PREFIX`]) selects [`TEST_API_BASE`] instead; see [`api_base_for_key`].
pub const DEFAULT_API_BASE: &str = LIVE_API_BASE;

/// The API base for test-mode keys (`creem_test_…`); test and live data are fully separate.
pub const TEST_API_BASE: &str = "https://test-api.creem.io";

/// The prefix that marks a test-mode API key.
pub const TEST_KEY_PREFIX: &str = "creem_test_";

/// Chooses the API base a key belongs to: [`TEST_API_BASE`] for keys starting with
/// [`TEST_KEY_PREFIX`], [`LIVE_API_BASE`] for every other key.
///
/// ```
/// use payswitch_core::Secret;
/// use payswitch_creem::{api_base_for_key, TEST_API_BASE};
/// assert_eq!(api_base_for_key(&Secret::new("creem_test_abc")), TEST_API_BASE);
/// ```
pub fn api_base_for_key(api_key: &Secret) -> &'static str {
    // Creem's own CLI decides the same way; a live key sent to the test API is refused anyway.
    if api_key.expose().starts_with(TEST_KEY_PREFIX) {
        TEST_API_BASE
    } else {
        LIVE_API_BASE
    }
}

/// A configured base as `Debug` may show it: credentials (a proxy password) replaced.
pub(crate) fn base_for_display(base: &str) -> String {
    match url::Url::parse(base.trim()) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("redacted");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => base.to_owned(),
        Err(_) => "[not a URL]".to_owned(),
    }
}

/// The base URL to use, without a trailing slash: `api_base` when configured, else the one the
/// key's prefix selects. Also refuses keys that are empty or cannot go in an HTTP header.
pub(crate) fn resolve_api_base(creem: &CreemConfig) -> Result<String, PaymentError> {
    if creem.api_key.is_blank() {
        return Err(PaymentError::config(
            "creem.api_key (CREEM_API_KEY) is empty",
        ));
    }
    if !creem
        .api_key
        .expose()
        .bytes()
        .all(|byte| byte.is_ascii_graphic())
    {
        // Never quote the key: it would end up in a log.
        return Err(PaymentError::config(
            "creem.api_key (CREEM_API_KEY) contains spaces or characters an HTTP header cannot carry",
        ));
    }
    if creem.webhook_secrets.iter().any(Secret::is_blank) {
        // A blank secret turns webhook forgery into guessing.
        return Err(PaymentError::config(
            "creem.webhook_secrets (CREEM_WEBHOOK_SECRET) holds an empty or whitespace-only secret",
        ));
    }
    match &creem.api_base {
        Some(base) => check_api_base("creem.api_base (CREEM_API_BASE)", base),
        None => Ok(api_base_for_key(&creem.api_key).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_prefix_selects_the_base() {
        assert_eq!(
            api_base_for_key(&Secret::new("creem_test_1")),
            TEST_API_BASE
        );
        assert_eq!(
            api_base_for_key(&Secret::new("creem_live_1")),
            LIVE_API_BASE
        );
        assert_eq!(api_base_for_key(&Secret::new("creem_1")), LIVE_API_BASE);
    }

    #[test]
    fn an_explicit_base_wins_and_loses_its_trailing_slash() {
        let config = CreemConfig::new("creem_live_1").with_api_base("http://127.0.0.1:9/");
        assert_eq!(resolve_api_base(&config).unwrap(), "http://127.0.0.1:9");
    }

    #[test]
    fn bad_settings_are_refused_without_quoting_the_key() {
        let spaced = CreemConfig::new("creem_test_ secret");
        let error = resolve_api_base(&spaced).unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
        assert!(resolve_api_base(&CreemConfig::new(" ")).is_err());
        let no_host = CreemConfig::new("creem_test_1").with_api_base("file:///tmp");
        assert!(resolve_api_base(&no_host).is_err());
        let empty_secret = CreemConfig::new("creem_test_1").with_webhook_secret("");
        assert!(resolve_api_base(&empty_secret).is_err());
    }

    #[test]
    fn blank_secrets_and_bases_with_credentials_are_refused() {
        let blank = CreemConfig::new("creem_test_1").with_webhook_secret(" \t ");
        assert!(matches!(
            resolve_api_base(&blank),
            Err(PaymentError::Config(_))
        ));
        let with_password =
            CreemConfig::new("creem_test_1").with_api_base("https://user:hunter2@proxy.example");
        let error = resolve_api_base(&with_password).unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{error}");
        let with_query =
            CreemConfig::new("creem_test_1").with_api_base("https://proxy.example/?k=1");
        assert!(resolve_api_base(&with_query).is_err());
        let config =
            CreemConfig::new("creem_test_1").with_api_base("https://user:hunter2@proxy.example");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
