//! Structure-aware: Creem success redirects signed here with Creem's documented algorithm,
//! then mutated, into `CreemProvider::verify_return`.
//!
//! The signature is `hex(SHA-256("k1=v1|…|kN=vN|salt=<API key>"))` over query-decoded pairs
//! without `signature` and without empty or `null` values, in one of Creem's two published
//! forms: its six parameters in a fixed order, or every pair in URL order. It is computed here
//! with `sha2`, independently of the adapter.
//!
//! Oracles:
//! - an unambiguous query (unique, non-empty keys; no `|` or `=` in any key or value; empty
//!   or `null` values only for Creem's own parameters) signed in either form is accepted, with
//!   the signed ids;
//! - after a mutation (regrouping at `|` or `=`, a duplicated key, an added empty pair, a
//!   reorder, a stray `&`), `verified: true` is only ever reported when the mutated query is
//!   itself unambiguous and its canonical string (the signed pairs, in the form that was
//!   signed) is the one that was signed, and then with the signed ids.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use payswitch_core::{CheckoutProvider, ReturnParams};
use payswitch_creem::{CreemConfig, CreemProvider};
use sha2::{Digest, Sha256};

const API_KEY: &str = "creem_test_fuzz_key";

/// Creem's parameters, in the order of its fixed-order form.
const CREEM_PARAMS: [&str; 6] = [
    "request_id",
    "checkout_id",
    "order_id",
    "customer_id",
    "subscription_id",
    "product_id",
];

