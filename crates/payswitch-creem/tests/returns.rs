//! `verify_return`: Creem's signed success redirect, `SHA-256("k=v|…|salt=<API key>")` in
//! either published form (Creem's six parameters in a fixed order, or every pair in URL
//! order), without `signature` and empty values, over a strictly canonical query.

mod common;

use common::*;
use payswitch_core::{CheckoutProvider, PaymentError, RetryConfig, SignatureError};
use payswitch_creem::CreemProvider;

fn offline_provider() -> CreemProvider {
    provider_at("http://127.0.0.1:9", RetryConfig::immediate(0))
}

/// Builds `k=v&…&signature=<sig>` with the values as given (already encoded for the URL).
fn query(pairs: &[(&str, &str)], signature: &str) -> String {
    let mut parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.push(format!("signature={signature}"));
    parts.join("&")
}

const WITH_REQUEST_ID: [(&str, &str); 6] = [
    ("request_id", "order-42"),
    ("checkout_id", "ch_1QyIQDw9cbFWdA1ry5Qc6I"),
    ("order_id", "ord_4ucZ7Ts3r7EhSrl5yQE4G6"),
    ("customer_id", "cust_2KaCAtu6l3tpjIr8Nr9XOp"),
    ("subscription_id", "sub_ILWMTY6uBim4EB0uxK6WE"),
    ("product_id", "prod_6tW66i0oZM7w1qXReHJrwg"),
];

/// Form (a) over the URL `plan=pro&checkout_id=ch_1&order_id=ord_1&customer_id=cust_1&
/// product_id=prod_1&request_id=order-42`, computed independently with
/// `python3 -c 'import hashlib; print(hashlib.sha256(b"request_id=order-42|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|salt=creem_test_4f2a9Kq7TOPSECRETVALUE").hexdigest())'`
const FORM_A_VECTOR: &str = "b123f65d1fbe5d67a8cbfa992b769ce290f168f06ab534e3870ae19253e3db8e";

/// Form (b) over the same URL, computed independently with
/// `python3 -c 'import hashlib; print(hashlib.sha256(b"plan=pro|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|request_id=order-42|salt=creem_test_4f2a9Kq7TOPSECRETVALUE").hexdigest())'`
const FORM_B_VECTOR: &str = "243db73d29bb33f1aad700d1d17f0ec6fb15180ca8a535ee455034e1459f2178";

