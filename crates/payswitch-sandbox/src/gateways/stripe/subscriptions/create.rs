//! The subscription a paid subscription-mode Checkout Session creates: its items and their
//! first period (or trial), its discount, and its first invoice (`subscription_create`),
//! paid at once; with `customer.subscription.created` and the invoice's events, in that
//! order.

use std::collections::BTreeMap;

use crate::app::App;
use crate::gateways::stripe::calendar::after_intervals;
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::invoices::issue::{issue, Collection, Draft};
use crate::gateways::stripe::invoices::lines::{one_time_line, period_line, trial_line, Billed};
use crate::gateways::stripe::objects::{
    AppliedDiscount, ItemPrice, LineItem, Subscription, SubscriptionDiscount, SubscriptionItem,
    SubscriptionStatus, TrialEndBehavior,
};
use crate::gateways::stripe::subscriptions::render::render;
use crate::gateways::stripe::subscriptions::{discount_at, period_end, schedule};
use crate::state::{new_id, State};

/// What a paid checkout asks of the subscription it creates.
pub(crate) struct FromCheckout<'a> {
    pub(crate) customer: &'a str,
    pub(crate) currency: &'a str,
    pub(crate) line_items: &'a [LineItem],
    pub(crate) discount: Option<&'a AppliedDiscount>,
    pub(crate) trial_end: Option<i64>,
    pub(crate) trial_end_behavior: TrialEndBehavior,
    /// The payment method checkout collected, `None` when it collected none.
    pub(crate) payment_method: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// The price of a checkout line item, kept with the subscription item it becomes.
fn item_price(item: &LineItem) -> ItemPrice {
    ItemPrice {
        id: item.price_id.clone(),
        product_id: item.product_id.clone(),
        product_name: item.name.clone(),
        currency: item.currency.clone(),
        unit_amount: item.unit_amount,
        recurring: item.recurring.clone(),
        created: item.price_created,
    }
}

/// Creates the subscription and its paid first invoice; returns their ids.
pub(crate) fn from_checkout(
    app: &App,
    state: &mut State,
    checkout: FromCheckout<'_>,
) -> (String, String) {
    let now = state.now();
    let id = new_id("sub_");
    let invoice_id = new_id("in_");
    let trial_end = checkout.trial_end.filter(|end| *end > now);
    let items: Vec<SubscriptionItem> = checkout
        .line_items
        .iter()
        .filter_map(|line| {
            let recurring = line.recurring.as_ref()?;
            Some(SubscriptionItem {
                id: new_id("si_"),
                created: now,
                price: item_price(line),
                quantity: line.quantity,
                metadata: BTreeMap::new(),
                current_period_start: now,
                current_period_end: trial_end.unwrap_or_else(|| period_end(now, recurring)),
            })
        })
        .collect();
    let discount = checkout.discount.and_then(|applied| {
        let coupon = state.stripe.coupons.get(&applied.coupon_id)?;
        let end = match coupon.duration.as_str() {
            "repeating" => coupon
                .duration_in_months
                .and_then(|months| after_intervals(now, "month", months, 1)),
            _ => None,
        };
        Some(SubscriptionDiscount {
            id: new_id("di_"),
            coupon_id: coupon.id.clone(),
            promotion_code: applied.promotion_code.clone(),
            start: now,
            end,
            duration: coupon.duration.clone(),
        })
    });
    let subscription = Subscription {
        id: id.clone(),
        customer: checkout.customer.to_owned(),
        created: now,
        start_date: now,
        currency: checkout.currency.to_owned(),
        status: if trial_end.is_some() {
            SubscriptionStatus::Trialing
        } else {
            SubscriptionStatus::Active
        },
        billing_cycle_anchor: trial_end.unwrap_or(now),
        items,
        cancel_at_period_end: false,
        cancel_at: None,
        canceled_at: None,
        ended_at: None,
        cancellation_reason: None,
        cancellation_feedback: None,
        cancellation_comment: None,
        trial_start: trial_end.map(|_| now),
        trial_end,
        trial_end_behavior: checkout.trial_end_behavior,
        pause_collection: None,
        default_payment_method: checkout.payment_method,
        description: checkout.description,
        metadata: checkout.metadata,
        latest_invoice: Some(invoice_id.clone()),
        discount,
        pending: Vec::new(),
        trial_will_end_sent: false,
    };
    let mut lines = Vec::new();
    for item in &subscription.items {
        let billed = Billed {
            subscription: &id,
            item: &item.id,
            price: &item.price,
            quantity: item.quantity,
        };
        lines.push(match trial_end {
            Some(end) => trial_line(billed, now, end),
            None => period_line(billed, now, item.current_period_end),
        });
    }
    // One-time prices (a setup fee) are billed once, on this invoice.
    for line in checkout
        .line_items
        .iter()
        .filter(|line| line.recurring.is_none())
    {
        lines.push(one_time_line(&id, &item_price(line), line.quantity, now));
    }
    let draft = Draft {
        customer: subscription.customer.clone(),
        subscription: Some(id.clone()),
        billing_reason: "subscription_create",
        currency: subscription.currency.clone(),
        lines,
        discount: discount_at(state, &subscription, now),
        period_start: now,
        period_end: now,
    };
    let rendered = render(state, &subscription, &[]);
    let once = subscription
        .discount
        .as_ref()
        .is_some_and(|discount| discount.duration == "once");
    state.stripe.subscriptions.insert(id.clone(), subscription);
    emit_event(app, state, "customer.subscription.created", rendered, None);
    issue(app, state, invoice_id.clone(), draft, Collection::Pay, None);
    if once {
        // A `once` coupon is spent by the first invoice.
        if let Some(subscription) = state.stripe.subscriptions.get_mut(&id) {
            subscription.discount = None;
        }
    }
    schedule(state, &id);
    (id, invoice_id)
}
