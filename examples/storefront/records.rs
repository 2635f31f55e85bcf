//! What the store's billing tables say about an order's subscription and refunds, as the
//! account page shows them.
//!
//! The store keeps each subscription and refund as the newest webhook event reported it
//! (out-of-order safe: an older event never overwrites a newer one), in its own tables beside
//! the orders. The account page retrieves the subscription from the gateway on every view as
//! well, to show the gateway's truth even when a webhook is late or lost; these records are
//! what the shop knows between views (and what a real shop would use to grant or revoke
//! access: `Store::entitlement`).

use payswitch::store::{RefundRecord, SubscriptionRecord};
use payswitch::{Money, RefundStatus, SubscriptionStatus};
use serde::Serialize;
use time::OffsetDateTime;

use crate::catalog::PlanIds;
use crate::orders::RefundAnswer;

/// A subscription as the store holds it (the latest webhook event's state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSubscription {
    /// The gateway's subscription id.
    pub id: String,
    /// The gateway.
    pub gateway: String,
    /// Where it is in its life.
    pub status: SubscriptionStatus,
    /// The offer it is on, when its plan is one of ours.
    pub plan: Option<&'static str>,
    /// The gateway's id of its plan (a price, else a product).
    pub plan_id: Option<String>,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// Whether a cancellation is scheduled and has not taken effect.
    pub cancel_scheduled: bool,
    /// When the current period ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    /// When a scheduled cancellation takes effect (the period's end when the gateway gives
    /// no date of its own).
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancel_at: Option<OffsetDateTime>,
    /// The gateway's time of the event this state comes from.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// That event's id (a `settle:…` id when the storefront settled a tie by asking).
    pub event_id: String,
}

impl StoredSubscription {
    /// The view of a store record; `plans` maps the gateway's plan id back to our offer.
    pub fn new(record: &SubscriptionRecord, plans: &PlanIds) -> Self {
        let cancel_scheduled = !record.status.is_ended()
            && (record.cancel_at_period_end || record.cancel_at.is_some());
        Self {
            id: record.subscription_id.clone(),
            gateway: record.gateway.clone(),
            status: record.status.clone(),
            // By the items' ids first (a Creem item names its product, which the catalog
            // maps, besides a price id), then by the record's plan id.
            plan: record
                .items
                .iter()
                .find_map(|item| plans.offer_of(item))
                .or_else(|| record.plan.as_deref().and_then(|id| plans.offer_of_id(id)))
                .map(|offer| offer.sku),
            plan_id: record.plan.clone(),
            customer_id: record.customer_id.clone(),
            cancel_scheduled,
            current_period_end: record.current_period_end,
            cancel_at: record
                .cancel_at
                .or(record.current_period_end)
                .filter(|_| cancel_scheduled),
            as_of: record.source_at,
            event_id: record.source_event.clone(),
        }
    }
}

/// Where a refund's state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundSource {
    /// The store's record, from the refund's webhook events.
    Webhook,
    /// The gateway's answer to the admin's request, until an event arrives.
    Answer,
}

/// A refund of an order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundView {
    /// The gateway's refund id.
    pub id: String,
    /// Where it is.
    pub status: RefundStatus,
    /// How much, when the gateway said.
    pub amount: Option<Money>,
    /// Where this state comes from.
    pub source: RefundSource,
}

impl RefundView {
    /// The view of a store record.
    pub fn new(record: &RefundRecord) -> Self {
        Self {
            id: record.refund_id.clone(),
            status: record.status.clone(),
            amount: record.amount,
            source: RefundSource::Webhook,
        }
    }
}

/// The refunds to show: the store's records; when there are none yet, the gateway's answer
/// to the admin's request (the webhook can come after the answer, or, when it beats it, the
/// answer is not needed). A gateway may answer a refund request without the refund's own id
/// (Creem names it by the payment until `refund.created` brings the `ref_…` id), so the two
/// are not matched by id: this shop only refunds in full, so one payment has one refund.
pub fn refunds_to_show(records: &[RefundRecord], answer: Option<&RefundAnswer>) -> Vec<RefundView> {
    if !records.is_empty() {
        return records.iter().map(RefundView::new).collect();
    }
    answer
        .map(|answer| RefundView {
            id: answer.id.clone(),
            status: answer.status.clone(),
            amount: answer.amount,
            source: RefundSource::Answer,
        })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_shows_until_the_webhook_arrives() {
        let answer = RefundAnswer {
            id: "pay_1".into(),
            status: RefundStatus::Pending,
            amount: None,
        };
        let shown = refunds_to_show(&[], Some(&answer));
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].source, RefundSource::Answer);
        assert!(refunds_to_show(&[], None).is_empty());
    }
}
