//! The account behind the account page: an order, its subscription as the gateway reports it
//! now, and what the customer (or an admin) may do with them on this gateway.
//!
//! The subscription is retrieved from the gateway on every view, so the page shows the
//! gateway's truth even when a webhook is late or lost; the store's records (what the
//! webhooks said) are shown beside it in the JSON, and the refunds come from them. Which actions are offered is decided in one pure function,
//! [`available_actions`], from the gateway's declared capabilities and the subscription's
//! state: a button the gateway cannot honour is not shown. Every action is a gateway call
//! whose failure becomes a message and a status code ([`failure`]), never a panic.

use axum::http::StatusCode;
use payswitch::store::StoreError;
use payswitch::{
    CancelAt, Capabilities, PaymentError, PortalRequest, Product, Proration, ProviderKind,
    RefundRequest, RefundStatus, RefundTarget, Subscription, SubscriptionChange,
    SubscriptionStatus,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::app::App;
use crate::catalog::{self, Billing, Offer};
use crate::orders::{Order, OrderStatus};
use crate::records::{refunds_to_show, RefundView, StoredSubscription};

/// A subscription as the gateway reported it on this view.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    /// The gateway's subscription id.
    pub id: String,
    /// Where it is in its life.
    pub status: SubscriptionStatus,
    /// The offer it is on, when its plan is one of ours.
    pub plan: Option<&'static str>,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// When the current period ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    /// Whether a cancellation is scheduled and has not taken effect.
    pub cancel_scheduled: bool,
    /// When the scheduled cancellation takes effect (the period's end when the gateway gives
    /// no date of its own).
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancel_at: Option<OffsetDateTime>,
}

impl SubscriptionView {
    fn new(subscription: &Subscription, app: &App) -> Self {
        let cancel_scheduled = subscription.is_cancel_scheduled();
        Self {
            id: subscription.id.clone(),
            status: subscription.status.clone(),
            plan: subscription
                .items
                .iter()
                .find_map(|item| app.plans.offer_of(item))
                .map(|offer| offer.sku),
            customer_id: subscription.customer_id.clone(),
            current_period_end: subscription.current_period_end,
            cancel_scheduled,
            cancel_at: subscription
                .cancel_at
                .or(subscription.current_period_end)
                .filter(|_| cancel_scheduled),
        }
    }

    /// The offer it is on.
    pub fn offer(&self) -> Option<&'static Offer> {
        self.plan.and_then(catalog::find)
    }
}

/// Something the account page offers, each a POST form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Cancel at the end of the current period.
    CancelAtPeriodEnd,
    /// Undo a scheduled cancellation (or unpause).
    Resume,
    /// Move to another monthly plan.
    ChangePlan {
        /// The plan's SKU.
        sku: &'static str,
    },
    /// Open the gateway's customer portal.
    ManageBilling,
    /// Refund the order's payment in full (an admin's action).
    Refund,
}

impl Action {
    /// The form's path under the account page.
    pub fn path(&self) -> &'static str {
        match self {
            Action::CancelAtPeriodEnd => "cancel",
            Action::Resume => "resume",
            Action::ChangePlan { .. } => "change-plan",
            Action::ManageBilling => "portal",
            Action::Refund => "refund",
        }
    }
}

/// Everything the account page and its JSON show.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The order.
    pub order: Order,
    /// Its subscription as the gateway reports it now, for a paid subscription order whose
    /// subscription the gateway has named.
    pub subscription: Option<SubscriptionView>,
    /// The same subscription as the store holds it (the latest webhook event's state).
    pub webhook_subscription: Option<StoredSubscription>,
    /// The refunds of the order's payment, as the store holds them (or as the gateway
    /// answered the refund request, until its webhook arrives).
    pub refunds: Vec<RefundView>,
    /// What the page offers.
    pub actions: Vec<Action>,
    /// Why something could not be shown or done, for the customer.
    pub error: Option<String>,
    /// A note that is not an error (e.g. the gateway cannot show subscriptions).
    pub note: Option<String>,
}

