//! Creem's billing JSON after the checkout: the lifecycle request bodies, transactions,
//! refunds, customer portal links and paginated lists, mirrored field for field.
//!
//! Sources: Creem's OpenAPI (`SubscriptionEntity`, `TransactionEntity`,
//! `CancelSubscriptionRequestEntity`, `UpgradeSubscriptionRequestEntity`,
//! `UpdateSubscriptionRequestEntity`, `CreateCustomerRequestEntity`,
//! `CreateCustomerPortalLinkRequestEntity`, `CustomerLinksEntity`, `PaginationEntity`), the
//! refund endpoint's page (docs.creem.io/api-reference/endpoint/refund-payment) and the
//! `refund.created` webhook sample.

use std::collections::BTreeMap;

use payswitch_core::adapter::wire::{Expandable, HasId};
use payswitch_core::wire_enum;
use serde::{Deserialize, Serialize};

use super::{EnvironmentMode, Integer, Subscription, Timestamp};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `CancelSubscriptionRequestEntity`. `onExecute` (cancel or pause at the period end) is never
/// sent: Creem then applies `cancel`, its default, which is what `CancelAt::PeriodEnd` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct CancelSubscriptionRequest {
    pub(crate) mode: CancelMode,
}

/// `CancelSubscriptionRequestEntity.mode`. Always sent: without it Creem applies the store's
/// own default, which the application cannot see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CancelMode {
    Immediate,
    Scheduled,
}

/// `update_behavior` of the upgrade and update requests.
#[expect(clippy::enum_variant_names, reason = "mirrors Creem's values")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum UpdateBehavior {
    ProrationChargeImmediately,
    ProrationCharge,
    ProrationNone,
}

/// `POST /v1/subscriptions/{id}/upgrade` body (`UpgradeSubscriptionRequestEntity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UpgradeSubscriptionRequest<'a> {
    pub(crate) product_id: &'a str,
    /// Always sent: Creem's default here (`proration-charge-immediately`) differs from the
    /// update endpoint's (`proration-charge`).
    pub(crate) update_behavior: UpdateBehavior,
}

/// `POST /v1/subscriptions/{id}` body (`UpdateSubscriptionRequestEntity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UpdateSubscriptionRequest<'a> {
    pub(crate) items: Vec<UpsertSubscriptionItem<'a>>,
    pub(crate) update_behavior: UpdateBehavior,
}

/// `UpsertSubscriptionItemEntity` for an existing item: its id and new units. An item without
/// an id would be created, so the id is never optional here; `product_id` and `price_id` are
/// left out (they name what the item already is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UpsertSubscriptionItem<'a> {
    pub(crate) id: &'a str,
    pub(crate) units: u32,
}

/// `POST /v1/customers` body (`CreateCustomerRequestEntity`): `email` and `name` required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CreateCustomerRequest<'a> {
    pub(crate) email: &'a str,
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) metadata: &'a BTreeMap<String, String>,
}

/// `POST /v1/customers/billing` body (`CreateCustomerPortalLinkRequestEntity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CustomerPortalLinkRequest<'a> {
    pub(crate) customer_id: &'a str,
}

/// `POST /v1/refunds` body: the transaction to refund in full. Creem documents no amount, no
/// reason and no metadata on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CreateRefundRequest<'a> {
    pub(crate) transaction_id: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// `PaginationEntity`; every number is typed `number`, `next_page`/`prev_page` nullable.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Pagination {
    pub(crate) total_records: Option<Integer>,
    pub(crate) total_pages: Option<Integer>,
    pub(crate) current_page: Option<Integer>,
    pub(crate) next_page: Option<Integer>,
    pub(crate) prev_page: Option<Integer>,
}

/// `SubscriptionListEntity` (`GET /v1/customers/{id}/subscriptions`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionList {
    #[serde(default)]
    pub(crate) items: Vec<Subscription>,
    pub(crate) pagination: Option<Pagination>,
}

/// `TransactionListEntity` (`GET /v1/transactions/search`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TransactionList {
    #[serde(default)]
    pub(crate) items: Vec<Transaction>,
    #[expect(dead_code, reason = "mirrors the wire")]
    pub(crate) pagination: Option<Pagination>,
}

wire_enum! {
    /// `TransactionStatus`, with `canceled` from the newer spec.
    pub(crate) TransactionStatus {
        Pending = "pending",
        Paid = "paid",
        Refunded = "refunded",
        PartialRefund = "partialRefund",
        ChargedBack = "chargedBack",
        Uncollectible = "uncollectible",
        Declined = "declined",
        Void = "void",
        Canceled = "canceled",
    }
}

