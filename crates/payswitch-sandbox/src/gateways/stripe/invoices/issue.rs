//! Issuing invoices as Stripe's billing does for subscriptions: the draft (`invoice.created`),
//! finalized with its number (`invoice.finalized`) and collected (see `collect.rs`: the
//! PaymentIntent and charge, `invoice.paid` and `invoice.payment_succeeded`, or a failure and
//! the retry schedule). The first invoice and update invoices are finalized at once; a
//! renewal's draft waits an hour, as Stripe's does. Under `pause_collection` it stays a
//! draft, is voided (`invoice.voided`) or is marked uncollectible
//! (`invoice.marked_uncollectible`) instead.

use crate::app::App;
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::invoices::collect::{self, emit_invoice, AttemptKind};
use crate::gateways::stripe::invoices::lines::apply_discount;
use crate::gateways::stripe::invoices::render::render;
use crate::gateways::stripe::objects::{Coupon, Invoice, InvoiceLine, InvoiceStatus};
use crate::gateways::stripe::params::CallContext;
use crate::state::{new_id, State};

/// What an invoice bills, before it exists.
pub(crate) struct Draft {
    pub(crate) customer: String,
    pub(crate) subscription: Option<String>,
    /// `subscription_create`, `subscription_update`, `subscription_cycle`.
    pub(crate) billing_reason: &'static str,
    pub(crate) currency: String,
    pub(crate) lines: Vec<InvoiceLine>,
    /// The discount (`di_…`) and its coupon, applied to the lines.
    pub(crate) discount: Option<(String, Coupon)>,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
}

/// What happens to a finalized invoice: collected now, or held as `pause_collection` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    Pay,
    /// Finalized and left open, unattempted: the subscription is `unpaid`.
    LeaveOpen,
    KeepAsDraft,
    MarkUncollectible,
    Void,
}

impl Collection {
    /// Reads `pause_collection[behavior]`; no pause collects.
    pub(crate) fn for_pause(behavior: Option<&str>) -> Self {
        match behavior {
            Some("keep_as_draft") => Collection::KeepAsDraft,
            Some("mark_uncollectible") => Collection::MarkUncollectible,
            Some("void") => Collection::Void,
            _ => Collection::Pay,
        }
    }
}

/// Builds the invoice a draft describes, without storing it (previews use this too).
pub(crate) fn build(state: &State, draft: Draft, id: String) -> Invoice {
    let mut lines = draft.lines;
    let discount = draft.discount.map(|(discount, coupon)| {
        apply_discount(&mut lines, &coupon, &draft.currency);
        discount
    });
    let discount = discount.filter(|_| lines.iter().any(|line| line.discount_amount > 0));
    let customer = state.stripe.customers.get(&draft.customer);
    Invoice {
        id,
        number: None,
        customer_email: customer.and_then(|customer| customer.email.clone()),
        customer_name: customer.and_then(|customer| customer.name.clone()),
        customer: draft.customer,
        subscription: draft.subscription,
        billing_reason: draft.billing_reason.to_owned(),
        currency: draft.currency,
        created: state.now(),
        status: InvoiceStatus::Draft,
        lines,
        discount,
        period_start: draft.period_start,
        period_end: draft.period_end,
        payment_intent: None,
        finalized_at: None,
        paid_at: None,
        voided_at: None,
        marked_uncollectible_at: None,
        finalizes_at: None,
        attempt_count: 0,
        attempted: false,
        next_payment_attempt: None,
    }
}

/// Returns a fresh invoice id, for objects that must name an invoice before it is issued
/// (a subscription's `latest_invoice` in the event that precedes `invoice.created`).
pub(crate) fn new_invoice_id() -> String {
    new_id("in_")
}

/// How long a subscription renewal's draft waits before Stripe finalizes and collects it:
/// "approximately 1 hour" after `invoice.created` (Stripe's trials page; the API reference
/// says an invoice "is not attempted until 1 hour after the `invoice.created` webhook").
pub(crate) const RENEWAL_DRAFT_SECONDS: i64 = 60 * 60;

