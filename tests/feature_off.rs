//! With a gateway's Cargo feature off, selecting it names the feature to enable.
//! Run by CI as `cargo test -p payswitch --no-default-features --features stripe`.
#![cfg(not(feature = "creem"))]

use payswitch::{Config, PaymentError};

#[test]
fn a_compiled_out_gateway_names_its_feature() {
    let config =
        Config::from_toml_str("provider = \"creem\"\n[creem]\napi_key = \"creem_test_x\"").unwrap();
    match payswitch::from_config(&config) {
        Err(PaymentError::Config(message)) => assert_eq!(
            message,
            "provider \"creem\" is not compiled in; enable the Cargo feature `creem` of payswitch"
        ),
        other => panic!("{other:?}"),
    }
    assert!(!payswitch::available_providers().contains(&"creem"));
}
