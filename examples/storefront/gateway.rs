//! Choosing and configuring the gateway: the only part of the storefront that differs between
//! Stripe, Creem and a migration from one to the other, and it is configuration, not code.
//!
//! With `STRIPE_SECRET_KEY` or `CREEM_API_KEY` in the environment the storefront uses the
//! real gateway, configured from the environment (and the TOML file `PAYSWITCH_CONFIG` names,
//! which holds the `[catalog]`). Otherwise it uses the payswitch sandbox: started in-process,
//! seeded with the catalog's products (Creem products and Stripe prices, the two monthly
//! plans included, so a subscription can change plan) and pointed at this storefront's
//! webhook endpoint; or, with `--sandbox-url`, one already running (started with
//! `--sandbox-only`, so it holds the same catalog), which outlives a restart of the
//! storefront. Either way the configuration is written as the TOML a deployment would keep
//! in a file.
//!
//! In migration mode (`--migrate-from`) the configuration names both gateways and
//! `provider = "router"` with `[router] default = <new>, retiring = [<old>]`: new checkouts
//! go to the new gateway; everything the old one owns (open checkouts, subscriptions,
//! refunds, its webhooks and success redirects) keeps working through the same
//! `Arc<dyn CheckoutProvider>`.

use std::error::Error;
use std::sync::Arc;

use payswitch::{CheckoutProvider, Config, ProviderKind, RouterConfig};
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, SandboxError, SandboxHandle};

use crate::catalog::{Billing, Offer, PlanIds, OFFERS};

/// The gateways the storefront can run on.
const GATEWAYS: [&str; 2] = ["stripe", "creem"];

/// Which gateway to run on, as the command line says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice<'a> {
    /// The gateway new checkouts go to (default: `PAYSWITCH_PROVIDER`, else Stripe).
    pub provider: Option<&'a str>,
    /// The gateway being moved away from, for migration mode.
    pub migrate_from: Option<&'a str>,
    /// A running sandbox to use instead of starting one.
    pub sandbox_url: Option<&'a str>,
}

/// The gateway the storefront runs on, and the sandbox behind it when there is one.
#[derive(Debug)]
pub struct Gateway {
    /// The provider the handlers use (the router, in migration mode).
    pub provider: Arc<dyn CheckoutProvider>,
    /// The in-process sandbox; dropping it stops it, so it lives as long as the storefront.
    pub sandbox: Option<SandboxHandle>,
    /// The sandbox's base URL, in-process or not.
    pub sandbox_url: Option<String>,
    /// The gateways' ids of the plans, to tell which offer a subscription is on.
    pub plans: PlanIds,
    /// What the pages call the gateway.
    pub label: String,
    /// The gateway new checkouts go to.
    pub default: String,
}

/// The new gateway and, in migration mode, the old one, checked.
fn choose(
    choice: Choice<'_>,
    configured: Option<&str>,
) -> Result<(String, Option<String>), String> {
    let new = choice
        .provider
        .or(configured)
        .unwrap_or("stripe")
        .to_owned();
    let old = choice.migrate_from.map(str::to_owned);
    for name in std::iter::once(&new).chain(old.as_ref()) {
        if !GATEWAYS.contains(&name.as_str()) {
            return Err(format!("unknown provider {name:?}; use stripe or creem"));
        }
    }
    if old.as_ref() == Some(&new) {
        return Err(format!(
            "--migrate-from {new} names the gateway new checkouts go to; migrate to the other one with --provider"
        ));
    }
    Ok((new, old))
}

/// What the pages call the gateway: its name, or the migration.
fn label(new: &str, old: Option<&str>) -> String {
    match old {
        Some(old) => format!("{new} ({old} retiring)"),
        None => new.to_owned(),
    }
}

