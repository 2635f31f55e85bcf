//! The storefront's [`EventHandler`]: what a webhook event does to the shop, run by the
//! store's worker inside the transaction that applies the event to the billing tables and
//! marks it done.
//!
//! The store has already verified the event (at `receive`), deduplicated it on (gateway,
//! event id) and applied what it carries to its own tables; the handler does the shop's part
//! on the same connection, so it commits with the "done" mark, exactly once, or rolls back
//! with it and is retried:
//!
//! - a paid checkout marks its order paid through [`orders::confirm`], the once-only
//!   transition the success page shares (the order's checkout, gateway and amount are checked
//!   first; `context.applied.first_paid` says whether this is the first event to record the
//!   payment, which the log shows);
//! - a subscription is tied to its order, and its version noted for [`versions`];
//! - a refund is matched to the order whose payment it refunds (by checkout or payment id);
//! - every event about an order is listed on it (`event_ids`).
//!
//! Nothing here calls the gateway: a handler holds the database's writer on SQLite, so slow
//! work (settling a tie) happens after the round, in [`crate::processing`].

use async_trait::async_trait;
use payswitch::store::{EventContext, EventHandler, HandlerError};
use payswitch::{CheckoutResult, Refund, Subscription, WebhookEvent};
use sqlx::AnyConnection;

use crate::orders::{self, Confirmed, NotConfirmed, PaidVia};
use crate::versions::{self, Seen, SETTLE_EVENT_TYPE};

/// Fulfils orders from webhook events.
#[derive(Debug, Clone, Copy, Default)]
pub struct FulfilOrders;

#[async_trait]
impl EventHandler for FulfilOrders {
    async fn handle(
        &self,
        event: &WebhookEvent,
        context: &EventContext,
        connection: &mut AnyConnection,
    ) -> Result<(), HandlerError> {
        // A settle event is the storefront's own reading of the gateway, not a webhook: it
        // updates the subscription's version and is not listed on the order.
        let settled = event.event_type == SETTLE_EVENT_TYPE;
        if let Some(checkout) = &event.checkout {
            checkout_event(connection, event, checkout, context).await?;
        }
        if let Some(subscription) = &event.subscription {
            subscription_event(connection, event, subscription, settled).await?;
        }
        if let Some(refund) = &event.refund {
            refund_event(connection, event, refund).await?;
        }
        Ok(())
    }
}

/// A checkout: listed on its order, and the order marked paid once when it is paid.
async fn checkout_event(
    connection: &mut AnyConnection,
    event: &WebhookEvent,
    checkout: &CheckoutResult,
    context: &EventContext,
) -> Result<(), sqlx::Error> {
    let Some(order) = orders::order_of_checkout(connection, checkout).await? else {
        // Not ours (another shop on the same gateway account, or an order id made up):
        // nothing to do, and the event is done all the same so the gateway stops retrying.
        tracing::info!(event = %event.id, checkout = %checkout.id, "a checkout of no order of this shop");
        return Ok(());
    };
    orders::note_event(connection, &order.id, event.provider.name(), &event.id).await?;
    // A completed checkout can still be unpaid (a delayed payment method); the event that
    // says it was paid comes later and fulfils then.
    if !checkout.is_paid() {
        return Ok(());
    }
    match orders::confirm(connection, checkout, PaidVia::Webhook).await? {
        Ok(Confirmed::MarkedPaid(order)) => tracing::info!(
            order = %order.id,
            event = %event.id,
            first_paid = context.applied.first_paid,
            "order paid (webhook)"
        ),
        Ok(Confirmed::AlreadyPaid(_)) => {}
        Err(NotConfirmed::Mismatch(order, reason)) => {
            tracing::warn!(order = %order.id, event = %event.id, %reason, "a paid checkout does not match its order; not fulfilled");
        }
        Err(NotConfirmed::NotPaid(_) | NotConfirmed::UnknownOrder) => {}
    }
    Ok(())
}

/// A subscription: tied to its order (the one it already belongs to, else the subscription
/// order its checkout or its reference names), and its version noted.
async fn subscription_event(
    connection: &mut AnyConnection,
    event: &WebhookEvent,
    subscription: &Subscription,
    settled: bool,
) -> Result<(), sqlx::Error> {
    let gateway = subscription.provider.name();
    let mut order_id = order_of_subscription(connection, gateway, &subscription.id).await?;
    if order_id.is_none() {
        let candidate = match &event.checkout {
            // Only the order's own checkout: a reference alone could name any order.
            Some(checkout) => orders::order_of_checkout(connection, checkout).await?,
            None => match subscription.reference.as_deref() {
                Some(reference) => orders::get(connection, reference)
                    .await?
                    .filter(|order| order.gateway == gateway),
                None => None,
            },
        };
        order_id = candidate
            .filter(|order| order.subscription && order.subscription_id.is_none())
            .map(|order| order.id);
        if let Some(order_id) = &order_id {
            link_subscription(
                connection,
                order_id,
                &subscription.id,
                subscription.customer_id.as_deref(),
            )
            .await?;
        }
    }
    if let (Some(order_id), false) = (&order_id, settled) {
        orders::note_event(connection, order_id, event.provider.name(), &event.id).await?;
    }
    let seen = versions::observe(
        connection,
        subscription,
        event.created_at,
        settled,
        orders::now_millis(),
    )
    .await?;
    if seen == Seen::Tied && !settled {
        tracing::info!(
            event = %event.id,
            subscription = %subscription.id,
            "another event of the same time says otherwise; the subscription will be retrieved to settle it"
        );
    }
    Ok(())
}

/// A refund: listed on the order whose payment it refunds.
async fn refund_event(
    connection: &mut AnyConnection,
    event: &WebhookEvent,
    refund: &Refund,
) -> Result<(), sqlx::Error> {
    let gateway = refund.provider.name();
    if let Some(order_id) = order_of_refund(connection, gateway, refund).await? {
        orders::note_event(connection, &order_id, event.provider.name(), &event.id).await?;
    }
    Ok(())
}

/// Ties a subscription (and its customer) to an order that has none yet.
async fn link_subscription(
    connection: &mut AnyConnection,
    order_id: &str,
    subscription_id: &str,
    customer_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET subscription_id = COALESCE(subscription_id, $2), \
         customer_id = COALESCE(customer_id, $3) WHERE id = $1",
    )
    .bind(order_id)
    .bind(subscription_id)
    .bind(customer_id)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The id of the order whose subscription on `gateway` is `subscription_id`.
async fn order_of_subscription(
    connection: &mut AnyConnection,
    gateway: &str,
    subscription_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM orders WHERE gateway = $1 AND subscription_id = $2")
        .bind(gateway)
        .bind(subscription_id)
        .fetch_optional(&mut *connection)
        .await
}

/// The id of the order whose payment a refund on `gateway` refunds: found by the refund's
/// checkout or its payment (gateways report one, the other or both).
async fn order_of_refund(
    connection: &mut AnyConnection,
    gateway: &str,
    refund: &Refund,
) -> Result<Option<String>, sqlx::Error> {
    if refund.checkout_id.is_none() && refund.payment_id.is_none() {
        return Ok(None);
    }
    sqlx::query_scalar(
        "SELECT id FROM orders WHERE gateway = $1 \
         AND ((checkout_id IS NOT NULL AND checkout_id = $2) \
         OR (payment_id IS NOT NULL AND payment_id = $3)) \
         ORDER BY created_at LIMIT 1",
    )
    .bind(gateway)
    .bind(refund.checkout_id.as_deref())
    .bind(refund.payment_id.as_deref())
    .fetch_optional(&mut *connection)
    .await
}
