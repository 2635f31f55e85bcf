//! Configuration: which gateway runs, the settings every gateway shares (HTTP, retry, the
//! catalog, the router), and each gateway's own section, kept as opaque data for that
//! gateway's crate to read.
//!
//! ```toml
//! provider = "stripe"            # switching gateway is this one line
//!
//! [http]
//! timeout_secs = 30
//!
//! [retry]
//! max_retries = 2
//!
//! [stripe]                       # a gateway section: read by that gateway's crate alone
//! secret_key = "sk_test_..."
//! webhook_secrets = ["whsec_..."]
//!
//! [catalog.pro_monthly]
//! stripe = "price_1Pro"
//! ```
//!
//! Core knows no gateway by name. A gateway crate reads its section with
//! [`GatewaySection::settings`] (unknown keys are errors there) and declares its environment
//! variables as a [`GatewayEnv`]; the facade's selection checks that every section and
//! catalog entry names a gateway it knows.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::catalog::Catalog;
use crate::error::PaymentError;
use crate::money::Currency;
use crate::retry::RetryConfig;

/// The top-level keys core reads itself; every other top-level table is a gateway section.
const SHARED_KEYS: [&str; 6] = [
    "provider",
    "allow_memory",
    "http",
    "retry",
    "catalog",
    "router",
];

/// The whole payswitch configuration.
///
/// `Debug` never shows a gateway section's values, so secrets never print.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Config {
    /// The gateway to use, by name (`"memory"`, or a gateway crate's name such as
    /// `"stripe"`). When absent and exactly one gateway section is present, that gateway is
    /// used.
    pub provider: Option<String>,
    /// Allows `provider = "memory"` (and a router over it): the in-memory gateway takes no
    /// payments, so selecting it must be deliberate (`allow_memory = true`, or
    /// `PAYSWITCH_ALLOW_MEMORY=true`), never a typo away in production.
    pub allow_memory: bool,
    /// HTTP client settings shared by the adapters.
    pub http: HttpConfig,
    /// Retry settings shared by the adapters.
    pub retry: RetryConfig,
    /// Logical SKUs mapped to each gateway's product or price id.
    pub catalog: Catalog,
    /// Rules for `provider = "router"`: several gateways, chosen per request.
    pub router: Option<RouterConfig>,
    gateways: BTreeMap<String, GatewaySection>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("provider", &self.provider)
            .field("allow_memory", &self.allow_memory)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .field("catalog", &self.catalog)
            .field("router", &self.router)
            .field("gateways", &self.gateways)
            .finish()
    }
}

impl Config {
    /// A configuration that selects gateway `name` with these settings (a gateway crate's
    /// settings type, which its `from_config` reads back).
    pub fn for_gateway<T>(name: &str, settings: T) -> Self
    where
        T: Any + fmt::Debug + Clone + Send + Sync,
    {
        let mut config = Self {
            provider: Some(name.to_owned()),
            ..Self::default()
        };
        config.set_gateway(name, GatewaySection::from_settings(settings));
        config
    }

    /// Parses TOML; unknown keys are errors. The result is validated.
    ///
    /// A syntax error names the line and column, never the line's text, which may hold a
    /// secret.
    pub fn from_toml_str(text: &str) -> Result<Self, PaymentError> {
        let table = parse_table(text)?;
        let config = Self::from_table(table)?;
        config.validate()?;
        Ok(config)
    }

    fn from_table(table: toml::Table) -> Result<Self, PaymentError> {
        let mut config = Self::default();
        for (key, value) in table {
            match key.as_str() {
                "provider" => config.provider = Some(shared("provider", value)?),
                "allow_memory" => config.allow_memory = shared("allow_memory", value)?,
                "http" => config.http = shared("[http]", value)?,
                "retry" => config.retry = shared("[retry]", value)?,
                "catalog" => config.catalog = shared("[catalog]", value)?,
                "router" => config.router = Some(shared("[router]", value)?),
                _ => match value {
                    toml::Value::Table(section) => {
                        config
                            .gateways
                            .insert(key, GatewaySection::from_table(section));
                    }
                    _ => {
                        return Err(PaymentError::config(format!(
                        "unknown key {key:?}; the top level holds {} and gateway sections ([name])",
                        SHARED_KEYS.join(", ")
                    )))
                    }
                },
            }
        }
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

    /// Builds the configuration from the process environment's `PAYSWITCH_*` variables; see
    /// [`Config::from_vars_with`] for gateways' own variables.
    pub fn from_env() -> Result<Self, PaymentError> {
        Self::from_vars(std::env::vars())
    }

    /// Builds the configuration from `PAYSWITCH_*` pairs only; see [`Config::from_vars_with`].
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, PaymentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self::from_vars_with(vars, &[])
    }

