//! Subscriptions after the checkout: the normalized [`Subscription`] and the changes an
//! application asks for (cancel, resume, pause, change plan or seats).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::money::Money;
use crate::raw::RawJson;
use crate::request::Product;

/// Where a subscription is in its life, across gateways.
///
/// Each adapter maps every status its gateway documents onto one of these with an exhaustive
/// match; a status the gateway adds later arrives as [`Other`](Self::Other) with the gateway's
/// own word, never filed under a neighbour.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionStatus {
    /// In a free trial.
    Trialing,
    /// Paid and current (a scheduled cancellation keeps it active until the period ends).
    Active,
    /// A payment failed and the gateway is retrying it.
    PastDue,
    /// Paused: no invoices are collected until it is resumed.
    Paused,
    /// Canceled: terminal.
    Canceled,
    /// Retries are exhausted and the gateway left it open but unpaid.
    Unpaid,
    /// The first payment has not succeeded yet.
    Incomplete,
    /// Ended without being paid: the first payment never succeeded, or a period ran out unpaid.
    Expired,
    /// A status this version of payswitch does not know, as the gateway spelled it.
    Other(String),
}

impl SubscriptionStatus {
    /// Says whether the subscription has ended for good (canceled or expired).
    pub fn is_ended(&self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Canceled | SubscriptionStatus::Expired
        )
    }
}

/// One item of a subscription: a plan (product and price) and its quantity (seats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionItem {
    /// The gateway's id of the item (Stripe `si_…`, Creem item id), when it has one.
    pub id: Option<String>,
    /// The gateway's product id.
    pub product_id: Option<String>,
    /// The gateway's price id, on gateways that price separately from products.
    pub price_id: Option<String>,
    /// How many units (seats).
    pub quantity: u32,
    /// The price of one unit per period, when the gateway reports it.
    pub unit_amount: Option<Money>,
}

impl SubscriptionItem {
    /// Makes an item with the given quantity and nothing else known.
    pub fn new(quantity: u32) -> Self {
        Self {
            id: None,
            product_id: None,
            price_id: None,
            quantity,
            unit_amount: None,
        }
    }
}

/// A subscription as the gateway reports it, normalized.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The gateway's subscription id (Stripe `sub_…`, Creem `sub_…`).
    pub id: String,
    /// The gateway that holds it.
    pub provider: ProviderKind,
    /// Where it is in its life.
    pub status: SubscriptionStatus,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// The plans and quantities.
    pub items: Vec<SubscriptionItem>,
    /// When the current period started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_start: Option<OffsetDateTime>,
    /// When the current period ends (the next renewal, or the end of a scheduled
    /// cancellation).
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    /// When the trial ends, for trials.
    #[serde(with = "time::serde::rfc3339::option")]
    pub trial_end: Option<OffsetDateTime>,
    /// True when a cancellation is scheduled for the end of the current period; access
    /// continues until then.
    pub cancel_at_period_end: bool,
    /// When a scheduled cancellation takes effect, when the gateway reports one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancel_at: Option<OffsetDateTime>,
    /// When it was canceled (the request, which may precede the end).
    #[serde(with = "time::serde::rfc3339::option")]
    pub canceled_at: Option<OffsetDateTime>,
    /// When it ended, once it has.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// When the gateway created it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// The application's reference, when the gateway carried it onto the subscription.
    pub reference: Option<String>,
    /// The subscription's metadata.
    pub metadata: BTreeMap<String, String>,
    /// The gateway's own object, as an escape hatch.
    pub raw: RawJson,
}

impl Subscription {
    /// Makes a subscription with the given id, provider and status; every other field empty.
    pub fn new(id: impl Into<String>, provider: ProviderKind, status: SubscriptionStatus) -> Self {
        Self {
            id: id.into(),
            provider,
            status,
            customer_id: None,
            items: Vec::new(),
            current_period_start: None,
            current_period_end: None,
            trial_end: None,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            created_at: None,
            reference: None,
            metadata: BTreeMap::new(),
            raw: RawJson::default(),
        }
    }

    /// Says whether a cancellation is scheduled that has not taken effect yet.
    pub fn is_cancel_scheduled(&self) -> bool {
        !self.status.is_ended() && (self.cancel_at_period_end || self.cancel_at.is_some())
    }

    /// The quantity of the only item, or `None` when there is not exactly one.
    pub fn quantity(&self) -> Option<u32> {
        match self.items.as_slice() {
            [only] => Some(only.quantity),
            _ => None,
        }
    }
}

