//! PaymentIntents: an amount decided on the server, paid in the application's own form.

use std::collections::BTreeMap;

use payswitch_core::request::{validate_metadata, MAX_IDEMPOTENCY_KEY_CHARS};
use payswitch_core::{Money, PaymentError, Secret};
use serde::Serialize;
use time::OffsetDateTime;

use crate::currency::to_wire;

/// What to charge with a PaymentIntent (`POST /v1/payment_intents`).
///
/// The amount is decided on the server; Stripe picks payment methods
/// (`automatic_payment_methods[enabled]=true`).
///
/// ```
/// use payswitch_core::{Currency, Money};
/// use payswitch_stripe::PaymentIntentRequest;
/// let request = PaymentIntentRequest::new(Money::new(1099, Currency::USD))
///     .metadata("order_id", "6735")
///     .idempotency_key("order-6735");
/// assert_eq!(request.amount.amount(), 1099);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentIntentRequest {
    /// The amount to charge, in minor units.
    pub amount: Money,
    /// An existing Stripe customer (`cus_…`).
    pub customer_id: Option<String>,
    /// A description shown in the Stripe dashboard.
    pub description: Option<String>,
    /// Where Stripe sends the receipt.
    pub receipt_email: Option<String>,
    /// String pairs stored with the PaymentIntent.
    pub metadata: BTreeMap<String, String>,
    /// The idempotency key; a random one is used when absent.
    pub idempotency_key: Option<String>,
}

impl PaymentIntentRequest {
    /// A request to charge `amount`.
    pub fn new(amount: Money) -> Self {
        Self {
            amount,
            customer_id: None,
            description: None,
            receipt_email: None,
            metadata: BTreeMap::new(),
            idempotency_key: None,
        }
    }

    /// Charges an existing customer.
    pub fn customer_id(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the receipt email.
    pub fn receipt_email(mut self, email: impl Into<String>) -> Self {
        self.receipt_email = Some(email.into());
        self
    }

    /// Adds a metadata pair.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key (e.g. derived from the order id).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Checks the request locally: a positive amount Stripe can write (a three-decimal
    /// amount ends in 0), metadata limits and the key's length. The minimum charge is checked
    /// by the provider, which knows the account's settlement currency.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.amount.amount() <= 0 {
            return Err(PaymentError::invalid("amount", "must be positive"));
        }
        to_wire(self.amount, "amount")?;
        for (field, value) in [
            ("customer_id", &self.customer_id),
            ("description", &self.description),
            ("receipt_email", &self.receipt_email),
            ("idempotency_key", &self.idempotency_key),
        ] {
            if value
                .as_deref()
                .is_some_and(|value| value.trim().is_empty())
            {
                return Err(PaymentError::invalid(field, "must not be empty when set"));
            }
        }
        if self
            .idempotency_key
            .as_deref()
            .is_some_and(|key| key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS)
        {
            return Err(PaymentError::invalid(
                "idempotency_key",
                format!("must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
            ));
        }
        validate_metadata(&self.metadata)?;
        Ok(())
    }
}

/// Where a PaymentIntent is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentIntentStatus {
    /// Waiting for the customer's payment method.
    RequiresPaymentMethod,
    /// Waiting for confirmation.
    RequiresConfirmation,
    /// The customer must act (e.g. 3-D Secure).
    RequiresAction,
    /// The payment is being processed.
    Processing,
    /// Authorized; waiting for capture.
    RequiresCapture,
    /// Canceled.
    Canceled,
    /// Paid.
    Succeeded,
    /// A status this version does not know, as Stripe spelled it.
    Other(String),
}

/// A PaymentIntent as Stripe reports it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PaymentIntent {
    /// The PaymentIntent id (`pi_…`).
    pub id: String,
    /// The amount to charge.
    pub amount: Money,
    /// Its status; fulfil on `Succeeded` (from the `payment_intent.succeeded` webhook).
    pub status: PaymentIntentStatus,
    /// What the browser needs to confirm the payment with Stripe.js. Hand it to the page
    /// that pays, and nowhere else: never log or store it.
    #[serde(skip)]
    pub client_secret: Secret,
    /// The Stripe customer, when set.
    pub customer_id: Option<String>,
    /// The metadata echoed back.
    pub metadata: BTreeMap<String, String>,
    /// When Stripe created it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// True in live mode.
    pub livemode: bool,
    /// Stripe's own object, with `client_secret` replaced by `[redacted]`.
    pub raw: serde_json::Value,
}
