//! Ending and suspending subscriptions: `DELETE /v1/subscriptions/{id}` (cancel now, with
//! `prorate` and `invoice_now`), `POST …/pause` (2026-09-30.endive on) and `POST …/resume`
//! (paused subscriptions only), and the cancellation the clock performs at period end.

use http::StatusCode;

use crate::app::App;
use crate::gateways::stripe::calendar::period_containing;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::{emit_event, emit_update_event, previous_attributes};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::invoices::collect::stop_collection;
use crate::gateways::stripe::invoices::issue::{issue, new_invoice_id, Collection, Draft};
use crate::gateways::stripe::invoices::lines::{
    period_line, remaining_time_line, unused_time_line, Billed,
};
use crate::gateways::stripe::objects::{InvoiceLine, Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    boolean, check_expand, expand_list, integer, object, one_of, reject_unknown, text, CallContext,
};
use crate::gateways::stripe::payment_methods;
use crate::gateways::stripe::subscriptions::changes::{
    check_proration_date, proration_behavior, ProrationBehavior,
};
use crate::gateways::stripe::subscriptions::render::{render, EXPANSIONS};
use crate::gateways::stripe::subscriptions::{discount_at, find, period_end, schedule};
use crate::instruments::DEFAULT_CARD;
use crate::state::State;

/// `DELETE /v1/subscriptions/{id}`: cancels now. A canceled subscription answers 404, as
/// Stripe's does ("akin to being deleted", stripe/stripe-go#1887).
pub(crate) fn cancel(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(
        params,
        &["cancellation_details", "expand", "invoice_now", "prorate"],
        "",
    )?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    let invoice_now = boolean(params, "invoice_now", "")?.unwrap_or(false);
    let prorate = boolean(params, "prorate", "")?.unwrap_or(false);
    let (feedback, comment) = match object(params, "cancellation_details", "")? {
        Some(details) => {
            reject_unknown(details, &["comment", "feedback"], "cancellation_details")?;
            let feedback = one_of(
                details,
                "feedback",
                "cancellation_details",
                &[
                    "customer_service",
                    "low_quality",
                    "missing_features",
                    "other",
                    "switched_service",
                    "too_complex",
                    "too_expensive",
                    "unused",
                ],
            )?;
            let comment = text(details, "comment", "cancellation_details")?;
            (feedback.map(str::to_owned), comment.map(str::to_owned))
        }
        None => (None, None),
    };
    let subscription = find(state, id, "subscription")?;
    if subscription.status == SubscriptionStatus::Canceled {
        return Err(Failure::not_found("subscription", "subscription", id));
    }
    let now = state.now();
    let mut final_lines: Vec<InvoiceLine> = Vec::new();
    if prorate && subscription.status == SubscriptionStatus::Active {
        for item in &subscription.items {
            let billed = Billed {
                subscription: id,
                item: &item.id,
                price: &item.price,
                quantity: item.quantity,
            };
            if now < item.current_period_end {
                final_lines.push(unused_time_line(
                    billed,
                    now,
                    (item.current_period_start, item.current_period_end),
                ));
            }
        }
    }
    let mut canceled = subscription.clone();
    if invoice_now {
        final_lines.splice(0..0, canceled.pending.drain(..));
    }
    canceled.status = SubscriptionStatus::Canceled;
    canceled.canceled_at = Some(now);
    canceled.ended_at = Some(now);
    canceled.cancellation_reason = Some("cancellation_requested".to_owned());
    if feedback.is_some() {
        canceled.cancellation_feedback = feedback;
    }
    if comment.is_some() {
        canceled.cancellation_comment = comment;
    }
    let invoice_id = (invoice_now && !final_lines.is_empty()).then(new_invoice_id);
    if invoice_id.is_some() {
        canceled.latest_invoice = invoice_id.clone();
    }
    let draft = invoice_id.as_ref().map(|_| Draft {
        customer: canceled.customer.clone(),
        subscription: Some(id.to_owned()),
        billing_reason: "subscription_cycle",
        currency: canceled.currency.clone(),
        lines: final_lines,
        discount: None,
        period_start: now,
        period_end: now,
    });
    let rendered = render(state, &canceled, &[]);
    let answer = render(state, &canceled, &expand);
    state.stripe.subscriptions.insert(id.to_owned(), canceled);
    stop_collection(state, id);
    if let (Some(invoice_id), Some(draft)) = (invoice_id, draft) {
        issue(
            app,
            state,
            invoice_id,
            draft,
            Collection::Pay,
            Some(context),
        );
    }
    emit_event(
        app,
        state,
        "customer.subscription.deleted",
        rendered,
        Some(context),
    );
    Ok((StatusCode::OK, answer))
}

