//! Collecting open invoices and Stripe's dunning: each attempt charges the subscription's
//! payment method (`payments.rs`); success pays the invoice (`invoice.paid`,
//! `invoice.payment_succeeded`) and brings a `past_due` or `unpaid` subscription back to
//! `active`; a failure (`invoice.payment_failed` with `attempt_count` and
//! `next_payment_attempt`) moves an active subscription to `past_due` and schedules the next
//! retry from the account's [`StripeDunning`](crate::StripeDunning) settings, and the last one
//! cancels the subscription, marks it `unpaid` or leaves it, as they say. The clock runs the
//! drafts due for finalization and the retries due; `POST /v1/invoices/{id}/pay` attempts now.
//!
//! Facts: Stripe retries on the subscription's `default_payment_method`, else the customer's
//! `invoice_settings.default_payment_method`, and a customer who replaces the failed method
//! is charged on it at the next scheduled retry (Stripe's "Automate payment retries" page);
//! only automatic retries count in `attempt_count` after the first attempt (API reference);
//! every failed attempt sends `invoice.payment_failed` and the last is followed by
//! `customer.subscription.deleted` when the setting cancels (third-party accounts of Stripe's
//! dunning, consistent with the reference).

use std::collections::BTreeMap;

use http::StatusCode;

use crate::app::App;
use crate::gateways::stripe::dunning::{StripeInvoiceAfterRetries, StripeSubscriptionAfterRetries};
use crate::gateways::stripe::error::{ApiError, Failure, Outcome};
use crate::gateways::stripe::events::{emit_event, emit_update_event, previous_attributes};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::invoices::render::render;
use crate::gateways::stripe::objects::{InvoiceStatus, Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    boolean, check_expand, expand_list, reject_unsupported, text, CallContext,
};
use crate::gateways::stripe::payment_methods::{self, card_error};
use crate::gateways::stripe::payments::{self, Attempt, AttemptResult, Settled};
use crate::gateways::stripe::subscriptions::render::render as render_subscription;
use crate::instruments::Decline;
use crate::state::State;

/// Whether an attempt is the retry schedule's (it counts in `attempt_count` and moves the
/// schedule on) or one asked for through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptKind {
    Automatic,
    Manual,
}

/// The reason an attempt without any payment method fails. The rule (no method, no payment)
/// is Stripe's; the code and wording are the sandbox's.
const NO_PAYMENT_METHOD: Decline = Decline {
    code: "invoice_no_payment_method",
    decline_code: None,
    message: "The customer has no payment method to charge this invoice to.",
};

/// Emits `event_type` with the invoice as it is now.
pub(crate) fn emit_invoice(
    app: &App,
    state: &mut State,
    id: &str,
    event_type: &str,
    context: Option<&CallContext<'_>>,
) {
    let Some(invoice) = state.stripe.invoices.get(id) else {
        return;
    };
    let rendered = render(state, invoice, &[]);
    emit_event(app, state, event_type, rendered, context);
}

/// Attempts to pay the open invoice `id` with `payment_method` (default: the subscription's,
/// then the customer's); an invoice with nothing due is paid without a payment.
///
/// # Errors
/// The decline, after the failure was recorded and its events emitted.
pub(crate) fn attempt(
    app: &App,
    state: &mut State,
    id: &str,
    kind: AttemptKind,
    payment_method: Option<&str>,
    context: Option<&CallContext<'_>>,
) -> Result<(), Decline> {
    let Some(invoice) = state.stripe.invoices.get(id) else {
        return Ok(());
    };
    if !matches!(
        invoice.status,
        InvoiceStatus::Open | InvoiceStatus::Uncollectible
    ) {
        return Ok(());
    }
    let due = invoice.amount_due();
    if due <= 0 {
        mark_paid(app, state, id, kind, context);
        return Ok(());
    }
    let subscription = invoice
        .subscription
        .as_deref()
        .and_then(|subscription| state.stripe.subscriptions.get(subscription));
    let method = payment_method
        .map(str::to_owned)
        .or_else(|| subscription.and_then(|subscription| default_method(state, subscription)))
        .or_else(|| {
            state
                .stripe
                .customers
                .get(&invoice.customer)
                .and_then(|customer| customer.default_payment_method.clone())
        });
    let Some(method) = method else {
        record_failure(app, state, id, kind, context);
        return Err(NO_PAYMENT_METHOD);
    };
    let description = match invoice.billing_reason.as_str() {
        "subscription_create" => "Subscription creation",
        "subscription_cycle" => "Subscription cycle",
        _ => "Subscription update",
    };
    let intent = invoice.payment_intent.clone();
    let currency = invoice.currency.clone();
    let customer = invoice.customer.clone();
    let email = invoice.customer_email.clone();
    let attempted = payments::attempt(
        app,
        state,
        Attempt {
            intent: intent.as_deref(),
            amount: due,
            currency: &currency,
            customer: Some(&customer),
            description: Some(description),
            metadata: &BTreeMap::new(),
            receipt_email: None,
            email: email.as_deref(),
            payment_method: &method,
        },
        context,
    );
    if let Some(invoice) = state.stripe.invoices.get_mut(id) {
        invoice.payment_intent = Some(attempted.intent.clone());
        invoice.attempted = true;
    }
    match attempted.result {
        AttemptResult::Succeeded => {
            mark_paid(app, state, id, kind, context);
            Ok(())
        }
        // A bank debit: the invoice waits for it (see `settle_delayed`).
        AttemptResult::Processing => {
            if let Some(invoice) = state.stripe.invoices.get_mut(id) {
                invoice.next_payment_attempt = None;
            }
            Ok(())
        }
        AttemptResult::Declined(decline) => {
            record_failure(app, state, id, kind, context);
            Err(decline)
        }
    }
}

