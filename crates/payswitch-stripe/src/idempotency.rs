//! `Idempotency-Key` values for checkout and customer creates, and the rule for a replayed
//! checkout.
//!
//! - The request's own key is used as is, for every attempt.
//! - With a `reference` and no key, the key is derived from the reference and the encoded
//!   parameters except `expires_at`, plus a generation: `payswitch-ref-<sha256>-g<n>`. Two app
//!   instances creating one order converge on one session; a later generation is used once
//!   the session behind the earlier one can no longer be paid (expired) or Stripe saved a
//!   failure under it.
//! - Otherwise a random key per call, reused by that call's retries.
//!
//! The derived key hashes the already-encoded form around its `expires_at` pair, so key
//! derivation depends on the exact output of `form.rs`; both live here to keep that coupling
//! in one place.

use payswitch_core::{CheckoutRequest, CheckoutStatus};
use sha2::{Digest, Sha256};

/// How many key generations one create walks through before giving up: each expired
/// session (or saved failure) for the order costs one.
pub(crate) const MAX_GENERATIONS: u32 = 8;

/// Where a checkout create's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckoutKeys {
    /// The request's own key: one generation only.
    Explicit(String),
    /// Derived from the reference and parameters: the hex digest, before `-g<n>`.
    Derived(String),
    /// No reference: a random key per generation.
    Random,
}

impl CheckoutKeys {
    /// The keys for a checkout create. `form` is the encoded body; the digest leaves its
    /// `expires_at` out, which moves with the clock, so the body is encoded once.
    pub(crate) fn new(request: &CheckoutRequest, form: &str) -> Self {
        if let Some(key) = &request.idempotency_key {
            return Self::Explicit(key.clone());
        }
        let Some(reference) = &request.reference else {
            return Self::Random;
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
        Self::Derived(hex::encode(hasher.finalize()))
    }

    /// The key of `generation`, or `None` when there is no such generation (an explicit
    /// key has only the first).
    pub(crate) fn key(&self, generation: u32) -> Option<String> {
        match self {
            Self::Explicit(key) => (generation == 0).then(|| key.clone()),
            Self::Derived(digest) => Some(format!("payswitch-ref-{digest}-g{generation}")),
            Self::Random => Some(random_idempotency_key()),
        }
    }
}

/// What to do with a session Stripe replayed under a create's key, by its current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayVerdict {
    /// Still payable: the create converged on it.
    Return,
    /// Paid or otherwise complete: never open a second payable session for the order.
    AlreadyCompleted,
    /// Expired: the order needs a new session, under the next generation's key.
    NextGeneration,
}

/// The rule for a replayed session, decided on its status as retrieved now (never on the
/// replayed body, which is the state at its creation).
pub(crate) fn replay_verdict(status: CheckoutStatus) -> ReplayVerdict {
    match status {
        CheckoutStatus::Open => ReplayVerdict::Return,
        CheckoutStatus::Complete => ReplayVerdict::AlreadyCompleted,
        CheckoutStatus::Expired => ReplayVerdict::NextGeneration,
    }
}

/// A fresh random key, for creates without a reference, `expire_checkout` and every
/// lifecycle POST without a key of its own.
pub(crate) fn random_idempotency_key() -> String {
    format!("payswitch-{}", uuid::Uuid::new_v4())
}

/// The key of a customer create: `payswitch-customer-<hex SHA-256 of the encoded form>`, so
/// two creates of the same customer (same app user id, email, name and metadata) within
/// Stripe's 24 hours converge on one customer, where a search could still miss the first
/// (search is eventually consistent).
pub(crate) fn customer_key(form: &str) -> String {
    format!(
        "payswitch-customer-{}",
        hex::encode(Sha256::digest(form.as_bytes()))
    )
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
    fn replayed_sessions_are_judged_on_their_current_status() {
        assert_eq!(replay_verdict(CheckoutStatus::Open), ReplayVerdict::Return);
        assert_eq!(
            replay_verdict(CheckoutStatus::Complete),
            ReplayVerdict::AlreadyCompleted
        );
        assert_eq!(
            replay_verdict(CheckoutStatus::Expired),
            ReplayVerdict::NextGeneration
        );
    }

    #[test]
    fn explicit_keys_have_one_generation_and_random_keys_differ() {
        let keys = CheckoutKeys::Explicit("mine".into());
        assert_eq!(keys.key(0).as_deref(), Some("mine"));
        assert_eq!(keys.key(1), None);
        assert_ne!(CheckoutKeys::Random.key(0), CheckoutKeys::Random.key(0));
    }

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
        let now = CheckoutKeys::new(&request, &format!("{form}&expires_at=1800001800"));
        let later = CheckoutKeys::new(&request, &format!("{form}&expires_at=1800001860"));
        assert_eq!(now, later);
        // SHA-256 over the reference's length and bytes, the form without expires_at and
        // `&expires_in=1800`, then the generation: pinned, so a key never changes between
        // releases.
        assert_eq!(
            now.key(0).unwrap(),
            "payswitch-ref-aeb20607951c37660f0e2c3967d3fcf289309169bb7fb88aa8e041c4586d1efd-g0"
        );
        assert_eq!(
            now.key(3).unwrap(),
            "payswitch-ref-aeb20607951c37660f0e2c3967d3fcf289309169bb7fb88aa8e041c4586d1efd-g3"
        );
    }

    #[test]
    fn customer_keys_follow_the_parameters() {
        let key = customer_key("email=ada%40example.com&metadata[app_user_id]=user_42");
        assert!(key.starts_with("payswitch-customer-"));
        assert_eq!(key.len(), "payswitch-customer-".len() + 64);
        assert_eq!(
            key,
            customer_key("email=ada%40example.com&metadata[app_user_id]=user_42")
        );
        assert_ne!(key, customer_key("metadata[app_user_id]=user_42"));
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
