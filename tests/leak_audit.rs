//! The leak audit: marker values planted in every secret input — both gateways' API keys and
//! webhook secrets, a Stripe client secret, a Creem redirect signature — then every flow run
//! through the facade (selection from the environment, both gateways, the router) under a
//! TRACE-level subscriber, and every `Debug`, `Display`, error and log line scanned: no marker
//! may appear anywhere.

#![cfg(all(feature = "stripe", feature = "creem"))]

use std::io::Write;
use std::sync::{Arc, Mutex};

use payswitch::{
    CheckoutProvider, CheckoutProviderExt, CheckoutRequest, LineItem, PaymentError, UiMode,
};
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, WebhookInbox};

const STRIPE_KEY: &str = "sk_test_LEAKMARKERstripekey";
const STRIPE_HOOK: &str = "whsec_LEAKMARKERstripehook";
const CREEM_KEY: &str = "creem_test_LEAKMARKERcreemkey";
const CREEM_HOOK: &str = "whsec_LEAKMARKERcreemhook";

/// Every log line the subscriber formats, kept in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything the application could print or log.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn debug(&mut self, value: &impl std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
    }
    fn error(&mut self, error: &PaymentError) {
        self.0.push(error.to_string());
        self.0.push(format!("{error:?}"));
    }
    fn outcome<T: std::fmt::Debug>(&mut self, outcome: &Result<T, PaymentError>) {
        match outcome {
            Ok(value) => self.debug(value),
            Err(error) => self.error(error),
        }
    }
}

