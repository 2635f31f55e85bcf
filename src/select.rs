//! Runtime gateway selection from configuration: THE table of gateways payswitch knows.
//!
//! This is the one place in the workspace that lists gateways by name. Each row names the
//! gateway, which is also its Cargo feature, its configuration section and its
//! `provider = "…"` value; when the feature is off the row stays, so the errors can say which
//! feature to enable. "Unknown provider" and "compiled out" both come from [`select`], so
//! they can never disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch_core::memory::MemoryProvider;
use payswitch_core::{CheckoutProvider, Config, GatewayEnv, PaymentError};

use crate::router::Router;

type Build = fn(&Config) -> Result<Arc<dyn CheckoutProvider>, PaymentError>;
type Check = fn(&Config) -> Result<(), PaymentError>;

/// A gateway payswitch knows by name.
struct Gateway {
    /// Its name: `provider = "name"`, its `[name]` section, its catalog key, its feature.
    name: &'static str,
    /// The Cargo feature that compiles it in, if it has one.
    feature: Option<&'static str>,
    /// How to build, check and configure it; `None` when its feature is off.
    compiled: Option<Compiled>,
}

/// What a compiled-in gateway offers the selection.
struct Compiled {
    build: Build,
    /// Reads its section, so typos in a section that is not selected are still errors.
    check: Option<Check>,
    /// Its environment variables.
    env: Option<&'static GatewayEnv>,
}

/// One row for a gateway crate: its name (also its feature) and its provider and settings
/// types. The row stays when the feature is off, so the error can name the feature.
macro_rules! gateway_crate {
    ($name:literal, $krate:ident, $provider:ident, $settings:ident) => {
        Gateway {
            name: $name,
            feature: Some($name),
            compiled: {
                #[cfg(feature = $name)]
                let compiled = Some(Compiled {
                    build: |config| Ok(Arc::new($krate::$provider::from_config(config)?)),
                    check: Some(|config| $krate::$settings::from_config(config).map(drop)),
                    env: Some(&$krate::ENV),
                });
                #[cfg(not(feature = $name))]
                let compiled = None;
                compiled
            },
        }
    };
}

/// Every gateway, in the order errors list them.
fn gateways() -> [Gateway; 4] {
    [
        gateway_crate!("stripe", payswitch_stripe, StripeProvider, StripeConfig),
        gateway_crate!("creem", payswitch_creem, CreemProvider, CreemConfig),
        Gateway {
            name: "memory",
            feature: None,
            compiled: Some(Compiled {
                build: |_| Ok(Arc::new(MemoryProvider::new())),
                check: None,
                env: None,
            }),
        },
        Gateway {
            name: "router",
            feature: None,
            compiled: Some(Compiled {
                build: |config| Ok(Arc::new(build_router(config)?)),
                check: None,
                env: None,
            }),
        },
    ]
}

/// The gateway names [`from_config`] can build in this build (those whose features are on).
pub fn available_providers() -> Vec<&'static str> {
    gateways()
        .iter()
        .filter(|gateway| gateway.compiled.is_some())
        .map(|gateway| gateway.name)
        .collect()
}

/// Builds the gateway the configuration names, as a trait object the application keeps.
///
/// The configuration is checked first ([`check_config`]). An unknown name lists the
/// available gateways; a gateway whose Cargo feature is off names the feature to enable; a
/// gateway without its section (`[stripe]`, `[creem]`) says which settings are missing.
pub fn from_config(config: &Config) -> Result<Arc<dyn CheckoutProvider>, PaymentError> {
    check_config(config)?;
    let table = gateways();
    let name = config
        .provider_name()
        .map_err(|error| match config.provider {
            // Nothing chose a gateway: say which ones there are.
            None if config.gateway_names().next().is_none() => PaymentError::config(format!(
                "no provider is set; set provider (or PAYSWITCH_PROVIDER) to one of: {}",
                available(&table).join(", ")
            )),
            _ => error,
        })?;
    check_memory_allowed(name, config)?;
    select(name, &table)?(config)
}

