//! Conformance cases after the checkout: subscriptions, refunds, the portal and customers.
//!
//! Every case is capability-gated: where the provider declares it cannot do something, the
//! case asserts the local `Unsupported` refusal instead.

use std::time::Duration;

use super::target::{CaseResult, Target, Webhook};
use crate::customer::{CustomerLookup, CustomerRequest, PortalRequest};
use crate::error::PaymentError;
use crate::provider::CheckoutProviderExt;
use crate::refund::{RefundRequest, RefundStatus, RefundTarget};
use crate::request::{CheckoutMode, CheckoutRequest};
use crate::result::CheckoutResult;
use crate::subscription::{
    CancelAt, Proration, Subscription, SubscriptionChange, SubscriptionStatus,
};
use crate::webhook::WebhookEvent;

fn expect_unsupported<T: std::fmt::Debug>(
    result: Result<T, PaymentError>,
    operation: &str,
) -> CaseResult {
    match result {
        Err(PaymentError::Unsupported { .. }) => Ok(()),
        other => panic!("conformance: {operation} must be refused as Unsupported, got {other:?}"),
    }
}

fn expect_invalid_state<T: std::fmt::Debug>(
    result: Result<T, PaymentError>,
    what: &str,
) -> CaseResult {
    match result {
        Err(PaymentError::InvalidState { .. }) => Ok(()),
        other => panic!("conformance: {what} must be refused as InvalidState, got {other:?}"),
    }
}

/// A fresh, unique suffix so cases on one gateway never find each other's customers.
fn unique() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn subscription_request(target: &Target) -> Option<CheckoutRequest> {
    let item = target.fixtures.subscription_item.clone()?;
    CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(item)
        .success_url(target.fixtures.success_url.clone())
        .customer_email(format!("subscriber-{}@example.com", unique()))
        .reference(format!("order-{}", unique()))
        .build()
        .ok()
}

/// Opens a subscription checkout, pays it and returns the checkout and its subscription;
/// `None` when the target cannot sell subscriptions (the case then checks the refusal).
async fn paid_subscription(
    target: &Target,
) -> Result<Option<(CheckoutResult, Subscription)>, PaymentError> {
    let capabilities = target.capabilities();
    if !capabilities.subscription_mode || !capabilities.subscriptions {
        return Ok(None);
    }
    let Some(request) = subscription_request(target) else {
        return Ok(None);
    };
    let created = target.provider.create_checkout(&request).await?;
    target.customer.pay(&created).await?;
    let checkout = target.provider.retrieve_checkout(&created.id).await?;
    let id = checkout.subscription_id.clone().unwrap_or_else(|| {
        panic!("conformance: a paid subscription checkout names its subscription: {checkout:?}")
    });
    let subscription = target.provider.retrieve_subscription(&id).await?;
    Ok(Some((checkout, subscription)))
}

