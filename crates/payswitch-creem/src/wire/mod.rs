//! Creem's JSON, mirrored field for field. Normalization happens only in `convert/`.
//!
//! The entities a checkout carries (product, order, customer, subscription) live here; the
//! billing-only ones (transactions, refunds, lists) and the lifecycle request bodies live in
//! [`billing`].
//!
//! Decoding is tolerant: unknown fields are skipped, unknown enum values land in an
//! `Unknown(String)` arm, and most fields are optional because Creem's samples omit fields the
//! OpenAPI spec calls required (webhook orders carry no `object`, for instance).

use std::collections::BTreeMap;

use payswitch_core::adapter::wire::{Expandable, HasId};
use payswitch_core::wire_enum;
use serde::de;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

pub(crate) mod billing;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `POST /v1/checkouts` body (`CreateCheckoutRequest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CreateCheckoutRequest<'a> {
    pub(crate) product_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<&'a str>,
    pub(crate) units: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) discount_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer: Option<CustomerRequest<'a>>,
    pub(crate) success_url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) metadata: &'a BTreeMap<String, String>,
}

/// `CustomerRequestEntity`: Creem accepts an id or an email, never both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) enum CustomerRequest<'a> {
    #[serde(rename = "id")]
    Id(&'a str),
    #[serde(rename = "email")]
    Email(&'a str),
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// An integer JSON number: counts and amounts in cents.
///
/// Creem's spec types these as `number`. Integral spellings such as `1000.0` are accepted by
/// reading the number's text, never through `f64` arithmetic; fractions are a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Integer(pub(crate) i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        if let Some(value) = number.as_i64() {
            return Ok(Integer(value));
        }
        let text = number.to_string();
        let whole = text
            .strip_suffix(".0")
            .filter(|whole| {
                let digits = whole.strip_prefix('-').unwrap_or(whole);
                !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
            })
            .and_then(|whole| whole.parse::<i64>().ok());
        whole.map(Integer).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a whole number of minor units, got {text}"
            ))
        })
    }
}

/// An entity timestamp: an ISO-8601 string on checkouts, orders, customers and subscriptions,
/// epoch milliseconds on transactions, refunds and disputes.
///
/// The normalization reads none of them, so an unexpected spelling is kept rather than failing
/// a payment webhook over a field nobody uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Timestamp {
    At(OffsetDateTime),
    Unreadable(serde_json::Value),
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let parsed = match &value {
            serde_json::Value::String(text) => {
                OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
            }
            serde_json::Value::Number(number) => number
                .as_i64()
                .and_then(|millis| i128::from(millis).checked_mul(1_000_000))
                .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()),
            serde_json::Value::Null
            | serde_json::Value::Bool(_)
            | serde_json::Value::Array(_)
            | serde_json::Value::Object(_) => None,
        };
        Ok(match parsed {
            Some(at) => Timestamp::At(at),
            None => Timestamp::Unreadable(value),
        })
    }
}

wire_enum! {
    /// `EnvironmentMode`; webhook samples also show `local`.
    pub(crate) EnvironmentMode { Test = "test", Prod = "prod", Sandbox = "sandbox" }
}

wire_enum! {
    /// `CheckoutEntity.status`.
    pub(crate) CheckoutStatus {
        Pending = "pending",
        Processing = "processing",
        Completed = "completed",
        Expired = "expired",
    }
}

wire_enum! {
    /// `OrderStatus`.
    pub(crate) OrderStatus { Pending = "pending", Paid = "paid" }
}

wire_enum! {
    /// `OrderType` and `ProductBillingType`.
    pub(crate) BillingType { Recurring = "recurring", Onetime = "onetime" }
}

wire_enum! {
    /// `SubscriptionStatus` (`active | canceled | unpaid | paused | trialing |
    /// scheduled_cancel`), with `past_due` from the newer spec and `expired` from the webhook
    /// types.
    pub(crate) SubscriptionStatus {
        Active = "active",
        Canceled = "canceled",
        Unpaid = "unpaid",
        Paused = "paused",
        Trialing = "trialing",
        ScheduledCancel = "scheduled_cancel",
        Expired = "expired",
        PastDue = "past_due",
    }
}

/// `CheckoutEntity`.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Checkout {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    pub(crate) status: CheckoutStatus,
    pub(crate) request_id: Option<String>,
    pub(crate) product: Option<Expandable<Product>>,
    pub(crate) units: Option<Integer>,
    pub(crate) order: Option<Expandable<Order>>,
    pub(crate) subscription: Option<Expandable<Subscription>>,
    pub(crate) customer: Option<Expandable<Customer>>,
    pub(crate) checkout_url: Option<String>,
    pub(crate) success_url: Option<String>,
    /// Usually an object with mixed value types; one real response echoed an array.
    pub(crate) metadata: Option<serde_json::Value>,
}

/// `ProductEntity`.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) name: Option<String>,
    pub(crate) price: Option<Integer>,
    pub(crate) currency: Option<String>,
    pub(crate) billing_type: Option<BillingType>,
    pub(crate) billing_period: Option<String>,
    pub(crate) created_at: Option<Timestamp>,
}

/// `OrderEntity`.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) customer: Option<Expandable<Customer>>,
    pub(crate) product: Option<Expandable<Product>>,
    pub(crate) transaction: Option<String>,
    pub(crate) amount: Option<Integer>,
    pub(crate) sub_total: Option<Integer>,
    pub(crate) tax_amount: Option<Integer>,
    pub(crate) discount_amount: Option<Integer>,
    pub(crate) amount_due: Option<Integer>,
    pub(crate) amount_paid: Option<Integer>,
    pub(crate) currency: Option<String>,
    pub(crate) status: Option<OrderStatus>,
    #[serde(rename = "type")]
    pub(crate) order_type: Option<BillingType>,
    pub(crate) created_at: Option<Timestamp>,
}

