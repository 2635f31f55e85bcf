//! Local validation: every rule gives `InvalidRequest` naming the field, before any gateway.

use std::time::Duration;

use payswitch_core::{
    CheckoutMode, CheckoutRequest, Currency, Interval, LineItem, Money, PaymentError, Recurring,
};

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

fn base() -> payswitch_core::CheckoutRequestBuilder {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("T-shirt", usd(2000), 1))
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
}

#[track_caller]
fn assert_invalid(result: Result<CheckoutRequest, PaymentError>, expected_field: &str) {
    match result {
        Err(PaymentError::InvalidRequest {
            field,
            gateway,
            message,
        }) => {
            assert_eq!(field, expected_field, "message was: {message}");
            assert!(gateway.is_none(), "local errors carry no gateway details");
        }
        other => panic!("expected InvalidRequest on {expected_field}, got {other:?}"),
    }
}

#[test]
fn a_valid_request_builds_and_keeps_the_template_literal() {
    let request = base()
        .reference("order-1")
        .metadata("k", "v")
        .build()
        .unwrap();
    assert_eq!(
        request.success_url,
        "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(request.total().unwrap(), Some(usd(2000)));
}

#[test]
fn empty_line_items_are_rejected() {
    let result = CheckoutRequest::builder()
        .success_url("https://shop.example/")
        .build();
    assert_invalid(result, "line_items");
}

#[test]
fn setup_mode_takes_no_line_items() {
    assert_invalid(base().mode(CheckoutMode::Setup).build(), "line_items");
    let setup = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(Currency::EUR)
        .success_url("https://shop.example/")
        .build();
    assert!(setup.is_ok());
}

#[test]
fn too_many_line_items_are_rejected() {
    let items = (0..101).map(|i| LineItem::custom(format!("item {i}"), usd(100), 1));
    let result = CheckoutRequest::builder()
        .line_items(items)
        .success_url("https://shop.example/")
        .build();
    assert_invalid(result, "line_items");
}

#[test]
fn zero_quantity_is_rejected() {
    let result = base().line_item(LineItem::sku("pro", 0)).build();
    assert_invalid(result, "line_items[1].quantity");
}

#[test]
fn negative_amounts_are_rejected() {
    let result = base()
        .line_item(LineItem::custom("Refund", usd(-1), 1))
        .build();
    assert_invalid(result, "line_items[1].unit_amount");
}

#[test]
fn mixed_currencies_are_rejected() {
    let result = base()
        .line_item(LineItem::custom("Mug", Money::new(900, Currency::EUR), 1))
        .build();
    assert_invalid(result, "line_items[1].unit_amount");
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let result = base()
        .line_item(LineItem::custom("Yacht", usd(i64::MAX / 2), 3))
        .build();
    assert_invalid(result, "line_items[1].unit_amount");
    let sum = base()
        .line_item(LineItem::custom("A", usd(i64::MAX - 1000), 1))
        .build();
    assert_invalid(sum, "line_items[1].unit_amount");
}

#[test]
fn blank_names_and_product_ids_are_rejected() {
    assert_invalid(
        base().line_item(LineItem::custom(" ", usd(1), 1)).build(),
        "line_items[1].name",
    );
    assert_invalid(
        base().line_item(LineItem::sku("", 1)).build(),
        "line_items[1].product",
    );
    assert_invalid(
        base().line_item(LineItem::native("  ", 1)).build(),
        "line_items[1].product",
    );
}

#[test]
fn malformed_urls_are_rejected() {
    for url in [
        "",
        "not a url",
        "/relative/path",
        "ftp://shop.example/",
        "mailto:a@b.c",
    ] {
        let result = CheckoutRequest::builder()
            .line_item(LineItem::sku("pro", 1))
            .success_url(url)
            .build();
        assert_invalid(result, "success_url");
    }
    assert_invalid(
        base().cancel_url("javascript:alert(1)").build(),
        "cancel_url",
    );
}

#[test]
fn metadata_limits_are_enforced() {
    let mut too_many = base();
    for i in 0..51 {
        too_many = too_many.metadata(format!("k{i}"), "v");
    }
    assert_invalid(too_many.build(), "metadata");

    let long_key = "k".repeat(41);
    assert_invalid(
        base().metadata(long_key.clone(), "v").build(),
        &format!("metadata[{long_key}]"),
    );
    assert!(base().metadata("k".repeat(40), "v").build().is_ok());

    assert_invalid(
        base().metadata("note", "é".repeat(501)).build(),
        "metadata[note]",
    );
    assert!(base().metadata("note", "é".repeat(500)).build().is_ok());

    assert_invalid(base().metadata("", "v").build(), "metadata");
    assert_invalid(base().metadata("a[b]", "v").build(), "metadata[a[b]]");
}

#[test]
fn subscription_items_need_a_recurring_interval() {
    let result = base().mode(CheckoutMode::Subscription).build();
    assert_invalid(result, "line_items[0].recurring");

    let ok = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(
            LineItem::custom("Pro plan", usd(1500), 1)
                .with_recurring(Recurring::every(Interval::Month)),
        )
        .success_url("https://shop.example/")
        .build();
    assert!(ok.is_ok());

    // A catalog price carries its own interval at the gateway.
    let catalog = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::sku("pro_monthly", 1))
        .success_url("https://shop.example/")
        .build();
    assert!(catalog.is_ok());

    // One-time items may sit beside a recurring one (a set-up fee), as Stripe allows.
    let with_fee = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(
            LineItem::custom("Pro plan", usd(1500), 1)
                .with_recurring(Recurring::every(Interval::Month)),
        )
        .line_item(LineItem::custom("Set-up fee", usd(5000), 1))
        .success_url("https://shop.example/")
        .build();
    assert!(with_fee.is_ok(), "{with_fee:?}");
    let only_one_time = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::custom("Set-up fee", usd(5000), 1))
        .line_item(LineItem::custom("Another fee", usd(100), 1))
        .success_url("https://shop.example/")
        .build();
    assert_invalid(only_one_time, "line_items[0].recurring");
}

