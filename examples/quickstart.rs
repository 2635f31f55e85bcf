//! The main job: create a checkout, pay it, verify the webhook and the return, retrieve it.
//!
//! Runs offline against the in-memory gateway.

use payswitch::memory::MemoryProvider;
use payswitch::{
    CheckoutProvider, CheckoutProviderExt, CheckoutRequest, Currency, LineItem, Money,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gateway = MemoryProvider::new();
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom(
            "Pro licence",
            Money::new(4900, Currency::USD),
            1,
        ))
        .success_url("https://shop.example/paid")
        .reference("order-1001")
        .build()?;
    let checkout = gateway.create_checkout(&request).await?;
    println!(
        "checkout {} open at {}",
        checkout.id,
        checkout.url.as_deref().unwrap_or("-")
    );
    let delivery = gateway.pay(&checkout.id)?;
    let event = gateway.verify_webhook(&delivery.headers, &delivery.body)?;
    let confirmed = gateway
        .confirm_return(&gateway.return_query(&checkout.id)?)
        .await?;
    println!(
        "{}: {:?}/{:?}, {}, reference {}, event {:?}",
        confirmed.provider,
        confirmed.status,
        confirmed.payment_status,
        confirmed
            .amount_total
            .map(|m| m.to_string())
            .unwrap_or_default(),
        confirmed.reference.as_deref().unwrap_or("-"),
        event.kind
    );
    if !confirmed.is_paid() {
        return Err("the checkout is not paid".into());
    }
    Ok(())
}
