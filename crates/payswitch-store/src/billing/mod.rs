//! Billing state: payswitch's own tables of customers, checkouts, subscriptions and refunds,
//! kept current from events, and the words they store.
//!
//! - [`version`]: the out-of-order rule's ranks (pure).
//! - [`outcome`]: what applying an event changed, handed to the application's handler.
//! - [`words`]: the statuses as the schema spells them.
//! - [`apply`]: the upserts.
//! - [`records`]: reading the tables back.

pub(crate) mod apply;
pub mod outcome;
pub mod records;
pub(crate) mod version;
pub(crate) mod words;