/// The in-memory gateway takes no payments: selecting it must be deliberate.
fn check_memory_allowed(name: &str, config: &Config) -> Result<(), PaymentError> {
    if name.trim().eq_ignore_ascii_case("memory") && !config.allow_memory {
        return Err(PaymentError::config(
            "provider \"memory\" takes no payments and is for tests; set allow_memory = true (or PAYSWITCH_ALLOW_MEMORY=true) to select it",
        ));
    }
    Ok(())
}

/// Builds the gateway from the environment: `PAYSWITCH_PROVIDER`, optionally
/// `PAYSWITCH_CONFIG`, and each compiled-in gateway's variables (see [`config_from_env`]).
pub fn from_env() -> Result<Arc<dyn CheckoutProvider>, PaymentError> {
    from_config(&config_from_env()?)
}

/// Reads the configuration from the process environment: `PAYSWITCH_CONFIG` (a TOML file),
/// `PAYSWITCH_PROVIDER`, and every compiled-in gateway's own variables (`STRIPE_SECRET_KEY`,
/// `CREEM_API_KEY`, … as each gateway crate declares them).
pub fn config_from_env() -> Result<Config, PaymentError> {
    config_from_vars(std::env::vars())
}

/// [`config_from_env`] over the given `NAME=value` pairs instead of the process environment.
pub fn config_from_vars<I, K, V>(vars: I) -> Result<Config, PaymentError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Config::from_vars_with(vars, &compiled_envs())
}

/// Applies the environment over a configuration the application read itself (say, with
/// [`Config::from_toml_section`] from its own file): `PAYSWITCH_PROVIDER`,
/// `PAYSWITCH_ALLOW_MEMORY` and every compiled-in gateway's variables (`STRIPE_SECRET_KEY`,
/// `CREEM_API_KEY`, …) override it, so secrets can stay out of the file.
///
/// ```no_run
/// let text = std::fs::read_to_string("app.toml")?;
/// let file = payswitch::Config::from_toml_section(&text, "payments")?;
/// let gateway = payswitch::from_config(&payswitch::config_with_env(file)?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn config_with_env(base: Config) -> Result<Config, PaymentError> {
    config_with_vars(base, std::env::vars())
}

/// [`config_with_env`] over the given `NAME=value` pairs instead of the process environment.
pub fn config_with_vars<I, K, V>(base: Config, vars: I) -> Result<Config, PaymentError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    base.with_vars(vars, &compiled_envs())
}

/// The environment variables of every compiled-in gateway.
fn compiled_envs() -> Vec<&'static GatewayEnv> {
    gateways()
        .iter()
        .filter_map(|gateway| gateway.compiled.as_ref()?.env)
        .collect()
}

