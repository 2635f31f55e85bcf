//! What the sandbox clock does to subscriptions: `customer.subscription.trial_will_end` three
//! days before a trial ends; the trial's end (`active` and the first paid period's invoice,
//! or — without a payment method — `paused` or canceled as `trial_settings` say, while
//! `create_invoice` bills anyway and lets the failed payment make it `past_due`); renewals
//! at each period end (a `subscription_cycle` draft with the pending prorations, which the
//! invoice clock finalizes and collects an hour later, as Stripe does); and scheduled
//! cancellations (`cancel_at_period_end`, `cancel_at`). Past-due and unpaid subscriptions
//! renew too.

use crate::app::App;
use crate::gateways::stripe::calendar::next_boundary;
use crate::gateways::stripe::events::{emit_event, emit_update_event, previous_attributes};
use crate::gateways::stripe::invoices::issue::{
    issue, issue_draft, new_invoice_id, Collection, Draft, RENEWAL_DRAFT_SECONDS,
};
use crate::gateways::stripe::invoices::lines::{period_line, Billed};
use crate::gateways::stripe::objects::{
    InvoiceLine, SubscriptionStatus, TrialEndBehavior, TRIAL_WARNING_SECONDS,
};
use crate::gateways::stripe::payment_methods;
use crate::gateways::stripe::subscriptions::cancel::{end_scheduled, pause_after_trial};
use crate::gateways::stripe::subscriptions::render::render;
use crate::gateways::stripe::subscriptions::{discount_at, period_end, schedule};
use crate::state::State;

/// Most steps (renewals, trial ends, warnings) one subscription takes per sweep, so a clock
/// advanced by decades cannot stall a request; the once-a-second ticker takes the rest.
const MAX_STEPS_PER_SWEEP: usize = 24;

/// Runs every subscription step whose time has come.
pub(crate) fn run_due(app: &App, state: &mut State) {
    let now = state.now();
    let due: Vec<String> = state
        .stripe
        .subscriptions
        .oldest_first()
        .filter(|subscription| subscription.next_due().is_some_and(|due| due <= now))
        .map(|subscription| subscription.id.clone())
        .collect();
    for id in due {
        for _ in 0..MAX_STEPS_PER_SWEEP {
            if !step(app, state, &id, now) {
                break;
            }
        }
        schedule(state, &id);
    }
}

/// Takes the subscription's earliest due step; `false` when nothing is due.
fn step(app: &App, state: &mut State, id: &str, now: i64) -> bool {
    let Some(subscription) = state.stripe.subscriptions.get(id) else {
        return false;
    };
    if subscription.next_due().is_none_or(|due| due > now) {
        return false;
    }
    let period_end = subscription
        .items
        .iter()
        .map(|item| item.current_period_end)
        .min()
        .unwrap_or(now);
    let trial_end = subscription
        .trial_end
        .filter(|_| subscription.status == SubscriptionStatus::Trialing);
    if let Some(end) = trial_end {
        if !subscription.trial_will_end_sent && end.saturating_sub(TRIAL_WARNING_SECONDS) <= now {
            warn_trial_end(app, state, id);
            return true;
        }
    }
    if let Some(cancel_at) = subscription.cancel_at.filter(|at| *at <= now) {
        if cancel_at <= period_end {
            invoice_pending(app, state, id);
            end_scheduled(app, state, id, cancel_at);
            return true;
        }
    }
    match trial_end {
        Some(end) if end <= now => end_trial(app, state, id),
        _ if period_end <= now => renew(app, state, id, now),
        _ => return false,
    }
    true
}

fn warn_trial_end(app: &App, state: &mut State, id: &str) {
    let Some(subscription) = state.stripe.subscriptions.get_mut(id) else {
        return;
    };
    subscription.trial_will_end_sent = true;
    let Some(subscription) = state.stripe.subscriptions.get(id) else {
        return;
    };
    let rendered = render(state, subscription, &[]);
    emit_event(
        app,
        state,
        "customer.subscription.trial_will_end",
        rendered,
        None,
    );
}

/// Bills the pending prorations of a subscription that is about to end, if there are any.
fn invoice_pending(app: &App, state: &mut State, id: &str) {
    let Some(subscription) = state.stripe.subscriptions.get_mut(id) else {
        return;
    };
    if subscription.pending.is_empty() {
        return;
    }
    let lines: Vec<InvoiceLine> = subscription.pending.drain(..).collect();
    let invoice_id = new_invoice_id();
    subscription.latest_invoice = Some(invoice_id.clone());
    let draft = Draft {
        customer: subscription.customer.clone(),
        subscription: Some(id.to_owned()),
        billing_reason: "subscription_cycle",
        currency: subscription.currency.clone(),
        lines,
        discount: None,
        period_start: state.now(),
        period_end: state.now(),
    };
    issue(app, state, invoice_id, draft, Collection::Pay, None);
}

