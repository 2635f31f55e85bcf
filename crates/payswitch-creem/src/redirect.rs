//! The signed success redirect.
//!
//! Creem appends `checkout_id`, `order_id`, `customer_id`, `subscription_id`, `product_id`,
//! optionally `request_id`, and `signature` to the success URL. The signature is
//! `hex(SHA-256("k1=v1|k2=v2|…|salt=<API key>"))`: a plain hash (not an HMAC) over
//! query-decoded pairs, without `signature` and without empty or `null` values. Creem's own
//! samples disagree on which pairs, so both published canonical forms are accepted, each
//! salted with the API key:
//!
//! - **Creem's parameters in a fixed order** (the TypeScript sample in Creem's checkout docs
//!   and the `creem-go` SDK): only `request_id, checkout_id, order_id, customer_id,
//!   subscription_id, product_id`, in that order whatever the URL order. The merchant's own
//!   `success_url` parameters are not signed.
//! - **Every pair in URL order** (Creem's Python sample): every pair but `signature`, the
//!   merchant's own parameters included, in the order the URL has them.
//!
//! A sorted, `&`-joined HMAC form is not accepted: real redirects never carry it (Creem PR #72).
//!
//! The query is canonicalized strictly before any hashing, because `k=v` pairs joined with `|`
//! are ambiguous: a duplicate key, a key or value holding `|` or `=`, or an empty or `null`
//! pair that is not one of Creem's own parameters is `SignatureError::Malformed`. So signed
//! values cannot be regrouped (`a=1|b=2` read as `a = "1|b=2"`) and unsigned empty pairs cannot
//! be slipped in beside signed ones.

use std::collections::BTreeSet;

use crate::config::KIND;
use payswitch_core::{PaymentError, ReturnParams, Secret, SignatureError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The query parameter that carries the signature.
const SIGNATURE_PARAM: &str = "signature";

/// Creem's own redirect parameters, in the order its TypeScript sample and Go SDK sign them.
const CREEM_PARAMS: [&str; 6] = [
    "request_id",
    "checkout_id",
    "order_id",
    "customer_id",
    "subscription_id",
    "product_id",
];

/// Verifies a success redirect's query string and returns its ids.
pub(crate) fn verify_return(api_key: &Secret, query: &str) -> Result<ReturnParams, PaymentError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();

    let given = signature_param(&pairs)?;
    check_canonical(&pairs)?;

    let fixed = creem_order_signature(&pairs, api_key);
    let in_url_order = url_order_signature(&pairs, api_key);
    // Both are compared in full, in constant time; which form matched is not revealed.
    let matched = given.as_slice().ct_eq(fixed.as_slice()) | given.as_slice().ct_eq(&in_url_order);
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch.into());
    }

    // Keys are unique (check_canonical), so each lookup is unambiguous.
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, value)| key == name && is_signed_value(value))
            .map(|(_, value)| value.clone())
    };
    let checkout_id = value("checkout_id").ok_or_else(|| {
        PaymentError::invalid("checkout_id", "missing from the signed return URL")
    })?;
    let mut params = ReturnParams::new(KIND, checkout_id, true);
    params.order_id = value("order_id");
    params.customer_id = value("customer_id");
    params.subscription_id = value("subscription_id");
    params.product_id = value("product_id");
    params.reference = value("request_id");
    Ok(params)
}

/// The one `signature` parameter, hex-decoded.
fn signature_param(pairs: &[(String, String)]) -> Result<Vec<u8>, SignatureError> {
    let mut signatures = pairs.iter().filter(|(key, _)| key == SIGNATURE_PARAM);
    let signature = match (signatures.next(), signatures.next()) {
        (Some((_, value)), None) if !value.trim().is_empty() => value.trim(),
        (Some(_), Some(_)) => {
            return Err(SignatureError::Malformed(
                "the signature parameter appears twice".into(),
            ))
        }
        (Some(_), None) | (None, _) => {
            return Err(SignatureError::Missing(
                "signature parameter in the Creem redirect".into(),
            ))
        }
    };
    hex::decode(signature).map_err(|_| {
        SignatureError::Malformed("the redirect signature is not a hex SHA-256".into())
    })
}