/// Whether real gateway keys are in the environment.
fn real_keys_present() -> bool {
    ["STRIPE_SECRET_KEY", "CREEM_API_KEY"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// Builds the gateway for `choice`; `public_url` is where an in-process sandbox sends
/// webhooks.
pub async fn connect(choice: Choice<'_>, public_url: &str) -> Result<Gateway, Box<dyn Error>> {
    if real_keys_present() && choice.sandbox_url.is_none() {
        let mut config = payswitch::config_from_env()?;
        let (new, old) = choose(choice, config.provider.as_deref())?;
        set_gateways(&mut config, &new, old.as_deref());
        return build(&config, &new, old.as_deref(), None, None);
    }
    let (new, old) = choose(choice, None)?;
    let (access, sandbox) = match choice.sandbox_url {
        Some(url) => (SandboxAccess::defaults(url.trim_end_matches('/')), None),
        None => {
            let sandbox = start_sandbox(0, &format!("{public_url}/webhooks")).await?;
            (SandboxAccess::of(&sandbox), Some(sandbox))
        }
    };
    let config = Config::from_toml_str(&sandbox_config(&new, old.as_deref(), &access))?;
    build(
        &config,
        &new,
        old.as_deref(),
        sandbox,
        Some(access.base_url),
    )
}

/// The provider, plans and label from a finished configuration.
fn build(
    config: &Config,
    new: &str,
    old: Option<&str>,
    sandbox: Option<SandboxHandle>,
    sandbox_url: Option<String>,
) -> Result<Gateway, Box<dyn Error>> {
    let provider = payswitch::from_config(config)?;
    let kinds: Vec<ProviderKind> = std::iter::once(new)
        .chain(old)
        .filter_map(ProviderKind::from_name)
        .collect();
    for kind in &kinds {
        check_catalog(config, *kind)?;
    }
    Ok(Gateway {
        plans: PlanIds::from_catalog(&config.catalog, &kinds),
        provider,
        sandbox,
        sandbox_url,
        label: label(new, old),
        default: new.to_owned(),
    })
}

/// Points a configuration at `new`, or at the router migrating from `old` to `new`.
fn set_gateways(config: &mut Config, new: &str, old: Option<&str>) {
    match old {
        Some(old) => {
            config.provider = Some("router".to_owned());
            config.router = Some(RouterConfig::migration(old, new));
        }
        None => config.provider = Some(new.to_owned()),
    }
}

/// Starts the sandbox seeded with the catalog, sending both gateways' webhooks to
/// `webhooks`, on 127.0.0.1:`port` (0: a free port).
pub async fn start_sandbox(port: u16, webhooks: &str) -> Result<SandboxHandle, SandboxError> {
    OFFERS
        .iter()
        .fold(Sandbox::builder(), |builder, offer| {
            builder
                .product(creem_product(offer))
                .price(stripe_price(offer))
        })
        .stripe_webhook_endpoint(webhooks)
        .creem_webhook_endpoint(webhooks)
        .port(port)
        .start()
        .await
}

/// Where a sandbox is and the keys it takes. These are a sandbox's, never a real gateway's.
struct SandboxAccess {
    base_url: String,
    stripe_key: String,
    stripe_webhook: String,
    creem_key: String,
    creem_webhook: String,
}

impl SandboxAccess {
    fn of(sandbox: &SandboxHandle) -> Self {
        Self {
            base_url: sandbox.base_url().to_owned(),
            stripe_key: sandbox.stripe_secret_key().to_owned(),
            stripe_webhook: sandbox.stripe_webhook_secret().to_owned(),
            creem_key: sandbox.creem_api_key().to_owned(),
            creem_webhook: sandbox.creem_webhook_secret().to_owned(),
        }
    }

    /// A sandbox started elsewhere with the default keys (as `--sandbox-only` starts it).
    fn defaults(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            stripe_key: payswitch_sandbox::DEFAULT_STRIPE_SECRET_KEY.to_owned(),
            stripe_webhook: payswitch_sandbox::DEFAULT_STRIPE_WEBHOOK_SECRET.to_owned(),
            creem_key: payswitch_sandbox::DEFAULT_CREEM_API_KEY.to_owned(),
            creem_webhook: payswitch_sandbox::DEFAULT_CREEM_WEBHOOK_SECRET.to_owned(),
        }
    }
}

/// The Stripe price id of an offer in the sandbox.
fn stripe_price_id(offer: &Offer) -> String {
    format!("price_storefront_{}", offer.sku)
}

/// The Creem product id of an offer in the sandbox.
fn creem_product_id(offer: &Offer) -> String {
    format!("prod_storefront_{}", offer.sku)
}

fn stripe_price(offer: &Offer) -> PriceSeed {
    let amount = offer.price.amount();
    let currency = offer.price.currency().lowercase();
    let seed = match offer.billing {
        Billing::OneTime => PriceSeed::one_time(offer.name, amount, &currency),
        Billing::Monthly => PriceSeed::recurring(offer.name, amount, &currency, "month"),
    };
    seed.with_id(&stripe_price_id(offer))
}

fn creem_product(offer: &Offer) -> ProductSeed {
    let amount = offer.price.amount();
    let currency = offer.price.currency().code().to_owned();
    let seed = match offer.billing {
        Billing::OneTime => ProductSeed::one_time(offer.name, amount, &currency),
        Billing::Monthly => ProductSeed::recurring(offer.name, amount, &currency, "every-month"),
    };
    seed.with_id(&creem_product_id(offer))
}

/// The configuration for the sandbox, as the TOML a deployment would keep in a file. Both
/// gateways are configured; the first lines alone decide which one runs, or that the router
/// runs both in migration.
fn sandbox_config(new: &str, old: Option<&str>, sandbox: &SandboxAccess) -> String {
    let choice = match old {
        Some(old) => format!(
            "provider = \"router\"\n\n[router]\ndefault = {new}\nretiring = [{old}]\n",
            new = quote(new),
            old = quote(old),
        ),
        None => format!("provider = {}\n", quote(new)),
    };
    let mut toml = format!(
        "{choice}\n\
         [stripe]\nsecret_key = {stripe_key}\nwebhook_secrets = [{stripe_webhook}]\n\
         api_base = {base}\n\n\
         [creem]\napi_key = {creem_key}\nwebhook_secrets = [{creem_webhook}]\n\
         api_base = {base}\n",
        stripe_key = quote(&sandbox.stripe_key),
        stripe_webhook = quote(&sandbox.stripe_webhook),
        creem_key = quote(&sandbox.creem_key),
        creem_webhook = quote(&sandbox.creem_webhook),
        base = quote(&sandbox.base_url),
    );
    for offer in &OFFERS {
        toml.push_str(&format!(
            "\n[catalog.{sku}]\nstripe = {price}\ncreem = {product}\n",
            sku = offer.sku,
            price = quote(&stripe_price_id(offer)),
            product = quote(&creem_product_id(offer)),
        ));
    }
    toml
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    let mut quoted = String::from("\"");
    for character in value.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            control if control.is_control() => {
                quoted.push_str(&format!("\\u{:04X}", u32::from(control)))
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Fails at start, not at the first customer's click, when a SKU has no id on the gateway.
fn check_catalog(config: &Config, kind: ProviderKind) -> Result<(), Box<dyn Error>> {
    if !matches!(kind, payswitch::stripe::KIND | payswitch::creem::KIND) {
        return Ok(());
    }
    let missing: Vec<&str> = OFFERS
        .iter()
        .map(|offer| offer.sku)
        .filter(|sku| config.catalog.resolve(sku, kind).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the catalog has no {kind} id for {}; add [catalog.SKU] {kind} = \"…\" entries to the \
         TOML file named by PAYSWITCH_CONFIG",
        missing.join(", ")
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        let pick = |provider, migrate_from| {
            choose(
                Choice {
                    provider,
                    migrate_from,
                    sandbox_url: None,
                },
                None,
            )
        };
        assert_eq!(pick(None, None), Ok(("stripe".into(), None)));
        assert_eq!(
            pick(Some("creem"), Some("stripe")),
            Ok(("creem".into(), Some("stripe".into())))
        );
        assert!(pick(Some("stripe"), Some("stripe")).is_err());
        assert!(pick(Some("paypal"), None).is_err());
        assert!(pick(Some("creem"), Some("paypal")).is_err());
        assert_eq!(label("creem", Some("stripe")), "creem (stripe retiring)");
    }

    #[test]
    fn the_migration_configuration_routes_new_checkouts_to_the_new_gateway() {
        let access = SandboxAccess::defaults("http://127.0.0.1:1");
        let config =
            Config::from_toml_str(&sandbox_config("creem", Some("stripe"), &access)).expect("toml");
        assert_eq!(config.provider.as_deref(), Some("router"));
        let router = config.router.expect("[router]");
        assert_eq!(router.default, "creem");
        assert_eq!(router.retiring, ["stripe"]);
        let single = Config::from_toml_str(&sandbox_config("creem", None, &access)).expect("toml");
        assert_eq!(single.provider.as_deref(), Some("creem"));
    }
}
