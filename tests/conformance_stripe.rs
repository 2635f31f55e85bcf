//! The shared conformance suite: the Stripe adapter against the sandbox.

#![cfg(feature = "stripe")]

mod support;

payswitch_core::conformance_tests!(support::target(support::Gateway::Stripe));
