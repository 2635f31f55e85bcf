//! Stripe's request parameters and response objects, mirrored field by field: checkout
//! sessions, PaymentIntents, events and errors here; subscriptions, refunds, customers,
//! portal sessions and invoices in [`billing`].
//!
//! Responses ignore unknown fields and keep unknown enum values in an `Unknown` arm, so a
//! field or status Stripe adds next month never breaks decoding. Normalization happens in
//! `convert`, not here.

pub(crate) mod billing;

use std::collections::BTreeMap;

use payswitch_core::adapter::wire::Expandable;
use payswitch_core::{wire_enum, Secret};
use serde::Deserialize;

use crate::form::FormWriter;

wire_enum!(
    /// `checkout.session.mode`.
    pub(crate) SessionMode { Payment = "payment", Setup = "setup", Subscription = "subscription" }
);

wire_enum!(
    /// `checkout.session.status`.
    pub(crate) SessionStatus { Open = "open", Complete = "complete", Expired = "expired" }
);

wire_enum!(
    /// `checkout.session.payment_status`.
    pub(crate) SessionPaymentStatus {
        Paid = "paid",
        Unpaid = "unpaid",
        NoPaymentRequired = "no_payment_required",
    }
);

wire_enum!(
    /// `price.recurring.interval`.
    pub(crate) RecurringInterval { Day = "day", Week = "week", Month = "month", Year = "year" }
);

wire_enum!(
    /// `payment_intent.status`.
    pub(crate) PaymentIntentStatus {
        RequiresPaymentMethod = "requires_payment_method",
        RequiresConfirmation = "requires_confirmation",
        RequiresAction = "requires_action",
        Processing = "processing",
        RequiresCapture = "requires_capture",
        Canceled = "canceled",
        Succeeded = "succeeded",
    }
);

wire_enum!(
    /// `event.type`, for the events payswitch normalizes.
    pub(crate) EventType {
        CheckoutSessionCompleted = "checkout.session.completed",
        CheckoutSessionAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded",
        CheckoutSessionAsyncPaymentFailed = "checkout.session.async_payment_failed",
        CheckoutSessionExpired = "checkout.session.expired",
        PaymentIntentSucceeded = "payment_intent.succeeded",
        PaymentIntentPaymentFailed = "payment_intent.payment_failed",
        ChargeRefunded = "charge.refunded",
        RefundCreated = "refund.created",
        RefundUpdated = "refund.updated",
        RefundFailed = "refund.failed",
        ChargeDisputeCreated = "charge.dispute.created",
        CustomerSubscriptionCreated = "customer.subscription.created",
        CustomerSubscriptionUpdated = "customer.subscription.updated",
        CustomerSubscriptionResumed = "customer.subscription.resumed",
        CustomerSubscriptionDeleted = "customer.subscription.deleted",
        CustomerSubscriptionPaused = "customer.subscription.paused",
        CustomerSubscriptionTrialWillEnd = "customer.subscription.trial_will_end",
        CustomerSubscriptionPendingUpdateApplied = "customer.subscription.pending_update_applied",
        CustomerSubscriptionPendingUpdateExpired = "customer.subscription.pending_update_expired",
        InvoicePaid = "invoice.paid",
        InvoicePaymentSucceeded = "invoice.payment_succeeded",
        InvoicePaymentFailed = "invoice.payment_failed",
    }
);

wire_enum!(
    /// Why an invoice was created (`invoice.billing_reason`).
    pub(crate) BillingReason {
        SubscriptionCreate = "subscription_create",
        SubscriptionCycle = "subscription_cycle",
        SubscriptionUpdate = "subscription_update",
        SubscriptionThreshold = "subscription_threshold",
        Subscription = "subscription",
        Manual = "manual",
        Upcoming = "upcoming",
        QuoteAccept = "quote_accept",
        AutomaticPendingInvoiceItemInvoice = "automatic_pending_invoice_item_invoice",
    }
);

