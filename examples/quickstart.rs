//! The main job: one application, two gateways, only the configuration differs.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! With no keys in the environment it starts the payswitch sandbox in-process and, for Stripe
//! and then Creem, creates a checkout for a one-time purchase, pays it on the sandbox, receives
//! and verifies the webhook, verifies the return redirect, retrieves the checkout and prints a
//! summary. It exits non-zero if any step fails.
//!
//! With real test keys (`PAYSWITCH_PROVIDER`, `STRIPE_SECRET_KEY` or `CREEM_API_KEY`, optional
//! `STRIPE_API_BASE` / `CREEM_API_BASE`, and for Creem `CREEM_PRODUCT_ID`; for Stripe an
//! optional `STRIPE_PRICE_ID`) it runs only that gateway against the real API and stops after
//! printing the hosted URL.

use std::time::{Duration, Instant};

use payswitch::creem::CreemConfig;
use payswitch::stripe::StripeConfig;
use payswitch::{
    CheckoutProvider, CheckoutRequest, Config, Currency, LineItem, Money, PaymentError,
    WebhookEventKind,
};
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, SandboxHandle, WebhookInbox};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The logical SKU the application sells; the catalog maps it to each gateway's own id.
const SKU: &str = "pro_licence";
const STRIPE_PRICE: &str = "price_quickstart_pro";
const CREEM_PRODUCT: &str = "prod_quickstart_pro";
const PRICE: Money = Money::new(4900, Currency::USD);

#[tokio::main]
async fn main() {
    let outcome = if has_real_keys() {
        real_gateway().await
    } else {
        sandbox_tour().await
    };
    if let Err(error) = outcome {
        eprintln!("quickstart failed: {error}");
        std::process::exit(1);
    }
}

