//! The behaviour every adapter must share, written once (feature `conformance`).
//!
//! Each case is a public async function over a [`Target`]: the provider under test, a
//! [`Customer`] that plays the buyer on that gateway, and [`Fixtures`] saying what the gateway
//! can sell. Cases that need a capability the provider does not declare assert that the
//! provider refuses with [`PaymentError::Unsupported`] (or lists the field in
//! [`CheckoutResult::ignored`] for experience-only hints) instead of silently skipping.
//!
//! [`conformance_tests!`](crate::conformance_tests) expands to one named test per case:
//!
//! ```
//! # #[cfg(any())] mod skipped {
//! payswitch_core::conformance_tests!(async { my_target().await });
//! # }
//! ```

mod memory;
mod target;

use std::time::Duration;

use http::HeaderMap;

use crate::error::{PaymentError, SignatureError};
use crate::money::{Currency, Money};
use crate::provider::CheckoutProviderExt;
use crate::request::{CheckoutMode, CheckoutRequest, LineItem};
use crate::result::{CheckoutResult, CheckoutStatus, PaymentStatus};
use crate::webhook::WebhookEventKind;

pub use memory::memory_target;
pub use target::{Customer, Fixtures, Payment, Target, Webhook};

use target::CaseResult;

macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            panic!("conformance: {}", format!($($message)+));
        }
    };
}

pub mod lifecycle;

/// Create, then retrieve: the same checkout, open and unpaid, with a hosted URL.
pub async fn create_then_retrieve(target: &Target) -> CaseResult {
    let created = target
        .provider
        .create_checkout(&target.request().build()?)
        .await?;
    ensure!(
        created.provider == target.provider.kind(),
        "result names its provider"
    );
    ensure!(
        created.status == CheckoutStatus::Open,
        "a new checkout is open: {:?}",
        created.status
    );
    ensure!(
        created.payment_status == PaymentStatus::Unpaid,
        "a new checkout is unpaid"
    );
    ensure!(
        created
            .url
            .as_deref()
            .is_some_and(|url| url.starts_with("http")),
        "hosted URL: {:?}",
        created.url
    );
    let retrieved = target.provider.retrieve_checkout(&created.id).await?;
    ensure!(retrieved.id == created.id, "retrieve returns the same id");
    ensure!(retrieved.status == CheckoutStatus::Open, "still open");
    Ok(())
}

/// The reference and metadata round-trip through create and retrieve.
pub async fn reference_and_metadata_round_trip(target: &Target) -> CaseResult {
    let request = target
        .request()
        .reference("order-conformance-1")
        .metadata("plan", "pro")
        .metadata("note", "a & b = c + d é")
        .build()?;
    let created = target.provider.create_checkout(&request).await?;
    for result in [
        created.clone(),
        target.provider.retrieve_checkout(&created.id).await?,
    ] {
        ensure!(
            result.reference.as_deref() == Some("order-conformance-1"),
            "reference: {:?}",
            result.reference
        );
        ensure!(
            result.metadata == request.metadata,
            "metadata: {:?}",
            result.metadata
        );
    }
    Ok(())
}

