//! `GET /v1/subscriptions/{id}` and `GET /v1/subscriptions`: newest first; without `status`
//! Stripe leaves canceled subscriptions out (`status=all` or `canceled` lists them).

use http::StatusCode;

use crate::gateways::stripe::error::Outcome;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::{item_expansions, list_body, paginate};
use crate::gateways::stripe::objects::{Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    check_expand, expand_list, one_of, range, reject_unknown, text,
};
use crate::gateways::stripe::subscriptions::find;
use crate::gateways::stripe::subscriptions::render::{render, EXPANSIONS};
use crate::state::State;

/// Every `status` filter Stripe accepts on the list.
const STATUS_FILTERS: &[&str] = &[
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
];

/// `GET /v1/subscriptions/{id}`; canceled subscriptions stay retrievable.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANSIONS)?;
    let subscription = find(state, id, "subscription")?;
    Ok((StatusCode::OK, render(state, subscription, &expand)))
}

/// Whether a subscription passes the list's `status` filter.
fn status_matches(filter: Option<&str>, status: SubscriptionStatus) -> bool {
    match filter {
        None => status != SubscriptionStatus::Canceled,
        Some("all") => true,
        Some("ended") => status == SubscriptionStatus::Canceled,
        Some(wanted) => status.as_str() == wanted,
    }
}

/// `GET /v1/subscriptions`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "automatic_tax",
            "collection_method",
            "created",
            "current_period_end",
            "current_period_start",
            "customer",
            "customer_account",
            "ending_before",
            "expand",
            "limit",
            "price",
            "starting_after",
            "status",
            "test_clock",
        ],
        "",
    )?;
    let status = one_of(params, "status", "", STATUS_FILTERS)?;
    let customer = text(params, "customer", "")?;
    let price = text(params, "price", "")?;
    let created = range(params, "created")?;
    let period_start = range(params, "current_period_start")?;
    let period_end = range(params, "current_period_end")?;
    let expand = item_expansions(&expand_list(params)?);
    check_expand(&expand, EXPANSIONS)?;
    let passes = |subscription: &Subscription| {
        status_matches(status, subscription.status)
            && customer.is_none_or(|wanted| subscription.customer == wanted)
            && price.is_none_or(|wanted| {
                subscription
                    .items
                    .iter()
                    .any(|item| item.price.id == wanted)
            })
            && created.admits(subscription.created)
            && subscription
                .items
                .iter()
                .any(|item| period_start.admits(item.current_period_start))
            && subscription
                .items
                .iter()
                .any(|item| period_end.admits(item.current_period_end))
    };
    let ids: Vec<String> = state
        .stripe
        .subscriptions
        .newest_first()
        .filter(|subscription| passes(subscription))
        .map(|subscription| subscription.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "subscription")?;
    let data = page
        .iter()
        .filter_map(|id| state.stripe.subscriptions.get(id))
        .map(|subscription| render(state, subscription, &expand))
        .collect();
    Ok((
        StatusCode::OK,
        list_body(data, has_more, "/v1/subscriptions"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_leaves_canceled_out() {
        use SubscriptionStatus::*;
        assert!(status_matches(None, Active));
        assert!(status_matches(None, Paused));
        assert!(!status_matches(None, Canceled));
        assert!(status_matches(Some("all"), Canceled));
        assert!(status_matches(Some("ended"), Canceled));
        assert!(status_matches(Some("canceled"), Canceled));
        assert!(!status_matches(Some("canceled"), Active));
        assert!(status_matches(Some("past_due"), PastDue));
        assert!(!status_matches(Some("unpaid"), Active));
    }
}