/// The subscription's own payment method, if it names one.
fn default_method(state: &State, subscription: &Subscription) -> Option<String> {
    payment_methods::for_subscription(state, subscription)
        .map(|method| method.id.clone())
        .or_else(|| subscription.default_payment_method.clone())
}

/// Whether this attempt counts in `attempt_count`: every automatic one, and the first
/// attempt of any kind.
fn counts(kind: AttemptKind, attempts_so_far: u32) -> bool {
    kind == AttemptKind::Automatic || attempts_so_far == 0
}

/// Pays the invoice, emits `invoice.paid` and `invoice.payment_succeeded`, and brings its
/// subscription back to `active` when nothing else of it is left open.
fn mark_paid(
    app: &App,
    state: &mut State,
    id: &str,
    kind: AttemptKind,
    context: Option<&CallContext<'_>>,
) {
    let now = state.now();
    let Some(invoice) = state.stripe.invoices.get_mut(id) else {
        return;
    };
    if invoice.amount_due() > 0 && counts(kind, invoice.attempt_count) {
        invoice.attempt_count = invoice.attempt_count.saturating_add(1);
        invoice.attempted = true;
    }
    invoice.status = InvoiceStatus::Paid;
    invoice.paid_at = Some(now);
    invoice.next_payment_attempt = None;
    let subscription = invoice.subscription.clone();
    emit_invoice(app, state, id, "invoice.paid", context);
    emit_invoice(app, state, id, "invoice.payment_succeeded", context);
    if let Some(subscription) = subscription {
        recover(app, state, &subscription, context);
    }
}

/// Moves a `past_due` or `unpaid` subscription back to `active` once none of its invoices is
/// left open.
fn recover(app: &App, state: &mut State, id: &str, context: Option<&CallContext<'_>>) {
    let Some(subscription) = state.stripe.subscriptions.get(id) else {
        return;
    };
    if !matches!(
        subscription.status,
        SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
    ) {
        return;
    }
    let still_owed = state.stripe.invoices.oldest_first().any(|invoice| {
        invoice.subscription.as_deref() == Some(id) && invoice.status == InvoiceStatus::Open
    });
    if still_owed {
        return;
    }
    set_status(app, state, id, SubscriptionStatus::Active, context);
}

/// Records a failed attempt: the count, the next retry (automatic attempts), the
/// `invoice.payment_failed` event, `past_due`, and what the settings say once retries run out.
fn record_failure(
    app: &App,
    state: &mut State,
    id: &str,
    kind: AttemptKind,
    context: Option<&CallContext<'_>>,
) {
    let now = state.now();
    let Some(invoice) = state.stripe.invoices.get_mut(id) else {
        return;
    };
    invoice.attempted = true;
    if counts(kind, invoice.attempt_count) {
        invoice.attempt_count = invoice.attempt_count.saturating_add(1);
    }
    let exhausted = match kind {
        AttemptKind::Automatic => {
            let next = app
                .config
                .stripe_dunning
                .next_retry_after(invoice.attempt_count)
                .map(|after| now.saturating_add(after));
            invoice.next_payment_attempt = next;
            next.is_none()
        }
        // A manual attempt leaves the schedule as it was.
        AttemptKind::Manual => false,
    };
    let next = invoice.next_payment_attempt;
    let subscription = invoice.subscription.clone();
    if let Some(at) = next {
        state.note_expiry(at);
    }
    emit_invoice(app, state, id, "invoice.payment_failed", context);
    let Some(subscription) = subscription else {
        return;
    };
    if state
        .stripe
        .subscriptions
        .get(&subscription)
        .is_some_and(|subscription| {
            matches!(
                subscription.status,
                SubscriptionStatus::Active | SubscriptionStatus::Trialing
            )
        })
    {
        set_status(
            app,
            state,
            &subscription,
            SubscriptionStatus::PastDue,
            context,
        );
    }
    if exhausted {
        after_retries(app, state, id, &subscription);
    }
}