/// Ends a trial: the first paid period starts (collected with the payment method checkout
/// took), or, without one, what `trial_settings.end_behavior.missing_payment_method` says.
fn end_trial(app: &App, state: &mut State, id: &str) {
    let Some(subscription) = state.stripe.subscriptions.get(id) else {
        return;
    };
    let has_method = subscription.default_payment_method.is_some()
        || payment_methods::for_subscription(state, subscription).is_some();
    let trial_end = subscription.trial_end.unwrap_or_else(|| state.now());
    match (has_method, subscription.trial_end_behavior) {
        (false, TrialEndBehavior::Pause) => pause_after_trial(app, state, id),
        (false, TrialEndBehavior::Cancel) => end_scheduled(app, state, id, trial_end),
        // Without a method the invoice's payment fails an hour later: `past_due` then.
        (true, _) | (false, TrialEndBehavior::CreateInvoice) => {
            start_next_periods(app, state, id, Some(SubscriptionStatus::Active));
        }
    }
}

fn renew(app: &App, state: &mut State, id: &str, now: i64) {
    if let Some(subscription) = state.stripe.subscriptions.get_mut(id) {
        // A pause of collection ends by itself at `resumes_at`.
        if subscription
            .pause_collection
            .as_ref()
            .and_then(|pause| pause.resumes_at)
            .is_some_and(|resumes_at| resumes_at <= now)
        {
            subscription.pause_collection = None;
        }
    }
    start_next_periods(app, state, id, None);
}

/// Starts the next period of every item whose period has ended, drafts its invoice with the
/// pending prorations, and emits `customer.subscription.updated` then `invoice.created`; the
/// invoice clock finalizes and collects the draft an hour later (never while
/// `pause_collection` keeps drafts).
fn start_next_periods(app: &App, state: &mut State, id: &str, status: Option<SubscriptionStatus>) {
    let Some(before) = state.stripe.subscriptions.get(id).cloned() else {
        return;
    };
    let mut after = before.clone();
    if let Some(status) = status {
        after.status = status;
    }
    let due = after
        .items
        .iter()
        .map(|item| item.current_period_end)
        .min()
        .unwrap_or_else(|| state.now());
    let mut lines: Vec<InvoiceLine> = after.pending.drain(..).collect();
    let anchor = after.billing_cycle_anchor;
    for item in &mut after.items {
        if item.current_period_end > due {
            continue;
        }
        let Some(recurring) = item.price.recurring.clone() else {
            continue;
        };
        let start = item.current_period_end;
        let end = next_boundary(anchor, &recurring.interval, recurring.interval_count, start)
            .unwrap_or_else(|| period_end(start, &recurring));
        item.current_period_start = start;
        item.current_period_end = end;
        lines.push(period_line(
            Billed {
                subscription: id,
                item: &item.id,
                price: &item.price,
                quantity: item.quantity,
            },
            start,
            end,
        ));
    }
    let invoice_id = new_invoice_id();
    after.latest_invoice = Some(invoice_id.clone());
    let discount = discount_at(state, &after, due);
    if discount.is_none() && after.discount.is_some() {
        // A `repeating` coupon ran out.
        after.discount = None;
    }
    let keeps_drafts = after.pause_collection.as_ref().is_some_and(|pause| {
        Collection::for_pause(Some(&pause.behavior)) == Collection::KeepAsDraft
    });
    let now = state.now();
    let finalizes_at = (!keeps_drafts).then(|| now.saturating_add(RENEWAL_DRAFT_SECONDS));
    let draft = Draft {
        customer: after.customer.clone(),
        subscription: Some(id.to_owned()),
        billing_reason: "subscription_cycle",
        currency: after.currency.clone(),
        lines,
        discount,
        period_start: before
            .items
            .iter()
            .map(|item| item.current_period_start)
            .min()
            .unwrap_or(due),
        period_end: due,
    };
    let old = render(state, &before, &[]);
    let new = render(state, &after, &[]);
    state.stripe.subscriptions.insert(id.to_owned(), after);
    let changed = previous_attributes(&old, &new);
    emit_update_event(
        app,
        state,
        "customer.subscription.updated",
        new,
        changed,
        None,
    );
    issue_draft(app, state, &invoice_id, draft, finalizes_at);
}
