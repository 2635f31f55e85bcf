//! Stripe's billing objects and the parameters that change them, mirrored field by field:
//! subscriptions and their items, refunds, customers, customer-portal sessions and invoices
//! (a preview's totals, a paid invoice's payments).
//!
//! Like the rest of the wire module: unknown fields are ignored, unknown enum values are kept
//! in an `Unknown` arm, and nothing here normalizes.

use std::collections::BTreeMap;

use payswitch_core::adapter::wire::Expandable;
use payswitch_core::wire_enum;
use serde::Deserialize;

use crate::form::FormWriter;
use crate::wire::{Price, SubscriptionStatus};

wire_enum!(
    /// `proration_behavior` of a subscription update or preview.
    pub(crate) ProrationBehavior {
        AlwaysInvoice = "always_invoice",
        CreateProrations = "create_prorations",
        NoProrations = "none",
    }
);

wire_enum!(
    /// `subscription.pause_collection.behavior`: what happens to invoices while paused.
    pub(crate) PauseBehavior {
        KeepAsDraft = "keep_as_draft",
        MarkUncollectible = "mark_uncollectible",
        Void = "void",
    }
);

wire_enum!(
    /// `refund.status` (a plain string in the spec; these are the documented values).
    pub(crate) RefundStatus {
        Pending = "pending",
        RequiresAction = "requires_action",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
    }
);

wire_enum!(
    /// `refund.reason`: three a request may give, one Stripe sets itself.
    pub(crate) RefundReason {
        Duplicate = "duplicate",
        ExpiredUncapturedCharge = "expired_uncaptured_charge",
        Fraudulent = "fraudulent",
        RequestedByCustomer = "requested_by_customer",
    }
);

wire_enum!(
    /// `invoice_payment.status`.
    pub(crate) InvoicePaymentStatus { Open = "open", Paid = "paid", Canceled = "canceled" }
);

wire_enum!(
    /// `invoice_payment.payment.type`: which field of the payment names it.
    pub(crate) AssociatedPaymentType {
        Charge = "charge",
        PaymentIntent = "payment_intent",
        PaymentRecord = "payment_record",
    }
);

/// `items[i]` of a subscription update, or `subscription_details[items][i]` of a preview:
/// the existing item by id, with a new price and/or quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemUpdateParams {
    pub(crate) id: String,
    pub(crate) price: Option<String>,
    pub(crate) quantity: Option<u32>,
}

impl ItemUpdateParams {
    fn encode(&self, form: &mut FormWriter) {
        form.text("id", &self.id);
        form.opt_text("price", self.price.as_deref());
        form.opt_integer("quantity", self.quantity.map(i64::from));
    }
}

/// `pause_collection` of a subscription update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PauseCollectionParams {
    /// `pause_collection[behavior]=…`.
    Pause(PauseBehavior),
    /// `pause_collection=`: an empty value unsets it, which resumes collection.
    Clear,
}

/// `POST /v1/subscriptions/{id}` parameters (the ones payswitch sends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UpdateSubscriptionParams {
    /// Sends `cancel_at=` (an empty value unsets a scheduled cancellation date).
    pub(crate) clear_cancel_at: bool,
    pub(crate) cancel_at_period_end: Option<bool>,
    pub(crate) items: Vec<ItemUpdateParams>,
    pub(crate) pause_collection: Option<PauseCollectionParams>,
    pub(crate) proration_behavior: Option<ProrationBehavior>,
}

impl UpdateSubscriptionParams {
    /// Encodes the form body, fields in the spec's (alphabetical) order.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(128);
        if self.clear_cancel_at {
            form.text("cancel_at", "");
        }
        form.opt_boolean("cancel_at_period_end", self.cancel_at_period_end);
        form.list("items", &self.items, |form, item| item.encode(form));
        match &self.pause_collection {
            Some(PauseCollectionParams::Pause(behavior)) => {
                form.object("pause_collection", |form| {
                    form.text("behavior", behavior.as_str());
                });
            }
            Some(PauseCollectionParams::Clear) => form.text("pause_collection", ""),
            None => {}
        }
        form.opt_text(
            "proration_behavior",
            self.proration_behavior
                .as_ref()
                .map(ProrationBehavior::as_str),
        );
        form.finish()
    }
}

/// `POST /v1/invoices/create_preview` parameters for a change to an existing subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreviewParams {
    pub(crate) subscription: String,
    pub(crate) items: Vec<ItemUpdateParams>,
    pub(crate) proration_behavior: ProrationBehavior,
}