/// Applies the account's settings once the last retry failed.
fn after_retries(app: &App, state: &mut State, invoice_id: &str, subscription: &str) {
    let now = state.now();
    match app.config.stripe_dunning.invoice_after() {
        StripeInvoiceAfterRetries::LeaveOpen => {}
        StripeInvoiceAfterRetries::MarkUncollectible => {
            if let Some(invoice) = state.stripe.invoices.get_mut(invoice_id) {
                invoice.status = InvoiceStatus::Uncollectible;
                invoice.marked_uncollectible_at = Some(now);
            }
            emit_invoice(app, state, invoice_id, "invoice.marked_uncollectible", None);
        }
    }
    let live = state
        .stripe
        .subscriptions
        .get(subscription)
        .is_some_and(|subscription| subscription.status == SubscriptionStatus::PastDue);
    if !live {
        return;
    }
    match app.config.stripe_dunning.subscription_after() {
        StripeSubscriptionAfterRetries::Cancel => {
            let Some(canceled) = state.stripe.subscriptions.get_mut(subscription) else {
                return;
            };
            canceled.status = SubscriptionStatus::Canceled;
            canceled.canceled_at = Some(now);
            canceled.ended_at = Some(now);
            canceled.cancel_at = None;
            canceled.cancel_at_period_end = false;
            canceled.cancellation_reason = Some("payment_failed".to_owned());
            let Some(canceled) = state.stripe.subscriptions.get(subscription) else {
                return;
            };
            let rendered = render_subscription(state, canceled, &[]);
            emit_event(app, state, "customer.subscription.deleted", rendered, None);
        }
        StripeSubscriptionAfterRetries::MarkUnpaid => {
            set_status(app, state, subscription, SubscriptionStatus::Unpaid, None);
        }
        StripeSubscriptionAfterRetries::LeavePastDue => {}
    }
}

/// Changes a subscription's status and emits `customer.subscription.updated` with the old one.
fn set_status(
    app: &App,
    state: &mut State,
    id: &str,
    status: SubscriptionStatus,
    context: Option<&CallContext<'_>>,
) {
    let Some(before) = state.stripe.subscriptions.get(id) else {
        return;
    };
    let old = render_subscription(state, before, &[]);
    let Some(subscription) = state.stripe.subscriptions.get_mut(id) else {
        return;
    };
    subscription.status = status;
    let Some(after) = state.stripe.subscriptions.get(id) else {
        return;
    };
    let new = render_subscription(state, after, &[]);
    let changed = previous_attributes(&old, &new);
    emit_update_event(
        app,
        state,
        "customer.subscription.updated",
        new,
        changed,
        context,
    );
}

/// Follows a settled bank debit that paid an invoice.
pub(crate) fn settle_delayed(app: &App, state: &mut State, settled: &Settled) {
    let Some(id) = state
        .stripe
        .invoices
        .oldest_first()
        .find(|invoice| {
            invoice.status == InvoiceStatus::Open
                && invoice.payment_intent.as_deref() == Some(settled.intent.as_str())
        })
        .map(|invoice| invoice.id.clone())
    else {
        return;
    };
    if settled.succeeded {
        mark_paid(app, state, &id, AttemptKind::Manual, None);
    } else {
        record_failure(app, state, &id, AttemptKind::Automatic, None);
    }
}

/// Retries every open invoice whose next payment attempt has come, oldest first. An invoice
/// of a canceled subscription is not retried: "upon subscription cancellation, Stripe will
/// stop automatic collection of all finalized invoices" (API reference, cancel a
/// subscription; the sandbox stops those of that subscription).
pub(crate) fn retry_due(app: &App, state: &mut State) {
    let now = state.now();
    let due: Vec<String> = state
        .stripe
        .invoices
        .oldest_first()
        .filter(|invoice| {
            invoice.status == InvoiceStatus::Open
                && invoice.next_payment_attempt.is_some_and(|at| at <= now)
        })
        .map(|invoice| invoice.id.clone())
        .collect();
    for id in due {
        let Some(invoice) = state.stripe.invoices.get_mut(&id) else {
            continue;
        };
        invoice.next_payment_attempt = None;
        let subscription = invoice.subscription.clone();
        let canceled = subscription
            .and_then(|subscription| state.stripe.subscriptions.get(&subscription))
            .is_some_and(|subscription| subscription.status == SubscriptionStatus::Canceled);
        if canceled {
            continue;
        }
        // A failure has scheduled the next retry (or run out); nothing else to do here.
        let _ = attempt(app, state, &id, AttemptKind::Automatic, None, None);
    }
}