#[derive(Debug, Arbitrary)]
enum Key {
    Creem(u8),
    Merchant(String),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Form {
    FixedOrder,
    UrlOrder,
}

#[derive(Debug, Arbitrary)]
enum Mutation {
    None,
    /// Joins pair `i` with the next as `k_i = "v_i|k_j=v_j"`: the same `|`-joined string.
    RegroupAtBar(u8),
    /// Moves the first `=`-separated part of pair `i`'s value into its key: `k=a` + `=b`.
    RegroupAtEquals(u8),
    /// Appends a copy of pair `i`, with another value when one is given.
    Duplicate(u8, Option<String>),
    /// Adds a pair with an empty or `null` value.
    AddEmpty(String, bool),
    /// Swaps two pairs.
    Swap(u8, u8),
    /// Adds a bare `&` (and with it an empty key) at the end.
    StrayAmpersand,
}

#[derive(Debug, Arbitrary)]
struct Input {
    pairs: Vec<(Key, String)>,
    checkout_id: String,
    form: Form,
    mutation: Mutation,
}

fn is_signed_value(value: &str) -> bool {
    !value.is_empty() && value != "null"
}

/// The pairs that are signed in `form`, in the order they are signed.
fn signed_pairs(pairs: &[(String, String)], form: Form) -> Vec<(String, String)> {
    let signed = |(key, value): &&(String, String)| key != "signature" && is_signed_value(value);
    match form {
        Form::UrlOrder => pairs.iter().filter(signed).cloned().collect(),
        Form::FixedOrder => CREEM_PARAMS
            .iter()
            .filter_map(|name| pairs.iter().filter(signed).find(|(key, _)| key == name))
            .cloned()
            .collect(),
    }
}

/// `hex(SHA-256("k1=v1|…|salt=<key>"))`.
fn sign(signed: &[(String, String)]) -> String {
    let mut text = String::new();
    for (key, value) in signed {
        text.push_str(&format!("{key}={value}|"));
    }
    text.push_str("salt=");
    text.push_str(API_KEY);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The strict canonical rules: nothing in the query may make the signed string ambiguous.
fn unambiguous(pairs: &[(String, String)]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    pairs.iter().all(|(key, value)| {
        !key.is_empty()
            && seen.insert(key.as_str())
            && (key == "signature"
                || (![key, value].iter().any(|text| text.contains(['|', '=']))
                    && (is_signed_value(value) || CREEM_PARAMS.contains(&key.as_str()))))
    })
}

fn query_of(pairs: &[(String, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    query.finish()
}

fn decoded(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// The ids a verified redirect must report: the signed value of each Creem parameter.
fn expected_ids(pairs: &[(String, String)]) -> [Option<String>; 6] {
    CREEM_PARAMS.map(|name| {
        pairs
            .iter()
            .find(|(key, value)| key == name && is_signed_value(value))
            .map(|(_, value)| value.clone())
    })
}

fn reported_ids(params: &ReturnParams) -> [Option<String>; 6] {
    [
        params.reference.clone(),
        Some(params.checkout_id.clone()),
        params.order_id.clone(),
        params.customer_id.clone(),
        params.subscription_id.clone(),
        params.product_id.clone(),
    ]
}

fn mutate(pairs: &mut Vec<(String, String)>, mutation: &Mutation) -> bool {
    let pick = |index: u8, len: usize| usize::from(index) % len.max(1);
    match mutation {
        Mutation::None => return false,
        Mutation::RegroupAtBar(index) if pairs.len() >= 2 => {
            let i = pick(*index, pairs.len() - 1);
            let (key, value) = pairs.remove(i + 1);
            pairs[i].1 = format!("{}|{key}={value}", pairs[i].1);
        }
        Mutation::RegroupAtEquals(index) if !pairs.is_empty() => {
            let i = pick(*index, pairs.len());
            let (key, value) = pairs[i].clone();
            let split = value
                .char_indices()
                .nth(1)
                .map_or(value.len(), |(at, _)| at);
            pairs[i] = (
                format!("{key}={}", &value[..split]),
                value[split..].to_owned(),
            );
        }
        Mutation::Duplicate(index, other) if !pairs.is_empty() => {
            let (key, value) = pairs[pick(*index, pairs.len())].clone();
            pairs.push((key, other.clone().unwrap_or(value)));
        }
        Mutation::AddEmpty(key, null) => {
            let value = if *null { "null" } else { "" };
            pairs.push((key.clone(), value.to_owned()));
        }
        Mutation::Swap(a, b) if !pairs.is_empty() => {
            let (a, b) = (pick(*a, pairs.len()), pick(*b, pairs.len()));
            pairs.swap(a, b);
        }
        Mutation::StrayAmpersand => pairs.push((String::new(), String::new())),
        _ => return false,
    }
    true
}

fuzz_target!(|input: Input| {
    let provider = CreemProvider::builder(CreemConfig::new(API_KEY))
        .build()
        .expect("a valid configuration");

    let mut pairs: Vec<(String, String)> = vec![("checkout_id".to_owned(), input.checkout_id)];
    for (key, value) in input.pairs {
        let key = match key {
            Key::Creem(index) => CREEM_PARAMS[usize::from(index) % CREEM_PARAMS.len()].to_owned(),
            Key::Merchant(name) => name,
        };
        pairs.push((key, value));
    }
    let signed = signed_pairs(&pairs, input.form);
    let mut original = pairs.clone();
    original.push(("signature".to_owned(), sign(&signed)));

    let result = provider.verify_return(&query_of(&original));
    // The ids as the adapter must read them: from the query as a browser would send it.
    let original = decoded(&query_of(&original));
    if unambiguous(&original) && expected_ids(&original)[1].is_some() {
        let params = result.unwrap_or_else(|error| {
            panic!(
                "a correctly signed {:?} redirect was refused: {error:?}",
                input.form
            )
        });
        assert!(params.verified);
        assert_eq!(reported_ids(&params), expected_ids(&original));
    }

    let mut mutated = pairs;
    if !mutate(&mut mutated, &input.mutation) {
        return;
    }
    mutated.push(("signature".to_owned(), sign(&signed)));
    let mut query = query_of(&mutated);
    if matches!(input.mutation, Mutation::StrayAmpersand) {
        query.push('&');
    }
    let Ok(params) = provider.verify_return(&query) else {
        return;
    };
    if !params.verified {
        return;
    }
    let mutated = decoded(&query);
    assert!(
        unambiguous(&mutated),
        "an ambiguous query was verified ({:?}): {query:?}",
        input.mutation
    );
    let same_canonical = [Form::FixedOrder, Form::UrlOrder]
        .iter()
        .any(|form| signed_pairs(&mutated, *form) == signed);
    assert!(
        same_canonical,
        "a query whose canonical string differs was verified ({:?}): {query:?}",
        input.mutation
    );
    assert_eq!(
        reported_ids(&params),
        expected_ids(&original),
        "a verified query reports ids that were not signed: {query:?}"
    );
});