/// The total is the unit price times the quantity, in the right currency; custom prices are
/// honoured exactly or refused as unsupported.
pub async fn amounts_and_currency(target: &Target) -> CaseResult {
    let mut item = target.fixtures.one_time_item.clone();
    let quantity = if target.capabilities().quantities {
        3
    } else {
        1
    };
    item.quantity = quantity;
    let request = CheckoutRequest::builder()
        .line_item(item)
        .success_url(target.fixtures.success_url.clone())
        .build()?;
    let created = target.provider.create_checkout(&request).await?;
    let expected = target
        .fixtures
        .one_time_price
        .checked_mul(quantity)
        .map_err(|error| PaymentError::invalid("fixtures", error.to_string()))?;
    // Before payment a gateway may not know the total yet (tax and discounts are decided on
    // its page): `None` is honest, a wrong figure is not.
    let open = target.provider.retrieve_checkout(&created.id).await?;
    ensure!(
        open.amount_total.is_none() || open.amount_total == Some(expected),
        "open total {:?}, expected {expected} or none",
        open.amount_total
    );
    // Once paid, every gateway states what the customer paid (no tax or discount here).
    target.customer.pay(&created).await?;
    let paid = target.provider.retrieve_checkout(&created.id).await?;
    ensure!(
        paid.amount_total == Some(expected),
        "paid total {:?}, expected {expected}",
        paid.amount_total
    );

    let custom = CheckoutRequest::builder()
        .line_item(LineItem::custom(
            "Conformance yen item",
            Money::new(1200, Currency::JPY),
            2,
        ))
        .success_url(target.fixtures.success_url.clone())
        .build()?;
    let outcome = target.provider.create_checkout(&custom).await;
    if target.capabilities().custom_priced_items {
        let created = outcome?;
        ensure!(
            created.amount_total == Some(Money::new(2400, Currency::JPY)),
            "custom total {:?}",
            created.amount_total
        );
    } else {
        expect_unsupported(outcome, "custom-priced items")?;
    }
    Ok(())
}

/// Paying completes the checkout, delivers a verifiable `CheckoutCompleted` webhook carrying
/// the paid checkout, and a success redirect that names it.
pub async fn pay_completes_with_webhook(target: &Target) -> CaseResult {
    let request = target
        .request()
        .reference("order-conformance-pay")
        .build()?;
    let created = target.provider.create_checkout(&request).await?;
    let payment = target.customer.pay(&created).await?;
    let event = target
        .provider
        .verify_webhook(&payment.headers, &payment.body)?;
    ensure!(
        event.kind == WebhookEventKind::CheckoutCompleted,
        "event kind {:?}",
        event.kind
    );
    ensure!(event.provider == target.provider.kind(), "event provider");
    let checkout = event.checkout.ok_or_else(|| {
        PaymentError::decode("conformance", "the completed event carries no checkout")
    })?;
    ensure!(checkout.id == created.id, "event names the paid checkout");
    ensure!(
        checkout.is_paid(),
        "event checkout is paid: {:?}/{:?}",
        checkout.status,
        checkout.payment_status
    );
    ensure!(
        checkout.reference.as_deref() == Some("order-conformance-pay"),
        "event reference {:?}",
        checkout.reference
    );

    let params = target.provider.verify_return(&payment.return_query)?;
    ensure!(
        params.checkout_id == created.id,
        "return names the checkout"
    );
    ensure!(
        params.verified == target.capabilities().signed_returns,
        "verified {} but signed_returns {}",
        params.verified,
        target.capabilities().signed_returns
    );
    let retrieved = target
        .provider
        .confirm_return(&payment.return_query)
        .await?;
    ensure!(
        retrieved.is_paid(),
        "retrieved after paying: {:?}/{:?}",
        retrieved.status,
        retrieved.payment_status
    );
    Ok(())
}

/// Expiring an open checkout makes it expired (and unpayable); a gateway without expiry
/// says `Unsupported`.
pub async fn expire_or_unsupported(target: &Target) -> CaseResult {
    let created = target
        .provider
        .create_checkout(&target.request().build()?)
        .await?;
    let outcome = target.provider.expire_checkout(&created.id).await;
    if !target.capabilities().expire {
        return expect_unsupported(outcome, "expire_checkout");
    }
    let expired = outcome?;
    ensure!(
        expired.status == CheckoutStatus::Expired,
        "expired status {:?}",
        expired.status
    );
    let retrieved = target.provider.retrieve_checkout(&created.id).await?;
    ensure!(retrieved.status == CheckoutStatus::Expired, "stays expired");
    ensure!(
        target.customer.pay(&created).await.is_err(),
        "an expired checkout cannot be paid"
    );
    match target.provider.expire_checkout(&created.id).await {
        Err(PaymentError::InvalidRequest { .. }) => Ok(()),
        other => panic!("conformance: expiring twice must be InvalidRequest, got {other:?}"),
    }
}

