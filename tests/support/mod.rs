//! Shared set-up for the facade's end-to-end tests: a sandbox, a webhook inbox, provider
//! configurations pointing at them, and a conformance customer that pays on the sandbox.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use payswitch::conformance::{Customer, Fixtures, Payment, Target, Webhook};
use payswitch::creem::CreemConfig;
use payswitch::stripe::StripeConfig;
use payswitch::{
    CheckoutResult, Config, Currency, LineItem, Money, PaymentError, ProviderKind, RetryConfig,
};
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, SandboxHandle, WebhookInbox};

/// The Creem product the sandbox sells in these tests, and its catalog SKU.
pub const CREEM_PRODUCT: &str = "prod_conformance";
/// The Stripe price the sandbox sells for the same SKU.
pub const STRIPE_PRICE: &str = "price_conformance";
/// The logical SKU mapped to [`CREEM_PRODUCT`] and [`STRIPE_PRICE`].
pub const SKU: &str = "conformance_item";
/// What one unit costs.
pub const PRICE: Money = Money::new(1999, Currency::USD);
/// The monthly plans the lifecycle cases subscribe to and switch between, as logical SKUs
/// mapped to [`STRIPE_PLANS`] and [`CREEM_PLANS`].
pub const PLAN_SKUS: [&str; 2] = ["plan_basic_monthly", "plan_pro_monthly"];
/// The Stripe prices of [`PLAN_SKUS`].
pub const STRIPE_PLANS: [&str; 2] = ["price_basic_monthly", "price_pro_monthly"];
/// The Creem products of [`PLAN_SKUS`].
pub const CREEM_PLANS: [&str; 2] = ["prod_basic_monthly", "prod_pro_monthly"];
/// What the plans cost per month.
pub const PLAN_PRICES: [i64; 2] = [900, 2900];

/// The gateways the sandbox emulates. Every gateway-specific detail of these tests is in a
/// `match` on this enum, with no `_` arm, so a new gateway is listed by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    Stripe,
    Creem,
}

impl Gateway {
    /// The gateway crate's kind.
    pub fn kind(self) -> ProviderKind {
        match self {
            Gateway::Stripe => payswitch::stripe::KIND,
            Gateway::Creem => payswitch::creem::KIND,
        }
    }

    /// The event the gateway sends when a checkout is paid.
    pub fn completed_event(self) -> &'static str {
        match self {
            Gateway::Stripe => "checkout.session.completed",
            Gateway::Creem => "checkout.completed",
        }
    }

    /// A subscription id in the gateway's format that the sandbox never issued.
    pub fn unknown_subscription_id(self) -> &'static str {
        match self {
            Gateway::Stripe => "sub_doesnotexist0000000000",
            Gateway::Creem => "sub_doesnotexist000000000",
        }
    }

    /// A checkout id in the gateway's format that the sandbox never issued.
    pub fn unknown_checkout_id(self) -> &'static str {
        match self {
            Gateway::Stripe => "cs_test_doesnotexist0000000000",
            Gateway::Creem => "ch_doesnotexist000000000",
        }
    }

    /// The line item the conformance suite sells: Creem sells catalog products only.
    pub fn one_time_item(self) -> LineItem {
        match self {
            Gateway::Stripe => LineItem::custom("Conformance item", PRICE, 1),
            Gateway::Creem => LineItem::sku(SKU, 1),
        }
    }
}

/// A running sandbox with a webhook inbox registered for both gateways.
#[derive(Clone)]
pub struct Env {
    pub sandbox: Arc<SandboxHandle>,
    pub inbox: Arc<WebhookInbox>,
}

impl Env {
    pub async fn start() -> Env {
        let inbox = WebhookInbox::start().await.expect("inbox");
        let mut builder = Sandbox::builder()
            .stripe_webhook_endpoint(inbox.url())
            .creem_webhook_endpoint(inbox.url())
            .product(
                ProductSeed::one_time("Conformance item", PRICE.amount(), "USD")
                    .with_id(CREEM_PRODUCT),
            )
            .price(
                PriceSeed::one_time("Conformance item", PRICE.amount(), "usd")
                    .with_id(STRIPE_PRICE),
            );
        for index in 0..PLAN_SKUS.len() {
            builder = builder
                .product(
                    ProductSeed::recurring(
                        PLAN_SKUS[index],
                        PLAN_PRICES[index],
                        "USD",
                        "every-month",
                    )
                    .with_id(CREEM_PLANS[index]),
                )
                .price(
                    PriceSeed::recurring(PLAN_SKUS[index], PLAN_PRICES[index], "usd", "month")
                        .with_id(STRIPE_PLANS[index]),
                );
        }
        let sandbox = builder.start().await.expect("sandbox");
        Env {
            sandbox: Arc::new(sandbox),
            inbox: Arc::new(inbox),
        }
    }