/// Stores the draft as invoice `id`, finalizes and collects it now as `collection` says,
/// emitting each step's event; returns the id. The first invoice of a subscription and the
/// invoices of updates are issued this way.
pub(crate) fn issue(
    app: &App,
    state: &mut State,
    id: String,
    draft: Draft,
    collection: Collection,
    context: Option<&CallContext<'_>>,
) -> String {
    store_draft(app, state, &id, draft, None, context);
    if collection != Collection::KeepAsDraft {
        finalize_and_collect(app, state, &id, collection, context);
    }
    id
}

/// Stores a renewal's draft as invoice `id` (`invoice.created`); the clock finalizes and
/// collects it at `finalizes_at`, or never when `None` (`pause_collection` keeps drafts).
pub(crate) fn issue_draft(
    app: &App,
    state: &mut State,
    id: &str,
    draft: Draft,
    finalizes_at: Option<i64>,
) {
    store_draft(app, state, id, draft, finalizes_at, None);
    if let Some(at) = finalizes_at {
        state.note_expiry(at);
    }
}

fn store_draft(
    app: &App,
    state: &mut State,
    id: &str,
    draft: Draft,
    finalizes_at: Option<i64>,
    context: Option<&CallContext<'_>>,
) {
    let mut invoice = build(state, draft, id.to_owned());
    invoice.finalizes_at = finalizes_at;
    if let Some(customer) = state.stripe.customers.get_mut(&invoice.customer) {
        customer
            .currency
            .get_or_insert_with(|| invoice.currency.clone());
    }
    let rendered = render(state, &invoice, &[]);
    state.stripe.invoices.insert(id.to_owned(), invoice);
    emit_event(app, state, "invoice.created", rendered, context);
}

/// Finalizes a draft (`invoice.finalized`) and collects it as `collection` says: voided,
/// marked uncollectible, left open, or charged (see [`collect`]).
pub(crate) fn finalize_and_collect(
    app: &App,
    state: &mut State,
    id: &str,
    collection: Collection,
    context: Option<&CallContext<'_>>,
) {
    finalize(state, id);
    emit_invoice(app, state, id, "invoice.finalized", context);
    let now = state.now();
    match collection {
        Collection::Void => {
            change(state, id, |invoice| {
                invoice.status = InvoiceStatus::Void;
                invoice.voided_at = Some(now);
            });
            emit_invoice(app, state, id, "invoice.voided", context);
        }
        Collection::MarkUncollectible => {
            change(state, id, |invoice| {
                invoice.status = InvoiceStatus::Uncollectible;
                invoice.marked_uncollectible_at = Some(now);
            });
            emit_invoice(app, state, id, "invoice.marked_uncollectible", context);
        }
        Collection::LeaveOpen | Collection::KeepAsDraft => {}
        Collection::Pay => {
            // A decline is the dunning schedule's business, not the caller's.
            let _ = collect::attempt(app, state, id, AttemptKind::Automatic, None, context);
        }
    }
}

fn change(state: &mut State, id: &str, apply: impl FnOnce(&mut Invoice)) {
    if let Some(invoice) = state.stripe.invoices.get_mut(id) {
        apply(invoice);
    }
}

/// Gives the invoice its number (the customer's prefix and sequence) and opens it.
fn finalize(state: &mut State, id: &str) {
    let now = state.now();
    let Some(customer_id) = state
        .stripe
        .invoices
        .get(id)
        .map(|invoice| invoice.customer.clone())
    else {
        return;
    };
    let number = state
        .stripe
        .customers
        .get_mut(&customer_id)
        .map(|customer| {
            let number = format!(
                "{}-{:04}",
                customer.invoice_prefix, customer.next_invoice_sequence
            );
            customer.next_invoice_sequence += 1;
            number
        });
    change(state, id, |invoice| {
        invoice.number = number;
        invoice.status = InvoiceStatus::Open;
        invoice.finalized_at = Some(now);
        invoice.finalizes_at = None;
    });
}
