//! Stripe's customer portal: `POST /v1/billing_portal/sessions` (`billing_portal.session`,
//! whose `url` is the sandbox's hosted portal page `/portal/{id}`, shared with Creem), what
//! that page shows for the customer's subscriptions, and its two actions: cancel at period
//! end and resume (withdraw the cancellation), which update the subscription like the API
//! does.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::billing::{PortalAction, PortalRefusal, PortalSubscription, PortalView};
use crate::gateways::stripe::calendar::format_day;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::customers;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::{emit_update_event_as, previous_attributes};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{PortalSession, Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    check_expand, expand_list, one_of, reject_unsupported, text, CallContext,
};
use crate::gateways::stripe::subscriptions::render::render as render_subscription;
use crate::gateways::stripe::subscriptions::schedule;
use crate::gateways::stripe::subscriptions::update::{apply_cancellation, Cancellation};
use crate::state::{new_id, State};

const CREATE_PARAMS: &[&str] = &["customer", "expand", "locale", "return_url"];
/// Documented create parameters the sandbox does not emulate; refused by name.
const UNEMULATED_CREATE_PARAMS: &[&str] = &[
    "configuration",
    "customer_account",
    "flow_data",
    "on_behalf_of",
];
const LOCALES: &[&str] = &[
    "auto", "bg", "cs", "da", "de", "el", "en", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN",
    "en-NZ", "en-SG", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr", "hu", "id", "it",
    "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl",
    "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
];
/// The id the sandbox's one portal configuration renders with.
const CONFIGURATION: &str = "bpc_sandbox_default";

/// Renders a portal session as Stripe's `billing_portal.session` JSON.
fn render(app: &App, session: &PortalSession) -> Value {
    json!({
        "id": session.id,
        "object": "billing_portal.session",
        "configuration": CONFIGURATION,
        "created": session.created,
        "customer": session.customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": session.locale,
        "on_behalf_of": null,
        "return_url": session.return_url,
        "url": format!("{}/portal/{}", app.base_url, session.id),
    })
}

/// `POST /v1/billing_portal/sessions`.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    _context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        CREATE_PARAMS,
        UNEMULATED_CREATE_PARAMS,
        "",
        "billing portal sessions",
    )?;
    let customer = text(params, "customer", "")?.ok_or_else(|| Failure::missing("customer"))?;
    let return_url = text(params, "return_url", "")?;
    if let Some(url) = return_url {
        let valid = url::Url::parse(url)
            .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .unwrap_or(false);
        if !valid || url.len() > 5000 {
            return Err(Failure::invalid(
                Some("url_invalid"),
                Some("return_url"),
                "Not a valid URL".to_owned(),
            ));
        }
    }
    let locale = one_of(params, "locale", "", LOCALES)?;
    check_expand(&expand_list(params)?, &[])?;
    customers::find(state, customer, "customer")?;
    let session = PortalSession {
        id: new_id("bps_"),
        customer: customer.to_owned(),
        return_url: return_url.map(str::to_owned),
        locale: locale.map(str::to_owned),
        created: state.now(),
        api_version: app.config.stripe_api_version.clone(),
    };
    let rendered = render(app, &session);
    state
        .stripe
        .portal_sessions
        .insert(session.id.clone(), session);
    Ok((StatusCode::OK, rendered))
}

/// The customer's subscriptions the portal lists: all but the canceled, newest first.
fn listed<'a>(state: &'a State, customer: &'a str) -> impl Iterator<Item = &'a Subscription> {
    state
        .stripe
        .subscriptions
        .newest_first()
        .filter(move |subscription| {
            subscription.customer == customer && subscription.status != SubscriptionStatus::Canceled
        })
}

/// Whether a cancellation is scheduled (at the period end or at a time).
fn scheduled(subscription: &Subscription) -> bool {
    subscription.cancel_at_period_end || subscription.cancel_at.is_some()
}

/// How long a portal session's link works, in sandbox seconds. Stripe says only that
/// sessions "are short-lived and will expire if the customer does not visit the URL"; an hour
/// is the sandbox's choice.
const SESSION_LIFETIME: i64 = 60 * 60;

/// Finds the live portal session whose link is `token` (its id).
fn session<'a>(state: &'a State, token: &str) -> Result<&'a PortalSession, PortalRefusal> {
    let session = state
        .stripe
        .portal_sessions
        .get(token)
        .ok_or(PortalRefusal::UnknownLink)?;
    if state.now() >= session.created.saturating_add(SESSION_LIFETIME) {
        return Err(PortalRefusal::Expired);
    }
    Ok(session)
}