/// Waits until a webhook the gateway delivered verifies and satisfies `wanted`.
async fn wait_for_event(
    target: &Target,
    what: &str,
    wanted: impl Fn(&WebhookEvent) -> bool,
) -> Result<WebhookEvent, PaymentError> {
    for _ in 0..100 {
        let delivered: Vec<Webhook> = target.customer.webhooks().await;
        for webhook in delivered.iter().rev() {
            if let Ok(event) = target
                .provider
                .verify_webhook(&webhook.headers, &webhook.body)
            {
                if wanted(&event) {
                    return Ok(event);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("conformance: no delivered webhook carried {what}")
}

/// Paying a subscription checkout starts a subscription tied to the checkout's customer,
/// active, with its plan, quantity and current period.
pub async fn subscription_checkout_starts_subscription(target: &Target) -> CaseResult {
    let Some((checkout, subscription)) = paid_subscription(target).await? else {
        return expect_unsupported(
            target.provider.retrieve_subscription("sub_none").await,
            "retrieve_subscription",
        );
    };
    ensure!(
        subscription.provider == target.provider.kind(),
        "the subscription names its provider"
    );
    ensure!(
        matches!(
            subscription.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ),
        "a paid subscription is active: {:?}",
        subscription.status
    );
    ensure!(
        checkout.customer_id.is_some() && subscription.customer_id == checkout.customer_id,
        "the subscription belongs to the checkout's customer: {:?} vs {:?}",
        subscription.customer_id,
        checkout.customer_id
    );
    ensure!(
        subscription.quantity() == Some(1),
        "one item of quantity 1: {:?}",
        subscription.items
    );
    ensure!(
        subscription.items[0].product_id.is_some() || subscription.items[0].price_id.is_some(),
        "the item names its plan"
    );
    match (
        subscription.current_period_start,
        subscription.current_period_end,
    ) {
        (Some(start), Some(end)) => ensure!(end > start, "the period ends after it starts"),
        other => panic!("conformance: a live subscription reports its current period: {other:?}"),
    }
    ensure!(
        !subscription.is_cancel_scheduled(),
        "no cancellation is scheduled"
    );
    Ok(())
}

/// Listing the customer's subscriptions includes the new one.
pub async fn list_customer_subscriptions(target: &Target) -> CaseResult {
    let Some((checkout, subscription)) = paid_subscription(target).await? else {
        return expect_unsupported(
            target.provider.list_subscriptions("cus_none").await,
            "list_subscriptions",
        );
    };
    let customer = checkout.customer_id.unwrap_or_default();
    let listed = target.provider.list_subscriptions(&customer).await?;
    ensure!(
        listed.iter().any(|listed| listed.id == subscription.id),
        "the customer's list holds {}: {:?}",
        subscription.id,
        listed.iter().map(|listed| &listed.id).collect::<Vec<_>>()
    );
    ensure!(
        listed
            .iter()
            .all(|listed| listed.customer_id.as_deref() == Some(customer.as_str())),
        "the list holds only the customer's subscriptions"
    );
    Ok(())
}

/// Canceling at the period end keeps the subscription active and scheduled to cancel;
/// resuming undoes it. The webhook for the change carries the normalized subscription.
pub async fn cancel_at_period_end_then_resume(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    let capabilities = target.capabilities();
    if !capabilities.cancel_at_period_end {
        return expect_unsupported(
            target
                .provider
                .cancel_subscription(&subscription.id, CancelAt::PeriodEnd)
                .await,
            "cancel at period end",
        );
    }
    let scheduled = target
        .provider
        .cancel_subscription(&subscription.id, CancelAt::PeriodEnd)
        .await?;
    ensure!(
        scheduled.is_cancel_scheduled(),
        "a cancellation is scheduled: {scheduled:?}"
    );
    ensure!(
        !scheduled.status.is_ended(),
        "still live until the period ends: {:?}",
        scheduled.status
    );
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.is_cancel_scheduled(),
        "retrieve agrees the cancellation is scheduled"
    );
    let event = wait_for_event(target, "the scheduled cancellation", |event| {
        event
            .subscription
            .as_ref()
            .is_some_and(|carried| carried.id == subscription.id && carried.is_cancel_scheduled())
    })
    .await?;
    ensure!(
        event.provider == target.provider.kind(),
        "the event names its provider"
    );
    if !capabilities.resume_subscription {
        return expect_unsupported(
            target.provider.resume_subscription(&subscription.id).await,
            "resume_subscription",
        );
    }
    let resumed = target
        .provider
        .resume_subscription(&subscription.id)
        .await?;
    ensure!(
        !resumed.is_cancel_scheduled(),
        "resuming clears the scheduled cancellation: {resumed:?}"
    );
    ensure!(
        matches!(
            resumed.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ),
        "resumed is active: {:?}",
        resumed.status
    );
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        !retrieved.is_cancel_scheduled(),
        "retrieve agrees it was resumed"
    );
    Ok(())
}

/// Canceling immediately ends the subscription.
pub async fn cancel_immediately_ends_subscription(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    if !target.capabilities().cancel_immediately {
        return expect_unsupported(
            target
                .provider
                .cancel_subscription(&subscription.id, CancelAt::Immediately)
                .await,
            "cancel immediately",
        );
    }
    let canceled = target
        .provider
        .cancel_subscription(&subscription.id, CancelAt::Immediately)
        .await?;
    ensure!(
        canceled.status == SubscriptionStatus::Canceled,
        "canceled: {:?}",
        canceled.status
    );
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.status == SubscriptionStatus::Canceled,
        "retrieve agrees: {:?}",
        retrieved.status
    );
    wait_for_event(target, "the cancellation", |event| {
        event.subscription.as_ref().is_some_and(|carried| {
            carried.id == subscription.id && carried.status == SubscriptionStatus::Canceled
        })
    })
    .await?;
    Ok(())
}

/// Invalid transition: canceling a canceled subscription is refused and changes nothing.
pub async fn cancel_canceled_subscription_is_refused(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    if !target.capabilities().cancel_immediately {
        return Ok(());
    }
    target
        .provider
        .cancel_subscription(&subscription.id, CancelAt::Immediately)
        .await?;
    expect_invalid_state(
        target
            .provider
            .cancel_subscription(&subscription.id, CancelAt::Immediately)
            .await,
        "canceling a canceled subscription",
    )?;
    if target.capabilities().cancel_at_period_end {
        expect_invalid_state(
            target
                .provider
                .cancel_subscription(&subscription.id, CancelAt::PeriodEnd)
                .await,
            "scheduling the cancellation of a canceled subscription",
        )?;
    }
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.status == SubscriptionStatus::Canceled,
        "still canceled: {:?}",
        retrieved.status
    );
    Ok(())
}

