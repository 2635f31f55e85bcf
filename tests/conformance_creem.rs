//! The shared conformance suite: the Creem adapter against the sandbox.

#![cfg(feature = "creem")]

mod support;

payswitch_core::conformance_tests!(support::target(support::Gateway::Creem));
