//! Choosing and configuring the gateway: the only part of the storefront that differs between
//! Stripe and Creem, and it is configuration, not code.
//!
//! With `STRIPE_SECRET_KEY` or `CREEM_API_KEY` in the environment the storefront uses the
//! real gateway, configured from the environment (and the TOML file `PAYSWITCH_CONFIG` names,
//! which holds the `[catalog]`). Otherwise it starts the payswitch sandbox in-process, seeds
//! it with the catalog's products (Creem products and Stripe prices, the two monthly plans
//! included, so a subscription can change plan), points its webhooks at
//! this storefront and writes the configuration a real deployment would have in a file.

use std::error::Error;
use std::sync::Arc;

use payswitch::{CheckoutProvider, Config, ProviderKind};
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, SandboxHandle};

use crate::catalog::{Billing, Offer, PlanIds, OFFERS};

/// The gateway the storefront runs on, and the sandbox behind it when there is one.
#[derive(Debug)]
pub struct Gateway {
    /// The provider the handlers use.
    pub provider: Arc<dyn CheckoutProvider>,
    /// The in-process sandbox; dropping it stops it, so it lives as long as the storefront.
    pub sandbox: Option<SandboxHandle>,
    /// The gateway's ids of the plans, to tell which offer a subscription is on.
    pub plans: PlanIds,
}

/// Whether real gateway keys are in the environment.
fn real_keys_present() -> bool {
    ["STRIPE_SECRET_KEY", "CREEM_API_KEY"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// Builds the gateway: `provider` (from `--provider` or `PAYSWITCH_PROVIDER`) picks Stripe or
/// Creem; `public_url` is where the sandbox sends webhooks.
pub async fn connect(provider: Option<&str>, public_url: &str) -> Result<Gateway, Box<dyn Error>> {
    if real_keys_present() {
        let mut config = payswitch::config_from_env()?;
        if let Some(provider) = provider {
            config.provider = Some(provider.to_owned());
        }
        let gateway = payswitch::from_config(&config)?;
        check_catalog(&config, gateway.kind())?;
        return Ok(Gateway {
            plans: PlanIds::from_catalog(&config.catalog, gateway.kind()),
            provider: gateway,
            sandbox: None,
        });
    }
    let provider = provider.unwrap_or("stripe");
    if !matches!(provider, "stripe" | "creem") {
        return Err(format!("unknown provider {provider:?}; use stripe or creem").into());
    }
    let webhooks = format!("{public_url}/webhooks");
    let sandbox = OFFERS
        .iter()
        .fold(Sandbox::builder(), |builder, offer| {
            builder
                .product(creem_product(offer))
                .price(stripe_price(offer))
        })
        .stripe_webhook_endpoint(webhooks.as_str())
        .creem_webhook_endpoint(webhooks.as_str())
        .start()
        .await?;
    let config = Config::from_toml_str(&sandbox_config(provider, &sandbox))?;
    let gateway = payswitch::from_config(&config)?;
    check_catalog(&config, gateway.kind())?;
    Ok(Gateway {
        plans: PlanIds::from_catalog(&config.catalog, gateway.kind()),
        provider: gateway,
        sandbox: Some(sandbox),
    })
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
/// gateways are configured; the first line alone decides which one runs.
fn sandbox_config(provider: &str, sandbox: &SandboxHandle) -> String {
    let mut toml = format!(
        "provider = {provider}\n\n\
         [stripe]\nsecret_key = {stripe_key}\nwebhook_secrets = [{stripe_webhook}]\n\
         api_base = {stripe_base}\n\n\
         [creem]\napi_key = {creem_key}\nwebhook_secrets = [{creem_webhook}]\n\
         api_base = {creem_base}\n",
        provider = quote(provider),
        stripe_key = quote(sandbox.stripe_secret_key()),
        stripe_webhook = quote(sandbox.stripe_webhook_secret()),
        stripe_base = quote(&sandbox.stripe_api_base()),
        creem_key = quote(sandbox.creem_api_key()),
        creem_webhook = quote(sandbox.creem_webhook_secret()),
        creem_base = quote(&sandbox.creem_api_base()),
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
