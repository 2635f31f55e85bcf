//! Arbitrary bytes into the sandbox's Stripe form decoder (`gateways/stripe/form.rs`), then
//! `(key, value)` pairs drawn from the same bytes, encoded with `form_urlencoded::Serializer`.
//!
//! Oracles:
//! - no panic on any body (the decoder splits bracketed keys and bounds their depth);
//! - pairs with simple keys (non-empty, no `[` or `]`) decode to exactly those keys, each with
//!   its last value (a repeated scalar key keeps the last, as Rack-style parsers do);
//! - the same pairs sent as `metadata[key]=value` decode to exactly that map under `metadata`.
//!
//! The expected maps are built here from the pairs, never by the decoder.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use payswitch_sandbox::fuzzing::{decode_stripe_form, FormNode};

/// Whether the decoder must read `key` as one plain name.
fn simple(key: &str) -> bool {
    !key.is_empty() && !key.contains(['[', ']'])
}

/// Encodes the pairs, each key passed through `key_of`, as one form body.
fn encode(pairs: &[(String, String)], key_of: impl Fn(&str) -> String) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(&key_of(key), value);
    }
    serializer.finish()
}

fuzz_target!(|data: &[u8]| {
    let _ = decode_stripe_form(data);

    let Ok(pairs) = Vec::<(String, String)>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(key, _)| simple(key)).collect();
    let mut expected = BTreeMap::new();
    for (key, value) in &pairs {
        expected.insert(key.clone(), FormNode::Text(value.clone()));
    }

    let body = encode(&pairs, str::to_owned);
    let decoded = decode_stripe_form(body.as_bytes());
    assert_eq!(
        decoded.as_ref(),
        Ok(&expected),
        "simple pairs do not come back from {body:?}"
    );

    let body = encode(&pairs, |key| format!("metadata[{key}]"));
    let decoded = decode_stripe_form(body.as_bytes());
    let nested = if pairs.is_empty() {
        BTreeMap::new()
    } else {
        BTreeMap::from([("metadata".to_owned(), FormNode::Map(expected))])
    };
    assert_eq!(
        decoded.as_ref(),
        Ok(&nested),
        "metadata pairs do not come back from {body:?}"
    );
});
