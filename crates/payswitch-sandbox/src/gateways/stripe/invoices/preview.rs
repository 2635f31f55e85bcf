//! `POST /v1/invoices/create_preview` for a subscription: the invoice a change would bill,
//! computed with the same planning as the update and stored nowhere. With
//! `proration_behavior=always_invoice` (or a change of interval) that is the invoice the
//! update would issue now; otherwise the next renewal, with the pending and previewed
//! prorations before the next period's lines. The preview's id is `upcoming_in_…`.

use http::StatusCode;

use crate::gateways::stripe::calendar::next_boundary;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::invoices::issue::{build, Draft};
use crate::gateways::stripe::invoices::lines::{period_line, Billed};
use crate::gateways::stripe::invoices::render::render;
use crate::gateways::stripe::objects::{InvoiceLine, Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    boolean, check_expand, expand_list, integer, object, reject_unsupported, text,
};
use crate::gateways::stripe::subscriptions::changes::{
    check_proration_date, parse_items, plan, proration_behavior, Plan, ProrationBehavior,
};
use crate::gateways::stripe::subscriptions::{discount_at, find, period_end};
use crate::state::{random_token, State};

const PREVIEW_PARAMS: &[&str] = &["customer", "expand", "subscription", "subscription_details"];
/// Documented preview parameters the sandbox does not emulate; refused by name.
const UNEMULATED_PREVIEW_PARAMS: &[&str] = &[
    "automatic_tax",
    "currency",
    "customer_account",
    "customer_details",
    "discounts",
    "invoice_items",
    "issuer",
    "on_behalf_of",
    "preview_mode",
    "schedule",
    "schedule_details",
];
const DETAILS_PARAMS: &[&str] = &[
    "cancel_at_period_end",
    "items",
    "proration_behavior",
    "proration_date",
];
const UNEMULATED_DETAILS_PARAMS: &[&str] = &[
    "billing_cycle_anchor",
    "billing_mode",
    "cancel_at",
    "cancel_now",
    "default_tax_rates",
    "resume_at",
    "start_date",
    "trial_end",
];

/// Stripe's 404 when there is nothing to preview.
fn no_upcoming(customer: &str) -> Failure {
    let mut failure = Failure::invalid(
        Some("invoice_upcoming_none"),
        None,
        format!("No upcoming invoices for customer: {customer}"),
    );
    failure.status = StatusCode::NOT_FOUND;
    failure
}

/// `POST /v1/invoices/create_preview`.
pub(crate) fn create_preview(state: &State, params: &Params) -> Outcome {
    reject_unsupported(
        params,
        PREVIEW_PARAMS,
        UNEMULATED_PREVIEW_PARAMS,
        "",
        "invoice previews",
    )?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["payments"])?;
    let id = text(params, "subscription", "")?.ok_or_else(|| Failure::missing("subscription"))?;
    let subscription = find(state, id, "subscription")?;
    if let Some(customer) = text(params, "customer", "")? {
        if customer != subscription.customer {
            // The rule is Stripe's; the wording is the sandbox's.
            return Err(Failure::invalid(
                None,
                Some("customer"),
                format!("The subscription {id} does not belong to the customer {customer}."),
            ));
        }
    }
    if subscription.status == SubscriptionStatus::Canceled {
        return Err(no_upcoming(&subscription.customer));
    }
    let prefix = "subscription_details";
    let empty = Params::new();
    let details = object(params, prefix, "")?.unwrap_or(&empty);
    reject_unsupported(
        details,
        DETAILS_PARAMS,
        UNEMULATED_DETAILS_PARAMS,
        prefix,
        "invoice previews",
    )?;
    let changes = parse_items(state, details, prefix, subscription)?;
    let behavior = proration_behavior(details, prefix)?;
    let at = match integer(details, "proration_date", prefix)? {
        Some(at) => {
            check_proration_date(subscription, at, "subscription_details[proration_date]")?;
            at
        }
        None => state.now(),
    };
    let ends_at_period_end = boolean(details, "cancel_at_period_end", prefix)?
        .unwrap_or(subscription.cancel_at_period_end);
    let planned = plan(subscription, &changes, behavior, at)?;
    let immediate = behavior == ProrationBehavior::AlwaysInvoice || !planned.new_periods.is_empty();
    let (lines, period) = if immediate {
        let mut lines = subscription.pending.clone();
        lines.extend(planned.prorations);
        lines.extend(planned.new_periods);
        (lines, (at, at))
    } else {
        next_invoice_lines(subscription, planned, ends_at_period_end)
    };
    if lines.is_empty() {
        return Err(no_upcoming(&subscription.customer));
    }
    let draft = Draft {
        customer: subscription.customer.clone(),
        subscription: Some(subscription.id.clone()),
        billing_reason: "upcoming",
        currency: subscription.currency.clone(),
        lines,
        discount: discount_at(state, subscription, period.1),
        period_start: period.0,
        period_end: period.1,
    };
    let preview = build(state, draft, format!("upcoming_in_{}", random_token(24)));
    Ok((StatusCode::OK, render(state, &preview, &expand)))
}

/// The lines of the next renewal after a planned change: pending and previewed prorations,
/// then each item's next period unless the subscription ends at this period's end; and the
/// period the invoice closes.
fn next_invoice_lines(
    subscription: &Subscription,
    planned: Plan,
    ends_at_period_end: bool,
) -> (Vec<InvoiceLine>, (i64, i64)) {
    let mut lines = subscription.pending.clone();
    lines.extend(planned.prorations);
    let start = planned
        .items
        .iter()
        .map(|item| item.current_period_start)
        .min()
        .unwrap_or_default();
    let end = planned
        .items
        .iter()
        .map(|item| item.current_period_end)
        .min()
        .unwrap_or_default();
    let ends = ends_at_period_end || subscription.cancel_at.is_some_and(|at| at <= end);
    if !ends {
        for item in &planned.items {
            let Some(recurring) = &item.price.recurring else {
                continue;
            };
            let next_start = item.current_period_end;
            let next_end = next_boundary(
                subscription.billing_cycle_anchor,
                &recurring.interval,
                recurring.interval_count,
                next_start,
            )
            .unwrap_or_else(|| period_end(next_start, recurring));
            lines.push(period_line(
                Billed {
                    subscription: &subscription.id,
                    item: &item.id,
                    price: &item.price,
                    quantity: item.quantity,
                },
                next_start,
                next_end,
            ));
        }
    }
    (lines, (start, end))
}