/// An id the gateway never issued is `NotFound`.
pub async fn unknown_id_is_not_found(target: &Target) -> CaseResult {
    let id = &target.fixtures.unknown_checkout_id;
    match target.provider.retrieve_checkout(id).await {
        Err(PaymentError::NotFound { .. }) => Ok(()),
        other => panic!("conformance: retrieving {id} must be NotFound, got {other:?}"),
    }
}

/// Invalid requests are refused locally with `InvalidRequest` naming the field, and nothing
/// reaches the gateway.
pub async fn invalid_requests_are_rejected_locally(target: &Target) -> CaseResult {
    let before = target.customer.checkouts_created().await;
    let mut zero_quantity = target.request().build()?;
    zero_quantity.line_items[0].quantity = 0;
    let mut bad_url = target.request().build()?;
    bad_url.success_url = "not a url".into();
    let mut no_items = target.request().build()?;
    no_items.line_items.clear();
    let mut long_metadata = target.request().build()?;
    long_metadata.metadata.insert("k".repeat(41), "v".into());
    for (request, field) in [
        (zero_quantity, "line_items[0].quantity"),
        (bad_url, "success_url"),
        (no_items, "line_items"),
        (
            long_metadata,
            "metadata[kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk]",
        ),
    ] {
        match target.provider.create_checkout(&request).await {
            Err(PaymentError::InvalidRequest {
                field: got,
                gateway: None,
                ..
            }) => {
                ensure!(got == field, "field {got}, expected {field}")
            }
            other => {
                panic!("conformance: expected a local InvalidRequest on {field}, got {other:?}")
            }
        }
    }
    let after = target.customer.checkouts_created().await;
    ensure!(
        after == before,
        "refused requests created {} checkouts",
        after - before
    );
    Ok(())
}

/// A webhook whose body was changed after signing is refused with a signature error, and
/// one without its signature header is refused as missing.
pub async fn tampered_webhook_is_rejected(target: &Target) -> CaseResult {
    let created = target
        .provider
        .create_checkout(&target.request().build()?)
        .await?;
    let payment = target.customer.pay(&created).await?;
    let tampered = String::from_utf8_lossy(&payment.body).replacen(
        &created.id,
        &format!("{}x", created.id),
        1,
    );
    ensure!(
        tampered.as_bytes() != payment.body.as_slice(),
        "the webhook body names the checkout"
    );
    match target
        .provider
        .verify_webhook(&payment.headers, tampered.as_bytes())
    {
        Err(PaymentError::Signature(SignatureError::Mismatch)) => {}
        other => panic!("conformance: a tampered webhook must be a Mismatch, got {other:?}"),
    }
    match target
        .provider
        .verify_webhook(&HeaderMap::new(), &payment.body)
    {
        Err(PaymentError::Signature(SignatureError::Missing(_))) => Ok(()),
        other => panic!("conformance: an unsigned webhook must be Missing, got {other:?}"),
    }
}

/// Every capability the provider does not declare is refused (`Unsupported`) or, for
/// experience-only hints, reported in `ignored`; declared ones are accepted.
pub async fn capability_gated_features(target: &Target) -> CaseResult {
    let capabilities = target.capabilities();
    let before = target.customer.checkouts_created().await;
    let mut refused = 0;

    let second_item = target
        .request()
        .line_item(target.fixtures.one_time_item.clone())
        .build()?;
    refused += gate(target, capabilities.multiple_line_items, &second_item, None).await?;

    let setup = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(target.fixtures.one_time_price.currency())
        .success_url(target.fixtures.success_url.clone())
        .build()?;
    refused += gate(target, capabilities.setup_mode, &setup, None).await?;

    let hints: [(bool, &str, CheckoutRequest); 3] = [
        (
            capabilities.cancel_url,
            "cancel_url",
            target
                .request()
                .cancel_url("https://shop.example/cancel")
                .build()?,
        ),
        (
            capabilities.locale,
            "locale",
            target.request().locale("fr").build()?,
        ),
        (
            capabilities.expires_in,
            "expires_in",
            target
                .request()
                .expires_in(Duration::from_secs(3600))
                .build()?,
        ),
    ];
    for (supported, field, request) in hints {
        gate(target, supported, &request, Some(field)).await?;
    }
    let after = target.customer.checkouts_created().await;
    let accepted_hints = 3;
    let expected_created = usize::from(capabilities.multiple_line_items)
        + usize::from(capabilities.setup_mode)
        + accepted_hints;
    ensure!(
        after - before == expected_created,
        "created {} checkouts, expected {expected_created} ({refused} refused)",
        after - before
    );
    Ok(())
}

