//! What the gateway's webhooks said about subscriptions and refunds, one record per object.
//!
//! Each subscription event carries the subscription as it was when the event was created
//! (`event.subscription`), and each refund event its refund (`event.refund`), so the latest
//! event is enough to know the state without asking the gateway. Gateways do not deliver in
//! order, though: a retried "cancel scheduled" can arrive after the "resumed" that undid it.
//! So a record remembers the creation time of the event that set it, and an older event is
//! ignored ([`compare`]). Stripe stamps events to the second, so a cancel and a resume a
//! moment apart can carry the same time; when two events of the same time disagree, neither
//! says which came last, and the webhook handler retrieves the subscription from the gateway
//! to settle it ([`Recorded::Tied`]). The account page retrieves the subscription on every
//! view anyway; these records are what the shop knows between views (and what a real shop
//! would use to grant or revoke access).
use std::collections::BTreeMap;

use payswitch::{Money, Refund, RefundStatus, Subscription, SubscriptionStatus};
use serde::Serialize;
use time::OffsetDateTime;

/// How an event's creation time compares with the time of the event a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Created later, or there is no event time to compare with: it replaces the record.
    Newer,
    /// Created at the same time: its order against the record's event is unknown.
    Tied,
    /// Created earlier: ignored.
    Older,
}

/// Compares an event created at `incoming` with a record last set by an event created at
/// `held` (`None`: set by no event, e.g. from the gateway's answer to our own request).
pub fn compare(incoming: OffsetDateTime, held: Option<OffsetDateTime>) -> Freshness {
    match held {
        None => Freshness::Newer,
        Some(held) if incoming > held => Freshness::Newer,
        Some(held) if incoming == held => Freshness::Tied,
        Some(_) => Freshness::Older,
    }
}

/// What recording an event's object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The record now holds the event's state.
    Updated,
    /// The record holds a newer state; the event was ignored.
    Stale,
    /// The record holds another state from an event of the same time: the record is left as
    /// it is, and the subscription should be retrieved to settle it
    /// ([`Billing::settle_subscription`]).
    Tied,
}

/// One plan line of a subscription, by the gateway's ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanLine {
    /// The gateway's price id, where it prices separately from products.
    pub price_id: Option<String>,
    /// The gateway's product id.
    pub product_id: Option<String>,
    /// Seats.
    pub quantity: u32,
}

/// A subscription as the latest webhook event reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionRecord {
    /// The gateway's subscription id.
    pub id: String,
    /// Where it is in its life.
    pub status: SubscriptionStatus,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// The plans.
    pub lines: Vec<PlanLine>,
    /// Whether a cancellation is scheduled and has not taken effect.
    pub cancel_scheduled: bool,
    /// When the current period ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    /// When a scheduled cancellation takes effect, when the gateway said.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancel_at: Option<OffsetDateTime>,
    /// The creation time of the event this state comes from.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// That event's id.
    pub event_id: String,
}

impl SubscriptionRecord {
    /// Says whether two records hold the same state, whichever events they came from.
    fn same_state(&self, other: &SubscriptionRecord) -> bool {
        (
            &self.status,
            &self.customer_id,
            &self.lines,
            self.cancel_scheduled,
            self.current_period_end,
            self.cancel_at,
        ) == (
            &other.status,
            &other.customer_id,
            &other.lines,
            other.cancel_scheduled,
            other.current_period_end,
            other.cancel_at,
        )
    }

    fn new(subscription: &Subscription, as_of: OffsetDateTime, event_id: &str) -> Self {
        Self {
            id: subscription.id.clone(),
            status: subscription.status.clone(),
            customer_id: subscription.customer_id.clone(),
            lines: subscription
                .items
                .iter()
                .map(|item| PlanLine {
                    price_id: item.price_id.clone(),
                    product_id: item.product_id.clone(),
                    quantity: item.quantity,
                })
                .collect(),
            cancel_scheduled: subscription.is_cancel_scheduled(),
            current_period_end: subscription.current_period_end,
            cancel_at: subscription
                .cancel_at
                .or(subscription.current_period_end)
                .filter(|_| subscription.is_cancel_scheduled()),
            as_of,
            event_id: event_id.to_owned(),
        }
    }
}