impl AccountView {
    /// Says whether the page should say the subscription is still being set up.
    pub fn subscription_pending(&self) -> bool {
        self.order.subscription
            && self.subscription.is_none()
            && self.order.status == OrderStatus::Paid
            && self.error.is_none()
            && self.note.is_none()
    }
}

/// Says whether a refund means the payment is (being) refunded, so the Refund button goes
/// away; failed and canceled refunds leave it.
fn refund_counts(refund: &RefundView) -> bool {
    match &refund.status {
        RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Succeeded => true,
        RefundStatus::Failed | RefundStatus::Canceled => false,
        // `RefundStatus` is non-exhaustive and `Other` holds a status payswitch does not
        // know: keep the button, the gateway refuses a second full refund anyway.
        _ => false,
    }
}

/// What the page offers, from the gateway's capabilities and the state: only what the
/// gateway can do, and only what makes sense now.
pub fn available_actions(
    capabilities: &Capabilities,
    order: &Order,
    subscription: Option<&SubscriptionView>,
    refunds: &[RefundView],
) -> Vec<Action> {
    let mut actions = Vec::new();
    if let Some(subscription) = subscription {
        let live = matches!(
            subscription.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing | SubscriptionStatus::PastDue
        );
        if live && !subscription.cancel_scheduled && capabilities.cancel_at_period_end {
            actions.push(Action::CancelAtPeriodEnd);
        }
        let resumable = (subscription.cancel_scheduled && capabilities.resume_subscription)
            || (subscription.status == SubscriptionStatus::Paused
                && capabilities.pause_subscription);
        if resumable && !subscription.status.is_ended() {
            actions.push(Action::Resume);
        }
        // While a cancellation is scheduled the customer resumes first: switching the plan of
        // a subscription that is ending is a question the gateways answer differently.
        if live && !subscription.cancel_scheduled && capabilities.change_plan {
            if let Some(current) = subscription.plan {
                actions.extend(
                    catalog::other_plans(current)
                        .map(|offer| Action::ChangePlan { sku: offer.sku }),
                );
            }
        }
    }
    let customer_known = order.customer_id.is_some()
        || subscription.is_some_and(|subscription| subscription.customer_id.is_some());
    if customer_known && capabilities.customer_portal {
        actions.push(Action::ManageBilling);
    }
    let refunded = refunds.iter().any(refund_counts);
    if order.status == OrderStatus::Paid
        && order.checkout_id.is_some()
        && !refunded
        && capabilities.refunds
    {
        actions.push(Action::Refund);
    }
    actions
}

/// The status code and the customer's message for a failed gateway call.
pub fn failure(error: &PaymentError, gateway: &str) -> (StatusCode, String) {
    match error {
        PaymentError::InvalidState { .. } => (
            StatusCode::CONFLICT,
            "That cannot be done in the subscription's or payment's current state. The page \
             shows the state as the payment gateway reports it now."
                .to_owned(),
        ),
        PaymentError::Unsupported { .. } => (
            StatusCode::NOT_IMPLEMENTED,
            format!("{gateway} does not support that."),
        ),
        PaymentError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "The payment gateway does not know this subscription or payment.".to_owned(),
        ),
        PaymentError::InvalidRequest { .. } => (
            StatusCode::BAD_REQUEST,
            "The payment gateway refused the request.".to_owned(),
        ),
        PaymentError::RateLimited { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The payment gateway is busy. Please try again in a moment.".to_owned(),
        ),
        // Everything else is the gateway failing or unreachable, or misconfigured: not the
        // customer's doing, and nothing they can fix here.
        _ => (
            StatusCode::BAD_GATEWAY,
            "The payment gateway did not answer. Please try again in a moment.".to_owned(),
        ),
    }
}

