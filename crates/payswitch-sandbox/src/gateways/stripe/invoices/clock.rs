//! What the sandbox clock does to invoices: a renewal's draft is finalized and collected
//! when its hour is up (or voided, marked uncollectible or left open, as the subscription's
//! `pause_collection` and status say at that moment), and open invoices are retried when
//! their `next_payment_attempt` comes.

use crate::app::App;
use crate::gateways::stripe::invoices::collect::retry_due;
use crate::gateways::stripe::invoices::issue::{finalize_and_collect, Collection};
use crate::gateways::stripe::objects::{Invoice, InvoiceStatus, SubscriptionStatus};
use crate::state::State;

/// Finalizes the drafts whose time has come, then retries the payments that are due.
pub(crate) fn run_due(app: &App, state: &mut State) {
    let now = state.now();
    let due: Vec<String> = state
        .stripe
        .invoices
        .oldest_first()
        .filter(|invoice| {
            invoice.status == InvoiceStatus::Draft
                && invoice.finalizes_at.is_some_and(|at| at <= now)
        })
        .map(|invoice| invoice.id.clone())
        .collect();
    for id in due {
        let Some(invoice) = state.stripe.invoices.get(&id) else {
            continue;
        };
        let collection = collection_now(state, invoice);
        if collection == Collection::KeepAsDraft {
            if let Some(invoice) = state.stripe.invoices.get_mut(&id) {
                invoice.finalizes_at = None;
            }
            continue;
        }
        finalize_and_collect(app, state, &id, collection, None);
    }
    retry_due(app, state);
}

/// How a subscription's invoice is collected when it is finalized: held as its
/// `pause_collection` says, left open while it is `unpaid` (Stripe makes its invoices but
/// does not attempt them), charged otherwise.
fn collection_now(state: &State, invoice: &Invoice) -> Collection {
    let Some(subscription) = invoice
        .subscription
        .as_deref()
        .and_then(|id| state.stripe.subscriptions.get(id))
    else {
        return Collection::Pay;
    };
    if let Some(pause) = &subscription.pause_collection {
        return Collection::for_pause(Some(&pause.behavior));
    }
    if subscription.status == SubscriptionStatus::Unpaid {
        return Collection::LeaveOpen;
    }
    Collection::Pay
}
