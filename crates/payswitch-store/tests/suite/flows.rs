//! Gateway flows for the suite: requests, collecting new deliveries, permutations.

#![allow(dead_code)] // each test binary uses part of the flows

use payswitch_core::memory::{MemoryProvider, WebhookDelivery};
use payswitch_core::{
    CheckoutMode, CheckoutRequest, Currency, Interval, LineItem, Money, Recurring,
};

/// A one-time order for `user` (no app user when empty), naming `plan` when given.
pub fn order_request(user: &str, reference: &str, plan: Option<&str>) -> CheckoutRequest {
    let mut builder = CheckoutRequest::builder()
        .line_item(LineItem::custom("Book", Money::new(1500, Currency::EUR), 1))
        .success_url("https://shop.example/done")
        .reference(reference);
    if !user.is_empty() {
        builder = builder.metadata("app_user_id", user);
    }
    if let Some(plan) = plan {
        builder = builder.metadata("plan", plan);
    }
    builder.build().unwrap()
}

/// A monthly "Pro" subscription for `user` (no app user when empty).
pub fn subscription_request(user: &str) -> CheckoutRequest {
    let mut builder = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(
            LineItem::custom("Pro", Money::new(900, Currency::USD), 1)
                .with_recurring(Recurring::every(Interval::Month)),
        )
        .success_url("https://app.example/done");
    if !user.is_empty() {
        builder = builder.metadata("app_user_id", user);
    }
    builder.build().unwrap()
}

/// Hands out the gateway's deliveries not taken yet.
pub struct Flow<'a> {
    gateway: &'a MemoryProvider,
    taken: usize,
}

impl<'a> Flow<'a> {
    pub fn new(gateway: &'a MemoryProvider) -> Self {
        Self {
            gateway,
            taken: gateway.deliveries().len(),
        }
    }

    pub fn take(&mut self) -> Vec<WebhookDelivery> {
        let all = self.gateway.deliveries();
        let new = all[self.taken.min(all.len())..].to_vec();
        self.taken = all.len();
        new
    }
}

/// Every permutation of `0..n`, in lexicographic order.
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut current: Vec<usize> = (0..n).collect();
    let mut all = vec![current.clone()];
    loop {
        let Some(i) = (1..n).rev().find(|&i| current[i - 1] < current[i]) else {
            return all;
        };
        let j = (i..n).rev().find(|&j| current[j] > current[i - 1]).unwrap();
        current.swap(i - 1, j);
        current[i..].reverse();
        all.push(current.clone());
    }
}