/// Invalid transition: resuming a subscription with nothing to resume is refused.
pub async fn resume_without_cancellation_is_refused(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    if !target.capabilities().resume_subscription {
        return expect_unsupported(
            target.provider.resume_subscription(&subscription.id).await,
            "resume_subscription",
        );
    }
    expect_invalid_state(
        target.provider.resume_subscription(&subscription.id).await,
        "resuming an active subscription",
    )?;
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.status == subscription.status,
        "unchanged: {:?}",
        retrieved.status
    );
    Ok(())
}

/// Pausing stops billing and resuming restarts it, where the gateway can pause.
pub async fn pause_then_resume(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    if !target.capabilities().pause_subscription {
        return expect_unsupported(
            target.provider.pause_subscription(&subscription.id).await,
            "pause_subscription",
        );
    }
    let paused = target.provider.pause_subscription(&subscription.id).await?;
    ensure!(
        paused.status == SubscriptionStatus::Paused,
        "paused: {:?}",
        paused.status
    );
    let resumed = target
        .provider
        .resume_subscription(&subscription.id)
        .await?;
    ensure!(
        matches!(
            resumed.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ),
        "resumed: {:?}",
        resumed.status
    );
    Ok(())
}

/// Changing the quantity (seats) is reflected at once.
pub async fn change_quantity(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    let change = SubscriptionChange::quantity(3, Proration::Prorate);
    if !target.capabilities().change_quantity {
        return expect_unsupported(
            target
                .provider
                .change_subscription(&subscription.id, &change)
                .await,
            "change quantity",
        );
    }
    let changed = target
        .provider
        .change_subscription(&subscription.id, &change)
        .await?;
    ensure!(
        changed.quantity() == Some(3),
        "three seats: {:?}",
        changed.items
    );
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.quantity() == Some(3),
        "retrieve agrees: {:?}",
        retrieved.items
    );
    Ok(())
}

/// Changing the plan moves the subscription to the other plan's ids.
pub async fn change_plan(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    let Some(plan) = target.fixtures.other_plan.clone() else {
        return Ok(());
    };
    let change = SubscriptionChange::plan(plan, Proration::NoProration);
    if !target.capabilities().change_plan {
        return expect_unsupported(
            target
                .provider
                .change_subscription(&subscription.id, &change)
                .await,
            "change plan",
        );
    }
    let before = (
        subscription.items[0].product_id.clone(),
        subscription.items[0].price_id.clone(),
    );
    let changed = target
        .provider
        .change_subscription(&subscription.id, &change)
        .await?;
    let after = (
        changed.items[0].product_id.clone(),
        changed.items[0].price_id.clone(),
    );
    ensure!(after != before, "the plan changed: {before:?} -> {after:?}");
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        (
            retrieved.items[0].product_id.clone(),
            retrieved.items[0].price_id.clone()
        ) == after,
        "retrieve agrees on the new plan"
    );
    ensure!(!retrieved.status.is_ended(), "a plan change keeps it live");
    Ok(())
}