#[test]
fn recurring_items_need_subscription_mode_and_sane_intervals() {
    let recurring =
        LineItem::custom("Pro", usd(1500), 1).with_recurring(Recurring::every(Interval::Year));
    let result = CheckoutRequest::builder()
        .line_item(recurring)
        .success_url("https://shop.example/")
        .build();
    assert_invalid(result, "line_items[0].recurring");

    // Stripe allows up to three years: 3 years, 36 months, 156 weeks.
    let subscription = |interval, interval_count| {
        CheckoutRequest::builder()
            .mode(CheckoutMode::Subscription)
            .line_item(
                LineItem::custom("Pro", usd(1500), 1).with_recurring(Recurring {
                    interval,
                    interval_count,
                }),
            )
            .success_url("https://shop.example/")
            .build()
    };
    for (interval, longest) in [
        (Interval::Year, 3),
        (Interval::Month, 36),
        (Interval::Week, 156),
        (Interval::Day, 1095),
    ] {
        assert!(
            subscription(interval, longest).is_ok(),
            "{interval:?} x {longest}"
        );
        assert_invalid(
            subscription(interval, longest + 1),
            "line_items[0].recurring",
        );
        assert_invalid(subscription(interval, 0), "line_items[0].recurring");
    }
}

#[test]
fn other_fields_are_checked() {
    assert_invalid(
        base().customer_email("not-an-email").build(),
        "customer_email",
    );
    assert_invalid(base().customer_email("a b@c.d").build(), "customer_email");
    assert!(base().customer_email("ada@example.com").build().is_ok());
    assert_invalid(base().reference("r".repeat(201)).build(), "reference");
    assert_invalid(base().reference(" ").build(), "reference");
    assert_invalid(
        base().idempotency_key("k".repeat(256)).build(),
        "idempotency_key",
    );
    assert_invalid(base().expires_in(Duration::ZERO).build(), "expires_in");
    assert_invalid(base().discount_code("").build(), "discount_code");
    assert_invalid(base().customer_id("").build(), "customer_id");
}

#[test]
fn total_is_none_with_catalog_items() {
    let request = base().line_item(LineItem::sku("pro", 1)).build().unwrap();
    assert_eq!(request.total().unwrap(), None);
    let request = base()
        .line_item(LineItem::custom("Cap", usd(550), 3))
        .build()
        .unwrap();
    assert_eq!(request.total().unwrap(), Some(usd(3650)));
}
