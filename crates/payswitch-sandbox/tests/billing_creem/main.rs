//! Creem's billing lifecycle over HTTP: what paying a checkout creates, the customers,
//! subscriptions, transactions and refunds endpoints, state transitions and their refusals,
//! proration, renewals on the sandbox clock, the webhooks and their order, pagination and the
//! hosted customer portal.

#[path = "../common/mod.rs"]
mod common;

mod changes;
mod customers;
mod dunning;
mod lifecycle;
mod portal;
mod sequences;
mod support;