    /// Builds the configuration from `NAME=value` pairs (the process environment, or a test's
    /// own pairs), reading each gateway's variables as its [`GatewayEnv`] declares.
    ///
    /// `PAYSWITCH_CONFIG` names a TOML file to start from; `PAYSWITCH_PROVIDER`,
    /// `PAYSWITCH_ALLOW_MEMORY` and the gateways' variables override it. List variables hold several values separated by
    /// commas (secret rotation). Empty variables count as unset. Only the variables named
    /// here are kept.
    pub fn from_vars_with<I, K, V>(vars: I, gateways: &[&GatewayEnv]) -> Result<Self, PaymentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = wanted_vars(vars, gateways);
        let get = |name: &str| vars.get(name).map(|value| value.trim().to_owned());
        let config = match get("PAYSWITCH_CONFIG") {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.overlaid(&get, gateways)
    }

    /// Applies environment variables over this configuration (one read from the
    /// application's own file, say): `PAYSWITCH_PROVIDER`, `PAYSWITCH_ALLOW_MEMORY` and each
    /// gateway's variables as its [`GatewayEnv`] declares, so secrets can stay in the
    /// environment. `PAYSWITCH_CONFIG` is not read here. Empty variables count as unset.
    ///
    /// ```
    /// use payswitch_core::Config;
    /// let file = Config::from_toml_str("provider = \"memory\"\nallow_memory = true").unwrap();
    /// let config = file.with_vars([("PAYSWITCH_PROVIDER", "acme")], &[]).unwrap();
    /// assert_eq!(config.provider.as_deref(), Some("acme"));
    /// ```
    pub fn with_vars<I, K, V>(self, vars: I, gateways: &[&GatewayEnv]) -> Result<Self, PaymentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = wanted_vars(vars, gateways);
        let get = |name: &str| vars.get(name).map(|value| value.trim().to_owned());
        self.overlaid(&get, gateways)
    }

    fn overlaid(
        mut self,
        get: &dyn Fn(&str) -> Option<String>,
        gateways: &[&GatewayEnv],
    ) -> Result<Self, PaymentError> {
        if let Some(provider) = get("PAYSWITCH_PROVIDER") {
            self.provider = Some(provider.to_ascii_lowercase());
        }
        if let Some(allow) = get("PAYSWITCH_ALLOW_MEMORY") {
            self.allow_memory = match allow.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(PaymentError::config(
                        "PAYSWITCH_ALLOW_MEMORY must be true or false",
                    ))
                }
            };
        }
        for env in gateways {
            env.apply(get, &mut self)?;
        }
        self.validate()?;
        Ok(self)
    }

    /// Reads payswitch's configuration from one section of the application's own TOML file
    /// (`[payments]`, with `[payments.stripe]`, `[payments.catalog.pro]`, …); the rest of the
    /// file is the application's and is not looked at. Unknown keys inside the section are
    /// errors, as in a file of its own.
    ///
    /// ```
    /// use payswitch_core::Config;
    /// let app_file = r#"
    ///     [server]
    ///     port = 8080
    ///
    ///     [payments]
    ///     provider = "memory"
    ///     allow_memory = true
    /// "#;
    /// let config = Config::from_toml_section(app_file, "payments").unwrap();
    /// assert_eq!(config.provider.as_deref(), Some("memory"));
    /// ```
    pub fn from_toml_section(text: &str, section: &str) -> Result<Self, PaymentError> {
        let mut table = parse_table(text)?;
        let inner = match table.remove(section) {
            Some(toml::Value::Table(inner)) => inner,
            Some(_) => {
                return Err(PaymentError::config(format!(
                    "[{section}] must be a table of payswitch settings"
                )))
            }
            None => {
                return Err(PaymentError::config(format!(
                    "the file has no [{section}] section"
                )))
            }
        };
        let config = Self::from_table(inner)
            .map_err(|error| PaymentError::config(format!("[{section}]: {error}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The name of the gateway to use: `provider` when set, else the only gateway section.
    pub fn provider_name(&self) -> Result<&str, PaymentError> {
        if let Some(name) = &self.provider {
            return Ok(name);
        }
        let mut names = self.gateways.keys();
        match (names.next(), names.next()) {
            (Some(name), None) => Ok(name),
            (Some(_), Some(_)) => Err(PaymentError::config(format!(
                "several gateways are configured ({}); set provider to choose one",
                self.gateways
                    .keys()
                    .map(|name| format!("[{name}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            (None, _) => Err(PaymentError::config(
                "no provider is set; set provider (or PAYSWITCH_PROVIDER)",
            )),
        }
    }

    /// The section of gateway `name` (`[name]` in TOML), if present.
    pub fn gateway(&self, name: &str) -> Option<&GatewaySection> {
        self.gateways.get(name)
    }

    /// Sets (or replaces) the section of gateway `name`.
    pub fn set_gateway(&mut self, name: &str, section: GatewaySection) {
        self.gateways.insert(name.to_owned(), section);
    }

    /// The names of the gateway sections present, in order.
    pub fn gateway_names(&self) -> impl Iterator<Item = &str> {
        self.gateways.keys().map(String::as_str)
    }

    /// Checks what core can check without knowing gateways: retry bounds and the router's
    /// rules.
    pub fn validate(&self) -> Result<(), PaymentError> {
        self.retry.validate()?;
        if let Some(router) = &self.router {
            router.validate()?;
        }
        Ok(())
    }
}

/// Deserializes one of core's own top-level entries, naming it in the error.
fn shared<T: DeserializeOwned>(what: &str, value: toml::Value) -> Result<T, PaymentError> {
    value.try_into().map_err(|error: toml::de::Error| {
        PaymentError::config(format!(
            "{what}: {}",
            without_odd_names(&without_values(error.message()))
        ))
    })
}

/// A deserializer's message without the offending value: serde writes `invalid type: string
/// "whsec_…", expected a sequence`, and the value may be a secret in the wrong place. Keeps
/// the kind of value (`string`) and the expectation.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or_default();
            let expected = rest.find(", expected ").map_or("", |at| &rest[at..]);
            return format!("{prefix}{kind}{expected}");
        }
    }
    message.to_owned()
}

/// A message with every quoted or backquoted text that does not look like a configuration
/// key or a currency code (short; lower-case letters, digits, `_`, `-`, `.`, or an upper-case
/// three-letter code) withheld: a malformed line can put a value, perhaps a secret, where a
/// key or a code belongs.
fn without_odd_names(message: &str) -> String {
    let harmless = |text: &str| {
        text.len() <= 32
            && (text.bytes().all(|byte| {
                byte.is_ascii_lowercase()
                    || byte.is_ascii_digit()
                    || matches!(byte, b'_' | b'-' | b'.' | b'[' | b']')
            }) || (text.len() == 3 && text.bytes().all(|byte| byte.is_ascii_uppercase())))
    };
    let mut shown = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            shown.push(c);
            continue;
        }
        // A quoted text runs to the matching quote; `\` escapes the next character. An
        // unclosed quote runs to the end.
        let mut quoted = String::new();
        let mut escaped = false;
        for inner in chars.by_ref() {
            if escaped {
                quoted.push(inner);
                escaped = false;
            } else if inner == '\\' {
                escaped = true;
            } else if inner == c {
                break;
            } else {
                quoted.push(inner);
            }
        }
        shown.push(c);
        shown.push_str(if harmless(&quoted) { &quoted } else { "…" });
        shown.push(c);
    }
    shown
}

/// The `NAME=value` pairs payswitch reads: `PAYSWITCH_*` and the gateways' declared
/// variables, without empty values.
fn wanted_vars<I, K, V>(vars: I, gateways: &[&GatewayEnv]) -> BTreeMap<String, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let wanted = |name: &str| {
        name.starts_with("PAYSWITCH_")
            || gateways
                .iter()
                .any(|env| env.vars.iter().any(|var| var.name == name))
    };
    vars.into_iter()
        .map(|(key, value)| (key.into(), value.into()))
        .filter(|(key, value)| wanted(key) && !value.trim().is_empty())
        .collect()
}