/// Refuses a query whose `k=v|…` serialization would be ambiguous, or that carries unsigned
/// empty pairs. Messages name keys only when they are Creem's own, never a value.
fn check_canonical(pairs: &[(String, String)]) -> Result<(), SignatureError> {
    let mut seen = BTreeSet::new();
    for (key, value) in pairs {
        if key.is_empty() {
            return Err(SignatureError::Malformed(
                "the redirect holds a parameter without a name".into(),
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(SignatureError::Malformed(format!(
                "the redirect parameter {} appears twice",
                describe(key)
            )));
        }
        if key == SIGNATURE_PARAM {
            continue;
        }
        if [key, value]
            .iter()
            .any(|text| text.contains('|') || text.contains('='))
        {
            return Err(SignatureError::Malformed(format!(
                "the redirect parameter {} holds `|` or `=`, which would make the signed string \
                 ambiguous",
                describe(key)
            )));
        }
        // Creem leaves its own absent ids empty or `null` (a one-time purchase has no
        // subscription); any other empty pair is unsigned in both forms, so it is refused.
        if !is_signed_value(value) && !CREEM_PARAMS.contains(&key.as_str()) {
            return Err(SignatureError::Malformed(
                "the redirect holds an empty parameter that is not one of Creem's".into(),
            ));
        }
    }
    Ok(())
}

/// A key as it may appear in an error: Creem's own names as is, anything else unnamed (it is
/// text from the browser).
fn describe(key: &str) -> String {
    match CREEM_PARAMS.iter().find(|name| **name == key) {
        Some(name) => format!("`{name}`"),
        None if key == SIGNATURE_PARAM => format!("`{SIGNATURE_PARAM}`"),
        None => "(not one of Creem's)".to_owned(),
    }
}

/// Creem leaves empty and `null` values out of the signed string.
fn is_signed_value(value: &str) -> bool {
    !value.is_empty() && value != "null"
}

/// Form (a): Creem's six parameters that are present, in [`CREEM_PARAMS`] order.
fn creem_order_signature(pairs: &[(String, String)], api_key: &Secret) -> [u8; 32] {
    let signed = CREEM_PARAMS.iter().filter_map(|name| {
        pairs
            .iter()
            .find(|(key, value)| key == name && is_signed_value(value))
    });
    salted_hash(signed, api_key)
}

/// Form (b): every pair but `signature`, in URL order.
fn url_order_signature(pairs: &[(String, String)], api_key: &Secret) -> [u8; 32] {
    let signed = pairs
        .iter()
        .filter(|(key, value)| key != SIGNATURE_PARAM && is_signed_value(value));
    salted_hash(signed, api_key)
}

/// `SHA-256("k1=v1|…|kN=vN|salt=<API key>")`.
fn salted_hash<'a>(
    pairs: impl Iterator<Item = &'a (String, String)>,
    api_key: &Secret,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (key, value) in pairs {
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
        hasher.update(b"|");
    }
    hasher.update(b"salt=");
    hasher.update(api_key.expose().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn a_known_vector_matches() {
        // Computed independently: sha256("checkout_id=ch_1|order_id=ord_1|salt=creem_test_key").
        let key = Secret::new("creem_test_key");
        let pairs = owned(&[
            ("checkout_id", "ch_1"),
            ("order_id", "ord_1"),
            ("customer_id", ""),
        ]);
        let expected = "fc3e23f8d3a3885602d8480c6cede868e88464b3064e342d7ec5c1d216c1c987";
        assert_eq!(hex::encode(url_order_signature(&pairs, &key)), expected);
        assert_eq!(hex::encode(creem_order_signature(&pairs, &key)), expected);
    }

    /// The URL order (merchant `plan` first, `request_id` last) differs from Creem's fixed order.
    fn merchant_first() -> Vec<(String, String)> {
        owned(&[
            ("plan", "pro"),
            ("checkout_id", "ch_1"),
            ("order_id", "ord_1"),
            ("customer_id", "cust_1"),
            ("product_id", "prod_1"),
            ("request_id", "order-42"),
        ])
    }

    #[test]
    fn form_a_signs_creem_parameters_in_the_fixed_order() {
        // python3 -c 'import hashlib; print(hashlib.sha256(b"request_id=order-42|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|salt=creem_test_key").hexdigest())'
        let expected = "6f412c5b36fb3dddad4dbffa6de799d4ec208c03ba513f6bddc921f6bb130fe8";
        let key = Secret::new("creem_test_key");
        assert_eq!(
            hex::encode(creem_order_signature(&merchant_first(), &key)),
            expected
        );
    }

    #[test]
    fn form_b_signs_every_pair_in_url_order() {
        // python3 -c 'import hashlib; print(hashlib.sha256(b"plan=pro|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|request_id=order-42|salt=creem_test_key").hexdigest())'
        let expected = "e552d770fc1c52bf6c59794dbaba2cda851c490302d7c9969fd644e11812eb0c";
        let key = Secret::new("creem_test_key");
        assert_eq!(
            hex::encode(url_order_signature(&merchant_first(), &key)),
            expected
        );
    }

    #[test]
    fn ambiguous_queries_are_malformed() {
        let malformed = |pairs: &[(&str, &str)]| {
            matches!(
                check_canonical(&owned(pairs)),
                Err(SignatureError::Malformed(_))
            )
        };
        assert!(
            check_canonical(&owned(&[("checkout_id", "ch_1"), ("subscription_id", "")])).is_ok()
        );
        assert!(check_canonical(&owned(&[("checkout_id", "ch_1"), ("order_id", "null")])).is_ok());
        // Duplicates, even an empty copy of a signed key.
        assert!(malformed(&[
            ("checkout_id", "ch_1"),
            ("checkout_id", "ch_2")
        ]));
        assert!(malformed(&[("checkout_id", "ch_1"), ("checkout_id", "")]));
        // Regrouping material in keys or values.
        assert!(malformed(&[("a", "1|b=2")]));
        assert!(malformed(&[("a", "x=y")]));
        assert!(malformed(&[("a|b", "1")]));
        // Unsigned empty pairs that are not Creem's own.
        assert!(malformed(&[("checkout_id", "ch_1"), ("order", "null")]));
        assert!(malformed(&[("checkout_id", "ch_1"), ("plan", "")]));
        assert!(malformed(&[("", "ch_1")]));
    }

    /// A deterministic walk over many small queries standing in for a property test: any
    /// query that canonicalizes serializes to a string from which its pairs can be read back
    /// uniquely, so no two different canonical queries share a signed string.
    #[test]
    fn canonical_queries_serialize_injectively() {
        let atoms = ["a", "b", "1", "|", "=", "", "null", "a=1", "1|b"];
        let mut seen = std::collections::BTreeMap::new();
        for first_key in atoms {
            for first_value in atoms {
                for second_key in atoms {
                    for second_value in atoms {
                        let pairs = owned(&[(first_key, first_value), (second_key, second_value)]);
                        if check_canonical(&pairs).is_err() {
                            continue;
                        }
                        let serialized: Vec<String> = pairs
                            .iter()
                            .filter(|(_, value)| is_signed_value(value))
                            .map(|(key, value)| format!("{key}={value}"))
                            .collect();
                        let serialized = serialized.join("|");
                        let signed: Vec<_> = pairs
                            .iter()
                            .filter(|(_, value)| is_signed_value(value))
                            .cloned()
                            .collect();
                        if let Some(previous) = seen.insert(serialized.clone(), signed.clone()) {
                            assert_eq!(previous, signed, "{serialized} is ambiguous");
                        }
                    }
                }
            }
        }
        assert!(!seen.is_empty());
    }
}
