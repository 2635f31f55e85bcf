//! Creem's customer portal: `POST /v1/customers/billing` `{customer_id}` answers
//! `{customer_portal_link}` [confirmed, OAS `CustomerLinksEntity`], a link to the sandbox's own
//! portal page (`/portal/{token}`, where Creem's is `https://creem.io/my-orders/login/…`), and
//! what that page shows and does for a link: the customer's subscriptions, cancel (at once, as
//! Creem's portal does: "This will immediately cancel their subscription" [confirmed,
//! customer-portal docs]) and resume.

use serde_json::{json, Map, Value};

use crate::app::App;
use crate::billing::{PortalAction, PortalRefusal, PortalSubscription, PortalView};
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{iso, PortalLink, Subscription, SubscriptionStatus};
use crate::gateways::creem::subscriptions::period_price;
use crate::gateways::creem::transitions::{apply, Change};
use crate::gateways::creem::validate::Checker;
use crate::state::{random_token, State};

/// How long a portal link works [inferred: Creem does not say how long its magic links last].
const LINK_LIFETIME: i64 = 24 * 60 * 60;

/// `POST /v1/customers/billing`.
pub(crate) fn create_link(
    app: &App,
    state: &mut State,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let customer_id = check.string("customer_id", true);
    check.finish()?;
    let customer_id = customer_id
        .filter(|id| state.creem.customers.contains_key(*id))
        .ok_or_else(|| Failure::not_found("Customer not found"))?;
    // 32 alphanumerics (about 190 bits): the link is the customer's only credential.
    let token = random_token(32);
    let link = PortalLink {
        customer_id: customer_id.to_owned(),
        expires_at: state.now().saturating_add(LINK_LIFETIME),
    };
    state.creem.portal_links.insert(token.clone(), link);
    Ok(json!({
        "customer_portal_link": format!("{}/portal/{token}", app.base_url),
    }))
}

/// Finds the live link `token`.
fn link<'a>(state: &'a State, token: &str) -> Result<&'a PortalLink, PortalRefusal> {
    let link = state
        .creem
        .portal_links
        .get(token)
        .ok_or(PortalRefusal::UnknownLink)?;
    if link.expires_at <= state.now() {
        return Err(PortalRefusal::Expired);
    }
    Ok(link)
}

/// The actions the portal offers for a subscription in `status`.
fn actions(status: SubscriptionStatus) -> Vec<PortalAction> {
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Trialing | SubscriptionStatus::PastDue => {
            vec![PortalAction::Cancel]
        }
        SubscriptionStatus::Paused | SubscriptionStatus::ScheduledCancel => {
            vec![PortalAction::Resume, PortalAction::Cancel]
        }
        SubscriptionStatus::Canceled => Vec::new(),
    }
}

/// Returns what the portal page of link `token` shows: the customer's subscriptions, newest
/// first.
pub(crate) fn view(state: &State, token: &str) -> Result<PortalView, PortalRefusal> {
    let link = link(state, token)?;
    let email = state
        .creem
        .customers
        .get(&link.customer_id)
        .map(|customer| customer.email.clone())
        .unwrap_or_default();
    let mut owned: Vec<&Subscription> = state
        .creem
        .subscriptions
        .values()
        .filter(|subscription| subscription.customer_id == link.customer_id)
        .collect();
    owned.sort_by_key(|subscription| std::cmp::Reverse(subscription.seq));
    let subscriptions = owned
        .into_iter()
        .map(|subscription| {
            let product = state.creem.products.get(&subscription.product_id);
            let next_date = match subscription.status {
                SubscriptionStatus::Active | SubscriptionStatus::Trialing => {
                    Some(("Renews", iso(subscription.period_end)))
                }
                SubscriptionStatus::ScheduledCancel => Some(("Ends", iso(subscription.period_end))),
                SubscriptionStatus::Canceled => {
                    subscription.canceled_at.map(|at| ("Ended", iso(at)))
                }
                SubscriptionStatus::PastDue => subscription
                    .dunning
                    .map(|dunning| ("Payment retried", iso(dunning.next_retry))),
                SubscriptionStatus::Paused => None,
            };
            PortalSubscription {
                id: subscription.id.clone(),
                name: product.map_or_else(
                    || subscription.product_id.clone(),
                    |product| product.name.clone(),
                ),
                status: subscription.status.as_str().to_owned(),
                amount: period_price(state, subscription),
                currency: product
                    .map(|product| product.currency.clone())
                    .unwrap_or_default(),
                // Creem takes EUR and USD only, both in cents.
                exponent: 2,
                next_date,
                actions: actions(subscription.status),
            }
        })
        .collect();
    Ok(PortalView {
        gateway_label: "Creem",
        email,
        subscriptions,
    })
}

/// Takes a portal action on one of the link's customer's subscriptions, sending the same
/// webhooks as the API; returns the notice to show.
pub(crate) fn act(
    state: &mut State,
    token: &str,
    subscription_id: &str,
    action: PortalAction,
) -> Result<String, PortalRefusal> {
    let customer_id = link(state, token)?.customer_id.clone();
    let owned = state
        .creem
        .subscriptions
        .get(subscription_id)
        .is_some_and(|subscription| subscription.customer_id == customer_id);
    if !owned {
        return Err(PortalRefusal::NotAllowed(
            "No such subscription for this customer.".to_owned(),
        ));
    }
    let (change, done) = match action {
        PortalAction::Cancel => (Change::CancelNow, "canceled"),
        PortalAction::Resume => (Change::Resume, "resumed"),
    };
    apply(state, subscription_id, change)
        .map_err(|failure| PortalRefusal::NotAllowed(failure.messages().join(" ")))?;
    Ok(format!("Subscription {subscription_id} {done}."))
}
