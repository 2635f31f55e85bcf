//! Moving live customers from Stripe to Creem with the router's migration mode, on the
//! sandbox: what was opened, paid or subscribed on the old gateway keeps working after the
//! switch, while new checkouts land on the new gateway.

#![cfg(all(feature = "stripe", feature = "creem", feature = "store"))]

mod support;

use std::sync::Arc;
use std::time::Duration;

use payswitch::store::{BillingOnly, Store, Worker};
use payswitch::{
    CancelAt, CheckoutMode, CheckoutProvider, CheckoutProviderExt, CheckoutRequest, Config,
    CustomerRequest, LineItem, RouterConfig, SubscriptionStatus, WebhookEventKind,
};
use support::{Env, Gateway, PLAN_SKUS};

/// The configuration after the deploy: new checkouts on Creem, Stripe retiring.
fn migration_config(env: &Env) -> Config {
    let stripe = env.config(Gateway::Stripe);
    let mut config = env.config(Gateway::Creem);
    let stripe_section = stripe.gateway(payswitch::stripe::NAME).unwrap().clone();
    config.set_gateway(payswitch::stripe::NAME, stripe_section);
    config.provider = Some("router".into());
    config.router = Some(RouterConfig::migration("stripe", "creem"));
    config
}

fn subscription_request(order: &str) -> CheckoutRequest {
    CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::sku(PLAN_SKUS[0], 1))
        .success_url(format!(
            "https://shop.example/success?order={order}&session_id={{CHECKOUT_SESSION_ID}}"
        ))
        .customer_email(format!("{order}@example.com"))
        .reference(order)
        .build()
        .unwrap()
}

/// The query string of a success redirect.
fn query_of(redirect: &str) -> String {
    url::Url::parse(redirect)
        .unwrap()
        .query()
        .unwrap_or_default()
        .to_owned()
}

/// Receives every webhook the inbox has into `store` through `provider` and processes them;
/// returns how many were refused.
async fn record_all(env: &Env, store: &Store, provider: &Arc<dyn CheckoutProvider>) -> usize {
    let mut refused = 0;
    for webhook in env.webhooks() {
        if store
            .receive(provider.as_ref(), &webhook.headers, &webhook.body)
            .await
            .is_err()
        {
            refused += 1;
        }
    }
    Worker::new(store.clone(), BillingOnly)
        .run_until_idle()
        .await
        .unwrap();
    refused
}

#[tokio::test]
async fn a_checkout_opened_before_the_switch_and_paid_after_it_completes_and_is_recorded() {
    let env = Env::start().await;
    let before = payswitch::from_config(&env.config(Gateway::Stripe)).unwrap();
    let opened = before
        .create_checkout(&subscription_request("order-1"))
        .await
        .unwrap();
    drop(before); // the deploy

    let after = payswitch::from_config(&migration_config(&env)).unwrap();
    let redirect = env.sandbox.pay(&opened.id, None).unwrap();

    // The success page: the Stripe redirect is read and confirmed through the router.
    let confirmed = after
        .confirm_return_for(&query_of(&redirect), "order-1")
        .await
        .unwrap();
    assert!(confirmed.is_paid());
    assert_eq!(confirmed.provider, payswitch::stripe::KIND);

    // The webhook: Stripe-signed, verified and normalized after the switch.
    let (headers, body) = env
        .webhook_for(&opened.id, "checkout.session.completed")
        .await
        .unwrap();
    let event = after.verify_webhook(&headers, &body).unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert!(event.checkout.as_ref().unwrap().is_paid());

    // Recorded: every delivered event goes into the store, none is refused, and the
    // subscription is there, active, on Stripe.
    let store = Store::open("sqlite::memory:").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(record_all(&env, &store, &after).await, 0);
    let subscription_id = confirmed.subscription_id.clone().unwrap();
    let recorded = store
        .subscription(payswitch::stripe::KIND, &subscription_id)
        .await
        .unwrap()
        .expect("the subscription is recorded");
    assert_eq!(recorded.status, SubscriptionStatus::Active);
    let retrieved = after.retrieve_subscription(&subscription_id).await.unwrap();
    assert_eq!(retrieved.provider, payswitch::stripe::KIND);
}