wire_enum!(
    /// `subscription.status`.
    pub(crate) SubscriptionStatus {
        Incomplete = "incomplete",
        IncompleteExpired = "incomplete_expired",
        Trialing = "trialing",
        Active = "active",
        PastDue = "past_due",
        Canceled = "canceled",
        Unpaid = "unpaid",
        Paused = "paused",
    }
);

/// `POST /v1/checkout/sessions` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CreateSessionParams {
    pub(crate) mode: Option<SessionMode>,
    /// `embedded_page` for embedded checkout; omitted (hosted) otherwise.
    pub(crate) ui_mode: Option<&'static str>,
    pub(crate) line_items: Vec<LineItemParams>,
    pub(crate) success_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) customer_email: Option<String>,
    pub(crate) client_reference_id: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) discounts: Vec<DiscountParams>,
    pub(crate) allow_promotion_codes: Option<bool>,
    pub(crate) locale: Option<String>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) currency: Option<String>,
    /// `subscription_data[metadata]`: what the subscription a subscription-mode session
    /// creates carries (the session's own `metadata` stays on the session).
    pub(crate) subscription_metadata: BTreeMap<String, String>,
}

/// `line_items[i]`: a price id or inline price data, and a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineItemParams {
    pub(crate) price: Option<String>,
    pub(crate) price_data: Option<PriceDataParams>,
    pub(crate) quantity: u32,
}

/// `line_items[i][price_data]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PriceDataParams {
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    pub(crate) product_name: String,
    pub(crate) product_description: Option<String>,
    pub(crate) recurring: Option<RecurringParams>,
}

/// `line_items[i][price_data][recurring]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecurringParams {
    pub(crate) interval: RecurringInterval,
    pub(crate) interval_count: u32,
}

/// `discounts[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiscountParams {
    pub(crate) promotion_code: String,
}

impl CreateSessionParams {
    /// Encodes the form body, in the order Stripe's docs list the fields, straight into one
    /// buffer (this is the hot path of every checkout create).
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(256 + 192 * self.line_items.len());
        form.opt_text("mode", self.mode.as_ref().map(SessionMode::as_str));
        form.opt_text("ui_mode", self.ui_mode);
        form.list("line_items", &self.line_items, |form, item| {
            item.encode(form)
        });
        form.opt_text("success_url", self.success_url.as_deref());
        form.opt_text("cancel_url", self.cancel_url.as_deref());
        form.opt_text("return_url", self.return_url.as_deref());
        form.opt_text("customer", self.customer.as_deref());
        form.opt_text("customer_email", self.customer_email.as_deref());
        form.opt_text("client_reference_id", self.client_reference_id.as_deref());
        form.map("metadata", &self.metadata);
        form.list("discounts", &self.discounts, |form, discount| {
            form.text("promotion_code", &discount.promotion_code);
        });
        form.opt_boolean("allow_promotion_codes", self.allow_promotion_codes);
        form.opt_text("locale", self.locale.as_deref());
        form.opt_integer("expires_at", self.expires_at);
        form.opt_text("currency", self.currency.as_deref());
        form.object("subscription_data", |form| {
            form.map("metadata", &self.subscription_metadata);
        });
        form.finish()
    }
}

impl LineItemParams {
    fn encode(&self, form: &mut FormWriter) {
        form.opt_text("price", self.price.as_deref());
        if let Some(data) = &self.price_data {
            form.object("price_data", |form| {
                form.text("currency", &data.currency);
                form.integer("unit_amount", data.unit_amount);
                form.object("product_data", |form| {
                    form.text("name", &data.product_name);
                    form.opt_text("description", data.product_description.as_deref());
                });
                if let Some(recurring) = &data.recurring {
                    form.object("recurring", |form| {
                        form.text("interval", recurring.interval.as_str());
                        form.integer("interval_count", i64::from(recurring.interval_count));
                    });
                }
            });
        }
        form.integer("quantity", i64::from(self.quantity));
    }
}

