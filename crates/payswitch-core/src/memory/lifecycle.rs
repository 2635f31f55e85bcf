//! The memory gateway after the checkout: customers, subscriptions, payments and refunds,
//! with the same state machine the real gateways enforce.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::billing::{add_period, random_id, Held};
use super::{not_found, MemoryProvider, State, WebhookDelivery, PAGE_BASE};
use crate::customer::{Customer, CustomerLookup, CustomerRequest, PortalRequest, PortalSession};
use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::money::Money;
use crate::refund::{Refund, RefundRequest, RefundStatus, RefundTarget};
use crate::request::Product;
use crate::subscription::{
    CancelAt, Proration, Subscription, SubscriptionChange, SubscriptionChangePreview,
    SubscriptionItem, SubscriptionStatus,
};
use crate::webhook::{WebhookEvent, WebhookEventKind};

fn invalid_state(message: impl Into<String>) -> PaymentError {
    PaymentError::InvalidState {
        message: message.into(),
        gateway: None,
    }
}

impl MemoryProvider {
    /// Sets what one unit of plan `plan` (a SKU or native id) costs per period, so plan and
    /// quantity changes can be prorated and previewed.
    pub fn with_price(self, plan: impl Into<String>, unit_amount: Money) -> Self {
        self.lock().billing.prices.insert(plan.into(), unit_amount);
        self
    }

    pub(super) fn publish_subscription(
        &self,
        state: &mut State,
        kind: WebhookEventKind,
        event_type: &str,
        subscription: Subscription,
        now: OffsetDateTime,
    ) -> WebhookDelivery {
        let object_id = subscription.id.clone();
        let mut event = WebhookEvent::new("", ProviderKind::MEMORY, kind, event_type, now);
        event.subscription = Some(subscription);
        self.publish(state, event, &object_id)
    }

