//! The conformance target for [`MemoryProvider`].

use async_trait::async_trait;

use super::target::{Customer, Fixtures, Payment, Target, Webhook};
use crate::error::PaymentError;
use crate::memory::MemoryProvider;
use crate::money::{Currency, Money};
use crate::request::{LineItem, Product};
use crate::result::CheckoutResult;

struct MemoryCustomer {
    gateway: MemoryProvider,
}

#[async_trait]
impl Customer for MemoryCustomer {
    async fn pay(&self, checkout: &CheckoutResult) -> Result<Payment, PaymentError> {
        let delivery = self.gateway.pay(&checkout.id)?;
        Ok(Payment {
            headers: delivery.headers,
            body: delivery.body,
            return_query: self.gateway.return_query(&checkout.id)?,
        })
    }

    async fn checkouts_created(&self) -> usize {
        self.gateway.checkout_count()
    }

    async fn webhooks(&self) -> Vec<Webhook> {
        self.gateway
            .deliveries()
            .into_iter()
            .map(|delivery| Webhook {
                headers: delivery.headers,
                body: delivery.body,
            })
            .collect()
    }
}

/// A conformance target on a fresh [`MemoryProvider`].
pub async fn memory_target() -> Target {
    let price = Money::new(1999, Currency::USD);
    let gateway = MemoryProvider::new()
        .with_price("plan_basic_monthly", Money::new(900, Currency::USD))
        .with_price("plan_pro_monthly", Money::new(2900, Currency::USD));
    Target {
        provider: Box::new(gateway.clone()),
        customer: Box::new(MemoryCustomer { gateway }),
        fixtures: Fixtures {
            one_time_item: LineItem::custom("Conformance item", price, 1),
            one_time_price: price,
            success_url: "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}".into(),
            unknown_checkout_id: "mem_cs_0000000000000000".into(),
            subscription_item: Some(LineItem::sku("plan_basic_monthly", 1)),
            other_plan: Some(Product::Sku("plan_pro_monthly".into())),
            unknown_subscription_id: "mem_sub_0000000000000000".into(),
        },
        guard: Box::new(()),
    }
}
