//! How many entries each Stripe store keeps, for
//! [`SandboxHandle::retained`](crate::SandboxHandle::retained): the proof that a long run
//! stays within its caps.

use crate::state::State;

/// Each Stripe store's name (as `retained` reports it, after `stripe.`) and size.
pub(crate) fn store_sizes(state: &State) -> Vec<(&'static str, usize)> {
    let stripe = &state.stripe;
    vec![
        ("sessions", stripe.sessions.len()),
        ("payment_intents", stripe.payment_intents.len()),
        ("prices", stripe.prices.len()),
        ("products", stripe.products.len()),
        ("coupons", stripe.coupons.len()),
        ("promotion_codes", stripe.promotion_codes.len()),
        ("customers", stripe.customers.oldest_first().count()),
        ("subscriptions", stripe.subscriptions.oldest_first().count()),
        ("invoices", stripe.invoices.oldest_first().count()),
        ("charges", stripe.charges.oldest_first().count()),
        ("refunds", stripe.refunds.oldest_first().count()),
        (
            "portal_sessions",
            stripe.portal_sessions.oldest_first().count(),
        ),
        ("events", stripe.events.oldest_first().count()),
        ("idempotency_keys", stripe.idempotency.saved.len()),
    ]
}
