//! The signed success redirect.
//!
//! Creem appends `checkout_id`, `order_id`, `customer_id`, `subscription_id`, `product_id`,
//! optionally `request_id`, and `signature` to the success URL. The signature is
//! `hex(SHA-256("k1=v1|k2=v2|…|salt=<API key>"))`: a plain hash (not an HMAC) over the
//! parameters in the order they appear in the URL, without `signature` and without empty or
//! `null` values, each key and value query-decoded first (as Creem's Go sample does). A sorted,
//! `&`-joined HMAC form is not accepted: real redirects never carry it (Creem PR #72).

use crate::config::KIND;
use payswitch_core::{PaymentError, ReturnParams, Secret, SignatureError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The query parameter that carries the signature.
const SIGNATURE_PARAM: &str = "signature";

/// Verifies a success redirect's query string and returns its ids.
pub(crate) fn verify_return(api_key: &Secret, query: &str) -> Result<ReturnParams, PaymentError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();

    let mut signatures = pairs.iter().filter(|(key, _)| key == SIGNATURE_PARAM);
    let signature = match (signatures.next(), signatures.next()) {
        (Some((_, value)), None) if !value.trim().is_empty() => value.trim(),
        (Some(_), Some(_)) => {
            return Err(
                SignatureError::Malformed("the signature parameter appears twice".into()).into(),
            )
        }
        (Some(_), None) | (None, _) => {
            return Err(SignatureError::Missing("creem redirect signature".into()).into())
        }
    };
    let given = hex::decode(signature).map_err(|_| {
        SignatureError::Malformed("the redirect signature is not a hex SHA-256".into())
    })?;

    let expected = signature_of(&pairs, api_key);
    if !bool::from(given.as_slice().ct_eq(expected.as_slice())) {
        return Err(SignatureError::Mismatch.into());
    }

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

/// Creem leaves empty and `null` values out of the signed string.
fn is_signed_value(value: &str) -> bool {
    !value.is_empty() && value != "null"
}

/// The SHA-256 Creem computes over the redirect's parameters, salted with the API key.
fn signature_of(pairs: &[(String, String)], api_key: &Secret) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut first = true;
    for (key, value) in pairs {
        if key == SIGNATURE_PARAM || !is_signed_value(value) {
            continue;
        }
        if !first {
            hasher.update(b"|");
        }
        first = false;
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    if !first {
        hasher.update(b"|");
    }
    hasher.update(b"salt=");
    hasher.update(api_key.expose().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_vector_matches() {
        // Computed independently: sha256("checkout_id=ch_1|order_id=ord_1|salt=creem_test_key").
        let key = Secret::new("creem_test_key");
        let pairs = vec![
            ("checkout_id".to_owned(), "ch_1".to_owned()),
            ("order_id".to_owned(), "ord_1".to_owned()),
            ("customer_id".to_owned(), String::new()),
        ];
        assert_eq!(
            hex::encode(signature_of(&pairs, &key)),
            "fc3e23f8d3a3885602d8480c6cede868e88464b3064e342d7ec5c1d216c1c987"
        );
    }
}
