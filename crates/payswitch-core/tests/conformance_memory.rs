//! The shared conformance suite against `MemoryProvider`.
#![cfg(feature = "conformance")]

payswitch_core::conformance_tests!(payswitch_core::conformance::memory_target());