/// Sends `request`; when `supported`, expects success with nothing ignored; otherwise expects
/// `Unsupported` (for `hint: None`) or success with `hint` listed in `ignored`. Returns 1 if
/// the request was refused.
async fn gate(
    target: &Target,
    supported: bool,
    request: &CheckoutRequest,
    hint: Option<&str>,
) -> Result<usize, PaymentError> {
    let outcome = target.provider.create_checkout(request).await;
    match (supported, hint) {
        (true, _) => {
            let created = outcome?;
            ensure!(
                created.ignored.is_empty(),
                "a supported feature was ignored: {:?}",
                created.ignored
            );
            Ok(0)
        }
        (false, Some(field)) => {
            let created = outcome?;
            ensure!(
                created.ignored.iter().any(|f| f == field),
                "{field} should be listed in ignored: {:?}",
                created.ignored
            );
            Ok(0)
        }
        (false, None) => {
            expect_unsupported(outcome, "an undeclared capability")?;
            Ok(1)
        }
    }
}

fn expect_unsupported(outcome: Result<CheckoutResult, PaymentError>, what: &str) -> CaseResult {
    match outcome {
        Err(PaymentError::Unsupported { .. }) => Ok(()),
        other => panic!("conformance: {what} must be Unsupported, got {other:?}"),
    }
}

/// Expands to one `#[tokio::test]` per conformance case. The argument is an expression
/// evaluating to a future of [`Target`], built fresh for each test.
#[macro_export]
macro_rules! conformance_tests {
    ($target:expr) => {
        $crate::conformance_tests!(@cases $target;
            create_then_retrieve,
            reference_and_metadata_round_trip,
            amounts_and_currency,
            pay_completes_with_webhook,
            expire_or_unsupported,
            unknown_id_is_not_found,
            invalid_requests_are_rejected_locally,
            tampered_webhook_is_rejected,
            capability_gated_features
        );
        $crate::conformance_tests!(@lifecycle $target;
            subscription_checkout_starts_subscription,
            list_customer_subscriptions,
            cancel_at_period_end_then_resume,
            cancel_immediately_ends_subscription,
            cancel_canceled_subscription_is_refused,
            resume_without_cancellation_is_refused,
            pause_then_resume,
            change_quantity,
            change_plan,
            preview_change,
            refund_paid_checkout,
            partial_refunds,
            refund_twice_is_refused,
            refund_unpaid_checkout_is_refused,
            customer_portal,
            customers_for_app_users,
            checkout_for_existing_customer,
            unknown_subscription_is_not_found,
            invalid_changes_are_rejected_locally
        );
    };
    (@lifecycle $target:expr; $($case:ident),+) => {
        $(
            #[tokio::test]
            async fn $case() {
                let target = $target.await;
                $crate::conformance::lifecycle::$case(&target).await.expect(stringify!($case));
            }
        )+
    };
    (@cases $target:expr; $($case:ident),+) => {
        $(
            #[tokio::test]
            async fn $case() {
                let target = $target.await;
                $crate::conformance::$case(&target).await.expect(stringify!($case));
            }
        )+
    };
}