/// A preview prices a change without making it.
pub async fn preview_change(target: &Target) -> CaseResult {
    let Some((_, subscription)) = paid_subscription(target).await? else {
        return Ok(());
    };
    let change = SubscriptionChange::quantity(2, Proration::InvoiceNow);
    if !target.capabilities().preview_change {
        return expect_unsupported(
            target
                .provider
                .preview_subscription_change(&subscription.id, &change)
                .await,
            "preview_subscription_change",
        );
    }
    let preview = target
        .provider
        .preview_subscription_change(&subscription.id, &change)
        .await?;
    ensure!(
        preview.subscription_id == subscription.id,
        "the preview names the subscription"
    );
    ensure!(
        preview.amount_due.amount() > 0,
        "adding a seat now costs something: {:?}",
        preview.amount_due
    );
    let retrieved = target
        .provider
        .retrieve_subscription(&subscription.id)
        .await?;
    ensure!(
        retrieved.quantity() == Some(1),
        "a preview changes nothing: {:?}",
        retrieved.items
    );
    Ok(())
}

async fn paid_checkout(target: &Target) -> Result<CheckoutResult, PaymentError> {
    let created = target
        .provider
        .create_checkout(&target.request().build()?)
        .await?;
    target.customer.pay(&created).await?;
    target.provider.retrieve_checkout(&created.id).await
}

/// A paid checkout is refunded in full, and the refund webhook carries the refund.
pub async fn refund_paid_checkout(target: &Target) -> CaseResult {
    let checkout = paid_checkout(target).await?;
    let request = RefundRequest::full(RefundTarget::Checkout(checkout.id.clone()));
    if !target.capabilities().refunds {
        return expect_unsupported(
            target.provider.create_refund(&request).await,
            "create_refund",
        );
    }
    let refund = target.provider.create_refund(&request).await?;
    ensure!(
        refund.provider == target.provider.kind(),
        "the refund names its provider"
    );
    ensure!(
        matches!(
            refund.status,
            RefundStatus::Succeeded | RefundStatus::Pending
        ),
        "the refund went through: {:?}",
        refund.status
    );
    if let (Some(amount), Some(paid)) = (refund.amount, checkout.amount_total) {
        ensure!(
            amount == paid,
            "a full refund returns what was paid: {amount:?} vs {paid:?}"
        );
    }
    // Matched on the refund's id, or on its payment where the gateway's refund answer holds
    // no refund id of its own (Creem answers a status only; its webhook names the refund).
    let (refund_id, payment_id) = (refund.id.clone(), refund.payment_id.clone());
    let event = wait_for_event(target, "the refund", |event| {
        event.refund.as_ref().is_some_and(|carried| {
            carried.id == refund_id || (payment_id.is_some() && carried.payment_id == payment_id)
        })
    })
    .await?;
    if let (Some(carried), Some(paid)) = (
        event.refund.and_then(|refund| refund.amount),
        checkout.amount_total,
    ) {
        ensure!(
            carried == paid,
            "the event carries the refunded amount: {carried:?} vs {paid:?}"
        );
    }
    Ok(())
}

/// A partial refund, then the rest; more than what is left is refused.
pub async fn partial_refunds(target: &Target) -> CaseResult {
    let checkout = paid_checkout(target).await?;
    let paid = checkout
        .amount_total
        .unwrap_or(target.fixtures.one_time_price);
    let part = crate::money::Money::new(paid.amount() / 4, paid.currency());
    let request = RefundRequest::partial(RefundTarget::Checkout(checkout.id.clone()), part);
    let capabilities = target.capabilities();
    if !capabilities.refunds || !capabilities.partial_refunds {
        return expect_unsupported(
            target.provider.create_refund(&request).await,
            "partial refund",
        );
    }
    let first = target.provider.create_refund(&request).await?;
    ensure!(
        first.amount == Some(part),
        "refunded a quarter: {:?}",
        first.amount
    );
    let too_much = RefundRequest::partial(RefundTarget::Checkout(checkout.id.clone()), paid);
    match target.provider.create_refund(&too_much).await {
        Err(PaymentError::InvalidRequest { .. } | PaymentError::InvalidState { .. }) => {}
        other => panic!("conformance: refunding more than is left must be refused, got {other:?}"),
    }
    let rest = target
        .provider
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            checkout.id.clone(),
        )))
        .await?;
    ensure!(
        rest.amount.map(|money| money.amount()) == Some(paid.amount() - part.amount()),
        "the rest is refunded: {:?}",
        rest.amount
    );
    Ok(())
}