/// A refund as the gateway last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRecord {
    /// The gateway's refund id.
    pub id: String,
    /// Where it is.
    pub status: RefundStatus,
    /// How much, when the gateway said.
    pub amount: Option<Money>,
    /// The refunded checkout, when known.
    pub checkout_id: Option<String>,
    /// The refunded payment, when known.
    pub payment_id: Option<String>,
    /// The creation time of the event this state comes from; `None` when it comes from the
    /// gateway's answer to the refund request (any event replaces it).
    #[serde(with = "time::serde::rfc3339::option")]
    pub as_of: Option<OffsetDateTime>,
    /// That event's id.
    pub event_id: Option<String>,
}

impl RefundRecord {
    fn new(refund: &Refund, as_of: Option<OffsetDateTime>, event_id: Option<&str>) -> Self {
        Self {
            id: refund.id.clone(),
            status: refund.status.clone(),
            amount: refund.amount,
            checkout_id: refund.checkout_id.clone(),
            payment_id: refund.payment_id.clone(),
            as_of,
            event_id: event_id.map(str::to_owned),
        }
    }

    /// Says whether this refund is of the payment made through `checkout_id` or `payment_id`.
    pub fn is_for(&self, checkout_id: Option<&str>, payment_id: Option<&str>) -> bool {
        refunds_payment(
            (self.checkout_id.as_deref(), self.payment_id.as_deref()),
            (checkout_id, payment_id),
        )
    }
}

/// Says whether a refund of (checkout id, payment id) `refunded` is of the payment made
/// through `paid`: one of the ids is known on both sides and the same. Gateways report a
/// refund's checkout, its payment or both.
pub fn refunds_payment(
    refunded: (Option<&str>, Option<&str>),
    paid: (Option<&str>, Option<&str>),
) -> bool {
    let same = |theirs: Option<&str>, ours: Option<&str>| theirs.is_some() && theirs == ours;
    same(refunded.0, paid.0) || same(refunded.1, paid.1)
}

/// The records, by the gateway's ids.
#[derive(Debug, Default)]
pub struct Billing {
    subscriptions: BTreeMap<String, SubscriptionRecord>,
    refunds: BTreeMap<String, RefundRecord>,
}

impl Billing {
    /// Records a subscription as an event created at `as_of` carried it, unless a newer
    /// event already did.
    pub fn record_subscription(
        &mut self,
        subscription: &Subscription,
        as_of: OffsetDateTime,
        event_id: &str,
    ) -> Recorded {
        let held = self.subscriptions.get(&subscription.id);
        let record = SubscriptionRecord::new(subscription, as_of, event_id);
        match compare(as_of, held.map(|held| held.as_of)) {
            Freshness::Older => return Recorded::Stale,
            // Two events of one moment that say the same thing (a Stripe checkout's several
            // events) need no settling.
            Freshness::Tied if held.is_some_and(|held| !held.same_state(&record)) => {
                return Recorded::Tied
            }
            Freshness::Tied | Freshness::Newer => {}
        }
        self.subscriptions.insert(record.id.clone(), record);
        Recorded::Updated
    }

    /// Records a subscription retrieved from the gateway to settle a tie between events of
    /// time `as_of`: it is at least as new as both, so it replaces the record unless a later
    /// event has arrived meanwhile.
    pub fn settle_subscription(
        &mut self,
        subscription: &Subscription,
        as_of: OffsetDateTime,
        event_id: &str,
    ) -> Recorded {
        let held = self.subscriptions.get(&subscription.id);
        if compare(as_of, held.map(|held| held.as_of)) == Freshness::Older {
            return Recorded::Stale;
        }
        let record = SubscriptionRecord::new(subscription, as_of, event_id);
        self.subscriptions.insert(record.id.clone(), record);
        Recorded::Updated
    }