/// Returns what the portal page of session `token` shows: the customer's subscriptions,
/// newest first, with "Cancel" (at the period end, as Stripe's portal cancels by default)
/// or "Resume" (withdraw the scheduled cancellation).
pub(crate) fn view(state: &State, token: &str) -> Result<PortalView, PortalRefusal> {
    let session = session(state, token)?;
    let email = state
        .stripe
        .customers
        .get(&session.customer)
        .and_then(|customer| customer.email.clone())
        .unwrap_or_default();
    let subscriptions = listed(state, &session.customer)
        .map(|subscription| {
            let name = subscription
                .items
                .iter()
                .map(|item| format!("{} × {}", item.price.product_name, item.quantity))
                .collect::<Vec<_>>()
                .join(", ");
            let amount = subscription.items.iter().fold(0i64, |sum, item| {
                sum.saturating_add(item.price.unit_amount.saturating_mul(item.quantity))
            });
            let period_end = subscription
                .items
                .iter()
                .map(|item| item.current_period_end)
                .min();
            let next_date = match (subscription.cancel_at, subscription.status, period_end) {
                (Some(at), _, _) => Some(("Cancels", format_day(at))),
                (None, SubscriptionStatus::Trialing, Some(end)) => {
                    Some(("Trial ends", format_day(end)))
                }
                (
                    None,
                    SubscriptionStatus::Active
                    | SubscriptionStatus::PastDue
                    | SubscriptionStatus::Unpaid,
                    Some(end),
                ) => Some(("Renews", format_day(end))),
                (None, _, _) => None,
            };
            let actions = match subscription.status {
                SubscriptionStatus::Paused | SubscriptionStatus::Canceled => Vec::new(),
                _ if scheduled(subscription) => vec![PortalAction::Resume],
                _ => vec![PortalAction::Cancel],
            };
            PortalSubscription {
                id: subscription.id.clone(),
                name,
                status: subscription.status.as_str().to_owned(),
                amount,
                currency: subscription.currency.clone(),
                exponent: currencies::wire_exponent(&subscription.currency),
                next_date,
                actions,
            }
        })
        .collect();
    Ok(PortalView {
        gateway_label: "Stripe",
        email,
        subscriptions,
    })
}

/// Returns the `return_url` of portal session `token`, which its page links back to.
pub(crate) fn return_url(state: &State, token: &str) -> Option<String> {
    session(state, token)
        .ok()
        .and_then(|session| session.return_url.clone())
}

/// Carries out a portal action on one of the session's customer's subscriptions: "Cancel"
/// schedules the cancellation at the period end, "Resume" withdraws it. Both emit
/// `customer.subscription.updated` (with `request.id` null: the customer acted, not the
/// API), as Stripe's portal does; returns the notice to show.
pub(crate) fn act(
    state: &mut State,
    token: &str,
    subscription_id: &str,
    action: PortalAction,
) -> Result<String, PortalRefusal> {
    let session = session(state, token)?;
    let api_version = session.api_version.clone();
    let before = listed(state, &session.customer)
        .find(|subscription| subscription.id == subscription_id)
        .cloned()
        .ok_or_else(|| {
            PortalRefusal::NotAllowed("No such subscription for this customer.".to_owned())
        })?;
    let (cancellation, notice) = match action {
        PortalAction::Cancel if scheduled(&before) => {
            return Err(PortalRefusal::NotAllowed(
                "This subscription is already set to cancel.".to_owned(),
            ))
        }
        PortalAction::Resume if !scheduled(&before) => {
            return Err(PortalRefusal::NotAllowed(
                "This subscription is not set to cancel.".to_owned(),
            ))
        }
        PortalAction::Cancel => (
            Cancellation::AtPeriodEnd,
            format!("Subscription {subscription_id} will be canceled at the end of the period."),
        ),
        PortalAction::Resume => (
            Cancellation::Withdrawn,
            format!("Subscription {subscription_id} will renew."),
        ),
    };
    let mut after = before.clone();
    apply_cancellation(&mut after, cancellation, state.now());
    let old = render_subscription(state, &before, &[]);
    let new = render_subscription(state, &after, &[]);
    state
        .stripe
        .subscriptions
        .insert(subscription_id.to_owned(), after);
    let changed = previous_attributes(&old, &new);
    emit_update_event_as(
        &api_version,
        state,
        "customer.subscription.updated",
        new,
        changed,
        None,
    );
    schedule(state, subscription_id);
    Ok(notice)
}
