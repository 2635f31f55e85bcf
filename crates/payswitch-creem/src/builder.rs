//! Building a [`CreemProvider`]: the builder, its checks, and [`CreemProvider::builder`] /
//! [`CreemProvider::from_config`].

use std::fmt;
use std::sync::Arc;

use payswitch_core::{Catalog, Clock, Config, HttpConfig, PaymentError, RetryConfig, SystemClock};

use crate::client::CreemClient;
use crate::config::{resolve_api_base, CreemConfig};
use crate::provider::CreemProvider;

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
}

impl fmt::Debug for CreemProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemProviderBuilder")
            .field("api_base", &self.creem.api_base)
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

    /// Sets the clock (it reads HTTP-date `Retry-After` headers).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
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
            self.clock,
        )?;
        Ok(CreemProvider::from_parts(
            client,
            self.creem.webhook_secrets,
            self.catalog,
        ))
    }
}
