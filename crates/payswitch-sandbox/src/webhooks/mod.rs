//! Webhooks on both sides of the wire: [`endpoints`] registers where events go, [`delivery`]
//! sends the sandbox's signed events there, [`inbox`] is a receiver for tests and examples.

pub(crate) mod delivery;
pub(crate) mod endpoints;
pub(crate) mod inbox;
