//! Webhooks on both sides of the wire: [`endpoints`] registers where events go, [`modes`]
//! holds the hostile delivery modes, [`plan`] decides order, waits and retries, [`dispatch`]
//! runs deliveries (on tasks and on the sandbox clock) through [`delivery`]'s one attempt on
//! the wire, [`queue`] bounds what waits, and [`inbox`] is a receiver for tests and examples.

pub(crate) mod delivery;
pub(crate) mod dispatch;
pub(crate) mod endpoints;
pub(crate) mod inbox;
pub(crate) mod modes;
pub(crate) mod plan;
pub(crate) mod queue;
