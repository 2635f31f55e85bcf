//! The store's behaviour suite on SQLite in memory, SQLite in a file and PostgreSQL
//! (`PAYSWITCH_TEST_DATABASE_URL`; see `.ci/postgres-setup.sh`).

mod suite;
mod support;

on_every_backend!(
    receive_records_once_and_refuses_bad_signatures,
    processing_applies_billing_state_and_handles_once,
    out_of_order_delivery_in_every_order_ends_in_the_gateways_state,
    equal_times_keep_the_later_stage,
    failures_retry_with_backoff_then_park_then_replay,
    an_expired_lease_is_taken_over,
    entitlements_follow_the_policy,
    reconcile_repairs_what_was_never_delivered,
);