/// Parses TOML text; a syntax error names the line and column, never the line's text, which
/// may hold a secret.
fn parse_table(text: &str) -> Result<toml::Table, PaymentError> {
    text.parse().map_err(|error: toml::de::Error| {
        PaymentError::config(format!(
            "invalid TOML configuration{}: {}",
            position(text, error.span()),
            without_odd_names(&without_values(error.message()))
        ))
    })
}

/// ` at line L, column C` for a byte span of `text`, or nothing.
fn position(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    format!(" at line {line}, column {column}")
}

/// One gateway's section of the configuration, opaque to core: a TOML table read from a file
/// or the environment, or a gateway crate's own settings value.
///
/// `Debug` shows the keys and never the values.
#[derive(Clone)]
pub struct GatewaySection(SectionData);

#[derive(Clone)]
enum SectionData {
    Table(toml::Table),
    Settings(Arc<dyn AnySettings>),
}

/// A gateway's settings value held behind `dyn`; its own `Debug` redacts its secrets.
trait AnySettings: Any + fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any + fmt::Debug + Send + Sync> AnySettings for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl fmt::Debug for GatewaySection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SectionData::Table(table) => f
                .debug_map()
                .entries(table.keys().map(|key| (key, Redacted)))
                .finish(),
            SectionData::Settings(settings) => (**settings).fmt(f),
        }
    }
}

struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl GatewaySection {
    /// A section read from TOML.
    pub fn from_table(table: toml::Table) -> Self {
        Self(SectionData::Table(table))
    }

    /// A section holding a gateway crate's settings value.
    pub fn from_settings<T: Any + fmt::Debug + Clone + Send + Sync>(settings: T) -> Self {
        Self(SectionData::Settings(Arc::new(settings)))
    }

    /// The section as gateway `gateway`'s settings type `T`: deserialized from TOML (unknown
    /// keys are errors when `T` denies them) or, for a section built from a `T`, a copy.
    pub fn settings<T>(&self, gateway: &str) -> Result<T, PaymentError>
    where
        T: DeserializeOwned + Any + Clone,
    {
        match &self.0 {
            SectionData::Table(table) => {
                toml::Value::Table(table.clone())
                    .try_into()
                    .map_err(|error: toml::de::Error| {
                        PaymentError::config(format!(
                            "[{gateway}]: {}",
                            without_odd_names(&without_values(error.message()))
                        ))
                    })
            }
            // `(**settings)`: the `Arc` itself would also match the blanket impl.
            SectionData::Settings(settings) => (**settings)
                .as_any()
                .downcast_ref::<T>()
                .cloned()
                .ok_or_else(|| {
                    PaymentError::config(format!(
                        "[{gateway}] holds another gateway's settings type"
                    ))
                }),
        }
    }

    /// Sets `key` to `value` in a TOML section (how environment variables override a file).
    fn set(&mut self, gateway: &str, key: &str, value: toml::Value) -> Result<(), PaymentError> {
        match &mut self.0 {
            SectionData::Table(table) => {
                table.insert(key.to_owned(), value);
                Ok(())
            }
            SectionData::Settings(_) => Err(PaymentError::config(format!(
                "[{gateway}] was built in code; environment variables cannot change it"
            ))),
        }
    }
}

/// The environment variables of one gateway, declared by its crate and applied by
/// [`Config::from_vars_with`].
///
/// The first variable is the one that enables the gateway (its API key): when it is set the
/// gateway's section is created if absent; the others only change a section that exists.
#[derive(Debug, Clone, Copy)]
pub struct GatewayEnv {
    /// The gateway's name, which is also its section's (`[name]`).
    pub gateway: &'static str,
    /// The variables, the enabling one first.
    pub vars: &'static [EnvVar],
}

/// One environment variable and the section key it sets.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// The key it sets in the gateway's section.
    pub key: &'static str,
    /// Whether the value is one string or a comma-separated list.
    pub form: EnvForm,
}

/// How an environment variable's value becomes a section value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvForm {
    /// One string.
    Text,
    /// A list of strings separated by commas, blanks dropped.
    List,
}

impl GatewayEnv {
    fn apply(
        &self,
        get: &dyn Fn(&str) -> Option<String>,
        config: &mut Config,
    ) -> Result<(), PaymentError> {
        let Some((enabling, others)) = self.vars.split_first() else {
            return Ok(());
        };
        if let Some(value) = get(enabling.name) {
            let section = config
                .gateways
                .entry(self.gateway.to_owned())
                .or_insert_with(|| GatewaySection::from_table(toml::Table::new()));
            section.set(self.gateway, enabling.key, enabling.form.value(&value))?;
        }
        for var in others {
            let Some(value) = get(var.name) else { continue };
            let Some(section) = config.gateways.get_mut(self.gateway) else {
                return Err(PaymentError::config(format!(
                    "{} is set but {} is not",
                    var.name, enabling.name
                )));
            };
            section.set(self.gateway, var.key, var.form.value(&value))?;
        }
        Ok(())
    }
}