    /// Records a refund from an event created at `as_of`, unless a newer event already did.
    ///
    /// The event's refund also replaces what the answer to our request said about a refund of
    /// the same payment: a gateway may answer a refund request without the refund's own id
    /// (Creem names it by the payment until its `refund.created` event brings the `ref_…`
    /// id). This shop only refunds in full, so one payment has one refund.
    pub fn record_refund_event(
        &mut self,
        refund: &Refund,
        as_of: OffsetDateTime,
        event_id: &str,
    ) -> Recorded {
        let held = self.refunds.get(&refund.id);
        // A refund only moves forward (pending, then succeeded or failed), and the gateways
        // send one event per change: events of the same time apply in arrival order.
        if compare(as_of, held.and_then(|held| held.as_of)) == Freshness::Older {
            return Recorded::Stale;
        }
        let record = RefundRecord::new(refund, Some(as_of), Some(event_id));
        self.refunds.retain(|_, held| {
            held.as_of.is_some()
                || !held.is_for(record.checkout_id.as_deref(), record.payment_id.as_deref())
        });
        self.refunds.insert(record.id.clone(), record);
        Recorded::Updated
    }

    /// Records a refund from the gateway's answer to our request, unless an event about it
    /// (or, by its payment, about the same refund under its own id) has already arrived: the
    /// webhook can beat the answer.
    pub fn record_refund_answer(&mut self, refund: &Refund) -> Recorded {
        let answer = RefundRecord::new(refund, None, None);
        let known = self.refunds.contains_key(&answer.id)
            || self.refunds.values().any(|held| {
                held.as_of.is_some()
                    && held.is_for(answer.checkout_id.as_deref(), answer.payment_id.as_deref())
            });
        if known {
            return Recorded::Stale;
        }
        self.refunds.insert(answer.id.clone(), answer);
        Recorded::Updated
    }

    /// The subscription's record, if an event reported it.
    pub fn subscription(&self, id: &str) -> Option<&SubscriptionRecord> {
        self.subscriptions.get(id)
    }

    /// Every subscription record.
    pub fn subscriptions(&self) -> impl Iterator<Item = &SubscriptionRecord> {
        self.subscriptions.values()
    }

    /// The refunds of the payment made through `checkout_id` or `payment_id`.
    pub fn refunds_for(
        &self,
        checkout_id: Option<&str>,
        payment_id: Option<&str>,
    ) -> Vec<RefundRecord> {
        self.refunds
            .values()
            .filter(|refund| refund.is_for(checkout_id, payment_id))
            .cloned()
            .collect()
    }