/// `POST /v1/payment_intents` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatePaymentIntentParams {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) receipt_email: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl CreatePaymentIntentParams {
    /// Encodes the form body.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(256);
        form.integer("amount", self.amount);
        form.text("currency", &self.currency);
        form.object("automatic_payment_methods", |form| {
            form.boolean("enabled", true);
        });
        form.opt_text("customer", self.customer.as_deref());
        form.opt_text("description", self.description.as_deref());
        form.opt_text("receipt_email", self.receipt_email.as_deref());
        form.map("metadata", &self.metadata);
        form.finish()
    }
}

/// A `checkout.session` object (the fields payswitch reads).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Session {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) status: Option<SessionStatus>,
    #[serde(default)]
    pub(crate) payment_status: Option<SessionPaymentStatus>,
    #[serde(default)]
    pub(crate) mode: Option<SessionMode>,
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) client_secret: Option<Secret>,
    #[serde(default)]
    pub(crate) amount_total: Option<i64>,
    #[serde(default)]
    pub(crate) currency: Option<String>,
    #[serde(default)]
    pub(crate) customer: Option<Expandable>,
    #[serde(default)]
    pub(crate) customer_email: Option<String>,
    #[serde(default)]
    pub(crate) customer_details: Option<CustomerDetails>,
    #[serde(default)]
    pub(crate) client_reference_id: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) payment_intent: Option<Expandable>,
    #[serde(default)]
    pub(crate) subscription: Option<Expandable>,
    /// The invoice the session created: in subscription mode, the subscription's first one.
    #[serde(default)]
    pub(crate) invoice: Option<Expandable>,
    #[serde(default)]
    pub(crate) created: Option<i64>,
    #[serde(default)]
    pub(crate) expires_at: Option<i64>,
}

/// `checkout.session.customer_details`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CustomerDetails {
    #[serde(default)]
    pub(crate) email: Option<String>,
}

/// A line item (`object: "item"`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Item {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) quantity: Option<u64>,
    pub(crate) currency: String,
    #[serde(default)]
    pub(crate) amount_subtotal: i64,
    #[serde(default)]
    pub(crate) amount_total: i64,
    #[serde(default)]
    pub(crate) amount_discount: i64,
    #[serde(default)]
    pub(crate) amount_tax: i64,
    #[serde(default)]
    pub(crate) price: Option<Price>,
}

/// A `price` object, as embedded in a line item.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Price {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) currency: Option<String>,
    #[serde(default)]
    pub(crate) unit_amount: Option<i64>,
    #[serde(default)]
    pub(crate) product: Option<Expandable>,
    #[serde(default)]
    pub(crate) recurring: Option<PriceRecurring>,
}

/// `price.recurring`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PriceRecurring {
    pub(crate) interval: RecurringInterval,
    #[serde(default)]
    pub(crate) interval_count: Option<u64>,
}

/// A `payment_intent` object (the fields payswitch reads).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PaymentIntent {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: PaymentIntentStatus,
    #[serde(default)]
    pub(crate) client_secret: Option<Secret>,
    #[serde(default)]
    pub(crate) customer: Option<Expandable>,
    #[serde(default)]
    pub(crate) metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) created: Option<i64>,
    #[serde(default)]
    pub(crate) livemode: bool,
}

/// An `event` envelope.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Event {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: EventType,
    pub(crate) created: i64,
    /// Required; the object itself is read from the parsed event by reference.
    #[serde(rename = "data")]
    pub(crate) _data: EventData,
}

/// `event.data`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct EventData {
    /// Required, but read from the parsed event by reference (`raw["data"]["object"]`) rather
    /// than copied here.
    #[serde(rename = "object")]
    pub(crate) _object: serde::de::IgnoredAny,
}

/// The `status` of a subscription object inside an event.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionObject {
    #[serde(default)]
    pub(crate) status: Option<SubscriptionStatus>,
    #[serde(default)]
    pub(crate) cancel_at_period_end: Option<bool>,
}

