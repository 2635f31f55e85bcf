//! Webhooks on both sides of the wire: [`delivery`] sends the sandbox's signed events to
//! registered endpoints, [`inbox`] is a receiver for tests and examples.

pub(crate) mod delivery;
pub(crate) mod inbox;