impl EnvForm {
    fn value(self, text: &str) -> toml::Value {
        match self {
            EnvForm::Text => toml::Value::String(text.to_owned()),
            EnvForm::List => toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| toml::Value::String(part.to_owned()))
                    .collect(),
            ),
        }
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

/// How a router picks a gateway per request (`[router]` in TOML).
///
/// ```toml
/// provider = "router"
///
/// [router]
/// default = "stripe"
/// failover = ["creem"]          # tried when the chosen gateway provably created nothing
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
///
/// Moving from one gateway to another (migration mode): new checkouts go to `default`, and
/// the `retiring` gateways stay live for everything they already own.
///
/// ```toml
/// provider = "router"
///
/// [router]
/// default = "creem"
/// retiring = ["stripe"]           # no new checkouts; its checkouts, subscriptions, customers,
///                                 # webhooks and success redirects keep working
/// keep_returning_customers = true # a customer Stripe already knows keeps buying there
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// The gateway used when no rule matches.
    pub default: String,
    /// Gateways tried in order when the chosen one fails in a way that proves it created
    /// nothing (unreachable, or rate limited): see `PaymentError::proves_nothing_created`.
    #[serde(default)]
    pub failover: Vec<String>,
    /// Rules tried in order; the first whose conditions all match picks the gateway.
    #[serde(default)]
    pub rules: Vec<RouteRule>,
    /// Gateways being moved away from: no rule, default or failover may send them a new
    /// checkout, and they stay live for everything they already own (follow-up and lifecycle
    /// calls, webhooks, success redirects). See `docs/switching-gateways.md`.
    #[serde(default)]
    pub retiring: Vec<String>,
    /// In migration: a checkout for a customer a retiring gateway already knows goes to that
    /// gateway — by `customer_id`, and by `customer_email` (one customer lookup per retiring
    /// gateway per checkout). A `customer_id` always goes to the gateway that issued it,
    /// since no other gateway knows it; this setting adds the email lookup.
    #[serde(default)]
    pub keep_returning_customers: bool,
}

impl RouterConfig {
    /// A router that sends every checkout to `default`.
    pub fn new(default: impl Into<String>) -> Self {
        Self {
            default: default.into(),
            ..Self::default()
        }
    }

    /// Migration mode: new checkouts go to `to`; `from` stays live for what it owns, and keeps
    /// its returning customers.
    ///
    /// ```
    /// use payswitch_core::RouterConfig;
    /// let migration = RouterConfig::migration("stripe", "creem");
    /// assert_eq!(migration.gateways(), ["creem", "stripe"]);
    /// assert!(migration.validate().is_ok());
    /// ```
    pub fn migration(from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            default: to.into(),
            retiring: vec![from.into()],
            keep_returning_customers: true,
            ..Self::default()
        }
    }

    /// Every gateway the router may use: the default, rule targets, failovers and retiring
    /// gateways, once each.
    pub fn gateways(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let all = std::iter::once(self.default.as_str())
            .chain(self.rules.iter().map(|rule| rule.gateway.as_str()))
            .chain(self.failover.iter().map(String::as_str))
            .chain(self.retiring.iter().map(String::as_str));
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Checks that every rule has a condition, that percentages are at most 100, and that no
    /// retiring gateway can get new checkouts.
    ///
    /// Gateway names are checked where gateways are known: by the facade's selection.
    pub fn validate(&self) -> Result<(), PaymentError> {
        for retiring in &self.retiring {
            let named = std::iter::once(&self.default)
                .chain(self.rules.iter().map(|rule| &rule.gateway))
                .chain(self.failover.iter())
                .any(|name| name == retiring);
            if named {
                return Err(PaymentError::config(format!(
                    "router: {retiring:?} is retiring, so the default, a rule or failover cannot send it new checkouts"
                )));
            }
        }
        if self.keep_returning_customers && self.retiring.is_empty() {
            return Err(PaymentError::config(
                "router.keep_returning_customers needs a retiring gateway",
            ));
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
    pub currencies: Option<Vec<Currency>>,
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
