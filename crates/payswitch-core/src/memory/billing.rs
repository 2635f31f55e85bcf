//! What the memory gateway holds after checkouts complete: customers, subscriptions,
//! payments and refunds, and the ids it issues. A leaf of `memory`: it imports nothing of its
//! siblings, so both the checkout side and the lifecycle side can use it.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

use crate::customer::Customer;
use crate::kind::ProviderKind;
use crate::money::Money;
use crate::refund::{Refund, RefundRequest};
use crate::request::{CheckoutMode, CheckoutRequest, Interval, LineItem, Product, Recurring};
use crate::result::CheckoutResult;
use crate::subscription::{Subscription, SubscriptionItem, SubscriptionStatus};

/// Random ids, so two memory gateways (say, behind a router) never issue the same one.
pub(super) fn random_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

/// What the memory gateway holds after checkouts complete.
#[derive(Debug, Default)]
pub(super) struct Billing {
    pub(super) customers: BTreeMap<String, Customer>,
    pub(super) subscriptions: BTreeMap<String, Held>,
    pub(super) payments: BTreeMap<String, Payment>,
    pub(super) refunds: BTreeMap<String, Refund>,
    pub(super) refund_keys: HashMap<String, (RefundRequest, String)>,
    pub(super) prices: HashMap<String, Money>,
}

/// A subscription with what the memory gateway needs to bill it.
#[derive(Debug)]
pub(super) struct Held {
    pub(super) subscription: Subscription,
    pub(super) interval: Recurring,
    /// Order of creation, so lists are newest first even within one clock tick.
    pub(super) sequence: usize,
}

/// A payment that can be refunded.
#[derive(Debug)]
pub(super) struct Payment {
    pub(super) amount: Money,
    pub(super) refunded: i64,
    pub(super) checkout_id: String,
    pub(super) subscription_id: Option<String>,
}

/// `start` plus `count` periods of `interval`, calendar-correct for months and years (the
/// day is clamped to the month's last day, as gateways bill on the 31st).
pub(super) fn add_period(start: OffsetDateTime, recurring: Recurring) -> OffsetDateTime {
    let count = i64::from(recurring.interval_count.max(1));
    let months = match recurring.interval {
        Interval::Day => return start.saturating_add(time::Duration::days(count)),
        Interval::Week => return start.saturating_add(time::Duration::weeks(count)),
        Interval::Month => count,
        Interval::Year => count * 12,
    };
    let total = i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1 + months;
    let (Ok(year), Ok(month_index)) = (i32::try_from(total / 12), u8::try_from(total % 12 + 1))
    else {
        return start;
    };
    let Ok(month) = time::Month::try_from(month_index) else {
        return start;
    };
    let day = start.day().min(month.length(year));
    match time::Date::from_calendar_date(year, month, day) {
        Ok(date) => start.replace_date(date),
        Err(_) => start,
    }
}

impl Billing {
    /// What `items` cost at the prices set with `with_price`, when every item is a catalog
    /// item with a known price in one currency; `None` otherwise.
    pub(super) fn catalog_total(&self, items: &[LineItem]) -> Option<Money> {
        let mut total: Option<Money> = None;
        for item in items {
            let (Product::Sku(plan) | Product::Native(plan)) = &item.product else {
                return None;
            };
            let line = self.prices.get(plan)?.checked_mul(item.quantity).ok()?;
            total = Some(match total {
                None => line,
                Some(sum) => sum.checked_add(line).ok()?,
            });
        }
        total
    }

    /// Records the payment of checkout `result` (opened with `request`): gives it a payment
    /// id, ties it to a customer (created when the checkout named none), and for a
    /// subscription checkout creates the subscription. Returns the new subscription.
    pub(super) fn record_payment(
        &mut self,
        request: &CheckoutRequest,
        result: &mut CheckoutResult,
        now: OffsetDateTime,
    ) -> Option<Subscription> {
        let billing = self;
        let payment_id = random_id("mem_pay_");
        result.payment_id = Some(payment_id.clone());
        let customer_id = match &result.customer_id {
            Some(existing) => existing.clone(),
            None => {
                let mut customer =
                    Customer::new(random_id("mem_cus_"), ProviderKind::MEMORY, BTreeMap::new());
                customer.email = result.customer_email.clone();
                customer.created_at = Some(now);
                let customer_id = customer.id.clone();
                billing.customers.insert(customer_id.clone(), customer);
                customer_id
            }
        };
        result.customer_id = Some(customer_id.clone());
        let mut started = None;
        if request.mode == CheckoutMode::Subscription {
            let interval = request
                .line_items
                .iter()
                .find_map(|item| item.custom_product().and_then(|custom| custom.recurring))
                .unwrap_or(Recurring::every(Interval::Month));
            let mut subscription = Subscription::new(
                random_id("mem_sub_"),
                ProviderKind::MEMORY,
                SubscriptionStatus::Active,
            );
            subscription.customer_id = Some(customer_id);
            subscription.items = request
                .line_items
                .iter()
                .map(|line| {
                    let mut item = SubscriptionItem::new(line.quantity);
                    item.id = Some(random_id("mem_si_"));
                    match &line.product {
                        Product::Sku(plan) | Product::Native(plan) => {
                            item.product_id = Some(plan.clone());
                            item.unit_amount = billing.prices.get(plan).copied();
                        }
                        Product::Custom(custom) => {
                            item.product_id = Some(custom.name.clone());
                            item.unit_amount = Some(custom.unit_amount);
                        }
                    }
                    item
                })
                .collect();
            subscription.current_period_start = Some(now);
            subscription.current_period_end = Some(add_period(now, interval));
            subscription.created_at = Some(now);
            subscription.reference = result.reference.clone();
            subscription.metadata = result.metadata.clone();
            subscription.raw =
                serde_json::json!({ "id": subscription.id, "object": "memory.subscription" })
                    .into();
            result.subscription_id = Some(subscription.id.clone());
            let sequence = billing.subscriptions.len();
            billing.subscriptions.insert(
                subscription.id.clone(),
                Held {
                    subscription: subscription.clone(),
                    interval,
                    sequence,
                },
            );
            started = Some(subscription);
        }
        if let Some(amount) = result.amount_total.filter(|money| money.amount() > 0) {
            billing.payments.insert(
                payment_id,
                Payment {
                    amount,
                    refunded: 0,
                    checkout_id: result.id.clone(),
                    subscription_id: result.subscription_id.clone(),
                },
            );
        }
        started
    }
}
