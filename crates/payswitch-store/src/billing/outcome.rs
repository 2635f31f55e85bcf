//! [`Applied`]: what applying one event did to the billing tables.

/// What applying an event did to one object's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The row now holds the event's snapshot (inserted, or updated because the event is
    /// newer than what the row held).
    Applied,
    /// The row already held a newer snapshot; the event changed nothing (out-of-order or
    /// replayed delivery).
    Stale,
}

/// What applying an event did, handed to the application's handler beside the event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Applied {
    /// The checkout the event carried, if any.
    pub checkout: Option<Outcome>,
    /// The subscription the event carried, if any.
    pub subscription: Option<Outcome>,
    /// The refund the event carried, if any.
    pub refund: Option<Outcome>,
    /// True for exactly one event per checkout: the first to record it paid. A gateway may
    /// say "paid" in several events (Stripe's `checkout.session.completed` and
    /// `async_payment_succeeded`; a reconcile); fulfil an order when this is true and it is
    /// fulfilled once, in the same transaction as this mark.
    pub first_paid: bool,
}