    /// The configuration of one gateway on this sandbox; tests never sleep between retries.
    pub fn config(&self, gateway: Gateway) -> Config {
        let mut config = match gateway {
            Gateway::Stripe => StripeConfig::new(self.sandbox.stripe_secret_key())
                .with_api_base(self.sandbox.stripe_api_base())
                .with_webhook_secret(self.sandbox.stripe_webhook_secret())
                .into_config(),
            Gateway::Creem => CreemConfig::new(self.sandbox.creem_api_key())
                .with_api_base(self.sandbox.creem_api_base())
                .with_webhook_secret(self.sandbox.creem_webhook_secret())
                .into_config(),
        };
        config.retry = RetryConfig::immediate(2);
        config
            .catalog
            .insert(SKU, payswitch::creem::KIND, CREEM_PRODUCT);
        config
            .catalog
            .insert(SKU, payswitch::stripe::KIND, STRIPE_PRICE);
        for index in 0..PLAN_SKUS.len() {
            config
                .catalog
                .insert(PLAN_SKUS[index], payswitch::creem::KIND, CREEM_PLANS[index]);
            config.catalog.insert(
                PLAN_SKUS[index],
                payswitch::stripe::KIND,
                STRIPE_PLANS[index],
            );
        }
        config
    }

    /// Every webhook the inbox received, oldest first.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.inbox
            .received()
            .into_iter()
            .map(|hook| Webhook {
                headers: header_map(&hook.headers),
                body: hook.body,
            })
            .collect()
    }

    /// Waits for the webhook of `event_type` about checkout `id` and returns it.
    pub async fn webhook_for(
        &self,
        id: &str,
        event_type: &str,
    ) -> Result<(http::HeaderMap, Vec<u8>), PaymentError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.inbox.received().into_iter().find(|hook| {
                let text = hook.body_text();
                text.contains(id) && text.contains(&format!("\"{event_type}\""))
            });
            if let Some(hook) = found {
                return Ok((header_map(&hook.headers), hook.body));
            }
            if Instant::now() > deadline {
                return Err(PaymentError::Timeout { attempts: 1 });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Headers recorded as (name, value) pairs, as an `http::HeaderMap`.
fn header_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// Plays the customer on the sandbox's hosted page (through its admin API).
pub struct SandboxCustomer {
    pub env: Env,
    pub gateway: Gateway,
}

#[async_trait]
impl Customer for SandboxCustomer {
    async fn pay(&self, checkout: &CheckoutResult) -> Result<Payment, PaymentError> {
        let redirect = self
            .env
            .sandbox
            .pay(&checkout.id, None)
            .map_err(|error| PaymentError::invalid("id", error.to_string()))?;
        let event_type = self.gateway.completed_event();
        let (headers, body) = self.env.webhook_for(&checkout.id, event_type).await?;
        let return_query = url::Url::parse(&redirect)
            .map_err(|error| PaymentError::decode("redirect", error))?
            .query()
            .unwrap_or_default()
            .to_owned();
        Ok(Payment {
            headers,
            body,
            return_query,
        })
    }

    async fn checkouts_created(&self) -> usize {
        let counts = self.env.sandbox.counts();
        let created = match self.gateway {
            Gateway::Stripe => counts.stripe_checkout_sessions,
            Gateway::Creem => counts.creem_checkouts,
        };
        usize::try_from(created).unwrap_or(usize::MAX)
    }

    async fn webhooks(&self) -> Vec<Webhook> {
        self.env.webhooks()
    }
}

/// A conformance target: `provider` built by `payswitch::from_config` against a fresh sandbox.
pub async fn target(gateway: Gateway) -> Target {
    let env = Env::start().await;
    let config = env.config(gateway);
    let provider = payswitch::from_config(&config).expect("provider");
    Target {
        provider: Box::new(provider),
        customer: Box::new(SandboxCustomer {
            env: env.clone(),
            gateway,
        }),
        fixtures: Fixtures {
            one_time_item: gateway.one_time_item(),
            one_time_price: PRICE,
            success_url: "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}".into(),
            unknown_checkout_id: gateway.unknown_checkout_id().into(),
            subscription_item: Some(LineItem::sku(PLAN_SKUS[0], 1)),
            other_plan: Some(payswitch::Product::Sku(PLAN_SKUS[1].into())),
            unknown_subscription_id: gateway.unknown_subscription_id().into(),
        },
        guard: Box::new(env),
    }
}