/// Stops the automatic collection of a canceled subscription's open invoices: no retry is
/// scheduled any more (Stripe stops automatic collection on cancellation).
pub(crate) fn stop_collection(state: &mut State, subscription: &str) {
    let open: Vec<String> = state
        .stripe
        .invoices
        .oldest_first()
        .filter(|invoice| {
            invoice.status == InvoiceStatus::Open
                && invoice.subscription.as_deref() == Some(subscription)
        })
        .map(|invoice| invoice.id.clone())
        .collect();
    for id in open {
        if let Some(invoice) = state.stripe.invoices.get_mut(&id) {
            invoice.next_payment_attempt = None;
        }
    }
}

/// Parameters of `POST /v1/invoices/{id}/pay` the sandbox implements.
const PAY_PARAMS: &[&str] = &[
    "expand",
    "off_session",
    "paid_out_of_band",
    "payment_method",
];
/// Documented ones it does not emulate; refused by name.
const UNEMULATED_PAY_PARAMS: &[&str] = &["forgive", "mandate", "source"];

/// `POST /v1/invoices/{id}/pay`: attempts payment now, outside the retry schedule, with
/// `payment_method` (which must be the customer's) or the default one; `paid_out_of_band`
/// marks it paid without a payment.
pub(crate) fn pay(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(params, PAY_PARAMS, UNEMULATED_PAY_PARAMS, "", "invoices")?;
    check_expand(&expand_list(params)?, &[])?;
    boolean(params, "off_session", "")?;
    let out_of_band = boolean(params, "paid_out_of_band", "")?.unwrap_or(false);
    let method = text(params, "payment_method", "")?;
    let invoice = state
        .stripe
        .invoices
        .get(id)
        .ok_or_else(|| Failure::not_found("invoice", "invoice", id))?;
    // The rules are Stripe's (only open or uncollectible invoices can be paid); the wording
    // is the sandbox's.
    match invoice.status {
        InvoiceStatus::Open | InvoiceStatus::Uncollectible => {}
        InvoiceStatus::Paid => {
            return Err(Failure::invalid(
                None,
                None,
                "Invoice is already paid".to_owned(),
            ))
        }
        InvoiceStatus::Draft | InvoiceStatus::Void => {
            return Err(Failure::invalid(
                None,
                None,
                format!(
                    "You can only pay an invoice that is open or uncollectible; this one is {}.",
                    invoice.status.as_str()
                ),
            ))
        }
    }
    if let Some(method) = method {
        payment_methods::check_attached(state, method, &invoice.customer, "payment_method")?;
    }
    if out_of_band {
        let now = state.now();
        if let Some(invoice) = state.stripe.invoices.get_mut(id) {
            invoice.status = InvoiceStatus::Paid;
            invoice.paid_at = Some(now);
            invoice.next_payment_attempt = None;
        }
        emit_invoice(app, state, id, "invoice.paid", Some(context));
        let subscription = state
            .stripe
            .invoices
            .get(id)
            .and_then(|invoice| invoice.subscription.clone());
        if let Some(subscription) = subscription {
            recover(app, state, &subscription, Some(context));
        }
    } else if let Err(decline) = attempt(app, state, id, AttemptKind::Manual, method, Some(context))
    {
        let mut failure = card_error(decline, None);
        if decline.code == NO_PAYMENT_METHOD.code {
            failure.status = StatusCode::BAD_REQUEST;
            failure.error = ApiError {
                kind: "invalid_request_error",
                code: None,
                param: None,
                message: decline.message.to_owned(),
            };
        }
        return Err(failure);
    }
    let invoice = state
        .stripe
        .invoices
        .get(id)
        .ok_or_else(|| Failure::not_found("invoice", "invoice", id))?;
    Ok((StatusCode::OK, render(state, invoice, &[])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_automatic_attempts_count_after_the_first() {
        assert!(counts(AttemptKind::Automatic, 0));
        assert!(counts(AttemptKind::Automatic, 3));
        assert!(counts(AttemptKind::Manual, 0));
        assert!(!counts(AttemptKind::Manual, 1));
    }
}