fn has_real_keys() -> bool {
    ["STRIPE_SECRET_KEY", "CREEM_API_KEY"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// The application's checkout code: the same for every gateway.
fn order_request(item: LineItem) -> Result<CheckoutRequest, PaymentError> {
    CheckoutRequest::builder()
        .line_item(item)
        .success_url("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}")
        .customer_email("ada@example.com")
        .reference("order-1001")
        .metadata("source", "quickstart")
        .build()
}

async fn sandbox_tour() -> Result<(), BoxError> {
    let inbox = WebhookInbox::start().await?;
    let sandbox = Sandbox::builder()
        .stripe_webhook_endpoint(inbox.url())
        .creem_webhook_endpoint(inbox.url())
        .price(PriceSeed::one_time("Pro licence", PRICE.amount(), "usd").with_id(STRIPE_PRICE))
        .product(ProductSeed::one_time("Pro licence", PRICE.amount(), "USD").with_id(CREEM_PRODUCT))
        .start()
        .await?;
    println!(
        "payswitch quickstart: offline, on the local sandbox at {}",
        sandbox.base_url()
    );
    println!("selling {SKU} for {PRICE}, the same application code for every gateway\n");

    for config in [stripe_config(&sandbox), creem_config(&sandbox)] {
        let provider = config.provider.clone().unwrap_or_default();
        checkout_tour(&config, &sandbox, &inbox)
            .await
            .map_err(|error| format!("{provider}: {error}"))?;
    }
    println!("Both gateways took the payment; only the Config differed.");
    Ok(())
}

/// What differs between the gateways: credentials, API base and the catalog ids.
fn stripe_config(sandbox: &SandboxHandle) -> Config {
    let mut config = StripeConfig::new(sandbox.stripe_secret_key())
        .with_api_base(sandbox.stripe_api_base())
        .with_webhook_secret(sandbox.stripe_webhook_secret())
        .into_config();
    with_catalog(&mut config);
    config
}

fn creem_config(sandbox: &SandboxHandle) -> Config {
    let mut config = CreemConfig::new(sandbox.creem_api_key())
        .with_api_base(sandbox.creem_api_base())
        .with_webhook_secret(sandbox.creem_webhook_secret())
        .into_config();
    with_catalog(&mut config);
    config
}

/// The one catalog: the logical SKU mapped to each gateway's id.
fn with_catalog(config: &mut Config) {
    config
        .catalog
        .insert(SKU, payswitch::stripe::KIND, STRIPE_PRICE);
    config
        .catalog
        .insert(SKU, payswitch::creem::KIND, CREEM_PRODUCT);
}

async fn checkout_tour(
    config: &Config,
    sandbox: &SandboxHandle,
    inbox: &WebhookInbox,
) -> Result<(), BoxError> {
    let gateway = payswitch::from_config(config)?;
    println!("== {}", gateway.kind());

    let created = gateway
        .create_checkout(&order_request(LineItem::sku(SKU, 1))?)
        .await?;
    println!(
        "  checkout    {} ({:?}, {:?})",
        created.id, created.status, created.payment_status
    );
    println!("  hosted URL  {}", created.url.as_deref().unwrap_or("-"));
    if !created.ignored.is_empty() {
        println!(
            "  not sent    {} (this gateway cannot honour them)",
            created.ignored.join(", ")
        );
    }

    // The customer pays on the hosted page; the sandbox plays the customer here.
    let redirect = sandbox.pay(&created.id, None)?;
    println!("  paid        browser sent to {redirect}");

    // Fulfilment relies on the signed webhook, never on the redirect.
    let (headers, body) = wait_for_webhook(inbox, &created.id).await?;
    let event = gateway.verify_webhook(&headers, &body)?;
    if event.kind != WebhookEventKind::CheckoutCompleted
        || !event.checkout.as_ref().is_some_and(|c| c.is_paid())
    {
        return Err(format!("unexpected webhook {} ({:?})", event.event_type, event.kind).into());
    }
    println!(
        "  webhook     {} {} verified -> {:?}",
        event.event_type, event.id, event.kind
    );

    let query = redirect
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default();
    let params = gateway.verify_return(query)?;
    let proof = if params.verified {
        "signature verified"
    } else {
        "unsigned: retrieved below"
    };
    println!("  return      checkout {} ({proof})", params.checkout_id);

    let retrieved = gateway.retrieve_checkout(&params.checkout_id).await?;
    if !retrieved.is_paid() || retrieved.amount_total != Some(PRICE) {
        return Err(format!(
            "retrieved checkout is {:?}/{:?} for {:?}",
            retrieved.status, retrieved.payment_status, retrieved.amount_total
        )
        .into());
    }
    let events: Vec<String> = inbox
        .received()
        .iter()
        .filter(|hook| hook.body_text().contains(&created.id))
        .filter_map(|hook| hook.json())
        .filter_map(|json| {
            json.get("type")
                .or_else(|| json.get("eventType"))
                .and_then(|kind| kind.as_str())
                .map(str::to_owned)
        })
        .collect();
    println!(
        "  summary     {:?}, {:?}, {}, reference {}, events seen: {}\n",
        retrieved.status,
        retrieved.payment_status,
        retrieved
            .amount_total
            .map(|money| money.to_string())
            .unwrap_or_default(),
        retrieved.reference.as_deref().unwrap_or("-"),
        events.join(", ")
    );
    Ok(())
}

/// Waits (bounded) for the gateway's "checkout completed" webhook about `id`.
async fn wait_for_webhook(
    inbox: &WebhookInbox,
    id: &str,
) -> Result<(http::HeaderMap, Vec<u8>), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let delivered = inbox.received().into_iter().find(|hook| {
            let body = hook.body_text();
            body.contains(id)
                && (body.contains("\"checkout.session.completed\"")
                    || body.contains("\"checkout.completed\""))
        });
        if let Some(hook) = delivered {
            let mut headers = http::HeaderMap::new();
            for (name, value) in &hook.headers {
                headers.append(
                    http::HeaderName::try_from(name.as_str())?,
                    http::HeaderValue::try_from(value.as_str())?,
                );
            }
            return Ok((headers, hook.body));
        }
        if Instant::now() > deadline {
            return Err(format!("no webhook for {id} within 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// With real keys: only the configured gateway, against its real API, up to the hosted URL.
async fn real_gateway() -> Result<(), BoxError> {
    let gateway = payswitch::from_env()?;
    let item = match gateway.kind() {
        payswitch::creem::KIND => {
            let product = std::env::var("CREEM_PRODUCT_ID")
                .map_err(|_| "set CREEM_PRODUCT_ID to the Creem product to sell")?;
            LineItem::native(product, 1)
        }
        _ => match std::env::var("STRIPE_PRICE_ID") {
            Ok(price) => LineItem::native(price, 1),
            Err(_) => LineItem::custom("Pro licence", PRICE, 1),
        },
    };
    let created = gateway.create_checkout(&order_request(item)?).await?;
    println!("{} checkout {} created", gateway.kind(), created.id);
    println!(
        "pay it at {}",
        created.url.as_deref().unwrap_or("(no hosted URL)")
    );
    Ok(())
}