impl PreviewParams {
    /// Encodes the form body.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(160);
        form.text("subscription", &self.subscription);
        form.object("subscription_details", |form| {
            form.list("items", &self.items, |form, item| item.encode(form));
            form.text("proration_behavior", self.proration_behavior.as_str());
        });
        form.finish()
    }
}

/// What a refund refunds: exactly one of `payment_intent` and `charge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefundSource {
    PaymentIntent(String),
    Charge(String),
}

/// What a refund request says besides the payment: known before the payment is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefundTerms {
    /// In Stripe's wire exponent; `None` refunds what is left.
    pub(crate) amount: Option<i64>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) reason: Option<RefundReason>,
}

/// `POST /v1/refunds` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateRefundParams {
    pub(crate) source: RefundSource,
    pub(crate) terms: RefundTerms,
}

impl CreateRefundParams {
    /// Encodes the form body, fields in the spec's (alphabetical) order.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(128);
        form.opt_integer("amount", self.terms.amount);
        if let RefundSource::Charge(charge) = &self.source {
            form.text("charge", charge);
        }
        form.map("metadata", &self.terms.metadata);
        if let RefundSource::PaymentIntent(intent) = &self.source {
            form.text("payment_intent", intent);
        }
        form.opt_text(
            "reason",
            self.terms.reason.as_ref().map(RefundReason::as_str),
        );
        form.finish()
    }
}

/// `POST /v1/customers` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateCustomerParams {
    pub(crate) email: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) name: Option<String>,
}

impl CreateCustomerParams {
    /// Encodes the form body, fields in the spec's (alphabetical) order.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(128);
        form.opt_text("email", self.email.as_deref());
        form.map("metadata", &self.metadata);
        form.opt_text("name", self.name.as_deref());
        form.finish()
    }
}

/// `POST /v1/billing_portal/sessions` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatePortalSessionParams {
    pub(crate) customer: String,
    pub(crate) return_url: Option<String>,
}

impl CreatePortalSessionParams {
    /// Encodes the form body.
    pub(crate) fn encode(&self) -> String {
        let mut form = FormWriter::with_capacity(128);
        form.text("customer", &self.customer);
        form.opt_text("return_url", self.return_url.as_deref());
        form.finish()
    }
}

/// A `subscription` object (the fields payswitch reads).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) status: SubscriptionStatus,
    #[serde(default)]
    pub(crate) customer: Option<Expandable>,
    #[serde(default)]
    pub(crate) items: Option<SubscriptionItemList>,
    /// Only in versions before `2025-03-31.basil`, which moved the period to the items.
    #[serde(default)]
    pub(crate) current_period_start: Option<i64>,
    /// Only in versions before `2025-03-31.basil`.
    #[serde(default)]
    pub(crate) current_period_end: Option<i64>,
    #[serde(default)]
    pub(crate) trial_end: Option<i64>,
    #[serde(default)]
    pub(crate) cancel_at_period_end: Option<bool>,
    #[serde(default)]
    pub(crate) cancel_at: Option<i64>,
    #[serde(default)]
    pub(crate) canceled_at: Option<i64>,
    #[serde(default)]
    pub(crate) ended_at: Option<i64>,
    #[serde(default)]
    pub(crate) created: Option<i64>,
    #[serde(default)]
    pub(crate) pause_collection: Option<PauseCollection>,
    #[serde(default)]
    pub(crate) metadata: Option<BTreeMap<String, String>>,
}

/// `subscription.items`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionItemList {
    pub(crate) data: Vec<SubscriptionItem>,
}

/// A `subscription_item` object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionItem {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) price: Option<Price>,
    #[serde(default)]
    pub(crate) quantity: Option<u64>,
    #[serde(default)]
    pub(crate) current_period_start: Option<i64>,
    #[serde(default)]
    pub(crate) current_period_end: Option<i64>,
}

/// `subscription.pause_collection`: collection is paused while it is set (not `null`),
/// whatever the status. Read for its presence only; its `behavior` and `resumes_at` stay in
/// `raw`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PauseCollection {}

/// A `refund` object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Refund {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) amount: Option<i64>,
    #[serde(default)]
    pub(crate) currency: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<RefundStatus>,
    #[serde(default)]
    pub(crate) reason: Option<RefundReason>,
    #[serde(default)]
    pub(crate) payment_intent: Option<Expandable>,
    #[serde(default)]
    pub(crate) charge: Option<Expandable>,
    #[serde(default)]
    pub(crate) created: Option<i64>,
    #[serde(default)]
    pub(crate) metadata: Option<BTreeMap<String, String>>,
}

