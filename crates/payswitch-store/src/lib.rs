//! A durable webhook inbox and billing state for payswitch, on SQLite (embedded, the
//! default) or PostgreSQL (many instances), through `sqlx`.
//!
//! Webhooks arrive twice, out of order, and at whichever instance the load balancer picks.
//! The store makes each change the application's state exactly once, and gives every
//! instance one answer to "is this user subscribed?":
//!
//! 1. **Inbox** — [`Store::receive`] verifies a webhook through the gateway's
//!    [`CheckoutProvider`](payswitch_core::CheckoutProvider) and records the normalized
//!    event once per (gateway, event id); duplicates are recognized; bad signatures are
//!    refused and recorded nowhere.
//! 2. **Processing exactly once** — [`Worker`]s on any number of instances claim due events
//!    with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: its single writer), apply
//!    them to the billing tables and run the application's [`EventHandler`] in one
//!    transaction, marked done only while the lease holds. Failures retry with backoff
//!    ([`RetrySchedule`]) and are parked after the last attempt; parked events are listed
//!    and replayed.
//! 3. **Billing state** — customers, checkouts, subscriptions and refunds, out-of-order safe
//!    (an older event never overwrites newer state).
//! 4. **Entitlements** — [`Store::entitlement`] answers what a user may use now, by an
//!    [`EntitlementPolicy`].
//! 5. **Reconcile** — [`Store::reconcile`] asks the gateway about what the store knows and
//!    repairs what differs.
//!
//! With the `axum` feature, [`axum`](mod@crate::axum) has a ready webhook route and an
//! entitlement extractor. `docs/store.md` in the repository describes the tables, the
//! guarantees and their limits, and operations.

#![warn(missing_docs)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "payswitch-store needs a database: enable the `sqlite` feature (the default) or `postgres`"
);

#[cfg(feature = "axum")]
pub mod axum;
pub mod billing;
pub mod config;
pub mod db;
pub mod entitlement;
pub mod error;
pub mod handler;
pub mod inbox;
mod millis;
pub mod processing;
pub mod reconcile;
pub mod store;
pub mod worker;

pub use billing::outcome::{Applied, Outcome};
pub use billing::records::{CheckoutRecord, RefundRecord, SubscriptionRecord};
pub use config::{RetrySchedule, StoreConfig};
pub use db::Backend;
pub use entitlement::grant::{Entitlement, Grant, GrantSource, Reason};
pub use entitlement::policy::EntitlementPolicy;
pub use error::StoreError;
pub use handler::{BillingOnly, EventContext, EventHandler, HandlerError};
pub use inbox::{EventStatus, InboxEvent, Receipt};
pub use processing::ProcessReport;
pub use reconcile::ReconcileReport;
pub use store::Store;
pub use worker::Worker;
