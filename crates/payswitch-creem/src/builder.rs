//! Building a [`CreemProvider`]: the builder, its checks, and [`CreemProvider::builder`] /
//! [`CreemProvider::from_config`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use payswitch_core::{Catalog, Clock, Config, HttpConfig, PaymentError, RetryConfig, SystemClock};

use crate::client::CreemClient;
use crate::config::{base_for_display, resolve_api_base, CreemConfig};
use crate::provider::{CreemProvider, WebhookSettings};

impl CreemProvider {
    /// Builds the provider from a payswitch [`Config`]: its `[creem]` section, `[http]`,
    /// `[retry]` and `[catalog]`.
    ///
    /// Fails with [`PaymentError::Config`] when there is no `[creem]` section (or
    /// `CREEM_API_KEY`), or when a setting is unusable.
    pub fn from_config(config: &Config) -> Result<CreemProvider, PaymentError> {
        Self::builder(CreemConfig::from_config(config)?)
            .http(config.http.clone())
            .retry(config.retry.clone())
            .catalog(config.catalog.clone())
            .build()
    }

    /// Builds the provider from the process environment (`CREEM_*` and `PAYSWITCH_*`
    /// variables; see [`ENV`](crate::ENV)).
    pub fn from_env() -> Result<CreemProvider, PaymentError> {
        Self::from_config(&Config::from_vars_with(std::env::vars(), &[&crate::ENV])?)
    }

    /// Starts a builder from Creem settings; HTTP, retry, catalog and clock have defaults.
    pub fn builder(creem: CreemConfig) -> CreemProviderBuilder {
        CreemProviderBuilder {
            webhook_max_age: creem.webhook_max_age_secs.map(Duration::from_secs),
            creem,
            http: HttpConfig::default(),
            retry: RetryConfig::default(),
            catalog: Catalog::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Builds a [`CreemProvider`]; see [`CreemProvider::builder`].
#[must_use]
pub struct CreemProviderBuilder {
    creem: CreemConfig,
    http: HttpConfig,
    retry: RetryConfig,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
    webhook_max_age: Option<Duration>,
}

impl fmt::Debug for CreemProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemProviderBuilder")
            .field(
                "api_base",
                &self.creem.api_base.as_deref().map(base_for_display),
            )
            .field("webhook_max_age", &self.webhook_max_age)
            .field("webhook_secrets", &self.creem.webhook_secrets.len())
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl CreemProviderBuilder {
    /// Sets the HTTP timeouts.
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Sets how often and how patiently requests are retried (which requests may be retried is
    /// fixed by Creem's lack of idempotency keys; see the crate docs).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the catalog that maps logical SKUs to Creem product ids.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Sets the clock (it reads HTTP-date `Retry-After` headers and measures webhook ages).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refuses webhooks whose signed `created_at` is older than `max_age` with
    /// `SignatureError::Expired` (opt-in; the `[creem]` key is `webhook_max_age_secs`).
    ///
    /// Creem signs no header timestamp, but its body's `created_at` is covered by the MAC, so
    /// a captured delivery stops verifying once it is older than this. Make it generous
    /// (days): Creem redelivers the same body for up to a day. Deduplicating on the event id
    /// is still required.
    pub fn webhook_max_age(mut self, max_age: Duration) -> Self {
        self.webhook_max_age = Some(max_age);
        self
    }

    /// Checks the settings and builds the provider with its one HTTP client.
    pub fn build(self) -> Result<CreemProvider, PaymentError> {
        let api_base = resolve_api_base(&self.creem)?;
        let client = CreemClient::new(
            api_base,
            self.creem.api_key.clone(),
            &self.http,
            self.retry,
            Arc::clone(&self.clock),
        )?;
        Ok(CreemProvider::from_parts(
            client,
            WebhookSettings {
                secrets: self.creem.webhook_secrets,
                max_age: self.webhook_max_age,
            },
            self.catalog,
            self.clock,
        ))
    }
}