/// Invalid transition: refunding a fully refunded payment is refused.
pub async fn refund_twice_is_refused(target: &Target) -> CaseResult {
    if !target.capabilities().refunds {
        return Ok(());
    }
    let checkout = paid_checkout(target).await?;
    let request = RefundRequest::full(RefundTarget::Checkout(checkout.id.clone()));
    target.provider.create_refund(&request).await?;
    expect_invalid_state(
        target.provider.create_refund(&request).await,
        "refunding a refunded payment",
    )
}

/// Invalid transition: a checkout nobody paid has nothing to refund.
pub async fn refund_unpaid_checkout_is_refused(target: &Target) -> CaseResult {
    let created = target
        .provider
        .create_checkout(&target.request().build()?)
        .await?;
    let request = RefundRequest::full(RefundTarget::Checkout(created.id.clone()));
    if !target.capabilities().refunds {
        return expect_unsupported(
            target.provider.create_refund(&request).await,
            "create_refund",
        );
    }
    expect_invalid_state(
        target.provider.create_refund(&request).await,
        "refunding an unpaid checkout",
    )
}

/// The portal opens for a paying customer; a return URL is honoured or listed as ignored.
pub async fn customer_portal(target: &Target) -> CaseResult {
    if !target.capabilities().customer_portal {
        let request =
            PortalRequest::new("cus_unsupported").return_url("https://shop.example/account");
        return expect_unsupported(
            target.provider.create_portal_session(&request).await,
            "create_portal_session",
        );
    }
    // A payment-mode checkout need not create a customer (Stripe creates one only when
    // asked), so the portal is opened for the customer of a subscription, or a created one.
    let customer = match paid_subscription(target).await? {
        Some((checkout, _)) => checkout.customer_id.unwrap_or_else(|| {
            panic!("conformance: a paid subscription checkout names its customer")
        }),
        None => {
            let user = format!("user-{}", unique());
            target
                .provider
                .create_customer(
                    &CustomerRequest::for_app_user(&user).email(format!("{user}@example.com")),
                )
                .await?
                .id
        }
    };
    let request = PortalRequest::new(&customer).return_url("https://shop.example/account");
    let session = target.provider.create_portal_session(&request).await?;
    ensure!(session.url.starts_with("http"), "a portal URL");
    ensure!(
        session.customer_id == customer,
        "the session is for the customer"
    );
    if target.capabilities().portal_return_url {
        ensure!(
            session.ignored.is_empty(),
            "nothing ignored: {:?}",
            session.ignored
        );
    } else {
        ensure!(
            session.ignored == ["return_url"],
            "the return URL is reported ignored: {:?}",
            session.ignored
        );
    }
    ensure!(
        !format!("{session:?}").contains(&session.url),
        "Debug never shows the portal URL"
    );
    Ok(())
}

