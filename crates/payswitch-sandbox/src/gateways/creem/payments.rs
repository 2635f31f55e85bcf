//! Paying a Creem checkout: what the payment creates (customer, order, transaction and, for a
//! recurring product, a subscription), the webhooks it sends, and the signed success redirect.

use crate::app::App;
use crate::checkout::CheckoutStatus;
use crate::error::SandboxError;
use crate::gateways::creem::amounts::OrderAmounts;
use crate::gateways::creem::cards::card_on_file;
use crate::gateways::creem::checkouts::{checkout_amounts, payability, render_checkout};
use crate::gateways::creem::customers::customer_for_email;
use crate::gateways::creem::events::{emit, EventType};
use crate::gateways::creem::objects::{Payment, SubscriptionStatus, TransactionKind};
use crate::gateways::creem::redirect::signed_redirect;
use crate::gateways::creem::subscriptions::{render_subscription_id, start, NewSubscription};
use crate::gateways::creem::transactions::{record_charge, Charge};
use crate::state::{new_id, State};

/// Nothing charged: a free trial's checkout.
const NOTHING: OrderAmounts = OrderAmounts {
    amount: 0,
    discount_amount: 0,
    sub_total: 0,
    tax_amount: 0,
    amount_paid: 0,
};

/// Pays a pending checkout as `email` (unless the checkout names its customer) with the test
/// card `card_digits`, sends its webhooks and returns the signed success redirect. A
/// subscription keeps the card on file for its renewals (see `cards.rs`).
///
/// Events, in Creem's order [confirmed: the `created_at` of Creem's samples and "Received
/// when a new subscription is created, the payment was successful…" for
/// `subscription.active`]: `checkout.completed`, then for a recurring product
/// `subscription.active` and `subscription.paid`; for a product with a free trial
/// `subscription.trialing` instead of those two ("receives `subscription.trialing` when the
/// trial starts" [confirmed, trials docs]).
pub(crate) fn complete(
    app: &App,
    state: &mut State,
    id: &str,
    email: &str,
    card_digits: &str,
) -> Result<String, SandboxError> {
    let now = state.now();
    let not_found = || SandboxError::NotFound(id.to_owned());
    let checkout = state.creem.checkouts.get(id).ok_or_else(not_found)?.clone();
    payability(&checkout, now).map_err(|not_payable| SandboxError::NotPayable {
        id: id.to_owned(),
        reason: not_payable.reason().to_owned(),
    })?;
    let product = state
        .creem
        .products
        .get(&checkout.product_id)
        .cloned()
        .ok_or_else(not_found)?;
    let (amounts, currency) = checkout_amounts(state, &checkout).ok_or_else(not_found)?;
    let recurring = product.billing_type == "recurring";
    let known_customer = checkout
        .customer_id
        .as_ref()
        .and_then(|customer_id| state.creem.customers.get(customer_id))
        .map(|customer| customer.id.clone());
    let customer_id = match known_customer {
        Some(known) => known,
        None => {
            let email = checkout.customer_email.as_deref().unwrap_or(email);
            customer_for_email(state, email)
        }
    };
    let subscription_id = recurring.then(|| {
        start(
            state,
            NewSubscription {
                customer_id: &customer_id,
                product: &product,
                units: checkout.units,
                discount_id: checkout.discount_id.as_deref(),
                metadata: checkout.metadata.clone(),
                card: card_on_file(card_digits),
            },
        )
    });
    let subscription = subscription_id
        .as_ref()
        .and_then(|subscription_id| state.creem.subscriptions.get(subscription_id));
    let trialing = subscription
        .is_some_and(|subscription| subscription.status == SubscriptionStatus::Trialing);
    let period =
        subscription.map(|subscription| (subscription.period_start, subscription.period_end));
    let order_id = new_id("ord_");
    let transaction_id = record_charge(
        state,
        Charge {
            kind: if recurring {
                TransactionKind::Invoice
            } else {
                TransactionKind::Payment
            },
            // A free trial collects nothing at checkout [confirmed, trials docs]: its
            // transaction is a zero invoice.
            amounts: if trialing { NOTHING } else { amounts },
            currency: &currency,
            customer_id: &customer_id,
            product_id: &product.id,
            subscription_id: subscription_id.as_deref(),
            checkout_id: Some(id),
            order_id: Some(&order_id),
            // [confirmed, refund.created sample] "Subscription payment"; the others inferred.
            description: match (recurring, trialing) {
                (true, true) => "Subscription trial",
                (true, false) => "Subscription payment",
                (false, _) => "One-time payment",
            },
            period,
            at: now,
        },
    );
    if let (false, Some(subscription)) = (
        trialing,
        subscription_id
            .as_ref()
            .and_then(|subscription_id| state.creem.subscriptions.get_mut(subscription_id)),
    ) {
        subscription.last_transaction_id = Some(transaction_id.clone());
        subscription.last_transaction_at = Some(now);
    }
    state.counts.creem_orders += 1;
    let payment = Payment {
        order_id,
        transaction_id,
        customer_id,
        subscription_id: subscription_id.clone(),
        paid_at: now,
    };
    let Some(stored) = state.creem.checkouts.get_mut(id) else {
        return Err(not_found());
    };
    stored.status = CheckoutStatus::Complete;
    stored.payment = Some(payment);
    let checkout = stored.clone();
    let object = render_checkout(app, state, &checkout, true);
    emit(state, EventType::CheckoutCompleted, object);
    if let Some(subscription_id) = &subscription_id {
        let follow_ups: &[EventType] = if trialing {
            &[EventType::SubscriptionTrialing]
        } else {
            &[EventType::SubscriptionActive, EventType::SubscriptionPaid]
        };
        for event_type in follow_ups {
            let object = render_subscription_id(state, subscription_id, true);
            emit(state, *event_type, object);
        }
    }
    let base = checkout
        .success_url
        .clone()
        .or(product.default_success_url)
        .unwrap_or_else(|| format!("{}/pay/{id}", app.base_url));
    Ok(signed_redirect(
        &base,
        &checkout,
        &app.config.creem_api_key,
        app.config.creem_redirect_signing,
    ))
}
