//! Refunds: the normalized [`RefundRequest`] and [`Refund`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::money::Money;
use crate::raw::RawJson;

/// What is refunded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundTarget {
    /// A paid checkout, by its id: the adapter finds the checkout's payment.
    Checkout(String),
    /// A payment by the gateway's id (what [`CheckoutResult::payment_id`](crate::CheckoutResult::payment_id)
    /// holds; on Creem a transaction id `tran_…` is accepted too).
    Payment(String),
}

impl RefundTarget {
    /// The id inside.
    pub fn id(&self) -> &str {
        match self {
            RefundTarget::Checkout(id) | RefundTarget::Payment(id) => id,
        }
    }
}

/// Why a refund is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundReason {
    /// The customer was charged twice.
    Duplicate,
    /// The payment was fraudulent.
    Fraudulent,
    /// The customer asked.
    RequestedByCustomer,
    /// A reason the gateway reported that payswitch does not know (results only; a request
    /// with it is refused).
    Other(String),
}

/// A refund to make: all of a payment, or part of it.
///
/// ```
/// use payswitch_core::{Currency, Money, RefundReason, RefundRequest, RefundTarget};
/// let refund = RefundRequest::partial(RefundTarget::Checkout("cs_test_1".into()), Money::new(500, Currency::USD))
///     .reason(RefundReason::RequestedByCustomer)
///     .idempotency_key("refund-order-42-1");
/// assert!(refund.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RefundRequest {
    /// What to refund.
    pub target: RefundTarget,
    /// How much; `None` refunds what is left of the payment.
    pub amount: Option<Money>,
    /// Why, where the gateway records it.
    pub reason: Option<RefundReason>,
    /// Metadata to attach, where the gateway keeps it.
    pub metadata: BTreeMap<String, String>,
    /// A key that makes a repeated request (a retry, a double click, a restarted job) refund
    /// once. Without one, the adapter still makes its own retries safe where the gateway
    /// allows, but two separate calls make two refunds.
    pub idempotency_key: Option<String>,
}

impl RefundRequest {
    /// Refunds everything left of the payment.
    pub fn full(target: RefundTarget) -> Self {
        Self {
            target,
            amount: None,
            reason: None,
            metadata: BTreeMap::new(),
            idempotency_key: None,
        }
    }

    /// Refunds `amount` of the payment.
    pub fn partial(target: RefundTarget, amount: Money) -> Self {
        Self {
            amount: Some(amount),
            ..Self::full(target)
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: RefundReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Checks the request locally: a non-empty target id, a positive amount, a reason the
    /// request may carry, and a usable idempotency key.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.target.id().trim().is_empty() {
            return Err(PaymentError::invalid("target", "the id is empty"));
        }
        if let Some(amount) = self.amount {
            if amount.amount() <= 0 {
                return Err(PaymentError::invalid(
                    "amount",
                    "a refund amount must be positive",
                ));
            }
        }
        if let Some(RefundReason::Other(reason)) = &self.reason {
            return Err(PaymentError::invalid(
                "reason",
                format!("{reason:?} is not a reason a refund request can carry"),
            ));
        }
        if let Some(key) = &self.idempotency_key {
            if key.is_empty() || key.len() > 255 {
                return Err(PaymentError::invalid(
                    "idempotency_key",
                    "must be 1 to 255 characters",
                ));
            }
        }
        Ok(())
    }
}

/// Where a refund is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted; the money has not moved yet.
    Pending,
    /// The customer or the merchant must act before it can complete.
    RequiresAction,
    /// The money went back.
    Succeeded,
    /// It failed; nothing was returned.
    Failed,
    /// It was canceled before completing.
    Canceled,
    /// A status this version of payswitch does not know, as the gateway spelled it.
    Other(String),
}

/// A refund as the gateway reports it, normalized.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The gateway's refund id.
    pub id: String,
    /// The gateway that holds it.
    pub provider: ProviderKind,
    /// Where it is.
    pub status: RefundStatus,
    /// How much was refunded, when the gateway reports it.
    pub amount: Option<Money>,
    /// The payment it belongs to (Stripe PaymentIntent, Creem transaction).
    pub payment_id: Option<String>,
    /// The checkout it belongs to, when known.
    pub checkout_id: Option<String>,
    /// The subscription the payment belongs to, when known.
    pub subscription_id: Option<String>,
    /// Why, when recorded.
    pub reason: Option<RefundReason>,
    /// When the gateway created it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// The refund's metadata.
    pub metadata: BTreeMap<String, String>,
    /// Request fields this gateway could not honour and did not send; empty when everything
    /// was sent.
    pub ignored: Vec<String>,
    /// The gateway's own object, as an escape hatch.
    pub raw: RawJson,
}

impl Refund {
    /// Makes a refund with the given id, provider and status; every other field empty.
    pub fn new(id: impl Into<String>, provider: ProviderKind, status: RefundStatus) -> Self {
        Self {
            id: id.into(),
            provider,
            status,
            amount: None,
            payment_id: None,
            checkout_id: None,
            subscription_id: None,
            reason: None,
            created_at: None,
            metadata: BTreeMap::new(),
            ignored: Vec::new(),
            raw: RawJson::default(),
        }
    }
}