/// `CustomerEntity`.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    /// An object whose values may be strings, numbers or null.
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) country: Option<String>,
    pub(crate) created_at: Option<Timestamp>,
    pub(crate) updated_at: Option<Timestamp>,
}

/// `SubscriptionEntity`. Webhook samples omit fields the spec calls required (`items`,
/// `collection_method`, the period dates), so everything but the id is optional.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    pub(crate) product: Option<Expandable<Product>>,
    pub(crate) customer: Option<Expandable<Customer>>,
    pub(crate) items: Option<Vec<SubscriptionItem>>,
    pub(crate) collection_method: Option<String>,
    pub(crate) status: Option<SubscriptionStatus>,
    pub(crate) last_transaction_id: Option<String>,
    pub(crate) last_transaction_date: Option<Timestamp>,
    pub(crate) next_transaction_date: Option<Timestamp>,
    pub(crate) current_period_start_date: Option<Timestamp>,
    pub(crate) current_period_end_date: Option<Timestamp>,
    pub(crate) canceled_at: Option<Timestamp>,
    pub(crate) created_at: Option<Timestamp>,
    pub(crate) updated_at: Option<Timestamp>,
    /// An object whose values may be strings, numbers or null.
    pub(crate) metadata: Option<serde_json::Value>,
}

/// `SubscriptionItemEntity`: one product (and price) with its `units` (seats).
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionItem {
    /// Required by the spec; kept optional so one odd item does not hide the subscription.
    pub(crate) id: Option<String>,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    pub(crate) product_id: Option<String>,
    pub(crate) price_id: Option<String>,
    /// Nullable in the spec.
    pub(crate) units: Option<Integer>,
    pub(crate) created_at: Option<Timestamp>,
    pub(crate) updated_at: Option<Timestamp>,
}

impl HasId for Product {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Order {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Customer {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Subscription {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The error body: `{trace_id, status, error, message: [..], timestamp}`. `message` may be
/// absent or a single string; the customer-credits endpoints nest `{error: {...}}` instead.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) trace_id: Option<String>,
    pub(crate) status: Option<serde_json::Value>,
    pub(crate) error: Option<ErrorField>,
    /// A list of texts, one text, or (seen nowhere yet) anything else.
    pub(crate) message: Option<serde_json::Value>,
}

/// `error`: a short text (`"Bad Request"`) or the credits endpoints' nested object.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorField {
    Text(String),
    Nested(NestedError),
    Other(serde_json::Value),
}

/// The credits endpoints' `{type, code, message, param, request_id}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NestedError {
    #[serde(rename = "type")]
    pub(crate) error_type: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) param: Option<String>,
    pub(crate) request_id: Option<String>,
}

wire_enum! {
    /// The webhook `eventType` values Creem documents.
    pub(crate) EventType {
        CheckoutCompleted = "checkout.completed",
        SubscriptionActive = "subscription.active",
        SubscriptionPaid = "subscription.paid",
        SubscriptionCanceled = "subscription.canceled",
        SubscriptionScheduledCancel = "subscription.scheduled_cancel",
        SubscriptionPastDue = "subscription.past_due",
        SubscriptionExpired = "subscription.expired",
        SubscriptionTrialing = "subscription.trialing",
        SubscriptionPaused = "subscription.paused",
        SubscriptionUpdate = "subscription.update",
        SubscriptionUnpaid = "subscription.unpaid",
        RefundCreated = "refund.created",
        DisputeCreated = "dispute.created",
    }
}

/// The webhook envelope: `{id, eventType, created_at (epoch ms), object}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WebhookEnvelope {
    pub(crate) id: String,
    #[serde(rename = "eventType")]
    pub(crate) event_type: EventType,
    pub(crate) created_at: Integer,
    /// Required, but read from the parsed event by reference (`raw["object"]`) rather than
    /// copied here.
    #[serde(rename = "object")]
    pub(crate) _object: de::IgnoredAny,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integer(text: &str) -> Result<Integer, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn integers_accept_integral_spellings_only() {
        assert_eq!(integer("1000").unwrap(), Integer(1000));
        assert_eq!(integer("1000.0").unwrap(), Integer(1000));
        assert_eq!(integer("-5.0").unwrap(), Integer(-5));
        assert!(integer("1000.5").is_err());
        assert!(integer("1e30").is_err());
        assert!(integer("\"1000\"").is_err());
    }

    #[test]
    fn timestamps_are_read_in_both_spellings_and_never_fail() {
        let iso: Timestamp = serde_json::from_str("\"2024-10-12T11:58:33.097Z\"").unwrap();
        let millis: Timestamp = serde_json::from_str("1728734313097").unwrap();
        assert_eq!(iso, millis);
        let odd: Timestamp = serde_json::from_str("\"last tuesday\"").unwrap();
        assert!(matches!(odd, Timestamp::Unreadable(_)));
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let mode: EnvironmentMode = serde_json::from_str("\"local\"").unwrap();
        assert_eq!(mode, EnvironmentMode::Unknown("local".into()));
        assert_eq!(mode.as_str(), "local");
        let status: CheckoutStatus = serde_json::from_str("\"completed\"").unwrap();
        assert_eq!(status, CheckoutStatus::Completed);
    }

    #[test]
    fn the_customer_is_an_id_or_an_email() {
        let id = serde_json::to_value(CustomerRequest::Id("cust_1")).unwrap();
        assert_eq!(id, serde_json::json!({"id": "cust_1"}));
        let email = serde_json::to_value(CustomerRequest::Email("a@b.co")).unwrap();
        assert_eq!(email, serde_json::json!({"email": "a@b.co"}));
    }
}
