//! [`EventHandler`]: the application's code that runs once per event, inside the store's
//! transaction.

use std::sync::Arc;

use async_trait::async_trait;
use payswitch_core::WebhookEvent;
use sqlx::AnyConnection;

use crate::billing::outcome::Applied;

/// What a handler returns when it fails: any error. The event is retried with backoff, then
/// parked; the message is kept in the inbox (keep secrets out of it).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What the store knows about this processing of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventContext {
    /// What the event changed in the billing tables; `applied.first_paid` says the order is
    /// to be fulfilled now.
    pub applied: Applied,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

/// The application's reaction to an event.
///
/// `handle` runs inside the transaction that applies the event to the billing tables and
/// marks it done: run the application's own statements on `connection` and they commit with
/// the mark, exactly once, or roll back with it. Return an error to roll everything back and
/// have the event retried. Effects outside the database (an email, an HTTP call) happen at
/// least once: make them idempotent on the event id.
///
/// Use `connection`, not another connection from the pool: on SQLite the transaction holds
/// the only writer, and a second connection would wait for it.
///
/// ```
/// use async_trait::async_trait;
/// use payswitch_core::{WebhookEvent, WebhookEventKind};
/// use payswitch_store::{EventContext, EventHandler, HandlerError};
/// use sqlx::AnyConnection;
///
/// struct Fulfil;
///
/// #[async_trait]
/// impl EventHandler for Fulfil {
///     async fn handle(
///         &self,
///         event: &WebhookEvent,
///         context: &EventContext,
///         connection: &mut AnyConnection,
///     ) -> Result<(), HandlerError> {
///         if context.applied.first_paid {
///             let order = event.checkout.as_ref().and_then(|c| c.reference.clone());
///             sqlx::query("UPDATE orders SET paid = 1 WHERE id = $1")
///                 .bind(order)
///                 .execute(&mut *connection)
///                 .await?;
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Reacts to one event, on the store's transaction.
    async fn handle(
        &self,
        event: &WebhookEvent,
        context: &EventContext,
        connection: &mut AnyConnection,
    ) -> Result<(), HandlerError>;
}

/// A handler that does nothing: the store keeps its billing tables and the application
/// reads them (entitlements) without reacting to events itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct BillingOnly;

#[async_trait]
impl EventHandler for BillingOnly {
    async fn handle(
        &self,
        _event: &WebhookEvent,
        _context: &EventContext,
        _connection: &mut AnyConnection,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[async_trait]
impl<H: EventHandler + ?Sized> EventHandler for Arc<H> {
    async fn handle(
        &self,
        event: &WebhookEvent,
        context: &EventContext,
        connection: &mut AnyConnection,
    ) -> Result<(), HandlerError> {
        (**self).handle(event, context, connection).await
    }
}