/// A failed action: what to tell the customer and with which status.
#[derive(Debug)]
pub struct Failure {
    /// The HTTP status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn from_gateway(app: &App, action: &str, order_id: &str, error: &PaymentError) -> Self {
        tracing::warn!(order = %order_id, action, %error, "an account action failed");
        let (status, message) = failure(error, app.gateway_name());
        Self { status, message }
    }

    /// The shop's own database failed: nothing the customer can fix, nothing they need to
    /// read about it.
    pub fn storage(order_id: &str, error: &StoreError) -> Self {
        tracing::error!(order = %order_id, %error, "the order could not be read or written");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Please try again in a moment.",
        )
    }
}

/// The gateway an order's checkout is on, as the store names it.
fn kind_of(order: &Order) -> Option<ProviderKind> {
    ProviderKind::from_name(&order.gateway)
}

/// The gateway's subscription id for a subscription order: the one a signal told us, else
/// the one its paid checkout names now (retrieved, then remembered).
async fn subscription_id(app: &App, order: &Order) -> Result<Option<String>, PaymentError> {
    if order.subscription_id.is_some() || !order.subscription {
        return Ok(order.subscription_id.clone());
    }
    let Some(checkout_id) = order.checkout_id.as_deref() else {
        return Ok(None);
    };
    if order.status != OrderStatus::Paid {
        return Ok(None);
    }
    let checkout = app.gateway.retrieve_checkout(checkout_id).await?;
    // Remembering the ids saves the next view a retrieve; failing to only costs that.
    if let Err(error) = app.orders.learn_ids(&checkout).await {
        tracing::warn!(order = %order.id, %error, "could not remember the checkout's ids");
    }
    let paid = checkout.is_paid();
    Ok(checkout.subscription_id.filter(|_| paid))
}

/// Builds the account view of an order, retrieving its subscription from the gateway and
/// reading the store's records. `Ok(None)` when there is no such order. A gateway failure is
/// in the view's `error`, with the status to answer; a database failure is the `Err`.
pub async fn load(
    app: &App,
    order_id: &str,
) -> Result<Option<(AccountView, StatusCode)>, StoreError> {
    let Some(order) = app.orders.get(order_id).await? else {
        return Ok(None);
    };
    let capabilities = app.gateway.capabilities();
    let mut status = StatusCode::OK;
    let mut error = None;
    let mut note = None;
    let mut subscription = None;
    if order.subscription && order.status == OrderStatus::Paid {
        if capabilities.subscriptions {
            let found = match subscription_id(app, &order).await {
                Ok(Some(id)) => app.gateway.retrieve_subscription(&id).await.map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            };
            match found {
                Ok(found) => subscription = found.map(|found| SubscriptionView::new(&found, app)),
                Err(failed) => {
                    let failed = Failure::from_gateway(app, "retrieve", order_id, &failed);
                    status = failed.status;
                    error = Some(failed.message);
                }
            }
        } else {
            note = Some(format!(
                "{} does not let this shop show subscriptions.",
                app.gateway_name()
            ));
        }
    }
    // The ids may have been learnt while loading.
    let order = app.orders.get(order_id).await?.unwrap_or(order);
    let (webhook_subscription, refunds) = stored_records(app, &order).await?;
    let actions = available_actions(&capabilities, &order, subscription.as_ref(), &refunds);
    let view = AccountView {
        order,
        subscription,
        webhook_subscription,
        refunds,
        actions,
        error,
        note,
    };
    Ok(Some((view, status)))
}

/// The store's records of the order's subscription and of its payment's refunds.
async fn stored_records(
    app: &App,
    order: &Order,
) -> Result<(Option<StoredSubscription>, Vec<RefundView>), StoreError> {
    let Some(kind) = kind_of(order) else {
        return Ok((None, Vec::new()));
    };
    let subscription = match &order.subscription_id {
        Some(id) => app
            .store()
            .subscription(kind, id)
            .await?
            .map(|record| StoredSubscription::new(&record, &app.plans)),
        None => None,
    };
    let records = match &order.checkout_id {
        Some(id) => app.store().refunds_of_checkout(kind, id).await?,
        None => Vec::new(),
    };
    Ok((
        subscription,
        refunds_to_show(&records, order.refund_answer.as_ref()),
    ))
}