fn signature_error(outcome: Result<payswitch_core::ReturnParams, PaymentError>) -> SignatureError {
    match outcome {
        Err(PaymentError::Signature(error)) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[test]
fn a_signed_redirect_with_request_id_is_verified() {
    let signature = redirect_signature(&WITH_REQUEST_ID, API_KEY);
    let params = offline_provider()
        .verify_return(&query(&WITH_REQUEST_ID, &signature))
        .unwrap();
    assert!(params.verified);
    assert_eq!(params.provider, payswitch_creem::KIND);
    assert_eq!(params.checkout_id, "ch_1QyIQDw9cbFWdA1ry5Qc6I");
    assert_eq!(
        params.order_id.as_deref(),
        Some("ord_4ucZ7Ts3r7EhSrl5yQE4G6")
    );
    assert_eq!(
        params.customer_id.as_deref(),
        Some("cust_2KaCAtu6l3tpjIr8Nr9XOp")
    );
    assert_eq!(
        params.subscription_id.as_deref(),
        Some("sub_ILWMTY6uBim4EB0uxK6WE")
    );
    assert_eq!(
        params.product_id.as_deref(),
        Some("prod_6tW66i0oZM7w1qXReHJrwg")
    );
    assert_eq!(params.reference.as_deref(), Some("order-42"));
}

#[test]
fn a_signed_redirect_without_request_id_is_verified() {
    let pairs = &WITH_REQUEST_ID[1..];
    let signature = redirect_signature(pairs, API_KEY);
    // A leading `?` is tolerated.
    let params = offline_provider()
        .verify_return(&format!("?{}", query(pairs, &signature)))
        .unwrap();
    assert!(params.verified);
    assert_eq!(params.reference, None);
}

#[test]
fn empty_and_null_parameters_are_left_out_of_the_signed_string() {
    // A one-time purchase: no subscription.
    let pairs = [
        ("checkout_id", "ch_1"),
        ("order_id", "ord_1"),
        ("customer_id", "cust_1"),
        ("subscription_id", ""),
        ("product_id", "prod_1"),
    ];
    let signature = redirect_signature(&pairs, API_KEY);
    let provider = offline_provider();
    let params = provider.verify_return(&query(&pairs, &signature)).unwrap();
    assert_eq!(params.subscription_id, None);

    let with_null = [
        ("checkout_id", "ch_1"),
        ("order_id", "ord_1"),
        ("customer_id", "cust_1"),
        ("subscription_id", "null"),
        ("product_id", "prod_1"),
    ];
    let params = provider
        .verify_return(&query(&with_null, &signature))
        .unwrap();
    assert_eq!(params.subscription_id, None);
}

#[test]
fn the_url_order_is_signed_not_the_sorted_order() {
    let provider = offline_provider();
    let mut sorted = WITH_REQUEST_ID.to_vec();
    sorted.sort();
    assert_ne!(sorted, WITH_REQUEST_ID.to_vec());

    // Parameters in an unsorted URL order, signed in that order: accepted.
    let signature = redirect_signature(&WITH_REQUEST_ID, API_KEY);
    assert!(provider
        .verify_return(&query(&WITH_REQUEST_ID, &signature))
        .is_ok());

    // The same URL with a signature over the sorted order: refused.
    let sorted_signature = redirect_signature(&sorted, API_KEY);
    assert_eq!(
        signature_error(provider.verify_return(&query(&WITH_REQUEST_ID, &sorted_signature))),
        SignatureError::Mismatch
    );
}

#[test]
fn a_tampered_value_or_another_key_is_a_mismatch() {
    let provider = offline_provider();
    let signature = redirect_signature(&WITH_REQUEST_ID, API_KEY);
    let mut tampered = WITH_REQUEST_ID;
    tampered[1] = ("checkout_id", "ch_someone_elses");
    assert_eq!(
        signature_error(provider.verify_return(&query(&tampered, &signature))),
        SignatureError::Mismatch
    );

    let foreign = redirect_signature(&WITH_REQUEST_ID, "creem_test_another_key");
    assert_eq!(
        signature_error(provider.verify_return(&query(&WITH_REQUEST_ID, &foreign))),
        SignatureError::Mismatch
    );

    // An added Creem parameter is signed in both forms.
    let without_subscription: Vec<_> = WITH_REQUEST_ID
        .iter()
        .copied()
        .filter(|(key, _)| *key != "subscription_id")
        .collect();
    let signature = redirect_signature(&without_subscription, API_KEY);
    let mut extended = without_subscription.clone();
    extended.push(("subscription_id", "sub_someone_elses"));
    assert_eq!(
        signature_error(provider.verify_return(&query(&extended, &signature))),
        SignatureError::Mismatch
    );
}

#[test]
fn form_a_merchant_parameters_are_not_signed_and_creem_order_is_fixed() {
    // Creem's TypeScript sample and creem-go sign only Creem's six parameters, request_id
    // first, whatever their order in the URL; the merchant's `plan` is not part of it.
    let url = "plan=pro&checkout_id=ch_1&order_id=ord_1&customer_id=cust_1&product_id=prod_1\
        &request_id=order-42&signature=FORM_A";
    let params = offline_provider()
        .verify_return(&url.replace("FORM_A", FORM_A_VECTOR))
        .unwrap();
    assert!(params.verified);
    assert_eq!(params.reference.as_deref(), Some("order-42"));
    assert_eq!(params.product_id.as_deref(), Some("prod_1"));
    // The form (a) signature does not cover `plan`, but it does cover Creem's ids.
    let tampered = url
        .replace("ord_1", "ord_2")
        .replace("FORM_A", FORM_A_VECTOR);
    assert_eq!(
        signature_error(offline_provider().verify_return(&tampered)),
        SignatureError::Mismatch
    );
    // Form (a) still needs the API key: another key's provider refuses the same URL.
    let other_key = CreemProvider::builder(
        payswitch_creem::CreemConfig::new("creem_test_another_key")
            .with_api_base("http://127.0.0.1:9"),
    )
    .build()
    .unwrap();
    assert_eq!(
        signature_error(other_key.verify_return(&url.replace("FORM_A", FORM_A_VECTOR))),
        SignatureError::Mismatch
    );
}

#[test]
fn form_b_every_pair_in_url_order_verifies() {
    // Creem's Python sample: every pair but `signature`, in URL order, merchant's included.
    let url = format!(
        "plan=pro&checkout_id=ch_1&order_id=ord_1&customer_id=cust_1&product_id=prod_1\
         &request_id=order-42&signature={FORM_B_VECTOR}"
    );
    let params = offline_provider().verify_return(&url).unwrap();
    assert!(params.verified);
    assert_eq!(params.checkout_id, "ch_1");
    // Under form (b) the merchant's parameter is signed.
    assert_eq!(
        signature_error(offline_provider().verify_return(&url.replace("plan=pro", "plan=max"))),
        SignatureError::Mismatch
    );
}

#[test]
fn signed_values_cannot_be_regrouped() {
    // `a=1|b=2` is both {a:1, b:2} and {a:"1|b=2"}: a valid signature over the first must not
    // verify the second, nor may a `checkout_id=` hidden inside another value be picked.
    let pairs = [
        ("checkout_id", "ch_1"),
        ("plan", "x"),
        ("product_id", "prod_1"),
    ];
    let signature = redirect_signature(&pairs, API_KEY);
    let regrouped = format!("checkout_id=ch_1&plan=x%7Cproduct_id%3Dprod_1&signature={signature}");
    assert!(matches!(
        signature_error(offline_provider().verify_return(&regrouped)),
        SignatureError::Malformed(_)
    ));
}

#[test]
fn duplicates_and_unsigned_empty_pairs_are_malformed() {
    let provider = offline_provider();
    let signature = redirect_signature(&WITH_REQUEST_ID, API_KEY);
    let valid = query(&WITH_REQUEST_ID, &signature);
    assert!(provider.verify_return(&valid).is_ok());
    for added in [
        "&checkout_id=",
        "&checkout_id=ch_other",
        "&order=null",
        "&plan=",
    ] {
        let text = format!("{valid}{added}");
        let error = signature_error(provider.verify_return(&text));
        assert!(
            matches!(error, SignatureError::Malformed(_)),
            "{added}: {error:?}"
        );
        // The message quotes no value from the browser.
        assert!(!error.to_string().contains("ch_other"), "{error}");
    }
}

#[test]
fn a_missing_empty_or_malformed_signature_is_refused() {
    let provider = offline_provider();
    let unsigned: Vec<String> = WITH_REQUEST_ID
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert!(matches!(
        signature_error(provider.verify_return(&unsigned.join("&"))),
        SignatureError::Missing(_)
    ));
    assert!(matches!(
        signature_error(provider.verify_return(&query(&WITH_REQUEST_ID, ""))),
        SignatureError::Missing(_)
    ));
    assert!(matches!(
        signature_error(provider.verify_return(&query(&WITH_REQUEST_ID, "zz-not-hex"))),
        SignatureError::Malformed(_)
    ));
    assert!(matches!(
        signature_error(provider.verify_return("")),
        SignatureError::Missing(_)
    ));
}

#[test]
fn values_are_decoded_before_hashing_and_merchant_parameters_are_signed() {
    // The merchant's own `plan` parameter comes first; `request_id` holds encoded characters.
    let decoded = [
        ("plan", "pro yearly"),
        ("request_id", "order 42/é"),
        ("checkout_id", "ch_1"),
        ("product_id", "prod_1"),
    ];
    let signature = redirect_signature(&decoded, API_KEY);
    let encoded = [
        ("plan", "pro+yearly"),
        ("request_id", "order%2042%2F%C3%A9"),
        ("checkout_id", "ch_1"),
        ("product_id", "prod_1"),
    ];
    let params = offline_provider()
        .verify_return(&query(&encoded, &signature))
        .unwrap();
    assert_eq!(params.reference.as_deref(), Some("order 42/é"));
    assert_eq!(params.checkout_id, "ch_1");
}

#[test]
fn a_signed_redirect_without_a_checkout_id_is_invalid() {
    let pairs = [("order_id", "ord_1"), ("product_id", "prod_1")];
    let signature = redirect_signature(&pairs, API_KEY);
    match offline_provider().verify_return(&query(&pairs, &signature)) {
        Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "checkout_id"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn a_documented_redirect_matches_an_independently_computed_signature() {
    // sha256("checkout_id=ch_1QyIQDw9cbFWdA1ry5Qc6I|order_id=ord_4ucZ7Ts3r7EhSrl5yQE4G6|
    // customer_id=cust_2KaCAtu6l3tpjIr8Nr9XOp|subscription_id=sub_ILWMTY6uBim4EB0uxK6WE|
    // product_id=prod_6tW66i0oZM7w1qXReHJrwg|salt=creem_test_4f2a9Kq7TOPSECRETVALUE"),
    // computed with Python's hashlib.
    let query = "checkout_id=ch_1QyIQDw9cbFWdA1ry5Qc6I&order_id=ord_4ucZ7Ts3r7EhSrl5yQE4G6\
        &customer_id=cust_2KaCAtu6l3tpjIr8Nr9XOp&subscription_id=sub_ILWMTY6uBim4EB0uxK6WE\
        &product_id=prod_6tW66i0oZM7w1qXReHJrwg&signature=10bd94acac817042e81623f733c7355bcd0aeb2a1ae2494f54ad07ae27b5f45f";
    assert!(offline_provider().verify_return(query).unwrap().verified);
}

#[test]
fn redirect_errors_name_the_query_parameter_not_a_header() {
    let provider = payswitch_creem::CreemProvider::from_config(
        &payswitch_creem::CreemConfig::new("creem_test_123").into_config(),
    )
    .unwrap();
    let signed = payswitch_creem::testing::return_query("creem_test_123", "ch_1");
    assert!(provider.verify_return(&signed).unwrap().verified);
    for query in ["checkout_id=ch_1", "checkout_id=ch_1&signature=zz"] {
        let error = provider.verify_return(query).unwrap_err().to_string();
        assert!(!error.contains("header"), "{query}: {error}");
        assert!(error.contains("signature"), "{query}: {error}");
        assert!(!error.contains("signature signature"), "said once: {error}");
    }
}