/// Checks what only the gateway table can: every gateway section, catalog entry and router
/// gateway names a gateway payswitch knows, and each compiled-in gateway's section is
/// readable (unknown keys are errors), whether or not that gateway is selected.
pub fn check_config(config: &Config) -> Result<(), PaymentError> {
    config.validate()?;
    let table = gateways();
    let known = |name: &str| table.iter().any(|gateway| gateway.name == name);
    let known_list = || {
        table
            .iter()
            .filter(|gateway| gateway.name != "router")
            .map(|gateway| gateway.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for name in config.gateway_names() {
        if !known(name) || name == "router" || name == "memory" {
            return Err(PaymentError::config(format!(
                "unknown gateway section {}; known gateways: {}",
                shown(name),
                known_list()
            )));
        }
    }
    for (sku, gateway) in config.catalog.mappings() {
        if !known(gateway) || gateway == "router" {
            return Err(PaymentError::config(format!(
                "catalog: unknown gateway {} for SKU {}; known gateways: {}",
                shown(gateway),
                shown(sku),
                known_list()
            )));
        }
    }
    if let Some(router) = &config.router {
        for name in router.gateways() {
            if !known(name) || name == "router" {
                return Err(PaymentError::config(format!(
                    "router: unknown gateway {}; known gateways: {}",
                    shown(name),
                    known_list()
                )));
            }
        }
    }
    for gateway in &table {
        let check = gateway
            .compiled
            .as_ref()
            .and_then(|compiled| compiled.check);
        if let (Some(check), Some(_)) = (check, config.gateway(gateway.name)) {
            check(config)?;
        }
    }
    Ok(())
}

/// Builds a [`Router`] from `[router]`, building each gateway it names from the table.
fn build_router(config: &Config) -> Result<Router, PaymentError> {
    let router = config
        .router
        .clone()
        .ok_or_else(|| PaymentError::config("provider \"router\" needs a [router] section"))?;
    let table = gateways();
    let mut built = BTreeMap::new();
    for name in router.gateways() {
        if name == "router" {
            return Err(PaymentError::config(
                "a router cannot route to another router",
            ));
        }
        check_memory_allowed(name, config)?;
        built.insert(name.to_owned(), select(name, &table)?(config)?);
    }
    Router::new(router, built)
}

fn available(table: &[Gateway]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|gateway| gateway.compiled.is_some())
        .map(|gateway| gateway.name)
        .collect()
}

/// A name from the configuration as error messages show it: quoted when it looks like a
/// gateway name, withheld otherwise — a misplaced value may be a secret, and errors are logged.
fn shown(name: &str) -> String {
    let looks_like_a_name = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
        });
    if looks_like_a_name {
        format!("{name:?}")
    } else {
        "(a value that is not a gateway name)".to_owned()
    }
}

/// Finds `name` in the table: unknown names list what is available, compiled-out ones name
/// their feature.
fn select(name: &str, table: &[Gateway]) -> Result<Build, PaymentError> {
    let wanted = name.trim().to_ascii_lowercase();
    let Some(gateway) = table.iter().find(|gateway| gateway.name == wanted) else {
        return Err(PaymentError::config(format!(
            "unknown provider {}; available providers: {}",
            shown(&wanted),
            available(table).join(", ")
        )));
    };
    match &gateway.compiled {
        Some(compiled) => Ok(compiled.build),
        None => Err(PaymentError::config(format!(
            "provider {:?} is not compiled in; enable the Cargo feature `{}` of payswitch",
            gateway.name,
            gateway.feature.unwrap_or(gateway.name)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> [Gateway; 2] {
        [
            Gateway {
                name: "stripe",
                feature: Some("stripe"),
                compiled: None,
            },
            Gateway {
                name: "memory",
                feature: None,
                compiled: Some(Compiled {
                    build: |_| Ok(Arc::new(MemoryProvider::new())),
                    check: None,
                    env: None,
                }),
            },
        ]
    }

    #[test]
    fn a_compiled_out_gateway_names_its_feature() {
        match select("stripe", &table()) {
            Err(PaymentError::Config(message)) => assert_eq!(
                message,
                "provider \"stripe\" is not compiled in; enable the Cargo feature `stripe` of payswitch"
            ),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("selected a compiled-out gateway"),
        }
    }

    #[test]
    fn an_unknown_gateway_lists_the_available_ones() {
        match select("paypal", &table()) {
            Err(PaymentError::Config(message)) => {
                assert_eq!(
                    message,
                    "unknown provider \"paypal\"; available providers: memory"
                )
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("selected an unknown gateway"),
        }
    }

    #[test]
    fn names_are_case_insensitive() {
        assert!(select(" Memory ", &table()).is_ok());
    }

    #[test]
    fn each_compiled_gateway_crate_uses_its_row_name() {
        #[cfg(feature = "stripe")]
        assert_eq!(payswitch_stripe::NAME, "stripe");
        #[cfg(feature = "creem")]
        assert_eq!(payswitch_creem::NAME, "creem");
        #[cfg(feature = "stripe")]
        assert_eq!(payswitch_stripe::ENV.gateway, "stripe");
        #[cfg(feature = "creem")]
        assert_eq!(payswitch_creem::ENV.gateway, "creem");
    }
}