    /// Every refund record.
    pub fn refunds(&self) -> impl Iterator<Item = &RefundRecord> {
        self.refunds.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payswitch::{Currency, ProviderKind, RefundStatus};
    use time::macros::datetime;

    #[test]
    fn compare_table() {
        let noon = datetime!(2030-01-01 12:00 UTC);
        let second_later = datetime!(2030-01-01 12:00:01 UTC);
        let cases = [
            (noon, None, Freshness::Newer, "nothing held"),
            (second_later, Some(noon), Freshness::Newer, "newer"),
            (noon, Some(noon), Freshness::Tied, "same time"),
            (noon, Some(second_later), Freshness::Older, "older"),
        ];
        for (incoming, held, expected, case) in cases {
            assert_eq!(compare(incoming, held), expected, "{case}");
        }
    }

    #[test]
    fn events_of_the_same_time_that_disagree_are_settled_by_a_retrieve() {
        let mut billing = Billing::default();
        let at = datetime!(2030-01-01 12:00 UTC);
        assert_eq!(
            billing.record_subscription(&subscription(false), at, "evt_started"),
            Recorded::Updated
        );
        // The same state again at the same time (another event of the same moment): fine.
        assert_eq!(
            billing.record_subscription(&subscription(false), at, "evt_paid"),
            Recorded::Updated
        );
        // A different state at the same time: which is current is unknown.
        assert_eq!(
            billing.record_subscription(&subscription(true), at, "evt_cancel"),
            Recorded::Tied
        );
        assert!(
            !billing
                .subscription("sub_1")
                .expect("held")
                .cancel_scheduled
        );
        // The retrieved subscription settles it.
        assert_eq!(
            billing.settle_subscription(&subscription(true), at, "evt_cancel"),
            Recorded::Updated
        );
        assert!(
            billing
                .subscription("sub_1")
                .expect("held")
                .cancel_scheduled
        );
        // A settle never undoes a later event.
        let later = datetime!(2030-01-01 12:00:05 UTC);
        billing.record_subscription(&subscription(false), later, "evt_resume");
        assert_eq!(
            billing.settle_subscription(&subscription(true), at, "evt_cancel"),
            Recorded::Stale
        );
        assert!(
            !billing
                .subscription("sub_1")
                .expect("held")
                .cancel_scheduled
        );
    }

    fn subscription(cancel: bool) -> Subscription {
        let mut subscription =
            Subscription::new("sub_1", ProviderKind::MEMORY, SubscriptionStatus::Active);
        subscription.cancel_at_period_end = cancel;
        subscription.current_period_end = Some(datetime!(2030-02-01 00:00 UTC));
        subscription
    }

    #[test]
    fn an_older_subscription_event_is_ignored() {
        let mut billing = Billing::default();
        let earlier = datetime!(2030-01-01 12:00 UTC);
        let later = datetime!(2030-01-01 12:05 UTC);
        // "Resumed" (later) arrives before "cancel scheduled" (earlier).
        let resumed = billing.record_subscription(&subscription(false), later, "evt_resumed");
        let scheduled = billing.record_subscription(&subscription(true), earlier, "evt_cancel");
        assert_eq!((resumed, scheduled), (Recorded::Updated, Recorded::Stale));
        let record = billing.subscription("sub_1").expect("recorded");
        assert!(!record.cancel_scheduled);
        assert_eq!(record.event_id, "evt_resumed");
        // In order, each event replaces the last.
        let latest = datetime!(2030-01-01 12:10 UTC);
        let again = billing.record_subscription(&subscription(true), latest, "evt_again");
        assert_eq!(again, Recorded::Updated);
        let record = billing.subscription("sub_1").expect("recorded");
        assert!(record.cancel_scheduled);
        assert_eq!(record.cancel_at, Some(datetime!(2030-02-01 00:00 UTC)));
    }

    #[test]
    fn refunds_from_answers_and_events() {
        let mut billing = Billing::default();
        let mut refund = Refund::new("re_1", ProviderKind::MEMORY, RefundStatus::Pending);
        refund.checkout_id = Some("cs_1".into());
        refund.amount = Some(Money::new(4900, Currency::USD));
        assert_eq!(billing.record_refund_answer(&refund), Recorded::Updated);
        refund.status = RefundStatus::Succeeded;
        let at = datetime!(2030-01-01 12:00 UTC);
        assert_eq!(
            billing.record_refund_event(&refund, at, "evt_1"),
            Recorded::Updated
        );
        // The answer to a repeated request does not undo what an event said.
        refund.status = RefundStatus::Pending;
        assert_eq!(billing.record_refund_answer(&refund), Recorded::Stale);
        let found = billing.refunds_for(Some("cs_1"), None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].status, RefundStatus::Succeeded);
        assert!(billing.refunds_for(Some("cs_2"), None).is_empty());
        assert!(billing.refunds_for(None, None).is_empty());
    }

    #[test]
    fn an_answer_without_the_refund_id_is_replaced_by_the_event() {
        // As Creem: the answer names the refund by its payment; the event has the real id.
        let mut answered = Refund::new("tran_1", ProviderKind::MEMORY, RefundStatus::Succeeded);
        answered.payment_id = Some("tran_1".into());
        let mut reported = Refund::new("ref_1", ProviderKind::MEMORY, RefundStatus::Succeeded);
        reported.payment_id = Some("tran_1".into());
        let at = datetime!(2030-01-01 12:00 UTC);

        let mut billing = Billing::default();
        billing.record_refund_answer(&answered);
        billing.record_refund_event(&reported, at, "evt_1");
        let ids: Vec<&str> = billing.refunds().map(|refund| refund.id.as_str()).collect();
        assert_eq!(ids, ["ref_1"]);

        // The webhook first, then the answer.
        let mut billing = Billing::default();
        billing.record_refund_event(&reported, at, "evt_1");
        assert_eq!(billing.record_refund_answer(&answered), Recorded::Stale);
        let ids: Vec<&str> = billing.refunds().map(|refund| refund.id.as_str()).collect();
        assert_eq!(ids, ["ref_1"]);
    }
}
