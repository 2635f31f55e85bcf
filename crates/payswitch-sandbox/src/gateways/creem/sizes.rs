//! How many entries each Creem store keeps, for
//! [`SandboxHandle::retained`](crate::SandboxHandle::retained): the proof that a long run
//! stays within its caps.

use crate::state::State;

/// Each Creem store's name (as `retained` reports it, after `creem.`) and size.
pub(crate) fn store_sizes(state: &State) -> Vec<(&'static str, usize)> {
    let creem = &state.creem;
    vec![
        ("products", creem.products.len()),
        ("discounts", creem.discounts.len()),
        ("checkouts", creem.checkouts.len()),
        ("customers", creem.customers.len()),
        ("subscriptions", creem.subscriptions.len()),
        ("transactions", creem.transactions.len()),
        ("refunds", creem.refunds.len()),
        ("portal_links", creem.portal_links.len()),
    ]
}