/// What an `invoice.*` event's object says about why it was billed.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoiceObject {
    #[serde(default)]
    pub(crate) billing_reason: Option<BillingReason>,
}

/// The fields an `*.updated` event says changed, with their previous values (only those
/// read here).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PreviousSubscription {
    #[serde(default)]
    pub(crate) cancel_at_period_end: Option<bool>,
}

/// A list whose items are decoded one by one, so each keeps its raw object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawList {
    pub(crate) data: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) has_more: bool,
}

/// A page of `GET /v1/checkout/sessions`, read only for the sessions' ids, statuses and
/// references.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SessionSummaryList {
    pub(crate) data: Vec<SessionSummary>,
    #[serde(default)]
    pub(crate) has_more: bool,
}

/// The part of a session the search for an existing session of an order reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SessionSummary {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) client_reference_id: Option<String>,
}

/// A page of `GET /v1/promotion_codes`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PromotionCodeList {
    pub(crate) data: Vec<PromotionCode>,
}

/// A promotion code: the id a session's `discounts` takes for the code a customer types.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PromotionCode {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) active: Option<bool>,
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub(crate) error: ApiError,
}

/// Stripe's `api_errors` object.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiError {
    #[serde(rename = "type", default)]
    pub(crate) error_type: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) param: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) doc_url: Option<String>,
    #[serde(default)]
    pub(crate) decline_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::tree::{Fields, FormValue};

    impl CreateSessionParams {
        /// The same fields as `encode`, built with the tree encoder (the oracle).
        fn to_fields(&self) -> Fields<'_> {
            let line_items = self
                .line_items
                .iter()
                .map(|item| FormValue::Object(item.to_fields()))
                .collect();
            let discounts = self
                .discounts
                .iter()
                .map(|discount| {
                    FormValue::Object(
                        Fields::new().text("promotion_code", &discount.promotion_code),
                    )
                })
                .collect();
            Fields::new()
                .opt_text("mode", self.mode.as_ref().map(SessionMode::as_str))
                .opt_text("ui_mode", self.ui_mode)
                .list("line_items", line_items)
                .opt_text("success_url", self.success_url.as_deref())
                .opt_text("cancel_url", self.cancel_url.as_deref())
                .opt_text("return_url", self.return_url.as_deref())
                .opt_text("customer", self.customer.as_deref())
                .opt_text("customer_email", self.customer_email.as_deref())
                .opt_text("client_reference_id", self.client_reference_id.as_deref())
                .map("metadata", &self.metadata)
                .list("discounts", discounts)
                .opt_boolean("allow_promotion_codes", self.allow_promotion_codes)
                .opt_text("locale", self.locale.as_deref())
                .opt_integer("expires_at", self.expires_at)
                .opt_text("currency", self.currency.as_deref())
                .object(
                    "subscription_data",
                    Fields::new().map("metadata", &self.subscription_metadata),
                )
        }
    }

    impl LineItemParams {
        fn to_fields(&self) -> Fields<'_> {
            let price_data = self.price_data.as_ref().map(|data| {
                let recurring = data.recurring.as_ref().map(|recurring| {
                    Fields::new()
                        .text("interval", recurring.interval.as_str())
                        .integer("interval_count", i64::from(recurring.interval_count))
                });
                Fields::new()
                    .text("currency", &data.currency)
                    .integer("unit_amount", data.unit_amount)
                    .object(
                        "product_data",
                        Fields::new()
                            .text("name", &data.product_name)
                            .opt_text("description", data.product_description.as_deref()),
                    )
                    .opt_object("recurring", recurring)
            });
            Fields::new()
                .opt_text("price", self.price.as_deref())
                .opt_object("price_data", price_data)
                .integer("quantity", i64::from(self.quantity))
        }
    }

    #[test]
    fn streaming_encoding_matches_the_tree_encoding() {
        let metadata = BTreeMap::from([
            ("order id".to_owned(), "ord 42".to_owned()),
            ("a&b".to_owned(), "x=y".to_owned()),
        ]);
        let item = |price: Option<&str>, recurring: Option<RecurringParams>| LineItemParams {
            price: price.map(str::to_owned),
            price_data: match price {
                Some(_) => None,
                None => Some(PriceDataParams {
                    currency: "eur".into(),
                    unit_amount: 2500,
                    product_name: "T-shirt & cap ☕".into(),
                    product_description: Some("100% cotton".into()),
                    recurring,
                }),
            },
            quantity: 3,
        };
        let full = CreateSessionParams {
            mode: Some(SessionMode::Subscription),
            ui_mode: Some("embedded_page"),
            line_items: vec![
                item(None, None),
                item(Some("price_1"), None),
                item(
                    None,
                    Some(RecurringParams {
                        interval: RecurringInterval::Month,
                        interval_count: 3,
                    }),
                ),
            ],
            success_url: Some("https://x.example/ok?session_id={CHECKOUT_SESSION_ID}".into()),
            cancel_url: Some("https://x.example/cancel".into()),
            return_url: Some("https://x.example/return".into()),
            customer: Some("cus_1".into()),
            customer_email: Some("ana+1@example.com".into()),
            client_reference_id: Some("order 42".into()),
            metadata,
            discounts: vec![DiscountParams {
                promotion_code: "promo_1".into(),
            }],
            allow_promotion_codes: Some(false),
            locale: Some("fr".into()),
            expires_at: Some(1_800_000_000),
            currency: Some("usd".into()),
            subscription_metadata: BTreeMap::from([(
                "payswitch_reference".to_owned(),
                "order 42".to_owned(),
            )]),
        };
        assert_eq!(full.encode(), full.to_fields().encode());
        let empty = CreateSessionParams::default();
        assert_eq!(empty.encode(), empty.to_fields().encode());
        assert_eq!(empty.encode(), "");
    }

    #[test]
    fn payment_intent_encoding_matches_the_tree_encoding() {
        let params = CreatePaymentIntentParams {
            amount: 1099,
            currency: "usd".into(),
            customer: Some("cus_1".into()),
            description: None,
            receipt_email: Some("ana+1@example.com".into()),
            metadata: BTreeMap::from([("order id".to_owned(), "6735".to_owned())]),
        };
        let tree = Fields::new()
            .integer("amount", 1099)
            .text("currency", "usd")
            .object(
                "automatic_payment_methods",
                Fields::new().boolean("enabled", true),
            )
            .text("customer", "cus_1")
            .text("receipt_email", "ana+1@example.com")
            .map("metadata", &params.metadata);
        assert_eq!(params.encode(), tree.encode());
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let status: SessionStatus = serde_json::from_str("\"archived\"").unwrap();
        assert_eq!(status, SessionStatus::Unknown("archived".into()));
        assert_eq!(status.as_str(), "archived");
        let known: SessionPaymentStatus = serde_json::from_str("\"no_payment_required\"").unwrap();
        assert_eq!(known, SessionPaymentStatus::NoPaymentRequired);
    }

    #[test]
    fn expandable_accepts_ids_and_objects() {
        let id: Expandable = serde_json::from_str("\"cus_1\"").unwrap();
        let object: Expandable =
            serde_json::from_str(r#"{"id":"cus_2","object":"customer","email":null}"#).unwrap();
        assert_eq!(id.id(), "cus_1");
        assert_eq!(object.id(), "cus_2");
    }

    #[test]
    fn sessions_tolerate_nulls_and_unknown_fields() {
        let session: Session = serde_json::from_str(
            r#"{"id":"cs_1","status":null,"payment_status":"unpaid","metadata":null,
                "customer":null,"a_new_field":{"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(session.status, None);
        assert_eq!(session.payment_status, Some(SessionPaymentStatus::Unpaid));
    }
}
