//! The storefront's own tables, in the store's database beside the store's `payswitch_*`
//! tables: `orders` ([`crate::orders`]), `order_events` (the webhook events processed for each
//! order) and `subscription_versions` ([`crate::versions`]). Created at start when missing,
//! so a restart (or a second instance) on the same database keeps what is there.
//!
//! One text for SQLite and PostgreSQL, like the store's own schema: times are `BIGINT` unix
//! milliseconds, flags `BIGINT` 0/1, money `BIGINT` minor units beside a currency code.

use payswitch::store::Store;

/// The statements, in order (tables before their indexes).
const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS orders (
        id TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        product TEXT NOT NULL,
        amount BIGINT NOT NULL,
        currency TEXT NOT NULL,
        gateway TEXT NOT NULL,
        checkout_id TEXT,
        subscription BIGINT NOT NULL,
        customer_id TEXT,
        payment_id TEXT,
        subscription_id TEXT,
        status TEXT NOT NULL,
        times_marked_paid BIGINT NOT NULL,
        paid_via TEXT,
        refund_id TEXT,
        refund_status TEXT,
        refund_amount BIGINT,
        refund_currency TEXT,
        created_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS orders_checkout ON orders (gateway, checkout_id)",
    "CREATE INDEX IF NOT EXISTS orders_subscription ON orders (gateway, subscription_id)",
    // The webhook events processed for each order, in the order they were processed.
    "CREATE TABLE IF NOT EXISTS order_events (
        order_id TEXT NOT NULL,
        gateway TEXT NOT NULL,
        event_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (order_id, gateway, event_id)
    )",
    "CREATE TABLE IF NOT EXISTS subscription_versions (
        gateway TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        event_at BIGINT NOT NULL,
        event_rank BIGINT NOT NULL,
        state TEXT NOT NULL,
        settle_after BIGINT,
        PRIMARY KEY (gateway, subscription_id)
    )",
];

/// Creates the storefront's tables in the store's database unless they exist.
pub async fn create_tables(store: &Store) -> Result<(), sqlx::Error> {
    for statement in SCHEMA {
        sqlx::query(statement).execute(store.pool()).await?;
    }
    Ok(())
}