    /// Applies `change` to subscription `id` after checking it is still live, then publishes
    /// the event; the one path every subscription mutation takes.
    fn mutate(
        &self,
        id: &str,
        event: (WebhookEventKind, &str),
        change: impl FnOnce(
            &mut Subscription,
            &HashMap<String, Money>,
            OffsetDateTime,
        ) -> Result<(), PaymentError>,
    ) -> Result<Subscription, PaymentError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let State { billing, .. } = &mut *state;
        let held = billing
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| not_found(id))?;
        if held.subscription.status.is_ended() {
            return Err(invalid_state(format!(
                "subscription {id} has ended ({:?})",
                held.subscription.status
            )));
        }
        change(&mut held.subscription, &billing.prices, now)?;
        let snapshot = held.subscription.clone();
        self.publish_subscription(&mut state, event.0, event.1, snapshot.clone(), now);
        Ok(snapshot)
    }

    /// Plays the gateway's billing run for subscription `id`: a live subscription moves to its
    /// next period (`subscription.renewed`), one scheduled to cancel ends at its period end
    /// (`subscription.canceled`). Returns the signed webhook. A paused or ended subscription
    /// is refused with [`PaymentError::InvalidState`].
    pub fn renew_subscription(&self, id: &str) -> Result<WebhookDelivery, PaymentError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let held = state
            .billing
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| not_found(id))?;
        let subscription = &mut held.subscription;
        if subscription.status.is_ended() || subscription.status == SubscriptionStatus::Paused {
            return Err(invalid_state(format!(
                "subscription {id} is {:?}: nothing to renew",
                subscription.status
            )));
        }
        let period_end = subscription.current_period_end.unwrap_or(now);
        let event = if subscription.is_cancel_scheduled() {
            subscription.status = SubscriptionStatus::Canceled;
            subscription.cancel_at_period_end = false;
            subscription.canceled_at = subscription.canceled_at.or(Some(now));
            subscription.ended_at = Some(period_end);
            (
                WebhookEventKind::SubscriptionCanceled,
                "subscription.canceled",
            )
        } else {
            subscription.status = SubscriptionStatus::Active;
            subscription.current_period_start = Some(period_end);
            subscription.current_period_end = Some(add_period(period_end, held.interval));
            (
                WebhookEventKind::SubscriptionRenewed,
                "subscription.renewed",
            )
        };
        let snapshot = held.subscription.clone();
        Ok(self.publish_subscription(&mut state, event.0, event.1, snapshot, now))
    }

    pub(super) fn retrieve_subscription_now(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.lock()
            .billing
            .subscriptions
            .get(id)
            .map(|held| held.subscription.clone())
            .ok_or_else(|| not_found(id))
    }

    pub(super) fn list_subscriptions_now(&self, customer_id: &str) -> Vec<Subscription> {
        let state = self.lock();
        let mut held: Vec<&Held> = state
            .billing
            .subscriptions
            .values()
            .filter(|held| held.subscription.customer_id.as_deref() == Some(customer_id))
            .collect();
        held.sort_by_key(|held| std::cmp::Reverse(held.sequence));
        held.into_iter()
            .map(|held| held.subscription.clone())
            .collect()
    }

    pub(super) fn cancel_subscription_now(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        match at {
            CancelAt::PeriodEnd => self.mutate(
                id,
                (
                    WebhookEventKind::SubscriptionCancelScheduled,
                    "subscription.cancel_scheduled",
                ),
                |subscription, _, _| {
                    subscription.cancel_at_period_end = true;
                    subscription.cancel_at = subscription.current_period_end;
                    Ok(())
                },
            ),
            CancelAt::Immediately => self.mutate(
                id,
                (
                    WebhookEventKind::SubscriptionCanceled,
                    "subscription.canceled",
                ),
                |subscription, _, now| {
                    subscription.status = SubscriptionStatus::Canceled;
                    subscription.cancel_at_period_end = false;
                    subscription.cancel_at = None;
                    subscription.canceled_at = Some(now);
                    subscription.ended_at = Some(now);
                    Ok(())
                },
            ),
        }
    }

    pub(super) fn resume_subscription_now(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.mutate(
            id,
            (
                WebhookEventKind::SubscriptionUpdated,
                "subscription.resumed",
            ),
            |subscription, _, _| {
                if subscription.status == SubscriptionStatus::Paused {
                    subscription.status = SubscriptionStatus::Active;
                    Ok(())
                } else if subscription.is_cancel_scheduled() {
                    subscription.cancel_at_period_end = false;
                    subscription.cancel_at = None;
                    Ok(())
                } else {
                    Err(invalid_state(format!(
                        "subscription {} is neither paused nor scheduled to cancel",
                        subscription.id
                    )))
                }
            },
        )
    }

    pub(super) fn pause_subscription_now(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.mutate(
            id,
            (WebhookEventKind::SubscriptionPaused, "subscription.paused"),
            |subscription, _, _| {
                subscription.status = SubscriptionStatus::Paused;
                Ok(())
            },
        )
    }

    pub(super) fn change_subscription_now(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        change.validate()?;
        self.mutate(
            id,
            (
                WebhookEventKind::SubscriptionUpdated,
                "subscription.updated",
            ),
            |subscription, prices, _| {
                let item = pick_item(subscription, change)?;
                if let Some(Product::Sku(plan) | Product::Native(plan)) = &change.plan {
                    item.product_id = Some(plan.clone());
                    item.unit_amount = prices.get(plan).copied();
                }
                if let Some(quantity) = change.quantity {
                    item.quantity = quantity;
                }
                Ok(())
            },
        )
    }

    pub(super) fn preview_subscription_change_now(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        change.validate()?;
        let now = self.clock.now();
        let state = self.lock();
        let held = state
            .billing
            .subscriptions
            .get(id)
            .ok_or_else(|| not_found(id))?;
        if held.subscription.status.is_ended() {
            return Err(invalid_state(format!("subscription {id} has ended")));
        }
        let mut after = held.subscription.clone();
        let before_item = pick_item(&mut held.subscription.clone(), change)?.clone();
        let item = pick_item(&mut after, change)?;
        if let Some(Product::Sku(plan) | Product::Native(plan)) = &change.plan {
            item.unit_amount = state.billing.prices.get(plan).copied();
            item.product_id = Some(plan.clone());
        }
        if let Some(quantity) = change.quantity {
            item.quantity = quantity;
        }
        let (Some(old_unit), Some(new_unit)) = (before_item.unit_amount, item.unit_amount) else {
            return Err(PaymentError::invalid(
                "plan",
                "the memory gateway does not know this plan's price: set it with MemoryProvider::with_price",
            ));
        };
        let money =
            |error: crate::money::MoneyError| PaymentError::invalid("plan", error.to_string());
        let old_total = old_unit.checked_mul(before_item.quantity).map_err(money)?;
        let new_total = new_unit.checked_mul(item.quantity).map_err(money)?;
        let difference = new_total.checked_sub(old_total).map_err(money)?;
        let amount_due = match change.proration {
            Proration::NoProration => Money::new(0, difference.currency()),
            Proration::Prorate | Proration::InvoiceNow => {
                let start = held.subscription.current_period_start.unwrap_or(now);
                let end = held
                    .subscription
                    .current_period_end
                    .unwrap_or_else(|| add_period(start, held.interval));
                let period = (end - start).whole_seconds().max(1);
                let left = (end - now).whole_seconds().clamp(0, period);
                // Integer proration, rounded half away from zero like the gateways.
                let scaled = i128::from(difference.amount()) * i128::from(left);
                let half = i128::from(period) / 2;
                let rounded = if scaled >= 0 {
                    (scaled + half) / i128::from(period)
                } else {
                    (scaled - half) / i128::from(period)
                };
                Money::new(
                    i64::try_from(rounded).unwrap_or(i64::MAX),
                    difference.currency(),
                )
            }
        };
        Ok(SubscriptionChangePreview::new(
            ProviderKind::MEMORY,
            id,
            amount_due,
            amount_due,
        ))
    }

    pub(super) fn create_refund_now(
        &self,
        request: &RefundRequest,
    ) -> Result<Refund, PaymentError> {
        request.validate()?;
        let now = self.clock.now();
        let mut state = self.lock();
        if let Some(key) = &request.idempotency_key {
            if let Some((earlier, refund_id)) = state.billing.refund_keys.get(key) {
                if earlier != request {
                    return Err(PaymentError::IdempotencyConflict {
                        message: format!("idempotency key {key:?} was used with other parameters"),
                        gateway: None,
                    });
                }
                return state
                    .billing
                    .refunds
                    .get(refund_id)
                    .cloned()
                    .ok_or_else(|| not_found(refund_id));
            }
        }
        let payment_id = match &request.target {
            RefundTarget::Payment(id) => id.clone(),
            RefundTarget::Checkout(id) => {
                let session = state.sessions.get(id).ok_or_else(|| not_found(id))?;
                session.result.payment_id.clone().ok_or_else(|| {
                    invalid_state(format!("checkout {id} has no payment to refund"))
                })?
            }
        };
        let payment = state
            .billing
            .payments
            .get_mut(&payment_id)
            .ok_or_else(|| not_found(&payment_id))?;
        let remaining = payment.amount.amount() - payment.refunded;
        if remaining <= 0 {
            return Err(invalid_state(format!(
                "payment {payment_id} is already fully refunded"
            )));
        }
        let amount = match request.amount {
            None => Money::new(remaining, payment.amount.currency()),
            Some(amount) if amount.currency() != payment.amount.currency() => {
                return Err(PaymentError::invalid(
                    "amount",
                    format!(
                        "the payment is in {}, not {}",
                        payment.amount.currency(),
                        amount.currency()
                    ),
                ));
            }
            Some(amount) if amount.amount() > remaining => {
                return Err(PaymentError::invalid(
                    "amount",
                    format!("{amount} is more than the {remaining} minor units left to refund"),
                ));
            }
            Some(amount) => amount,
        };
        payment.refunded += amount.amount();
        let mut refund = Refund::new(
            random_id("mem_re_"),
            ProviderKind::MEMORY,
            RefundStatus::Succeeded,
        );
        refund.amount = Some(amount);
        refund.payment_id = Some(payment_id);
        refund.checkout_id = Some(payment.checkout_id.clone());
        refund.subscription_id = payment.subscription_id.clone();
        refund.reason = request.reason.clone();
        refund.metadata = request.metadata.clone();
        refund.created_at = Some(now);
        refund.raw = serde_json::json!({ "id": refund.id, "object": "memory.refund" }).into();
        state
            .billing
            .refunds
            .insert(refund.id.clone(), refund.clone());
        if let Some(key) = &request.idempotency_key {
            state
                .billing
                .refund_keys
                .insert(key.clone(), (request.clone(), refund.id.clone()));
        }
        let mut event = WebhookEvent::new(
            "",
            ProviderKind::MEMORY,
            WebhookEventKind::Refunded,
            "refund.created",
            now,
        );
        event.refund = Some(refund.clone());
        let object_id = refund.id.clone();
        self.publish(&mut state, event, &object_id);
        Ok(refund)
    }

    pub(super) fn create_portal_session_now(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        request.validate()?;
        let state = self.lock();
        if !state.billing.customers.contains_key(&request.customer_id) {
            return Err(not_found(&request.customer_id));
        }
        let mut session = PortalSession::new(
            ProviderKind::MEMORY,
            &request.customer_id,
            format!("{PAGE_BASE}portal/{}", random_id("mem_bps_")),
        );
        session.return_url = request.return_url.clone();
        Ok(session)
    }

    pub(super) fn create_customer_now(
        &self,
        request: &CustomerRequest,
    ) -> Result<Customer, PaymentError> {
        request.validate()?;
        let mut customer = Customer::new(
            random_id("mem_cus_"),
            ProviderKind::MEMORY,
            request.gateway_metadata(),
        );
        customer.email = request.email.clone();
        customer.name = request.name.clone();
        customer.created_at = Some(self.clock.now());
        customer.raw = serde_json::json!({ "id": customer.id, "object": "memory.customer" }).into();
        self.lock()
            .billing
            .customers
            .insert(customer.id.clone(), customer.clone());
        Ok(customer)
    }

    pub(super) fn retrieve_customer_now(&self, id: &str) -> Result<Customer, PaymentError> {
        self.lock()
            .billing
            .customers
            .get(id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    pub(super) fn find_customer_now(&self, lookup: &CustomerLookup) -> Option<Customer> {
        let state = self.lock();
        let mut found: Vec<&Customer> = state
            .billing
            .customers
            .values()
            .filter(|customer| match lookup {
                CustomerLookup::AppUserId(user) => customer.app_user_id.as_deref() == Some(user),
                CustomerLookup::Email(email) => customer.email.as_deref() == Some(email),
            })
            .collect();
        found.sort_by_key(|customer| customer.created_at);
        found.first().map(|customer| (*customer).clone())
    }
}

/// The item a change applies to: the named one, or the only one.
fn pick_item<'a>(
    subscription: &'a mut Subscription,
    change: &SubscriptionChange,
) -> Result<&'a mut SubscriptionItem, PaymentError> {
    let count = subscription.items.len();
    match &change.item_id {
        Some(wanted) => subscription
            .items
            .iter_mut()
            .find(|item| item.id.as_deref() == Some(wanted))
            .ok_or_else(|| PaymentError::invalid("item_id", format!("no item {wanted}"))),
        None if count == 1 => subscription
            .items
            .first_mut()
            .ok_or_else(|| PaymentError::invalid("item_id", "the subscription has no item")),
        None => Err(PaymentError::invalid(
            "item_id",
            format!("the subscription has {count} items: name the one to change"),
        )),
    }
}