/// What a successful action leads to.
#[derive(Debug)]
pub enum Done {
    /// Back to the account page, with this notice key (`?done=`).
    Account(&'static str),
    /// To the gateway's customer portal. The URL is a credential for the customer's billing:
    /// redirect to it, never log it.
    Portal(String),
}

/// An action the customer (or an admin) asked for, as posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested<'a> {
    /// Cancel at the end of the period.
    Cancel,
    /// Resume.
    Resume,
    /// Change to the plan with this SKU (as posted: checked here).
    ChangePlan(&'a str),
    /// Open the portal.
    Portal,
    /// Refund the order's payment.
    Refund,
}

impl Requested<'_> {
    fn name(&self) -> &'static str {
        match self {
            Requested::Cancel => "cancel",
            Requested::Resume => "resume",
            Requested::ChangePlan(_) => "change_plan",
            Requested::Portal => "portal",
            Requested::Refund => "refund",
        }
    }
}

/// Performs an action on an order's subscription or payment at the gateway.
pub async fn perform(app: &App, order_id: &str, requested: Requested<'_>) -> Result<Done, Failure> {
    let order = match app.orders.get(order_id).await {
        Ok(Some(order)) => order,
        Ok(None) => {
            return Err(Failure::new(
                StatusCode::NOT_FOUND,
                "There is no such order.",
            ))
        }
        Err(error) => return Err(Failure::storage(order_id, &error.into())),
    };
    if order.status != OrderStatus::Paid {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "The order is not paid, so there is nothing to change yet.",
        ));
    }
    let failed =
        |error: PaymentError| Failure::from_gateway(app, requested.name(), order_id, &error);
    let changed = match requested {
        Requested::Refund => return refund(app, &order).await.map_err(failed),
        Requested::Portal => return portal(app, &order).await,
        Requested::Cancel => {
            let id = require_subscription_id(app, &order).await?;
            app.gateway
                .cancel_subscription(&id, CancelAt::PeriodEnd)
                .await
                .map(|changed| (changed, "cancel_scheduled"))
        }
        Requested::Resume => {
            let id = require_subscription_id(app, &order).await?;
            app.gateway
                .resume_subscription(&id)
                .await
                .map(|changed| (changed, "resumed"))
        }
        Requested::ChangePlan(sku) => {
            // The form names the plan; only our monthly offers are plans.
            let plan = catalog::find(sku.trim())
                .filter(|offer| offer.billing == Billing::Monthly)
                .ok_or_else(|| Failure::new(StatusCode::BAD_REQUEST, "We have no such plan."))?;
            let id = require_subscription_id(app, &order).await?;
            let change =
                SubscriptionChange::plan(Product::Sku(plan.sku.to_owned()), Proration::Prorate);
            app.gateway
                .change_subscription(&id, &change)
                .await
                .map(|changed| (changed, "plan_changed"))
        }
    };
    let (changed, done) = changed.map_err(failed)?;
    tracing::info!(
        order = %order.id,
        subscription = %changed.id,
        action = requested.name(),
        "subscription changed"
    );
    Ok(Done::Account(done))
}

