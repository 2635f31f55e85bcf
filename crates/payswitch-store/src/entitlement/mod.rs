//! Entitlements: what an application user may use right now, and why.
//!
//! - [`policy`]: [`EntitlementPolicy`](policy::EntitlementPolicy) and the pure decisions.
//! - [`grant`]: the answer's types.
//! - [`query`]: reading a user's subscriptions and purchases and deciding each.

pub mod grant;
pub mod policy;
pub(crate) mod query;