/// A customer is created for an app user, retrieved, found by email (and by app user id
/// where the gateway can), and `ensure_customer` returns the same one again.
pub async fn customers_for_app_users(target: &Target) -> CaseResult {
    let user = format!("user-{}", unique());
    let email = format!("{user}@example.com");
    let request = CustomerRequest::for_app_user(&user)
        .email(&email)
        .name("Conformance Customer");
    let capabilities = target.capabilities();
    if !capabilities.customers {
        return expect_unsupported(
            target.provider.create_customer(&request).await,
            "create_customer",
        );
    }
    let created = target.provider.create_customer(&request).await?;
    ensure!(
        created.app_user_id.as_deref() == Some(user.as_str()),
        "the app user id is kept: {created:?}"
    );
    ensure!(
        created.email.as_deref() == Some(email.as_str()),
        "the email is kept"
    );
    let retrieved = target.provider.retrieve_customer(&created.id).await?;
    ensure!(
        retrieved.id == created.id && retrieved.app_user_id == created.app_user_id,
        "retrieve agrees"
    );
    let by_email = target
        .provider
        .find_customer(&CustomerLookup::Email(email.clone()))
        .await?;
    ensure!(
        by_email.map(|found| found.id) == Some(created.id.clone()),
        "found by email"
    );
    let by_user = target
        .provider
        .find_customer(&CustomerLookup::AppUserId(user.clone()))
        .await;
    if capabilities.find_customer_by_app_user {
        ensure!(
            by_user?.map(|found| found.id) == Some(created.id.clone()),
            "found by app user id"
        );
    } else {
        expect_unsupported(by_user, "find_customer by app user id")?;
    }
    let nobody = target
        .provider
        .find_customer(&CustomerLookup::Email(format!(
            "nobody-{}@example.com",
            unique()
        )))
        .await?;
    ensure!(
        nobody.is_none(),
        "an unknown email finds nobody: {nobody:?}"
    );
    let ensured = target.provider.ensure_customer(&request).await?;
    ensure!(
        ensured.id == created.id,
        "ensure_customer finds the existing customer"
    );
    Ok(())
}

/// A checkout for an existing customer stays tied to that customer once paid.
pub async fn checkout_for_existing_customer(target: &Target) -> CaseResult {
    let capabilities = target.capabilities();
    if !capabilities.customers || !capabilities.customer_id {
        return Ok(());
    }
    let user = format!("user-{}", unique());
    let customer = target
        .provider
        .create_customer(
            &CustomerRequest::for_app_user(&user)
                .email(format!("{user}@example.com"))
                .name("Buyer"),
        )
        .await?;
    let request = target.request().customer_id(customer.id.clone()).build()?;
    let created = target.provider.create_checkout(&request).await?;
    target.customer.pay(&created).await?;
    let checkout = target.provider.retrieve_checkout(&created.id).await?;
    ensure!(
        checkout.customer_id.as_deref() == Some(customer.id.as_str()),
        "the checkout belongs to the customer: {:?}",
        checkout.customer_id
    );
    Ok(())
}

/// Ids the gateway never issued are `NotFound` for subscriptions too.
pub async fn unknown_subscription_is_not_found(target: &Target) -> CaseResult {
    let id = &target.fixtures.unknown_subscription_id;
    if !target.capabilities().subscriptions {
        return expect_unsupported(
            target.provider.retrieve_subscription(id).await,
            "retrieve_subscription",
        );
    }
    match target.provider.retrieve_subscription(id).await {
        Err(PaymentError::NotFound { .. }) => Ok(()),
        other => {
            panic!("conformance: retrieving subscription {id} must be NotFound, got {other:?}")
        }
    }
}

/// Changes are checked locally: nothing to change, or zero seats, is refused before any call.
pub async fn invalid_changes_are_rejected_locally(target: &Target) -> CaseResult {
    let zero = SubscriptionChange::quantity(0, Proration::Prorate);
    let nothing = SubscriptionChange {
        quantity: None,
        ..SubscriptionChange::quantity(1, Proration::Prorate)
    };
    for change in [zero, nothing] {
        match target
            .provider
            .change_subscription("sub_local_check", &change)
            .await
        {
            Err(PaymentError::InvalidRequest { gateway: None, .. }) => {}
            Err(PaymentError::Unsupported { .. }) if !target.capabilities().change_quantity => {}
            other => {
                panic!("conformance: {change:?} must be a local InvalidRequest, got {other:?}")
            }
        }
    }
    let negative = RefundRequest::partial(
        RefundTarget::Checkout("cs_local_check".into()),
        crate::money::Money::new(-5, target.fixtures.one_time_price.currency()),
    );
    match target.provider.create_refund(&negative).await {
        Err(PaymentError::InvalidRequest { gateway: None, .. }) => {}
        Err(PaymentError::Unsupported { .. }) if !target.capabilities().partial_refunds => {}
        other => {
            panic!("conformance: a negative refund must be a local InvalidRequest, got {other:?}")
        }
    }
    Ok(())
}