/// An object read only for its currency (a PaymentIntent or charge before a partial
/// refund).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CurrencyOnly {
    pub(crate) currency: String,
}

/// A `customer` object, or a `deleted_customer` (`{"id", "object", "deleted": true}`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Customer {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) deleted: bool,
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) created: Option<i64>,
}

/// A `billing_portal.session` object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PortalSession {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) customer: Option<String>,
    #[serde(default)]
    pub(crate) return_url: Option<String>,
}

/// The totals of an `invoice` (a preview from `create_preview`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoiceTotals {
    pub(crate) amount_due: i64,
    pub(crate) total: i64,
    pub(crate) currency: String,
}

/// An `invoice` retrieved with `expand[]=payments`, read for what paid it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoiceWithPayments {
    #[serde(default)]
    pub(crate) currency: Option<String>,
    /// Present only when expanded (`expand[]=payments`).
    #[serde(default)]
    pub(crate) payments: Option<InvoicePaymentList>,
}

/// `invoice.payments`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoicePaymentList {
    pub(crate) data: Vec<InvoicePayment>,
}

/// An `invoice_payment`: one payment applied to an invoice (basil made invoices take several).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoicePayment {
    #[serde(default)]
    pub(crate) status: Option<InvoicePaymentStatus>,
    #[serde(default)]
    pub(crate) is_default: bool,
    #[serde(default)]
    pub(crate) payment: Option<AssociatedPayment>,
}

/// `invoice_payment.payment`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AssociatedPayment {
    #[serde(rename = "type")]
    pub(crate) payment_type: AssociatedPaymentType,
    #[serde(default)]
    pub(crate) payment_intent: Option<Expandable>,
    #[serde(default)]
    pub(crate) charge: Option<Expandable>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::tree::Fields;

    #[test]
    fn subscription_updates_encode_like_the_tree_encoder() {
        let params = UpdateSubscriptionParams {
            clear_cancel_at: true,
            cancel_at_period_end: Some(false),
            items: vec![ItemUpdateParams {
                id: "si_1".into(),
                price: Some("price 2".into()),
                quantity: Some(3),
            }],
            pause_collection: Some(PauseCollectionParams::Clear),
            proration_behavior: Some(ProrationBehavior::NoProrations),
        };
        let item = Fields::new()
            .text("id", "si_1")
            .text("price", "price 2")
            .integer("quantity", 3);
        let tree = Fields::new()
            .text("cancel_at", "")
            .boolean("cancel_at_period_end", false)
            .list("items", vec![crate::form::tree::FormValue::Object(item)])
            .text("pause_collection", "")
            .text("proration_behavior", "none");
        assert_eq!(params.encode(), tree.encode());
        let pause = UpdateSubscriptionParams {
            pause_collection: Some(PauseCollectionParams::Pause(PauseBehavior::Void)),
            ..UpdateSubscriptionParams::default()
        };
        assert_eq!(pause.encode(), "pause_collection[behavior]=void");
        assert_eq!(UpdateSubscriptionParams::default().encode(), "");
    }

    #[test]
    fn refunds_name_exactly_one_source() {
        let by_charge = CreateRefundParams {
            source: RefundSource::Charge("ch_1".into()),
            terms: RefundTerms {
                amount: Some(500),
                metadata: BTreeMap::from([("order".to_owned(), "42".to_owned())]),
                reason: Some(RefundReason::RequestedByCustomer),
            },
        };
        assert_eq!(
            by_charge.encode(),
            "amount=500&charge=ch_1&metadata[order]=42&reason=requested_by_customer"
        );
        let by_intent = CreateRefundParams {
            source: RefundSource::PaymentIntent("pi_1".into()),
            terms: RefundTerms {
                amount: None,
                metadata: BTreeMap::new(),
                reason: None,
            },
        };
        assert_eq!(by_intent.encode(), "payment_intent=pi_1");
    }

    #[test]
    fn unknown_billing_values_are_kept() {
        let status: RefundStatus = serde_json::from_str("\"reversed\"").unwrap();
        assert_eq!(status, RefundStatus::Unknown("reversed".into()));
        let payment: AssociatedPayment =
            serde_json::from_str(r#"{"type":"crypto","crypto":"x"}"#).unwrap();
        assert_eq!(
            payment.payment_type,
            AssociatedPaymentType::Unknown("crypto".into())
        );
    }
}
