//! Success redirects: Stripe does not sign them, so `verify_return` reads the session id and
//! always reports the return as unverified.

mod common;

use common::*;
use payswitch_core::{CheckoutProvider, PaymentError};

#[test]
fn verify_return_reads_the_session_id_unverified() {
    let stripe = provider("http://127.0.0.1:9");
    let params = stripe
        .verify_return("session_id=cs_test_abc&utm=x")
        .unwrap();
    assert_eq!(params.checkout_id, "cs_test_abc");
    assert!(!params.verified);
    assert_eq!(params.provider, payswitch_stripe::KIND);
    match stripe.verify_return("utm=x") {
        Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "session_id"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(stripe.verify_return("").is_err());
}
