//! [`StoreError`]: what can go wrong in the store, by meaning.

use payswitch_core::PaymentError;

/// An error from the store.
///
/// Messages never include the database URL (it may hold a password) or a webhook body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The webhook was refused (a bad or missing signature, an oversized or malformed body):
    /// nothing was recorded. Answer the sender 400.
    #[error("webhook refused: {0}")]
    Refused(#[source] PaymentError),
    /// The database failed or could not be reached; retrying later may succeed. Answer a
    /// webhook sender 500 so the gateway delivers again.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database URL names a database this build cannot open.
    #[error("cannot open a {scheme:?} database: {hint}")]
    UnsupportedDatabase {
        /// The URL's scheme (never the rest of the URL, which may hold a password).
        scheme: String,
        /// What to do: the Cargo feature to enable, or the schemes that work.
        hint: &'static str,
    },
    /// A gateway call made by the store (reconcile) failed.
    #[error("gateway error: {0}")]
    Gateway(#[source] PaymentError),
    /// A stored row could not be read back (an event that no longer deserializes, a value out
    /// of range).
    #[error("stored data for {what} cannot be read: {message}")]
    Corrupt {
        /// Which row.
        what: String,
        /// Why.
        message: String,
    },
    /// The named event is not in the inbox.
    #[error("no event {event_id:?} from {gateway} in the inbox")]
    NotFound {
        /// The gateway's name.
        gateway: String,
        /// The event id.
        event_id: String,
    },
}

impl StoreError {
    /// Says whether trying again later may succeed (the database, or a retryable gateway
    /// error), as opposed to a refusal that will repeat.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(_) => true,
            StoreError::Gateway(error) => error.is_retryable(),
            StoreError::Refused(_)
            | StoreError::Migration(_)
            | StoreError::UnsupportedDatabase { .. }
            | StoreError::Corrupt { .. }
            | StoreError::NotFound { .. } => false,
        }
    }
}