/// Refunds the order's payment in full.
async fn refund(app: &App, order: &Order) -> Result<Done, PaymentError> {
    let Some(checkout_id) = order.checkout_id.clone() else {
        return Err(PaymentError::InvalidState {
            message: "the order has no payment to refund".into(),
            gateway: None,
        });
    };
    // One key per order: a double click, or a retry after a lost answer, refunds once.
    let request = RefundRequest::full(RefundTarget::Checkout(checkout_id))
        .idempotency_key(format!("storefront-refund-{}", order.id));
    let refund = app.gateway.create_refund(&request).await?;
    tracing::info!(order = %order.id, refund = %refund.id, "order refunded");
    // The refund is made; its webhook will be in the store. Remembering the answer only
    // shows it sooner.
    if let Err(error) = app.orders.record_refund_answer(&order.id, &refund).await {
        tracing::warn!(order = %order.id, %error, "could not remember the refund's answer");
    }
    Ok(Done::Account("refunded"))
}

/// Opens a customer-portal session for the order's customer, coming back to the account page.
async fn portal(app: &App, order: &Order) -> Result<Done, Failure> {
    let customer_id = match order.customer_id.clone() {
        Some(customer_id) => customer_id,
        None => subscription_of(app, order)
            .await?
            .customer_id
            .ok_or_else(not_named)?,
    };
    let request = PortalRequest::new(&customer_id).return_url(app.account_url(&order.id));
    let session = app
        .gateway
        .create_portal_session(&request)
        .await
        .map_err(|error| Failure::from_gateway(app, "portal", &order.id, &error))?;
    // The session's URL signs the customer in to their billing: never log it.
    tracing::info!(order = %order.id, customer = %customer_id, "portal session opened");
    Ok(Done::Portal(session.url))
}

fn not_named() -> Failure {
    Failure::new(
        StatusCode::CONFLICT,
        "The payment gateway has not confirmed this subscription yet. Please try again in a \
         moment.",
    )
}

/// The order's subscription id, or why there is none to act on.
async fn require_subscription_id(app: &App, order: &Order) -> Result<String, Failure> {
    if !order.subscription {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "This order is not a subscription.",
        ));
    }
    subscription_id(app, order)
        .await
        .map_err(|error| Failure::from_gateway(app, "retrieve", &order.id, &error))?
        .ok_or_else(not_named)
}

/// The order's subscription, retrieved from the gateway.
async fn subscription_of(app: &App, order: &Order) -> Result<Subscription, Failure> {
    let id = require_subscription_id(app, order).await?;
    app.gateway
        .retrieve_subscription(&id)
        .await
        .map_err(|error| Failure::from_gateway(app, "retrieve", &order.id, &error))
}

