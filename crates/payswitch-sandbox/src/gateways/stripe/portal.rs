//! Stripe's customer portal: `POST /v1/billing_portal/sessions` (`billing_portal.session`,
//! whose `url` is the sandbox's hosted portal page), what that page shows for the customer's
//! subscriptions, and its two actions: cancel at period end and resume (withdraw the
//! cancellation), which update the subscription like the API does.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::calendar::format_day;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::customers;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::invoices::lines::per_interval;
use crate::gateways::stripe::objects::{PortalSession, Subscription, SubscriptionStatus};
use crate::gateways::stripe::params::{
    check_expand, expand_list, one_of, reject_unsupported, text, CallContext,
};
use crate::gateways::stripe::subscriptions::update::{apply, Cancellation, Update};
use crate::portal::{PortalAction, PortalSubscription, PortalView};
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

/// Returns what the portal page shows for the portal session `id`.
pub(crate) fn page_view(state: &State, id: &str) -> Option<PortalView> {
    let session = state.stripe.portal_sessions.get(id)?;
    let customer = state.stripe.customers.get(&session.customer);
    let subscriptions = listed(state, &session.customer)
        .map(|subscription| {
            let description = subscription
                .items
                .iter()
                .map(|item| format!("{} × {}", item.price.product_name, item.quantity))
                .collect::<Vec<_>>()
                .join(", ");
            let amount = subscription.items.iter().fold(0i64, |sum, item| {
                sum.saturating_add(item.price.unit_amount.saturating_mul(item.quantity))
            });
            let interval = subscription
                .items
                .first()
                .and_then(|item| item.price.recurring.as_ref())
                .map(per_interval)
                .unwrap_or_default();
            let period_end = subscription
                .items
                .iter()
                .map(|item| item.current_period_end)
                .min();
            let period_note = match (subscription.cancel_at, period_end) {
                (Some(at), _) => Some(format!("Cancels on {}", format_day(at))),
                (None, Some(end)) if subscription.status == SubscriptionStatus::Trialing => {
                    Some(format!("Trial ends on {}", format_day(end)))
                }
                (None, Some(end)) if subscription.status != SubscriptionStatus::Paused => {
                    Some(format!("Renews on {}", format_day(end)))
                }
                (None, _) => None,
            };
            let scheduled = subscription.cancel_at_period_end || subscription.cancel_at.is_some();
            PortalSubscription {
                id: subscription.id.clone(),
                description,
                price: format!(
                    "{} / {interval}",
                    currencies::format(amount, &subscription.currency)
                ),
                status: subscription.status.as_str().to_owned(),
                period_note,
                can_cancel: !scheduled,
                can_renew: scheduled,
            }
        })
        .collect();
    Some(PortalView {
        id: session.id.clone(),
        gateway_label: "Stripe",
        customer_email: customer.and_then(|customer| customer.email.clone()),
        return_url: session.return_url.clone(),
        subscriptions,
    })
}

/// Carries out a portal action for the portal session `id`: an update of the subscription
/// with `customer.subscription.updated`, as the real portal makes. `Err` holds the notice the
/// page shows when the action does not apply.
pub(crate) fn act(
    app: &App,
    state: &mut State,
    id: &str,
    action: &PortalAction,
) -> Result<(), String> {
    let session = state
        .stripe
        .portal_sessions
        .get(id)
        .ok_or_else(|| "This portal session does not exist.".to_owned())?;
    let (subscription, cancellation) = match action {
        PortalAction::CancelAtPeriodEnd(subscription) => (subscription, Cancellation::AtPeriodEnd),
        PortalAction::Renew(subscription) => (subscription, Cancellation::Withdrawn),
    };
    let listed = listed(state, &session.customer).any(|listed| &listed.id == subscription);
    if !listed {
        return Err("This subscription cannot be changed here.".to_owned());
    }
    let update = Update {
        cancellation: Some(cancellation),
        ..Update::default()
    };
    apply(app, state, subscription, update, None).map_err(|failure| failure.error.message)
}