fn request(sku: &str, reference: &str) -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::sku(sku, 1))
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .reference(reference)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_appears_in_any_output() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = Sandbox::builder()
        .stripe_secret_key(STRIPE_KEY)
        .stripe_webhook_secret(STRIPE_HOOK)
        .creem_api_key(CREEM_KEY)
        .creem_webhook_secret(CREEM_HOOK)
        .stripe_webhook_endpoint(inbox.url())
        .creem_webhook_endpoint(inbox.url())
        .product(ProductSeed::one_time("Audit", 1999, "USD").with_id("prod_audit"))
        .price(PriceSeed::one_time("Audit", 1999, "usd").with_id("price_audit"))
        .start()
        .await
        .unwrap();
    let mut seen = Seen::default();
    let mut planted: Vec<String> = [STRIPE_KEY, STRIPE_HOOK, CREEM_KEY, CREEM_HOOK]
        .iter()
        .map(|secret| (*secret).to_owned())
        .collect();

    // Selection from the environment, as an application deploys it.
    let vars = |provider: &str| {
        vec![
            ("PAYSWITCH_PROVIDER".to_owned(), provider.to_owned()),
            ("STRIPE_SECRET_KEY".into(), STRIPE_KEY.into()),
            ("STRIPE_WEBHOOK_SECRET".into(), STRIPE_HOOK.into()),
            ("STRIPE_API_BASE".into(), sandbox.stripe_api_base()),
            ("CREEM_API_KEY".into(), CREEM_KEY.into()),
            ("CREEM_WEBHOOK_SECRET".into(), CREEM_HOOK.into()),
            ("CREEM_API_BASE".into(), sandbox.creem_api_base()),
        ]
    };
    let mut gateways: Vec<Arc<dyn CheckoutProvider>> = Vec::new();
    for provider in ["stripe", "creem"] {
        let mut config = payswitch::config_from_vars(vars(provider)).unwrap();
        config
            .catalog
            .insert("audit", payswitch::stripe::KIND, "price_audit");
        config
            .catalog
            .insert("audit", payswitch::creem::KIND, "prod_audit");
        seen.debug(&config);
        let gateway = payswitch::from_config(&config).unwrap();
        seen.debug(&gateway);
        gateways.push(gateway);
        // A typo next to the secrets: the error must not quote them.
        let mut broken = vars(provider);
        broken.push((
            "STRIPE_API_BASE".into(),
            format!("https://user:{STRIPE_KEY}@x"),
        ));
        let outcome =
            payswitch::config_from_vars(broken).and_then(|config| payswitch::from_config(&config));
        seen.outcome(&outcome);
    }

    for (index, gateway) in gateways.iter().enumerate() {
        let created = gateway
            .create_checkout(&request("audit", &format!("audit-{index}")))
            .await;
        seen.outcome(&created);
        let created = created.unwrap();
        seen.outcome(&gateway.retrieve_checkout(&created.id).await);
        let redirect = sandbox.pay(&created.id, None).unwrap();
        let query = redirect
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default();
        if let Some(signature) = url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "signature")
            .map(|(_, value)| value.into_owned())
        {
            planted.push(signature);
        }
        seen.outcome(&gateway.verify_return(query));
        seen.outcome(
            &gateway
                .confirm_return_for(query, &format!("audit-{index}"))
                .await,
        );
        seen.outcome(&gateway.confirm_return_for(query, "someone-else").await);
        seen.outcome(&gateway.expire_checkout(&created.id).await);
        seen.outcome(&gateway.retrieve_checkout("cs_test_missing_audit").await);
    }

    // An embedded Stripe checkout: its client secret is a secret too.
    let embedded = CheckoutRequest::builder()
        .line_item(LineItem::sku("audit", 1))
        .ui_mode(UiMode::Embedded)
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .reference("audit-embedded")
        .build()
        .unwrap();
    let embedded = gateways[0].create_checkout(&embedded).await.unwrap();
    let client_secret = embedded
        .client_secret
        .as_ref()
        .expect("an embedded session has a client secret")
        .expose()
        .to_owned();
    planted.push(client_secret);
    seen.debug(&embedded);
    seen.0.push(serde_json::to_string(&embedded).unwrap());
    seen.outcome(&gateways[0].retrieve_checkout(&embedded.id).await);

    // Webhooks, through each gateway and through a router over both.
    let router = payswitch::from_config(&{
        let mut config = payswitch::config_from_vars(vars("router")).unwrap();
        config.router = Some(payswitch::RouterConfig {
            default: "stripe".into(),
            failover: vec!["creem".into()],
            rules: vec![],
            ..Default::default()
        });
        config
    })
    .unwrap();
    seen.debug(&router);
    // A paid Stripe session sends Stripe's sequence (payment_intent.created, charge.succeeded,
    // payment_intent.succeeded, checkout.session.completed); a paid Creem checkout sends
    // checkout.completed.
    let deliveries = inbox.wait_for(5, std::time::Duration::from_secs(10)).await;
    for hook in &deliveries {
        let mut headers = http::HeaderMap::new();
        for (name, value) in &hook.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::try_from(name.as_str()),
                http::HeaderValue::try_from(value.as_str()),
            ) {
                headers.append(name, value);
            }
        }
        seen.outcome(&router.verify_webhook(&headers, &hook.body));
        for gateway in &gateways {
            seen.outcome(&gateway.verify_webhook(&headers, &hook.body));
            let mut tampered = hook.body.clone();
            tampered.push(b' ');
            seen.outcome(&gateway.verify_webhook(&headers, &tampered));
        }
    }

    // A wrong key: the gateway's refusal must not echo ours.
    let mut wrong = vars("stripe");
    wrong[1].1 = format!("{STRIPE_KEY}x");
    let wrong = payswitch::from_config(&payswitch::config_from_vars(wrong).unwrap()).unwrap();
    seen.outcome(
        &wrong
            .create_checkout(&request("audit", "audit-wrong"))
            .await,
    );

    sandbox.shutdown().await;
    let log = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the subscriber captured logs"
    );
    seen.0.push(log);
    for secret in &planted {
        for (index, text) in seen.0.iter().enumerate() {
            assert!(
                !text.contains(secret.as_str()),
                "output #{index} leaks a planted secret: {text}"
            );
        }
    }
    // The scan covered real flows: the four keys, Creem's redirect signature and the client
    // secret were planted, and every webhook of both payments arrived.
    assert_eq!(planted.len(), 6, "{planted:?}");
    let mut types: Vec<String> = deliveries
        .iter()
        .filter_map(|hook| {
            let body = hook.json()?;
            let kind = body.get("type").or_else(|| body.get("eventType"))?;
            kind.as_str().map(str::to_owned)
        })
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "charge.succeeded",
            "checkout.completed",
            "checkout.session.completed",
            "payment_intent.created",
            "payment_intent.succeeded",
        ]
    );
    assert!(seen.0.len() > 30, "{} outputs", seen.0.len());
}
