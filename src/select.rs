//! Runtime gateway selection from configuration.

use std::sync::Arc;

use payswitch_core::memory::MemoryProvider;
use payswitch_core::{CheckoutProvider, Config, PaymentError};

type Build = fn(&Config) -> Result<Arc<dyn CheckoutProvider>, PaymentError>;

/// A gateway payswitch knows by name; `build` is `None` when its feature is compiled out.
struct Gateway {
    name: &'static str,
    feature: Option<&'static str>,
    build: Option<Build>,
}

fn gateways() -> [Gateway; 4] {
    [
        Gateway {
            name: "stripe",
            feature: Some("stripe"),
            build: stripe(),
        },
        Gateway {
            name: "creem",
            feature: Some("creem"),
            build: creem(),
        },
        Gateway {
            name: "memory",
            feature: None,
            build: Some(|_| Ok(Arc::new(MemoryProvider::new()))),
        },
        Gateway {
            name: "router",
            feature: None,
            build: Some(|config| Ok(Arc::new(crate::router::Router::from_config(config)?))),
        },
    ]
}

#[cfg(feature = "stripe")]
fn stripe() -> Option<Build> {
    Some(|config| {
        Ok(Arc::new(payswitch_stripe::StripeProvider::from_config(
            config,
        )?))
    })
}

#[cfg(not(feature = "stripe"))]
fn stripe() -> Option<Build> {
    None
}

#[cfg(feature = "creem")]
fn creem() -> Option<Build> {
    Some(|config| {
        Ok(Arc::new(payswitch_creem::CreemProvider::from_config(
            config,
        )?))
    })
}

#[cfg(not(feature = "creem"))]
fn creem() -> Option<Build> {
    None
}

/// The gateway names [`from_config`] can build in this build (those whose features are on).
pub fn available_providers() -> Vec<&'static str> {
    gateways()
        .iter()
        .filter(|gateway| gateway.build.is_some())
        .map(|gateway| gateway.name)
        .collect()
}

/// Builds the gateway the configuration names, as a trait object the application keeps.
///
/// An unknown name lists the available gateways; a gateway whose Cargo feature is off names
/// the feature to enable; a gateway without its section (`[stripe]`, `[creem]`) says which
/// settings are missing.
pub fn from_config(config: &Config) -> Result<Arc<dyn CheckoutProvider>, PaymentError> {
    config.validate()?;
    select(config.provider_name()?, &gateways())?(config)
}

/// Builds the gateway from the environment: `PAYSWITCH_PROVIDER`, the gateway's key
/// variables and optionally `PAYSWITCH_CONFIG` (see [`Config::from_vars`]).
pub fn from_env() -> Result<Arc<dyn CheckoutProvider>, PaymentError> {
    from_config(&Config::from_env()?)
}

/// Builds one named gateway from the configuration (the router builds each of its gateways
/// this way).
pub(crate) fn build(
    name: &str,
    config: &Config,
) -> Result<Arc<dyn CheckoutProvider>, PaymentError> {
    if name == "router" {
        return Err(PaymentError::config(
            "a router cannot route to another router",
        ));
    }
    select(name, &gateways())?(config)
}

fn select(name: &str, table: &[Gateway]) -> Result<Build, PaymentError> {
    let wanted = name.trim().to_ascii_lowercase();
    let Some(gateway) = table.iter().find(|gateway| gateway.name == wanted) else {
        let available: Vec<&str> = table
            .iter()
            .filter(|gateway| gateway.build.is_some())
            .map(|gateway| gateway.name)
            .collect();
        return Err(PaymentError::config(format!(
            "unknown provider {name:?}; available providers: {}",
            available.join(", ")
        )));
    };
    gateway.build.ok_or_else(|| {
        PaymentError::config(format!(
            "provider {:?} is not compiled in; enable the Cargo feature `{}` of payswitch",
            gateway.name,
            gateway.feature.unwrap_or(gateway.name)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> [Gateway; 2] {
        [
            Gateway {
                name: "stripe",
                feature: Some("stripe"),
                build: None,
            },
            Gateway {
                name: "memory",
                feature: None,
                build: Some(|_| Ok(Arc::new(MemoryProvider::new()))),
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
}