wire_enum! {
    /// `TransactionType`: `payment` (one-time) or `invoice` (subscription).
    pub(crate) TransactionType { Payment = "payment", Invoice = "invoice" }
}

/// `TransactionEntity`. Amounts in cents; `period_*` and `created_at` in epoch milliseconds.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Transaction {
    pub(crate) id: String,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    /// Before tax.
    pub(crate) amount: Option<Integer>,
    /// What the customer paid, tax included: what a full refund returns.
    pub(crate) amount_paid: Option<Integer>,
    pub(crate) discount_amount: Option<Integer>,
    pub(crate) currency: Option<String>,
    #[serde(rename = "type")]
    pub(crate) transaction_type: Option<TransactionType>,
    pub(crate) tax_country: Option<String>,
    pub(crate) tax_amount: Option<Integer>,
    pub(crate) status: Option<TransactionStatus>,
    pub(crate) refunded_amount: Option<Integer>,
    /// Ids in the spec; read as an id or an object in case Creem expands them.
    pub(crate) order: Option<Expandable>,
    pub(crate) subscription: Option<Expandable>,
    pub(crate) customer: Option<Expandable>,
    pub(crate) description: Option<String>,
    pub(crate) period_start: Option<Timestamp>,
    pub(crate) period_end: Option<Timestamp>,
    pub(crate) created_at: Option<Timestamp>,
}

impl HasId for Transaction {
    fn id(&self) -> &str {
        &self.id
    }
}

wire_enum! {
    /// `RefundStatus`: `pending` and `requiresAction` are non-terminal.
    pub(crate) RefundStatus {
        Pending = "pending",
        RequiresAction = "requiresAction",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
    }
}

wire_enum! {
    /// `RefundReason`.
    pub(crate) RefundReason {
        Duplicate = "duplicate",
        Fraudulent = "fraudulent",
        RequestedByCustomer = "requested_by_customer",
        Other = "other",
    }
}

/// `RefundEntity`, as the `refund.created` webhook carries it. `POST /v1/refunds` documents
/// only `status` in its answer, so every field is optional and the same type reads both.
///
/// The related objects are read for their ids only: the checkout is normalized on its own
/// (`WebhookEvent::checkout`), and a refund must not be lost to a nested object of a changed
/// shape.
#[expect(dead_code, reason = "mirrors the wire")]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Refund {
    pub(crate) id: Option<String>,
    pub(crate) mode: Option<EnvironmentMode>,
    pub(crate) object: Option<String>,
    pub(crate) status: Option<RefundStatus>,
    pub(crate) refund_amount: Option<Integer>,
    pub(crate) refund_currency: Option<String>,
    pub(crate) reason: Option<RefundReason>,
    pub(crate) transaction: Option<Expandable<Transaction>>,
    pub(crate) checkout: Option<Expandable>,
    pub(crate) order: Option<Expandable>,
    pub(crate) subscription: Option<Expandable>,
    pub(crate) customer: Option<Expandable>,
    pub(crate) created_at: Option<Timestamp>,
}

/// `CustomerLinksEntity`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CustomerLinks {
    pub(crate) customer_portal_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_enums_are_spelled_as_creem_documents() {
        let cancel = serde_json::to_value(CancelSubscriptionRequest {
            mode: CancelMode::Scheduled,
        })
        .unwrap();
        assert_eq!(cancel, serde_json::json!({"mode": "scheduled"}));
        assert_eq!(
            serde_json::to_value(CancelMode::Immediate).unwrap(),
            "immediate"
        );
        for (behavior, text) in [
            (
                UpdateBehavior::ProrationChargeImmediately,
                "proration-charge-immediately",
            ),
            (UpdateBehavior::ProrationCharge, "proration-charge"),
            (UpdateBehavior::ProrationNone, "proration-none"),
        ] {
            assert_eq!(serde_json::to_value(behavior).unwrap(), text);
        }
    }

    #[test]
    fn a_refund_answer_of_status_alone_decodes() {
        let refund: Refund = serde_json::from_str(r#"{"status":"requiresAction"}"#).unwrap();
        assert_eq!(refund.status, Some(RefundStatus::RequiresAction));
        assert!(refund.id.is_none());
        let unknown: Refund = serde_json::from_str(r#"{"status":"reversed"}"#).unwrap();
        assert_eq!(
            unknown.status,
            Some(RefundStatus::Unknown("reversed".into()))
        );
    }
}
