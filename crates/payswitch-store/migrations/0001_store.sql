-- payswitch-store schema, version 1. One text for SQLite and PostgreSQL: times are BIGINT
-- unix milliseconds, flags are BIGINT 0/1, JSON is TEXT, money is BIGINT minor units beside a
-- currency code. Every table is prefixed so it can share a database with the application's.

-- The inbox: every verified webhook, once per (gateway, event id).
CREATE TABLE payswitch_webhook_events (
    gateway TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The normalized event (payswitch_core::WebhookEvent as JSON), raw gateway body included.
    event_json TEXT NOT NULL,
    -- The gateway's own creation time of the event.
    gateway_created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    deliveries BIGINT NOT NULL,
    -- pending | processing | done | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- When a pending event is due, or when a processing event's lease runs out.
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    last_error TEXT,
    processed_at BIGINT,
    PRIMARY KEY (gateway, event_id)
);
CREATE INDEX payswitch_webhook_events_due ON payswitch_webhook_events (status, next_attempt_at);

-- Gateway customers and the application user they belong to.
CREATE TABLE payswitch_customers (
    gateway TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    app_user_id TEXT,
    email TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, customer_id)
);
CREATE INDEX payswitch_customers_user ON payswitch_customers (app_user_id);

-- Checkouts (orders). source_at/source_rank/source_event: the version of the newest event
-- applied, for the out-of-order rule.
CREATE TABLE payswitch_checkouts (
    gateway TEXT NOT NULL,
    checkout_id TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    mode TEXT,
    amount_total BIGINT,
    currency TEXT,
    customer_id TEXT,
    app_user_id TEXT,
    reference TEXT,
    payment_id TEXT,
    subscription_id TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT,
    -- The event that first recorded this checkout as paid: set once, never moved.
    paid_event_id TEXT,
    paid_at BIGINT,
    source_at BIGINT NOT NULL,
    source_rank BIGINT NOT NULL,
    source_event TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, checkout_id)
);
CREATE INDEX payswitch_checkouts_user ON payswitch_checkouts (app_user_id);
CREATE INDEX payswitch_checkouts_customer ON payswitch_checkouts (gateway, customer_id);
CREATE INDEX payswitch_checkouts_payment ON payswitch_checkouts (gateway, payment_id);
CREATE INDEX payswitch_checkouts_subscription ON payswitch_checkouts (gateway, subscription_id);

CREATE TABLE payswitch_subscriptions (
    gateway TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    status TEXT NOT NULL,
    -- When the subscription entered its current status (the applying event's time).
    status_since BIGINT NOT NULL,
    customer_id TEXT,
    app_user_id TEXT,
    plan TEXT,
    quantity BIGINT,
    items TEXT NOT NULL,
    current_period_start BIGINT,
    current_period_end BIGINT,
    trial_end BIGINT,
    cancel_at_period_end BIGINT NOT NULL,
    cancel_at BIGINT,
    canceled_at BIGINT,
    ended_at BIGINT,
    created_at BIGINT,
    reference TEXT,
    metadata TEXT NOT NULL,
    source_at BIGINT NOT NULL,
    source_rank BIGINT NOT NULL,
    source_event TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, subscription_id)
);
CREATE INDEX payswitch_subscriptions_user ON payswitch_subscriptions (app_user_id);
CREATE INDEX payswitch_subscriptions_customer ON payswitch_subscriptions (gateway, customer_id);

CREATE TABLE payswitch_refunds (
    gateway TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT,
    currency TEXT,
    payment_id TEXT,
    checkout_id TEXT,
    subscription_id TEXT,
    reason TEXT,
    created_at BIGINT,
    source_at BIGINT NOT NULL,
    source_rank BIGINT NOT NULL,
    source_event TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, refund_id)
);
CREATE INDEX payswitch_refunds_checkout ON payswitch_refunds (gateway, checkout_id);
CREATE INDEX payswitch_refunds_payment ON payswitch_refunds (gateway, payment_id);