#[tokio::test]
async fn the_old_gateways_renewals_and_cancellations_still_arrive_after_the_switch() {
    let env = Env::start().await;
    let before = payswitch::from_config(&env.config(Gateway::Stripe)).unwrap();
    let opened = before
        .create_checkout(&subscription_request("order-2"))
        .await
        .unwrap();
    env.sandbox.pay(&opened.id, None).unwrap();
    let paid = before.retrieve_checkout(&opened.id).await.unwrap();
    let subscription_id = paid.subscription_id.unwrap();
    drop(before);

    let after = payswitch::from_config(&migration_config(&env)).unwrap();
    // A month later Stripe renews the subscription; the router verifies the renewal.
    env.sandbox
        .advance_clock(Duration::from_secs(32 * 24 * 3600));
    // Cancelling through the router reaches Stripe, the subscription's owner.
    let scheduled = after
        .cancel_subscription(&subscription_id, CancelAt::PeriodEnd)
        .await
        .unwrap();
    assert!(scheduled.is_cancel_scheduled());
    assert_eq!(scheduled.provider, payswitch::stripe::KIND);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (mut renewed, mut cancel_scheduled) = (false, false);
    while !(renewed && cancel_scheduled) && tokio::time::Instant::now() < deadline {
        for webhook in env.webhooks() {
            let event = after
                .verify_webhook(&webhook.headers, &webhook.body)
                .expect("every Stripe webhook verifies after the switch");
            let about_it = event
                .subscription
                .as_ref()
                .is_some_and(|carried| carried.id == subscription_id);
            renewed |= event.kind == WebhookEventKind::SubscriptionRenewed;
            cancel_scheduled |=
                about_it && event.kind == WebhookEventKind::SubscriptionCancelScheduled;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(renewed, "the renewal after the switch was verified");
    assert!(
        cancel_scheduled,
        "the cancellation after the switch was verified"
    );
}

#[tokio::test]
async fn new_checkouts_land_on_the_new_gateway_and_returning_customers_stay() {
    let env = Env::start().await;
    let stripe = payswitch::from_config(&env.config(Gateway::Stripe)).unwrap();
    let known = stripe
        .create_customer(&CustomerRequest::for_app_user("user-7").email("returning@example.com"))
        .await
        .unwrap();
    let after = payswitch::from_config(&migration_config(&env)).unwrap();

    // A new customer: Creem.
    let fresh = after
        .create_checkout(&subscription_request("order-3"))
        .await
        .unwrap();
    assert_eq!(fresh.provider, payswitch::creem::KIND);

    // A returning customer by email: kept on Stripe, as the customer Stripe knows.
    let mut by_email = subscription_request("order-4");
    by_email.customer_email = Some("returning@example.com".into());
    let kept = after.create_checkout(&by_email).await.unwrap();
    assert_eq!(kept.provider, payswitch::stripe::KIND);
    assert_eq!(kept.customer_id.as_deref(), Some(known.id.as_str()));

    // A returning customer by Stripe customer id: Stripe, the only gateway that knows it.
    let mut by_id = subscription_request("order-5");
    by_id.customer_email = None;
    by_id.customer_id = Some(known.id.clone());
    let kept = after.create_checkout(&by_id).await.unwrap();
    assert_eq!(kept.provider, payswitch::stripe::KIND);

    // New customers are created where new sales go.
    let created = after
        .create_customer(&CustomerRequest::for_app_user("user-8").email("new@example.com"))
        .await
        .unwrap();
    assert_eq!(created.provider, payswitch::creem::KIND);
}

#[test]
fn a_retiring_gateway_cannot_get_new_checkouts() {
    let error = Config::from_toml_str(
        r#"
        provider = "router"
        [router]
        default = "stripe"
        retiring = ["stripe"]
        "#,
    )
    .unwrap_err();
    assert!(error.to_string().contains("retiring"), "{error}");
    let mut both = RouterConfig::migration("stripe", "creem");
    both.failover = vec!["stripe".into()];
    assert!(
        both.validate().is_err(),
        "failing over to a retiring gateway"
    );
}