/// When a cancellation takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelAt {
    /// At the end of the current period: the customer keeps what they paid for, and
    /// [`resume_subscription`](crate::CheckoutProvider::resume_subscription) can undo it
    /// until then.
    PeriodEnd,
    /// Now: terminal.
    Immediately,
}

/// How a plan or quantity change is charged. There is no default: an application states
/// what its customers pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    /// Credit the unused time and charge the new plan for the rest of the period, on the
    /// next invoice (Stripe `create_prorations`, Creem `proration-charge`).
    Prorate,
    /// Switch without prorating: the new price applies from the next period (Stripe `none`,
    /// Creem `proration-none`).
    NoProration,
    /// Prorate and invoice the difference now (Stripe `always_invoice`, Creem
    /// `proration-charge-immediately`).
    InvoiceNow,
}

/// A change of plan and/or quantity (seats) to a subscription.
///
/// ```
/// use payswitch_core::{Product, Proration, SubscriptionChange};
/// let upgrade = SubscriptionChange::plan(Product::Sku("pro_monthly".into()), Proration::InvoiceNow);
/// let seats = SubscriptionChange::quantity(5, Proration::Prorate);
/// assert!(upgrade.validate().is_ok() && seats.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionChange {
    /// The new plan: a catalog SKU (resolved per gateway like a checkout's line items) or a
    /// gateway-native price/product id. `None` keeps the plan.
    pub plan: Option<Product>,
    /// The new quantity. `None` keeps the quantity.
    pub quantity: Option<u32>,
    /// How the change is charged.
    pub proration: Proration,
    /// Which item to change, for subscriptions with more than one; `None` means the only one.
    pub item_id: Option<String>,
}

impl SubscriptionChange {
    /// Moves the subscription to another plan.
    pub fn plan(plan: Product, proration: Proration) -> Self {
        Self {
            plan: Some(plan),
            quantity: None,
            proration,
            item_id: None,
        }
    }

    /// Changes the quantity (seats) of the current plan.
    pub fn quantity(quantity: u32, proration: Proration) -> Self {
        Self {
            plan: None,
            quantity: Some(quantity),
            proration,
            item_id: None,
        }
    }

    /// Also sets the quantity of a plan change.
    pub fn with_quantity(mut self, quantity: u32) -> Self {
        self.quantity = Some(quantity);
        self
    }

    /// Names the item to change, for subscriptions with several.
    pub fn with_item(mut self, item_id: impl Into<String>) -> Self {
        self.item_id = Some(item_id.into());
        self
    }

    /// Checks the change locally: it changes something, the quantity is at least 1, and the
    /// plan is a catalog or gateway id (a custom-priced product cannot be a plan).
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.plan.is_none() && self.quantity.is_none() {
            return Err(PaymentError::invalid(
                "plan",
                "a subscription change needs a new plan, a new quantity or both",
            ));
        }
        if self.quantity == Some(0) {
            return Err(PaymentError::invalid("quantity", "must be at least 1"));
        }
        match &self.plan {
            Some(Product::Custom(_)) => Err(PaymentError::invalid(
                "plan",
                "a plan change takes a catalog SKU or a gateway price/product id, not a custom-priced product",
            )),
            Some(Product::Sku(id) | Product::Native(id)) if id.trim().is_empty() => {
                Err(PaymentError::invalid("plan", "the plan id is empty"))
            }
            Some(Product::Sku(_) | Product::Native(_)) | None => Ok(()),
        }
    }
}

/// What a change would cost, computed by the gateway without changing anything.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubscriptionChangePreview {
    /// The gateway that computed it.
    pub provider: ProviderKind,
    /// The subscription it is about.
    pub subscription_id: String,
    /// What the customer would owe on the invoice the change produces (prorations included).
    pub amount_due: Money,
    /// That invoice's total before credits and balances.
    pub total: Money,
    /// The gateway's own preview object.
    pub raw: RawJson,
}

impl SubscriptionChangePreview {
    /// Makes a preview from its amounts.
    pub fn new(
        provider: ProviderKind,
        subscription_id: impl Into<String>,
        amount_due: Money,
        total: Money,
    ) -> Self {
        Self {
            provider,
            subscription_id: subscription_id.into(),
            amount_due,
            total,
            raw: RawJson::default(),
        }
    }
}