/// Ends a subscription whose scheduled cancellation (`cancel_at_period_end`, `cancel_at`)
/// has come, at `at`; emits `customer.subscription.deleted`.
pub(crate) fn end_scheduled(app: &App, state: &mut State, id: &str, at: i64) {
    let Some(subscription) = state.stripe.subscriptions.get_mut(id) else {
        return;
    };
    subscription.status = SubscriptionStatus::Canceled;
    subscription.ended_at = Some(at);
    if subscription.canceled_at.is_none() {
        subscription.canceled_at = Some(at);
    }
    subscription.cancellation_reason = Some("cancellation_requested".to_owned());
    stop_collection(state, id);
    let Some(subscription) = state.stripe.subscriptions.get(id) else {
        return;
    };
    let rendered = render(state, subscription, &[]);
    emit_event(app, state, "customer.subscription.deleted", rendered, None);
}

/// `POST /v1/subscriptions/{id}/pause` (2026-09-30.endive on): an active or trialing
/// subscription stops billing until it is resumed.
pub(crate) fn pause(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["expand", "type"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    one_of(params, "type", "", &["subscription"])?.ok_or_else(|| Failure::missing("type"))?;
    let subscription = find(state, id, "subscription")?;
    if !matches!(
        subscription.status,
        SubscriptionStatus::Active | SubscriptionStatus::Trialing
    ) {
        // The rule is Stripe's; the wording is the sandbox's.
        return Err(Failure::invalid(
            None,
            None,
            format!(
                "Only subscriptions with a status of `active` or `trialing` can be paused. This \
                 subscription has a status of `{}`.",
                subscription.status.as_str()
            ),
        ));
    }
    let mut paused = subscription.clone();
    paused.status = SubscriptionStatus::Paused;
    transition(
        app,
        state,
        paused,
        "customer.subscription.paused",
        Some(context),
    );
    let subscription = find(state, id, "subscription")?;
    Ok((StatusCode::OK, render(state, subscription, &expand)))
}

/// Stores a subscription's new state and emits `customer.subscription.updated` with what
/// changed, then `also` (`…paused`, `…resumed`) with the object.
fn transition(
    app: &App,
    state: &mut State,
    after: Subscription,
    also: &str,
    context: Option<&CallContext<'_>>,
) {
    let id = after.id.clone();
    let old = state
        .stripe
        .subscriptions
        .get(&id)
        .map(|before| render(state, before, &[]));
    let new = render(state, &after, &[]);
    state.stripe.subscriptions.insert(id.clone(), after);
    if let Some(old) = old {
        let changed = previous_attributes(&old, &new);
        emit_update_event(
            app,
            state,
            "customer.subscription.updated",
            new.clone(),
            changed,
            context,
        );
    }
    emit_event(app, state, also, new, context);
    schedule(state, &id);
}

/// Pauses a subscription whose trial ended without a payment method and whose
/// `trial_settings` say `pause` (the clock calls this).
pub(crate) fn pause_after_trial(app: &App, state: &mut State, id: &str) {
    let Some(mut paused) = state.stripe.subscriptions.get(id).cloned() else {
        return;
    };
    paused.status = SubscriptionStatus::Paused;
    transition(app, state, paused, "customer.subscription.paused", None);
}

/// `POST /v1/subscriptions/{id}/resume`: only a `paused` subscription. With
/// `billing_cycle_anchor=now` (the default) a new period starts now and is invoiced; with
/// `unchanged` the current cycle goes on and the rest of it is prorated (unless
/// `proration_behavior=none`). The invoice is charged to the subscription's (or customer's)
/// payment method; without one the sandbox assumes the customer added the paying test Visa
/// before resuming, and saves it.
pub(crate) fn resume(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(
        params,
        &[
            "billing_cycle_anchor",
            "expand",
            "payment_behavior",
            "proration_behavior",
            "proration_date",
        ],
        "",
    )?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    let anchor_now = one_of(params, "billing_cycle_anchor", "", &["now", "unchanged"])?
        .is_none_or(|anchor| anchor == "now");
    let behavior = proration_behavior(params, "")?;
    one_of(
        params,
        "payment_behavior",
        "",
        &["resume_on_payment_attempt", "resume_on_payment_success"],
    )?;
    let proration_date = integer(params, "proration_date", "")?;
    let subscription = find(state, id, "subscription")?;
    if subscription.status != SubscriptionStatus::Paused {
        // The rule is Stripe's (only `status=paused` resumes); the wording is the sandbox's.
        return Err(Failure::invalid(
            None,
            None,
            format!(
                "Only subscriptions with a status of `paused` can be resumed. This subscription \
                 has a status of `{}`.",
                subscription.status.as_str()
            ),
        ));
    }
    let now = state.now();
    let at = proration_date.unwrap_or(now);
    let mut resumed = subscription.clone();
    let mut lines: Vec<InvoiceLine> = resumed.pending.drain(..).collect();
    if anchor_now {
        resumed.billing_cycle_anchor = now;
        for item in &mut resumed.items {
            if let Some(recurring) = item.price.recurring.clone() {
                item.current_period_start = now;
                item.current_period_end = period_end(now, &recurring);
            }
            lines.push(period_line(
                Billed {
                    subscription: id,
                    item: &item.id,
                    price: &item.price,
                    quantity: item.quantity,
                },
                now,
                item.current_period_end,
            ));
        }
    } else {
        roll_periods_forward(&mut resumed, now);
        if proration_date.is_some() {
            check_proration_date(&resumed, at, "proration_date")?;
        }
        if behavior != ProrationBehavior::None {
            for item in &resumed.items {
                lines.push(remaining_time_line(
                    Billed {
                        subscription: id,
                        item: &item.id,
                        price: &item.price,
                        quantity: item.quantity,
                    },
                    at,
                    (item.current_period_start, item.current_period_end),
                ));
            }
        }
    }
    resumed.status = SubscriptionStatus::Active;
    if resumed.default_payment_method.is_none()
        && payment_methods::for_subscription(state, &resumed).is_none()
    {
        resumed.default_payment_method = Some(payment_methods::insert(
            state,
            DEFAULT_CARD,
            Some(&resumed.customer),
            None,
        ));
    }
    let invoice_id = (!lines.is_empty()).then(new_invoice_id);
    if invoice_id.is_some() {
        resumed.latest_invoice = invoice_id.clone();
    }
    let draft = invoice_id.as_ref().map(|_| Draft {
        customer: resumed.customer.clone(),
        subscription: Some(id.to_owned()),
        billing_reason: "subscription_update",
        currency: resumed.currency.clone(),
        lines,
        discount: discount_at(state, &resumed, now),
        period_start: now,
        period_end: now,
    });
    transition(
        app,
        state,
        resumed,
        "customer.subscription.resumed",
        Some(context),
    );
    if let (Some(invoice_id), Some(draft)) = (invoice_id, draft) {
        issue(
            app,
            state,
            invoice_id,
            draft,
            Collection::Pay,
            Some(context),
        );
    }
    let subscription = find(state, id, "subscription")?;
    Ok((StatusCode::OK, render(state, subscription, &expand)))
}

/// Moves each item's period to the one of its cycle that contains `now`.
fn roll_periods_forward(subscription: &mut Subscription, now: i64) {
    let anchor = subscription.billing_cycle_anchor;
    for item in &mut subscription.items {
        let Some(recurring) = &item.price.recurring else {
            continue;
        };
        if item.current_period_end > now {
            continue;
        }
        if let Some((start, end)) =
            period_containing(anchor, &recurring.interval, recurring.interval_count, now)
        {
            item.current_period_start = start;
            item.current_period_end = end;
        }
    }
}