/// The sentence for a `?done=` key; unknown keys show nothing (the query is never echoed).
pub fn notice(done: &str) -> Option<&'static str> {
    match done {
        "cancel_scheduled" => {
            Some("Your subscription will end when the current period ends. You can resume it until then.")
        }
        "resumed" => Some("Your subscription will continue."),
        "plan_changed" => Some("Your plan was changed."),
        "refunded" => Some("The payment was refunded."),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(subscription: bool, status: OrderStatus) -> Order {
        let sku = if subscription {
            "pro_monthly"
        } else {
            "pro_licence"
        };
        let mut order = Order::pending(
            "order-1-1".into(),
            catalog::find(sku).expect("offer"),
            "memory",
        );
        order.checkout_id = Some("cs_1".into());
        order.customer_id = Some("cus_1".into());
        order.payment_id = Some("pay_1".into());
        order.subscription_id = subscription.then(|| "sub_1".into());
        order.status = status;
        order.times_marked_paid = u32::from(status == OrderStatus::Paid);
        order
    }

    fn subscription(status: SubscriptionStatus, cancel_scheduled: bool) -> SubscriptionView {
        SubscriptionView {
            id: "sub_1".into(),
            status,
            plan: Some("pro_monthly"),
            customer_id: Some("cus_1".into()),
            current_period_end: None,
            cancel_scheduled,
            cancel_at: None,
        }
    }

    fn refund(status: RefundStatus) -> RefundView {
        RefundView {
            id: "re_1".into(),
            status,
            amount: None,
            source: crate::records::RefundSource::Webhook,
        }
    }

    /// A case: name, capabilities, order, subscription, refunds, the actions expected.
    type Case<'a> = (
        &'a str,
        &'a Capabilities,
        Order,
        Option<SubscriptionView>,
        Vec<RefundView>,
        Vec<Action>,
    );

    #[test]
    fn actions_follow_state_and_capabilities() {
        use Action::{CancelAtPeriodEnd, ChangePlan, ManageBilling, Refund, Resume};
        use SubscriptionStatus::{Active, Canceled, Paused};
        let all = Capabilities::all();
        let mut no_lifecycle = Capabilities::all();
        no_lifecycle.cancel_at_period_end = false;
        no_lifecycle.resume_subscription = false;
        no_lifecycle.change_plan = false;
        no_lifecycle.customer_portal = false;
        no_lifecycle.refunds = false;
        let team = ChangePlan {
            sku: "team_monthly",
        };
        let paid = order(true, OrderStatus::Paid);
        let cases: Vec<Case> = vec![
            (
                "active",
                &all,
                paid.clone(),
                Some(subscription(Active, false)),
                vec![],
                vec![CancelAtPeriodEnd, team, ManageBilling, Refund],
            ),
            (
                "cancel scheduled",
                &all,
                paid.clone(),
                Some(subscription(Active, true)),
                vec![],
                vec![Resume, ManageBilling, Refund],
            ),
            (
                "paused",
                &all,
                paid.clone(),
                Some(subscription(Paused, false)),
                vec![],
                vec![Resume, ManageBilling, Refund],
            ),
            (
                "canceled",
                &all,
                paid.clone(),
                Some(subscription(Canceled, false)),
                vec![],
                vec![ManageBilling, Refund],
            ),
            (
                "refunded",
                &all,
                paid.clone(),
                Some(subscription(Active, false)),
                vec![refund(RefundStatus::Succeeded)],
                vec![CancelAtPeriodEnd, team, ManageBilling],
            ),
            (
                "refund failed",
                &all,
                order(false, OrderStatus::Paid),
                None,
                vec![refund(RefundStatus::Failed)],
                vec![ManageBilling, Refund],
            ),
            (
                "gateway without lifecycle",
                &no_lifecycle,
                paid.clone(),
                Some(subscription(Active, true)),
                vec![],
                vec![],
            ),
            (
                "pending one-time",
                &all,
                order(false, OrderStatus::Pending),
                None,
                vec![],
                vec![ManageBilling],
            ),
        ];
        for (case, capabilities, order, subscription, refunds, expected) in cases {
            let actions = available_actions(capabilities, &order, subscription.as_ref(), &refunds);
            assert_eq!(actions, expected, "{case}");
        }
    }

    #[test]
    fn failures_map_to_statuses() {
        let kind = payswitch::ProviderKind::MEMORY;
        let cases = [
            (
                PaymentError::InvalidState {
                    message: "x".into(),
                    gateway: None,
                },
                StatusCode::CONFLICT,
            ),
            (
                PaymentError::unsupported(kind, "resume_subscription"),
                StatusCode::NOT_IMPLEMENTED,
            ),
            (
                PaymentError::NotFound {
                    id: "sub_1".into(),
                    gateway: None,
                },
                StatusCode::NOT_FOUND,
            ),
            (PaymentError::invalid("plan", "x"), StatusCode::BAD_REQUEST),
            (
                PaymentError::Timeout { attempts: 3 },
                StatusCode::BAD_GATEWAY,
            ),
            (
                PaymentError::RateLimited {
                    retry_after: None,
                    gateway: None,
                },
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ];
        for (error, expected) in cases {
            let (status, message) = failure(&error, "memory");
            assert_eq!(status, expected, "{error}");
            assert!(!message.is_empty());
        }
    }

    #[test]
    fn notices_are_fixed_sentences() {
        assert!(notice("resumed").is_some());
        assert_eq!(notice("<script>"), None);
    }
}
