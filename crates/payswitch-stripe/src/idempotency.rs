//! `Idempotency-Key` values: the request's own, one derived from the checkout's reference and
//! parameters, or a random one.
//!
//! The derived key hashes the already-encoded form around its `expires_at` pair, so key
//! derivation depends on the exact output of `form.rs`; both live here to keep that coupling
//! in one place.

use payswitch_core::CheckoutRequest;
use sha2::{Digest, Sha256};

/// The key for a checkout create: the request's own; else derived from the reference and
/// the parameters, so two app instances retrying one order converge on one session; else
/// random.
///
/// `form` is the encoded body; the key hashes it without `expires_at`, which moves with the
/// clock, so the body is encoded once and never copied for the key.
pub(crate) fn checkout_idempotency_key(request: &CheckoutRequest, form: &str) -> String {
    if let Some(key) = &request.idempotency_key {
        return key.clone();
    }
    let Some(reference) = &request.reference else {
        return random_idempotency_key();
    };
    let (before, after) = split_around(form, "expires_at").unwrap_or((form, ""));
    let mut hasher = Sha256::new();
    hasher.update(reference.len().to_be_bytes());
    hasher.update(reference.as_bytes());
    hasher.update(before.as_bytes());
    hasher.update(after.as_bytes());
    if let Some(expires_in) = request.expires_in {
        hasher.update(format!("&expires_in={}", expires_in.as_secs()).as_bytes());
    }
    // Hex-encoded straight into the key, without an intermediate string.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity("payswitch-ref-".len() + 64);
    key.push_str("payswitch-ref-");
    for byte in hasher.finalize() {
        key.push(char::from(HEX[usize::from(byte >> 4)]));
        key.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    key
}

/// A fresh random key, for creates without a reference and for `expire_checkout`.
pub(crate) fn random_idempotency_key() -> String {
    format!("payswitch-{}", uuid::Uuid::new_v4())
}

/// Splits an encoded form around its top-level `name=…` pair (with the `&` before it), so the
/// rest can be hashed without encoding the form a second time. `None` when the pair is absent
/// or first.
///
/// Values are percent-encoded, so `&name=` can only be a pair boundary, and a nested key
/// (`x[name]`) never matches.
fn split_around<'f>(form: &'f str, name: &str) -> Option<(&'f str, &'f str)> {
    let start = form
        .match_indices(name)
        .map(|(index, _)| index)
        .find(|&index| {
            index > 0
                && form.as_bytes()[index - 1] == b'&'
                && form.as_bytes().get(index + name.len()) == Some(&b'=')
        })?
        - 1;
    let end = form[start + 1..]
        .find('&')
        .map_or(form.len(), |next| start + 1 + next);
    Some((&form[..start], &form[end..]))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use payswitch_core::{CheckoutMode, LineItem};

    use super::*;

    #[test]
    fn derived_keys_ignore_expires_at_and_stay_stable() {
        let request = CheckoutRequest::builder()
            .mode(CheckoutMode::Subscription)
            .line_item(LineItem::native("price_1Pro", 2))
            .success_url("https://example.com/ok")
            .reference("order-7")
            .expires_in(Duration::from_secs(1800))
            .build()
            .unwrap();
        let form = "mode=subscription&line_items[0][price]=price_1Pro&line_items[0][quantity]=2\
                    &success_url=https%3A%2F%2Fexample.com%2Fok&client_reference_id=order-7";
        let now = checkout_idempotency_key(&request, &format!("{form}&expires_at=1800001800"));
        let later = checkout_idempotency_key(&request, &format!("{form}&expires_at=1800001807"));
        assert_eq!(now, later);
        // SHA-256 over the reference's length and bytes, the form without expires_at and
        // `&expires_in=1800`: pinned, so a key never changes between releases.
        assert_eq!(
            now,
            "payswitch-ref-aeb20607951c37660f0e2c3967d3fcf289309169bb7fb88aa8e041c4586d1efd"
        );
    }

    #[test]
    fn splits_around_a_top_level_pair_only() {
        let form = "mode=payment&metadata[expires_at]=1&expires_at=1800&currency=usd";
        assert_eq!(
            split_around(form, "expires_at"),
            Some(("mode=payment&metadata[expires_at]=1", "&currency=usd"))
        );
        assert_eq!(
            split_around("mode=payment&expires_at=1800", "expires_at"),
            Some(("mode=payment", ""))
        );
        assert_eq!(
            split_around("mode=payment&expires_atx=1", "expires_at"),
            None
        );
        assert_eq!(
            split_around("expires_at=1&mode=payment", "expires_at"),
            None
        );
    }
}
