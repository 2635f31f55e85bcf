//! The shared conformance suite: the Stripe adapter against the sandbox.

mod support;

payswitch_core::conformance_tests!(support::target(payswitch::ProviderKind::Stripe));
